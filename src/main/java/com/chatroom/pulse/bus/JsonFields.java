package com.chatroom.pulse.bus;

import com.chatroom.pulse.bus.InvalidMessageException.Reason;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Strict reads of contract fields from a JSON object. Every failure names the field and says what was
 * expected, so a sender can fix its message from the error alone.
 */
final class JsonFields {

  /** The largest integer a JavaScript client can hold exactly; counters beyond it are a bug upstream. */
  static final long MAX_SAFE_INTEGER = 9_007_199_254_740_991L;
  /** 2001-09-09 and 2286-11-20: epoch seconds outside this are wrong units (usually milliseconds). */
  static final double MIN_EPOCH_SECONDS = 1e9;
  static final double MAX_EPOCH_SECONDS = 1e10;

  private final JsonObject json;

  JsonFields(JsonObject json) {
    this.json = json;
  }

  double timestamp(String field) {
    double value = number(field, 0, Double.MAX_VALUE);
    if (value < MIN_EPOCH_SECONDS || value > MAX_EPOCH_SECONDS) {
      String hint = value > MAX_EPOCH_SECONDS * 100 ? " (it looks like milliseconds)" : "";
      throw new InvalidMessageException(field, Reason.OUT_OF_RANGE,
        "field '" + field + "' must be epoch seconds between 1e9 and 1e10, got " + value + hint);
    }
    return value;
  }

  double number(String field, double min, double max) {
    return checkRange(field, toDouble(field, required(field)), min, max);
  }

  double optionalNumber(String field, double min, double max, double fallback) {
    Object raw = json.getValue(field);
    return raw == null ? fallback : checkRange(field, toDouble(field, raw), min, max);
  }

  long integer(String field, long min, long max) {
    return checkRange(field, toLong(field, required(field)), min, max);
  }

  long optionalInteger(String field, long min, long max, long fallback) {
    Object raw = json.getValue(field);
    return raw == null ? fallback : checkRange(field, toLong(field, raw), min, max);
  }

  String optionalString(String field, int maxLength, String fallback) {
    Object raw = json.getValue(field);
    if (raw == null) {
      return fallback;
    }
    if (!(raw instanceof String s)) {
      throw wrongType(field, "a string", raw);
    }
    if (s.isEmpty() || s.length() > maxLength) {
      throw new InvalidMessageException(field, Reason.OUT_OF_RANGE,
        "field '" + field + "' must be a string of 1 to " + maxLength + " characters, got " + s.length());
    }
    return s;
  }

  JsonArray array(String field, int minSize, int maxSize) {
    return checkSize(field, toArray(field, required(field)), minSize, maxSize);
  }

  JsonArray optionalArray(String field, int maxSize) {
    Object raw = json.getValue(field);
    return raw == null ? null : checkSize(field, toArray(field, raw), 0, maxSize);
  }

  /** Reads element {@code index} of {@code array} as a number; the error names it as {@code field[index]}. */
  static double element(String field, JsonArray array, int index, double min, double max) {
    String name = field + "[" + index + "]";
    return checkRange(name, toDouble(name, array.getValue(index)), min, max);
  }

  static JsonObject objectElement(String field, JsonArray array, int index) {
    Object raw = array.getValue(index);
    if (raw instanceof JsonObject o) {
      return o;
    }
    throw wrongType(field + "[" + index + "]", "an object", raw);
  }

  private Object required(String field) {
    Object raw = json.getValue(field);
    if (raw == null) {
      String why = json.containsKey(field) ? "' must not be null" : "' is missing";
      throw new InvalidMessageException(field, Reason.MISSING_FIELD, "field '" + field + why);
    }
    return raw;
  }

  private static JsonArray toArray(String field, Object raw) {
    if (raw instanceof JsonArray a) {
      return a;
    }
    throw wrongType(field, "an array", raw);
  }

  private static JsonArray checkSize(String field, JsonArray array, int minSize, int maxSize) {
    if (array.size() < minSize || array.size() > maxSize) {
      String expected = minSize == maxSize ? "exactly " + minSize : minSize + " to " + maxSize;
      throw new InvalidMessageException(field, Reason.OUT_OF_RANGE,
        "field '" + field + "' must have " + expected + " elements, got " + array.size());
    }
    return array;
  }

  private static double toDouble(String field, Object raw) {
    if (raw instanceof Number n) {
      double value = n.doubleValue();
      if (!Double.isFinite(value)) {
        throw new InvalidMessageException(field, Reason.OUT_OF_RANGE,
          "field '" + field + "' must be a finite number, got " + raw);
      }
      return value;
    }
    throw wrongType(field, "a number", raw);
  }

  private static long toLong(String field, Object raw) {
    if (raw instanceof Integer || raw instanceof Long || raw instanceof Short || raw instanceof Byte) {
      return ((Number) raw).longValue();
    }
    if (raw instanceof BigInteger big) {
      throw new InvalidMessageException(field, Reason.OUT_OF_RANGE,
        "field '" + field + "' must be an integer up to " + MAX_SAFE_INTEGER + ", got " + big);
    }
    if (raw instanceof Number n) {
      double d = n.doubleValue();
      // Python and JavaScript senders may write 5.0 for 5: accept integral values, refuse fractions
      if (Double.isFinite(d) && d == Math.rint(d) && Math.abs(d) <= MAX_SAFE_INTEGER) {
        return (long) d;
      }
      throw new InvalidMessageException(field, Reason.WRONG_TYPE,
        "field '" + field + "' must be an integer, got " + raw);
    }
    throw wrongType(field, "an integer", raw);
  }

  private static double checkRange(String field, double value, double min, double max) {
    if (value < min || value > max) {
      throw new InvalidMessageException(field, Reason.OUT_OF_RANGE,
        "field '" + field + "' must be between " + plain(min) + " and " + plain(max) + ", got " + plain(value));
    }
    return value;
  }

  private static long checkRange(String field, long value, long min, long max) {
    if (value < min || value > max) {
      throw new InvalidMessageException(field, Reason.OUT_OF_RANGE,
        "field '" + field + "' must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  private static InvalidMessageException wrongType(String field, String expected, Object raw) {
    return new InvalidMessageException(field, Reason.WRONG_TYPE,
      "field '" + field + "' must be " + expected + ", got " + describe(raw));
  }

  private static String describe(Object raw) {
    if (raw == null) {
      return "null";
    }
    if (raw instanceof String) {
      return "a string";
    }
    if (raw instanceof Boolean) {
      return "a boolean";
    }
    if (raw instanceof JsonObject) {
      return "an object";
    }
    if (raw instanceof JsonArray) {
      return "an array";
    }
    return raw instanceof Number ? "a number" : raw.getClass().getSimpleName();
  }

  private static String plain(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value) : Double.toString(value);
  }

  /** Epoch seconds with millisecond precision, written plainly ("1764146820.123", not "1.764146820123E9"). */
  static BigDecimal seconds(double epochSeconds) {
    return BigDecimal.valueOf(Math.round(epochSeconds * 1000d), 3);
  }
}
