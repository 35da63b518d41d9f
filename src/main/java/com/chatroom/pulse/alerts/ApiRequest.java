package com.chatroom.pulse.alerts;

import com.chatroom.pulse.alerts.AlertApi.ApiException;
import com.chatroom.pulse.alerts.AlertApi.Failure;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Strict reads of an API request's fields: every error names the field and says what was expected. */
final class ApiRequest {

  private static final Pattern DURATION = Pattern.compile("(\\d{1,6})(s|m|h|d)");
  private static final long MAX_SILENCE_MS = 30L * 86_400_000;

  private final JsonObject json;

  ApiRequest(JsonObject json) {
    this.json = json;
  }

  String string(String field, int maxLength, boolean required) {
    Object raw = json.getValue(field);
    if (raw == null) {
      if (required) {
        throw bad(field, "is required");
      }
      return null;
    }
    if (!(raw instanceof String s) || s.isBlank() || s.length() > maxLength) {
      throw bad(field, "must be a non-empty string of at most " + maxLength + " characters");
    }
    return s;
  }

  long integer(String field, long min, long max, long fallback) {
    Object raw = json.getValue(field);
    if (raw == null) {
      return fallback;
    }
    long value;
    if (raw instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
      value = n.longValue();
    } else if (raw instanceof String s && s.matches("\\d{1,9}")) {
      value = Long.parseLong(s);
    } else {
      throw bad(field, "must be an integer between " + min + " and " + max);
    }
    if (value < min || value > max) {
      throw bad(field, "must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  /**
   * A silence: {@code rule} (name or glob) and/or {@code labels} (exact values), until {@code ends_at} (RFC 3339 or
   * epoch seconds) or for {@code duration} ({@code 90m}, {@code 2h}), with an optional {@code comment} and
   * {@code created_by}.
   */
  Silences.Silence silence(long nowMs) {
    String rule = string("rule", 128, false);
    Map<String, String> labels = labels();
    if (rule == null && labels.isEmpty()) {
      throw bad("rule", "or 'labels' is required: a silence that matches everything would hide every alert");
    }
    boolean hasEnd = json.containsKey("ends_at");
    boolean hasDuration = json.containsKey("duration");
    if (hasEnd == hasDuration) {
      throw bad("ends_at", "or 'duration' is required (exactly one): when the silence ends");
    }
    long ends = hasEnd ? instant("ends_at") : nowMs + duration("duration");
    if (ends <= nowMs) {
      throw bad(hasEnd ? "ends_at" : "duration", "must be in the future");
    }
    if (ends - nowMs > MAX_SILENCE_MS) {
      throw bad(hasEnd ? "ends_at" : "duration", "must be at most 30 days ahead");
    }
    String comment = string("comment", 1024, false);
    String by = string("created_by", 128, false);
    return new Silences.Silence(UUID.randomUUID().toString(), rule, labels, nowMs, ends, comment == null ? "" : comment,
      by == null ? "admin" : by);
  }

  private Map<String, String> labels() {
    Object raw = json.getValue("labels");
    if (raw == null) {
      return Map.of();
    }
    if (!(raw instanceof JsonObject object) || object.size() > 32) {
      throw bad("labels", "must be an object of at most 32 label names to values");
    }
    Map<String, String> labels = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : object) {
      if (!e.getKey().matches("[A-Za-z_][A-Za-z0-9_]{0,127}")) {
        throw bad("labels." + e.getKey(), "is not a label name (letters, digits and '_')");
      }
      if (!(e.getValue() instanceof String v) || v.length() > 1024) {
        throw bad("labels." + e.getKey(), "must be a string of at most 1024 characters");
      }
      labels.put(e.getKey(), v);
    }
    return labels;
  }

  private long instant(String field) {
    Object raw = json.getValue(field);
    if (raw instanceof Number n) {
      double seconds = n.doubleValue();
      if (seconds < 1e9 || seconds > 1e10) {
        throw bad(field, "as a number must be epoch seconds (between 1e9 and 1e10)");
      }
      return Math.round(seconds * 1000);
    }
    if (raw instanceof String s) {
      try {
        return OffsetDateTime.parse(s).toInstant().toEpochMilli();
      } catch (DateTimeParseException e) {
        try {
          return Instant.parse(s).toEpochMilli();
        } catch (DateTimeParseException ignored) {
          throw bad(field, "must be an RFC 3339 time such as 2030-01-01T12:00:00Z, got '" + s + "'");
        }
      }
    }
    throw bad(field, "must be an RFC 3339 time or epoch seconds");
  }

  private long duration(String field) {
    Object raw = json.getValue(field);
    Matcher m = raw instanceof String s ? DURATION.matcher(s.trim()) : null;
    if (m == null || !m.matches()) {
      throw bad(field, "must be a duration such as 30m, 2h or 1d");
    }
    long amount = Long.parseLong(m.group(1));
    return amount * switch (m.group(2)) {
      case "s" -> 1000L;
      case "m" -> 60_000L;
      case "h" -> 3_600_000L;
      default -> 86_400_000L;
    };
  }

  private static ApiException bad(String field, String message) {
    return new ApiException(Failure.BAD_REQUEST, "field '" + field + "' " + message);
  }
}
