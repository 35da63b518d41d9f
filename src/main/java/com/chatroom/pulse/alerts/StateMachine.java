package com.chatroom.pulse.alerts;

import com.chatroom.pulse.alerts.Series.State;
import com.chatroom.pulse.config.AlertsConfig;

import java.util.Set;

/**
 * How one series moves on one sample: inactive → pending ({@code for}) → firing → resolved (clear threshold held for
 * {@code clear_for}), and flapping damping: the firing/resolved change that reaches {@code max_changes} within the
 * window is published once as {@code flapping}; later changes are held until none has happened for {@code hold}.
 */
final class StateMachine {

  /** Tells the world a series' state (what it publishes is what {@link Series#published} becomes). */
  interface Publisher {
    void publish(Series s, String state, String reason, long t, long wallMs);
  }

  private final AlertsConfig.Flapping flapping;
  private final Set<Series> dirty;
  private final Publisher publisher;

  StateMachine(AlertsConfig.Flapping flapping, Set<Series> dirty, Publisher publisher) {
    this.flapping = flapping;
    this.dirty = dirty;
    this.publisher = publisher;
  }

  void step(Rule rule, Series s, double value, long t, long wallMs) {
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
      publisher.publish(s, s.state.wire(), "flapping_ended", t, wallMs);
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
        publisher.publish(s, "flapping", "flapping_started", t, wallMs);
        return;
      }
    }
    if (!s.flapping) {
      publisher.publish(s, to.wire(), reason, t, wallMs);
    }
  }

}
