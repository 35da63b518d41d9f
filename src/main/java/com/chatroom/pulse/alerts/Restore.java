package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/** Start-up: brings back what the previous run (or a peer) left in Redis, before the first sample is evaluated. */
final class Restore {

  private static final Logger LOG = LoggerFactory.getLogger(Restore.class);

  private Restore() {
  }

  /**
   * What the last run (or a peer) left: alert states, silences, history and dead letters; then each channel's
   * undelivered notifications, in order, ahead of anything new.
   */
  static void apply(AlertStore.Loaded loaded, Map<String, List<Notification>> queued, RuleEngine engine,
                    Silences silences, AlertApi api, Notifier notifier) {
    if (loaded != null) {
      state(loaded, engine, silences, api, notifier);
    }
    int waiting = queued.values().stream().mapToInt(List::size).sum();
    if (waiting > 0) {
      LOG.info("Queueing {} notifications a previous run had not delivered", waiting);
    }
    notifier.restoreQueued(queued);
    // a firing alert whose notification was queued when the last run stopped without Redis' outbox (or lost it):
    // send it now under its state's id; claims drop it if it went out
    engine.forEachSeries(s -> {
      if (s.published.equals("firing") && !s.silenced) {
        AlertEvent current = engine.current(s);
        notifier.onEvent(current.withSilenced(false, "restored"), s.stateId(), s.key);
      }
    });
  }

  private static void state(AlertStore.Loaded loaded, RuleEngine engine, Silences silences, AlertApi api, Notifier notifier) {
    long now = System.currentTimeMillis();
    int restored = 0;
    for (JsonObject json : loaded.series()) {
      try {
        restored += engine.restore(json, now) ? 1 : 0;
      } catch (RuntimeException e) {
        LOG.warn("Ignoring an unreadable alert state for {}: {}", json.getString("rule") + "|" + json.getString("instance"), e.toString());
      }
    }
    for (JsonObject json : loaded.silences()) {
      try {
        silences.add(Silences.Silence.fromStored(json));
      } catch (RuntimeException e) {
        LOG.warn("Ignoring an unreadable silence {}: {}", json.getString("id"), e.toString());
      }
    }
    for (JsonObject json : loaded.history()) {
      try {
        api.remember(AlertEvent.fromJson(json));
      } catch (RuntimeException e) {
        LOG.debug("Ignoring an unreadable history entry: {}", e.toString());
      }
    }
    notifier.restoreDeadLetters(loaded.deadLetters());
    if (restored > 0 || !loaded.silences().isEmpty()) {
      LOG.info("Restored {} alert states and {} silences from Redis", restored, silences.all().size());
    }
  }
}
