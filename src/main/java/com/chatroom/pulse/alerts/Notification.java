package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;

/**
 * One message to one channel about one change.
 *
 * @param key          idempotency key of the change ({@code rule/instance/state/episode}, plus {@code /repeat/n} for the
 *                     n-th repeat); the same change gets the same key on every node and after a restart
 * @param firing       firing (or flapping) rather than resolved
 * @param flapping     the alert was reported as flapping
 * @param event        the change
 * @param queuedNanos  when it entered the channel's queue (for the delivery latency)
 */
record Notification(String key, boolean firing, boolean flapping, AlertEvent event, long queuedNanos) {

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
}
