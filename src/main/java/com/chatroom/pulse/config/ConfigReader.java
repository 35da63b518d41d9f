package com.chatroom.pulse.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Typed, path-aware reads of one config section. Values that came from environment variables or system
 * properties are strings, so numbers and booleans are also accepted in their text form. Every error names the
 * full key; {@link #rejectUnknown()} catches typos that would otherwise be silently ignored.
 */
final class ConfigReader {

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
