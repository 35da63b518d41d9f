package com.chatroom.pulse.bench;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Command-line options of the bench tools: {@code --key=value}, {@code --key value} or {@code key=value}, each
 * falling back to the system property {@code -Dkey=value}, then to the default.
 */
final class Options {

  private final Map<String, String> values = new HashMap<>();

  /** A bench tool's run: its exit code. */
  interface Tool {
    int run() throws Exception;
  }

  /** A bench tool's {@code main}: reads the options (exit 2 with the reason if one is bad), runs, exits with its code. */
  static void launch(String[] args, Function<Options, Tool> create) throws Exception {
    Tool tool;
    try {
      tool = create.apply(new Options(args));
    } catch (IllegalArgumentException e) {
      System.err.println("pulse-bench: " + e.getMessage());
      System.exit(2);
      return;
    }
    int code = tool.run();
    System.out.flush();
    System.exit(code);
  }

  Options(String[] args) {
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String body = arg.startsWith("--") ? arg.substring(2) : arg;
      int eq = body.indexOf('=');
      if (eq > 0) {
        values.put(body.substring(0, eq), body.substring(eq + 1));
      } else if (arg.startsWith("--") && i + 1 < args.length) {
        values.put(body, args[++i]);
      } else {
        throw new IllegalArgumentException("cannot read argument '" + arg + "': use --key=value");
      }
    }
  }

  String string(String key, String fallback) {
    String value = values.get(key);
    if (value == null) {
      value = System.getProperty(key);
    }
    return value == null || value.isBlank() ? fallback : value.trim();
  }

  int integer(String key, int fallback, int min, int max) {
    String raw = string(key, null);
    if (raw == null) {
      return fallback;
    }
    int value;
    try {
      value = Integer.parseInt(raw);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("option '" + key + "' must be an integer, got '" + raw + "'");
    }
    if (value < min || value > max) {
      throw new IllegalArgumentException("option '" + key + "' must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  /** A duration in seconds, e.g. {@code 60} or {@code 60s}. */
  int seconds(String key, int fallback, int min, int max) {
    String raw = string(key, null);
    if (raw != null && raw.endsWith("s")) {
      values.put(key, raw.substring(0, raw.length() - 1));
    }
    return integer(key, fallback, min, max);
  }

  boolean bool(String key, boolean fallback) {
    String raw = string(key, null);
    if (raw == null) {
      return fallback;
    }
    return switch (raw.toLowerCase()) {
      case "true", "yes", "1", "on" -> true;
      case "false", "no", "0", "off" -> false;
      default -> throw new IllegalArgumentException("option '" + key + "' must be true or false, got '" + raw + "'");
    };
  }
}
