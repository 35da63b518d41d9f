package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;
import io.vertx.core.json.JsonObject;

/**
 * One message to one channel about one change.
 *
 * @param key          idempotency key of the change ({@code rule/instance/state/episode}, plus {@code /repeat/n} for the
 *                     n-th repeat, {@code /resend/n} for the n-th re-post to Alertmanager); the same change gets the same
 *                     key on every node and after a restart
 * @param kind         a change, a repeat to humans, or a re-post that keeps Alertmanager's copy alive
 * @param firing       firing (or flapping) rather than resolved
 * @param flapping     the alert was reported as flapping
 * @param event        the change
 * @param queuedNanos  when it entered the channel's queue (for the delivery latency)
 */
record Notification(String key, Kind kind, boolean firing, boolean flapping, AlertEvent event, long queuedNanos) {

  enum Kind {
    /** A state change (or an unsilenced/restored alert told under its state's id). */
    CHANGE,
    /** A firing alert told again after {@code repeat_interval}; an acknowledgement stops these. */
    REPEAT,
    /** A firing alert re-posted to Alertmanager every {@code resend_interval}; never kept across restarts. */
    RESEND
  }

  String status() {
    return firing ? "firing" : "resolved";
  }

  /** {@code [FIRING] cpu_critical on pod-a}, {@code [RESOLVED] ...}, {@code [FLAPPING] ...}. */
  String title() {
    String tag = flapping ? "FLAPPING" : firing ? "FIRING" : "RESOLVED";
    return "[" + tag + "] " + event.rule() + " on " + event.instance();
  }

  /** The summary annotation, or the title when a rule has none. */
  String summary() {
    return event.annotations().getOrDefault("summary", title());
  }

  /** The form kept in a channel's outbox; {@code seq} orders a channel's entries. */
  JsonObject toStored(long seq, long queuedAtMs) {
    return new JsonObject().put("seq", seq).put("key", key).put("kind", kind.name()).put("firing", firing)
      .put("flapping", flapping).put("queued_at_ms", queuedAtMs).put("event", event.toJson());
  }

  /** @throws RuntimeException when the record is not one Pulse wrote */
  static Notification fromStored(JsonObject json) {
    return new Notification(json.getString("key"), Kind.valueOf(json.getString("kind", "CHANGE")),
      json.getBoolean("firing"), json.getBoolean("flapping", false), AlertEvent.fromJson(json.getJsonObject("event")),
      System.nanoTime());
  }
}
