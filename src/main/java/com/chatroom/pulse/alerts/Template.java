package com.chatroom.pulse.alerts;

import com.chatroom.pulse.config.ConfigException;

import java.util.ArrayList;
import java.util.IllegalFormatException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * A message template: text with {@code {{variable}}} or {@code {{variable:%.1f}}} placeholders. Names are checked
 * when the config is read; anything that still goes wrong while rendering (a format that does not fit the value,
 * a missing label) is written into the text and counted, so a template never drops an alert.
 */
final class Template {

  static final Set<String> VARIABLES = Set.of("rule", "alertname", "instance", "value", "threshold", "clear_threshold",
    "metric", "severity", "state", "op", "for", "node");
  static final String NO_VALUE = "<no value>";

  private record Part(String literal, String variable, String format) {
  }

  private final String source;
  private final List<Part> parts;

  private Template(String source, List<Part> parts) {
    this.source = source;
    this.parts = parts;
  }

  String source() {
    return source;
  }

  /** @param key the config key to name in an error, e.g. {@code alerts.rules[cpu].annotations.summary} */
  static Template compile(String source, String key) {
    List<Part> parts = new ArrayList<>();
    int at = 0;
    while (at < source.length()) {
      int open = source.indexOf("{{", at);
      if (open < 0) {
        parts.add(new Part(source.substring(at), null, null));
        break;
      }
      int close = source.indexOf("}}", open + 2);
      if (close < 0) {
        throw new ConfigException(key, "'{{' at position " + open + " is never closed with '}}'");
      }
      if (open > at) {
        parts.add(new Part(source.substring(at, open), null, null));
      }
      String inside = source.substring(open + 2, close).trim();
      int colon = inside.indexOf(':');
      String name = colon < 0 ? inside : inside.substring(0, colon).trim();
      String format = colon < 0 ? null : inside.substring(colon + 1).trim();
      boolean label = name.startsWith("labels.") && name.length() > 7;
      if (!label && !VARIABLES.contains(name)) {
        throw new ConfigException(key, "unknown template variable '" + name + "' (known: " + String.join(", ", new java.util.TreeSet<>(VARIABLES))
          + ", labels.<name>)");
      }
      if (format != null && !format.startsWith("%")) {
        throw new ConfigException(key, "the format of '" + name + "' must be a printf pattern such as %.1f, got '" + format + "'");
      }
      parts.add(new Part(null, name, format));
      at = close + 2;
    }
    return new Template(source, List.copyOf(parts));
  }

  /**
   * @param variables the value of a variable ({@code labels.x} included): a Double for numbers, a String otherwise,
   *                  null when unknown
   * @param onError   told once per rendering problem, which is also written into the text
   */
  String render(Function<String, Object> variables, Runnable onError) {
    StringBuilder out = new StringBuilder(source.length() + 16);
    for (Part part : parts) {
      if (part.literal() != null) {
        out.append(part.literal());
        continue;
      }
      Object value;
      try {
        value = variables.apply(part.variable());
      } catch (RuntimeException e) {
        onError.run();
        value = null;
      }
      if (value == null) {
        // a label the series does not carry (the name was checked at start-up): still an error worth counting
        onError.run();
        out.append(NO_VALUE);
      } else if (part.format() != null) {
        try {
          out.append(String.format(Locale.ROOT, part.format(), value));
        } catch (IllegalFormatException e) {
          onError.run();
          out.append(plain(value)).append(" <bad format ").append(part.format()).append('>');
        }
      } else {
        out.append(plain(value));
      }
    }
    return out.toString();
  }

  /** Numbers with at most two decimals and no trailing zeros: 97.5, 90, 0.02. */
  static String plain(Object value) {
    if (value instanceof Double d) {
      if (d.isNaN()) {
        return NO_VALUE;
      }
      if (d.isInfinite()) {
        return d > 0 ? "+Inf" : "-Inf";
      }
      return java.math.BigDecimal.valueOf(d).setScale(2, java.math.RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
    }
    return String.valueOf(value);
  }
}
