package com.chatroom.pulse.reliability;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generates hostile inputs from a valid JSON object: fields removed, nulled or swapped for other types, huge and
 * non-finite numbers, deep nesting, oversize strings, control characters and markup, truncated and corrupted text.
 * Seeded, so a failure names the seed that reproduces it.
 */
final class Hostile {

  private static final Object[] WEIRD_VALUES = {
    null, "", " ", "0", "-1", "NaN", "Infinity", "1e999", true, false, -1, 0, Long.MAX_VALUE, Long.MIN_VALUE,
    Double.MAX_VALUE, -Double.MAX_VALUE, 1e-320, 123.456e10, new JsonArray(), new JsonObject(),
    new JsonArray().add(1).add("x").addNull(), new JsonObject().put("nested", new JsonObject().put("a", 1)),
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\u0000\u0001\u0002", "\uD800", "💥".repeat(50),
    "x".repeat(10_000), "'; DROP TABLE metrics; --", "{{7*7}}", "${jndi:ldap://127.0.0.1/a}", "../../etc/passwd"
  };

  private final Random random;

  Hostile(long seed) {
    this.random = new Random(seed);
  }

  /** {@code count} hostile texts derived from {@code valid}. */
  List<String> corpus(JsonObject valid, int count) {
    List<String> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(mutate(valid));
    }
    return out;
  }

  String mutate(JsonObject valid) {
    List<String> fields = new ArrayList<>(valid.fieldNames());
    JsonObject copy = valid.copy();
    switch (random.nextInt(12)) {
      case 0 -> copy.remove(pick(fields));
      case 1 -> copy.putNull(pick(fields));
      case 2, 3, 4 -> copy.put(pick(fields), WEIRD_VALUES[random.nextInt(WEIRD_VALUES.length)]);
      case 5 -> {
        // several fields at once
        for (int i = 0; i < 3; i++) {
          copy.put(pick(fields), WEIRD_VALUES[random.nextInt(WEIRD_VALUES.length)]);
        }
      }
      case 6 -> {
        return "[".repeat(2000 + random.nextInt(5000)) + "]".repeat(10);
      }
      case 7 -> {
        String text = copy.encode();
        return text.substring(0, random.nextInt(Math.max(1, text.length())));
      }
      case 8 -> {
        char[] text = copy.encode().toCharArray();
        for (int i = 0; i < 1 + random.nextInt(4); i++) {
          text[random.nextInt(text.length)] = (char) (32 + random.nextInt(95));
        }
        return new String(text);
      }
      case 9 -> {
        String number = random.nextBoolean() ? "1" + "0".repeat(400) : "-0." + "0".repeat(400) + "1";
        return copy.encode().replaceFirst(":[0-9.]+", ":" + number);
      }
      case 10 -> {
        return random.nextBoolean() ? "" : WEIRD_VALUES[random.nextInt(WEIRD_VALUES.length)] + "";
      }
      default -> copy.put("x".repeat(1 + random.nextInt(300)), "y".repeat(random.nextInt(3000)));
    }
    return copy.encode();
  }

  private String pick(List<String> fields) {
    return fields.get(random.nextInt(fields.size()));
  }
}
