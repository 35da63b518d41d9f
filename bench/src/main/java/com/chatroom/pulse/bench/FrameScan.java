package com.chatroom.pulse.bench;

import java.nio.charset.StandardCharsets;

/**
 * Reads the few fields the load client needs straight from a frame's UTF-8 bytes, without building a JSON tree:
 * at 10,000 frames a second a full parse would cost the client more than the numbers it is measuring. It relies on
 * the stream's frame shape, {@code {"type":"system","data":{"timestamp":1795682067.041,...,"seq":4,...}}}: the
 * {@code type} key comes first, and {@code timestamp}, {@code seq} and {@code count} appear once.
 */
final class FrameScan {

  static final long MISSING = Long.MIN_VALUE;

  private static final byte[] TYPE = bytes("\"type\":");
  private static final byte[] TIMESTAMP = bytes("\"timestamp\":");
  private static final byte[] SEQ = bytes("\"seq\":");
  private static final byte[] COUNT = bytes("\"count\":");
  private static final byte[] SYSTEM = bytes("\"system\"");
  private static final byte[] SKIPPED = bytes("\"skipped\"");

  enum Kind { SYSTEM, SKIPPED, OTHER }

  private FrameScan() {
  }

  static Kind kind(byte[] frame) {
    int at = valueStart(frame, TYPE, 0);
    if (at < 0) {
      return Kind.OTHER;
    }
    if (startsWith(frame, at, SYSTEM)) {
      return Kind.SYSTEM;
    }
    return startsWith(frame, at, SKIPPED) ? Kind.SKIPPED : Kind.OTHER;
  }

  /** {@code data.timestamp} (epoch seconds with up to 6 decimals) as epoch microseconds, or {@link #MISSING}. */
  static long timestampMicros(byte[] frame) {
    int i = valueStart(frame, TIMESTAMP, 0);
    if (i < 0) {
      return MISSING;
    }
    long seconds = 0;
    int digits = 0;
    while (i < frame.length && frame[i] >= '0' && frame[i] <= '9') {
      seconds = seconds * 10 + (frame[i++] - '0');
      digits++;
    }
    if (digits == 0) {
      return MISSING;
    }
    long micros = 0;
    int scale = 100_000;
    if (i < frame.length && frame[i] == '.') {
      i++;
      while (i < frame.length && frame[i] >= '0' && frame[i] <= '9') {
        if (scale > 0) {
          micros += (frame[i] - '0') * (long) scale;
          scale /= 10;
        }
        i++;
      }
    }
    if (i < frame.length && (frame[i] == 'E' || frame[i] == 'e')) {
      return MISSING; // scientific notation is not what the stream promises
    }
    return seconds * 1_000_000L + micros;
  }

  static long seq(byte[] frame) {
    return nonNegativeInteger(frame, SEQ);
  }

  static long count(byte[] frame) {
    return nonNegativeInteger(frame, COUNT);
  }

  private static long nonNegativeInteger(byte[] frame, byte[] key) {
    int i = valueStart(frame, key, 0);
    if (i < 0 || i >= frame.length || frame[i] < '0' || frame[i] > '9') {
      return MISSING;
    }
    long value = 0;
    while (i < frame.length && frame[i] >= '0' && frame[i] <= '9') {
      value = value * 10 + (frame[i++] - '0');
    }
    return value;
  }

  /** Index of the first non-blank byte after {@code key}, or -1. */
  private static int valueStart(byte[] frame, byte[] key, int from) {
    int at = indexOf(frame, key, from);
    if (at < 0) {
      return -1;
    }
    int i = at + key.length;
    while (i < frame.length && (frame[i] == ' ' || frame[i] == '\t' || frame[i] == '\n' || frame[i] == '\r')) {
      i++;
    }
    return i;
  }

  static int indexOf(byte[] haystack, byte[] needle, int from) {
    byte first = needle[0];
    int last = haystack.length - needle.length;
    outer:
    for (int i = from; i <= last; i++) {
      if (haystack[i] != first) {
        continue;
      }
      for (int j = 1; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static boolean startsWith(byte[] frame, int at, byte[] prefix) {
    if (at + prefix.length > frame.length) {
      return false;
    }
    for (int j = 0; j < prefix.length; j++) {
      if (frame[at + j] != prefix[j]) {
        return false;
      }
    }
    return true;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
