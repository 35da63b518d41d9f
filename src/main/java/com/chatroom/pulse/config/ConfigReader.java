package com.chatroom.pulse.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Typed, path-aware reads of one config section. Values that came from environment variables or system
 * properties are strings, so numbers and booleans are also accepted in their text form. Every error names the
 * full key; {@link #rejectUnknown()} catches typos that would otherwise be silently ignored.
 */
final class ConfigReader {

  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)?");

  private final JsonObject json;
  private final String prefix;
  private final Set<String> read = new HashSet<>();

  ConfigReader(JsonObject json, String prefix) {
    this.json = json == null ? new JsonObject() : json;
    this.prefix = prefix;
  }

  static ConfigReader section(JsonObject parent, String name, String prefix) {
    Object raw = parent.getValue(name);
    String key = prefix + name;
    if (raw != null && !(raw instanceof JsonObject)) {
      throw new ConfigException(key, "must be a section (a map of keys), got " + raw);
    }
    return new ConfigReader((JsonObject) raw, key + ".");
  }

  ConfigReader section(String name) {
    read.add(name);
    return section(json, name, prefix);
  }

  String string(String name, String fallback) {
    Object raw = take(name);
    if (raw == null) {
      return fallback;
    }
    if (raw instanceof String || raw instanceof Number || raw instanceof Boolean) {
      return raw.toString().trim();
    }
    throw new ConfigException(key(name), "must be a string, got " + raw);
  }

  long integer(String name, long fallback, long min, long max) {
    Object raw = take(name);
    long value;
    if (raw == null) {
      value = fallback;
    } else if (raw instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
      value = n.longValue();
    } else if (raw instanceof String s && s.trim().matches("-?\\d{1,18}")) {
      value = Long.parseLong(s.trim());
    } else {
      throw new ConfigException(key(name), "must be an integer between " + min + " and " + max + ", got '" + raw + "'");
    }
    if (value < min || value > max) {
      throw new ConfigException(key(name), "must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  int integer(String name, int fallback, int min, int max) {
    return (int) integer(name, (long) fallback, min, max);
  }

  double number(String name, double fallback, double min, double max) {
    Object raw = take(name);
    double value;
    if (raw == null) {
      value = fallback;
    } else if (raw instanceof Number n) {
      value = n.doubleValue();
    } else if (raw instanceof String s) {
      try {
        value = Double.parseDouble(s.trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(key(name), "must be a number between " + min + " and " + max + ", got '" + raw + "'");
      }
    } else {
      throw new ConfigException(key(name), "must be a number, got '" + raw + "'");
    }
    if (!(value >= min && value <= max)) {
      throw new ConfigException(key(name), "must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  boolean bool(String name, boolean fallback) {
    Object raw = take(name);
    if (raw == null) {
      return fallback;
    }
    if (raw instanceof Boolean b) {
      return b;
    }
    if (raw instanceof String s && (s.trim().equalsIgnoreCase("true") || s.trim().equalsIgnoreCase("false"))) {
      return Boolean.parseBoolean(s.trim());
    }
    throw new ConfigException(key(name), "must be true or false, got '" + raw + "'");
  }

  /** A list of strings, from a YAML list or a comma-separated string (the environment-variable form). */
  List<String> strings(String name, List<String> fallback, int maxSize) {
    Object raw = take(name);
    if (raw == null) {
      return fallback;
    }
    List<String> values = new ArrayList<>();
    if (raw instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        Object item = array.getValue(i);
        if (!(item instanceof String s) || s.isBlank()) {
          throw new ConfigException(key(name) + "[" + i + "]", "must be a non-empty string, got '" + item + "'");
        }
        values.add(s.trim());
      }
    } else if (raw instanceof String s) {
      for (String part : s.split(",")) {
        if (!part.isBlank()) {
          values.add(part.trim());
        }
      }
    } else {
      throw new ConfigException(key(name), "must be a list of strings, got '" + raw + "'");
    }
    if (values.size() > maxSize) {
      throw new ConfigException(key(name), "must have at most " + maxSize + " entries, got " + values.size());
    }
    return List.copyOf(values);
  }

  /**
   * A list of sections (YAML list of maps). Each element's key is {@code name[<value of labelKey>]} when it has one,
   * so an error names the rule or channel an operator wrote, else {@code name[index]}.
   */
  List<ConfigReader> sections(String name, int maxSize, String labelKey) {
    Object raw = take(name);
    if (raw == null) {
      return List.of();
    }
    if (!(raw instanceof JsonArray array)) {
      throw new ConfigException(key(name), "must be a list of sections, got '" + raw + "'");
    }
    if (array.size() > maxSize) {
      throw new ConfigException(key(name), "must have at most " + maxSize + " entries, got " + array.size());
    }
    List<ConfigReader> sections = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (!(item instanceof JsonObject o)) {
        throw new ConfigException(key(name) + "[" + i + "]", "must be a section (a map of keys), got '" + item + "'");
      }
      String label = o.getValue(labelKey) instanceof String s && !s.isBlank() ? s.trim() : Integer.toString(i);
      sections.add(new ConfigReader(o, key(name) + "[" + label + "]."));
    }
    return sections;
  }

  /** A map of string keys to string values (labels, headers); numbers and booleans are taken as their text. */
  Map<String, String> stringMap(String name, int maxSize, int maxValueLength) {
    Object raw = take(name);
    if (raw == null) {
      return Map.of();
    }
    if (!(raw instanceof JsonObject object)) {
      throw new ConfigException(key(name), "must be a map of names to strings, got '" + raw + "'");
    }
    if (object.size() > maxSize) {
      throw new ConfigException(key(name), "must have at most " + maxSize + " entries, got " + object.size());
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (Map.Entry<String, Object> entry : object) {
      Object value = entry.getValue();
      if (!(value instanceof String || value instanceof Number || value instanceof Boolean)) {
        throw new ConfigException(key(name) + "." + entry.getKey(), "must be a string, got '" + value + "'");
      }
      String text = value.toString();
      if (text.length() > maxValueLength) {
        throw new ConfigException(key(name) + "." + entry.getKey(), "must be at most " + maxValueLength + " characters");
      }
      values.put(entry.getKey(), text);
    }
    return java.util.Collections.unmodifiableMap(values);
  }

  /** A duration: {@code 250ms}, {@code 30s}, {@code 5m}, {@code 4h}, {@code 1d}, or a plain number of seconds. */
  long durationMs(String name, long fallbackMs, long minMs, long maxMs) {
    Object raw = take(name);
    long value;
    if (raw == null) {
      value = fallbackMs;
    } else if (raw instanceof Number n && n.doubleValue() >= 0) {
      value = Math.round(n.doubleValue() * 1000);
    } else {
      Matcher m = raw instanceof String s ? DURATION.matcher(s.trim()) : null;
      if (m == null || !m.matches()) {
        throw new ConfigException(key(name), "must be a duration such as 250ms, 30s, 5m, 4h or 1d, got '" + raw + "'");
      }
      double amount = Double.parseDouble(m.group(1));
      String unit = m.group(2) == null ? "s" : m.group(2);
      double factor = switch (unit) {
        case "ms" -> 1;
        case "m" -> 60_000;
        case "h" -> 3_600_000;
        case "d" -> 86_400_000;
        default -> 1000;
      };
      value = Math.round(amount * factor);
    }
    if (value < minMs || value > maxMs) {
      throw new ConfigException(key(name), "must be between " + minMs + " ms and " + maxMs + " ms, got " + value + " ms");
    }
    return value;
  }

  /** Whether the section holds this key at all (read or not). */
  boolean has(String name) {
    return json.containsKey(name);
  }

  /** Fails on the first key of this section that nothing read: almost always a typo. */
  void rejectUnknown() {
    for (String name : json.fieldNames()) {
      if (!read.contains(name)) {
        throw new ConfigException(key(name), "unknown key (known keys: " + String.join(", ", new java.util.TreeSet<>(read)) + ")");
      }
    }
  }

  String key(String name) {
    return prefix + name;
  }

  private Object take(String name) {
    read.add(name);
    return json.getValue(name);
  }
}
