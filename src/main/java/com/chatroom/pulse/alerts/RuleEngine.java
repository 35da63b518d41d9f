package com.chatroom.pulse.alerts;

import com.chatroom.pulse.alerts.Series.State;
import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.bus.PulseMessage;
import com.chatroom.pulse.bus.Sample;
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

  /** Which silence matches these labels now (the same one on every node), or null. */
  interface SilenceCheck {
    String silencedBy(Map<String, String> labels, long nowMs);
  }

  /**
   * The rules that read one kind of sample and their series: one row per instance, one column per rule, so a sample
   * costs one map lookup whatever the number of rules.
   */
  private static final class Table {
    final Rule[] rules;
    final Map<String, Series[]> rows = new HashMap<>();

    Table(List<Rule> rules) {
      this.rules = rules.toArray(Rule[]::new);
    }
  }

  private record Column(Table table, int index) {
  }

  private final Table system;
  private final Table app;
  private final Map<String, Column> byName = new LinkedHashMap<>();
  private final AlertsConfig.Flapping flapping;
  private final int maxSeries;
  private final String node;
  private final SilenceCheck silences;
  private final Listener listener;
  private final Set<Series> dirty = new LinkedHashSet<>();
  private final List<String> removed = new ArrayList<>();
  private final EventFactory events;
  private final StateMachine machine;
  private int seriesCount;

  RuleEngine(List<Rule> rules, AlertsConfig.Flapping flapping, int maxSeries, String node, SilenceCheck silences,
             Listener listener) {
    this.system = new Table(rules.stream().filter(r -> r.metric.system()).toList());
    this.app = new Table(rules.stream().filter(r -> !r.metric.system()).toList());
    for (Table table : List.of(system, app)) {
      for (int i = 0; i < table.rules.length; i++) {
        byName.put(table.rules[i].name, new Column(table, i));
      }
    }
    this.flapping = flapping;
    this.maxSeries = maxSeries;
    this.node = node;
    this.silences = silences;
    this.listener = listener;
    this.events = new EventFactory(node, listener::onTemplateError);
    this.machine = new StateMachine(flapping, dirty, this::publish);
  }

  String node() {
    return node;
  }

  /** Evaluates every rule that reads this kind of sample; changes go to the listener. */
  void onSample(PulseMessage sample, long wallMs) {
    if (!(sample instanceof Sample measured)) {
      return;
    }
    Table table = measured instanceof SystemMetrics ? system : app;
    String instance = measured.instance();
    double timestamp = measured.timestamp();
    Rule[] rules = table.rules;
    if (rules.length == 0) {
      return;
    }
    long t = Math.round(timestamp * 1000);
    Series[] row = table.rows.get(instance);
    for (int i = 0; i < rules.length; i++) {
      Rule rule = rules[i];
      Series s = row == null ? null : row[i];
      if (s == null) {
        if (!rule.appliesTo(instance)) {
          continue;
        }
        if (seriesCount >= maxSeries) {
          listener.onSeriesDropped();
          continue;
        }
        if (row == null) {
          row = new Series[rules.length];
          table.rows.put(instance, row);
        }
        s = new Series(rule, instance, wallMs);
        row[i] = s;
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
      machine.step(rule, s, value, t, wallMs);
    }
  }

  private void publish(Series s, String state, String reason, long t, long wallMs) {
    String previous = s.published;
    s.published = state;
    s.silencedBy = silences.silencedBy(s.labels, wallMs);
    s.silenced = s.silencedBy != null;
    listener.onEvent(events.change(s, previous, reason, t), s);
  }

  /**
   * Resolves the alerts of instances that stopped sending samples ({@code no_data}) and forgets their series;
   * re-checks silences, publishing a flag change for every active alert that became silenced or unsilenced.
   */
  void sweep(long wallMs, long staleAfterMs) {
    for (Table table : List.of(system, app)) {
      for (Iterator<Series[]> rows = table.rows.values().iterator(); rows.hasNext(); ) {
        Series[] row = rows.next();
        boolean empty = true;
        for (int i = 0; i < row.length; i++) {
          Series s = row[i];
          if (s == null) {
            continue;
          }
          if (wallMs - s.lastSeenWallMs >= staleAfterMs) {
            forget(s, wallMs);
            row[i] = null;
            continue;
          }
          empty = false;
          if (s.active()) {
            String by = silences.silencedBy(s.labels, wallMs);
            boolean now = by != null;
            if (now != s.silenced) {
              s.silenced = now;
              dirty.add(s);
              if (now) {
                s.silencedBy = by;
              }
              // while it is told, an unsilenced change still names the silence that ended (history keys use it)
              listener.onEvent(events.flag(s, now ? "silenced" : "unsilenced", wallMs), s);
              if (!now) {
                s.silencedBy = null;
              }
            }
          }
        }
        if (empty) {
          rows.remove();
        }
      }
    }
  }

  /** An instance that went quiet: resolve what it had active ({@code no_data}) and drop its series. */
  private void forget(Series s, long wallMs) {
    if (s.active()) {
      s.flapping = false;
      boolean pending = s.state == State.PENDING;
      s.state = pending ? State.INACTIVE : State.RESOLVED;
      publish(s, pending ? "inactive" : "resolved", "no_data", wallMs, wallMs);
    }
    seriesCount--;
    dirty.remove(s);
    removed.add(s.key);
  }

  /**
   * Acknowledges a firing alert: no repeats for this episode. Publishes the flag change.
   *
   * @throws java.util.NoSuchElementException if there is no such rule or alert
   * @throws IllegalStateException            if the alert is not firing
   */
  AlertEvent acknowledge(String rule, String instance, String by, long wallMs) {
    Column column = byName.get(rule);
    Series s = column == null ? null : find(column, instance);
    if (s == null) {
      throw new java.util.NoSuchElementException(column == null ? "no rule named '" + rule + "'"
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

  /** The id of the state last published for this rule and instance, or null if there is no such alert. */
  String stateId(String rule, String instance) {
    Column column = byName.get(rule);
    Series s = column == null ? null : find(column, instance);
    return s == null ? null : s.stateId();
  }

  /** Whether this rule's alert on this instance is acknowledged (for its current episode). */
  boolean acknowledged(String rule, String instance) {
    Column column = byName.get(rule);
    Series s = column == null ? null : find(column, instance);
    return s != null && s.ackBy != null;
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
    for (Table table : List.of(system, app)) {
      for (Series[] row : table.rows.values()) {
        for (Series s : row) {
          if (s != null) {
            action.accept(s);
          }
        }
      }
    }
  }

  private static Series find(Column column, String instance) {
    Series[] row = column.table().rows.get(instance);
    return row == null ? null : row[column.index()];
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
    Column column = byName.get(json.getString("rule", ""));
    String instance = json.getString("instance");
    if (column == null || instance == null) {
      return false;
    }
    Rule rule = column.table().rules[column.index()];
    boolean known = find(column, instance) != null;
    if (!rule.appliesTo(instance) || (!known && seriesCount >= maxSeries)) {
      return false;
    }
    Series s = new Series(rule, instance, wallMs);
    s.restore(json, flapping.maxChanges());
    column.table().rows.computeIfAbsent(instance, k -> new Series[column.table().rules.length])[column.index()] = s;
    if (!known) {
      seriesCount++;
    }
    return true;
  }

  int seriesCount() {
    return seriesCount;
  }
}
