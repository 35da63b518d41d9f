package com.chatroom.pulse.alerts;

import com.chatroom.pulse.alerts.Series.State;
import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.AlertsConfig;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Evaluates every rule on every sample: inactive → pending → firing → resolved per rule and instance, with {@code for}
 * durations, a separate clear threshold and clear duration, and flapping damping. Plain Java, no Vert.x: one
 * instance, driven from the alert verticle's context. Nothing is allocated for a sample that changes nothing.
 */
final class RuleEngine {

  /** Where changes go. */
  interface Listener {
    void onEvent(AlertEvent event, Series series);

    default void onTemplateError() {
    }

    default void onSeriesDropped() {
    }
  }

  /** Whether a silence matches these labels now. */
  interface SilenceCheck {
    boolean silenced(Map<String, String> labels, long nowMs);
  }

  private record Slot(Rule rule, Map<String, Series> series) {
  }

  private final List<Slot> systemSlots = new ArrayList<>();
  private final List<Slot> appSlots = new ArrayList<>();
  private final Map<String, Slot> byName = new LinkedHashMap<>();
  private final AlertsConfig.Flapping flapping;
  private final int maxSeries;
  private final String node;
  private final SilenceCheck silences;
  private final Listener listener;
  private final Set<Series> dirty = new LinkedHashSet<>();
  private final List<String> removed = new ArrayList<>();
  private final EventFactory events;
  private int seriesCount;

  RuleEngine(List<Rule> rules, AlertsConfig.Flapping flapping, int maxSeries, String node, SilenceCheck silences,
             Listener listener) {
    for (Rule rule : rules) {
      Slot slot = new Slot(rule, new HashMap<>());
      (rule.metric.system() ? systemSlots : appSlots).add(slot);
      byName.put(rule.name, slot);
    }
    this.flapping = flapping;
    this.maxSeries = maxSeries;
    this.node = node;
    this.silences = silences;
    this.listener = listener;
    this.events = new EventFactory(node, listener::onTemplateError);
  }

  String node() {
    return node;
  }

  /** Evaluates every rule that reads this kind of sample; changes go to the listener. */
  void onSample(PulseMessage sample, long wallMs) {
    List<Slot> slots;
    String instance;
    double timestamp;
    if (sample instanceof SystemMetrics s) {
      slots = systemSlots;
      instance = s.instance();
      timestamp = s.timestamp();
    } else if (sample instanceof ApplicationMetrics a) {
      slots = appSlots;
      instance = a.instance();
      timestamp = a.timestamp();
    } else {
      return;
    }
    long t = Math.round(timestamp * 1000);
    for (int i = 0, n = slots.size(); i < n; i++) {
      Slot slot = slots.get(i);
      Rule rule = slot.rule();
      if (!rule.appliesTo(instance)) {
        continue;
      }
      Series s = slot.series().get(instance);
      if (s == null) {
        if (seriesCount >= maxSeries) {
          listener.onSeriesDropped();
          continue;
        }
        s = new Series(rule, instance, wallMs);
        slot.series().put(instance, s);
        seriesCount++;
      }
      if (t < s.lastSampleMs) {
        continue; // an older sample arriving late: the state already moved past it
      }
      s.lastSampleMs = t;
      s.lastSeenWallMs = wallMs;
      double value = rule.metric.read(sample, timestamp, s.derived);
      if (Double.isNaN(value)) {
        continue;
      }
      s.lastValue = value;
      step(rule, s, value, t, wallMs);
    }
  }

  private void step(Rule rule, Series s, double value, long t, long wallMs) {
    switch (s.state) {
      case INACTIVE, RESOLVED -> {
        if (rule.fires(value)) {
          s.activeSinceMs = t;
          s.clearingSinceMs = -1;
          s.ackBy = null;
          s.ackAtMs = -1;
          if (rule.forMs == 0) {
            s.firedAtMs = t;
            transition(s, State.FIRING, "threshold", t, wallMs);
          } else {
            transition(s, State.PENDING, "threshold", t, wallMs);
          }
        }
      }
      case PENDING -> {
        if (!rule.fires(value)) {
          transition(s, State.INACTIVE, "condition_gone", t, wallMs);
        } else if (t - s.activeSinceMs >= rule.forMs) {
          s.firedAtMs = t;
          transition(s, State.FIRING, "for_elapsed", t, wallMs);
        }
      }
      case FIRING -> {
        if (rule.clears(value)) {
          if (s.clearingSinceMs < 0) {
            s.clearingSinceMs = t;
            dirty.add(s);
          }
          if (t - s.clearingSinceMs >= rule.clearForMs) {
            transition(s, State.RESOLVED, "cleared", t, wallMs);
          }
        } else if (s.clearingSinceMs >= 0) {
          s.clearingSinceMs = -1;
          dirty.add(s);
        }
      }
    }
    if (s.flapping && t - s.lastChangeMs >= flapping.holdMs()) {
      s.flapping = false;
      s.changes.clear();
      dirty.add(s);
      publish(s, s.state.wire(), "flapping_ended", t, wallMs);
    }
  }

  private void transition(Series s, State to, String reason, long t, long wallMs) {
    s.state = to;
    dirty.add(s);
    if (flapping.enabled() && (to == State.FIRING || to == State.RESOLVED)) {
      s.changes.addLast(t);
      while (s.changes.size() > flapping.maxChanges() || t - s.changes.peekFirst() > flapping.windowMs()) {
        s.changes.removeFirst();
      }
      s.lastChangeMs = t;
      if (!s.flapping && s.changes.size() >= flapping.maxChanges()) {
        s.flapping = true;
        s.flapSinceMs = t;
        publish(s, "flapping", "flapping_started", t, wallMs);
        return;
      }
    }
    if (!s.flapping) {
      publish(s, to.wire(), reason, t, wallMs);
    }
  }

  private void publish(Series s, String state, String reason, long t, long wallMs) {
    String previous = s.published;
    s.published = state;
    s.silenced = silences.silenced(s.labels, wallMs);
    listener.onEvent(events.change(s, previous, reason, t), s);
  }

  /**
   * Resolves the alerts of instances that stopped sending samples ({@code no_data}) and forgets their series;
   * re-checks silences, publishing a flag change for every active alert that became silenced or unsilenced.
   */
  void sweep(long wallMs, long staleAfterMs) {
    for (Slot slot : byName.values()) {
      for (Iterator<Series> it = slot.series().values().iterator(); it.hasNext(); ) {
        Series s = it.next();
        if (wallMs - s.lastSeenWallMs >= staleAfterMs) {
          if (s.active()) {
            s.flapping = false;
            String state = s.state == State.PENDING ? "inactive" : "resolved";
            s.state = state.equals("inactive") ? State.INACTIVE : State.RESOLVED;
            publish(s, state, "no_data", wallMs, wallMs);
          }
          it.remove();
          seriesCount--;
          dirty.remove(s);
          removed.add(s.key);
        } else if (s.active()) {
          boolean now = silences.silenced(s.labels, wallMs);
          if (now != s.silenced) {
            s.silenced = now;
            dirty.add(s);
            listener.onEvent(events.flag(s, now ? "silenced" : "unsilenced", wallMs), s);
          }
        }
      }
    }
  }

  /**
   * Acknowledges a firing alert: no repeats for this episode. Publishes the flag change.
   *
   * @throws java.util.NoSuchElementException if there is no such rule or alert
   * @throws IllegalStateException            if the alert is not firing
   */
  AlertEvent acknowledge(String rule, String instance, String by, long wallMs) {
    Slot slot = byName.get(rule);
    Series s = slot == null ? null : slot.series().get(instance);
    if (s == null) {
      throw new java.util.NoSuchElementException(slot == null ? "no rule named '" + rule + "'"
        : "rule '" + rule + "' has no alert for instance '" + instance + "'");
    }
    if (!s.published.equals("firing") && !s.published.equals("flapping")) {
      throw new IllegalStateException("the alert is " + s.published + "; only a firing alert can be acknowledged");
    }
    s.ackBy = by;
    s.ackAtMs = wallMs;
    dirty.add(s);
    AlertEvent event = events.flag(s, "acknowledged", wallMs);
    listener.onEvent(event, s);
    return event;
  }

  /** Active alerts (pending, firing, flapping) as their current event. */
  List<AlertEvent> active() {
    List<AlertEvent> active = new ArrayList<>();
    forEachSeries(s -> {
      if (s.active()) {
        active.add(events.current(s));
      }
    });
    return active;
  }

  /** The current event of a series (for repeats and listings). */
  AlertEvent current(Series s) {
    return events.current(s);
  }

  void forEachSeries(Consumer<Series> action) {
    for (Slot slot : byName.values()) {
      slot.series().values().forEach(action);
    }
  }

  /** Series changed since the last call (to persist), and keys of series forgotten since. */
  void drainChanges(Consumer<Series> changed, Consumer<String> forgotten) {
    dirty.forEach(changed);
    dirty.clear();
    removed.forEach(forgotten);
    removed.clear();
  }

  /**
   * Restores one persisted series (after a restart, or written by a peer). Series of rules that no longer exist, or
   * beyond the series limit, are ignored.
   *
   * @return false if it was ignored
   */
  boolean restore(io.vertx.core.json.JsonObject json, long wallMs) {
    Slot slot = byName.get(json.getString("rule", ""));
    String instance = json.getString("instance");
    if (slot == null || instance == null || !slot.rule().appliesTo(instance)
      || (!slot.series().containsKey(instance) && seriesCount >= maxSeries)) {
      return false;
    }
    Series s = new Series(slot.rule(), instance, wallMs);
    s.restore(json, flapping.maxChanges());
    if (slot.series().put(instance, s) == null) {
      seriesCount++;
    }
    return true;
  }

  int seriesCount() {
    return seriesCount;
  }
}
