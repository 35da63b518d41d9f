package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.config.AlertsConfig;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static com.chatroom.pulse.alerts.EngineFixture.rule;
import static com.chatroom.pulse.alerts.EngineFixture.system;
import static com.chatroom.pulse.alerts.EngineFixture.wall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("Rule engine: states over synthetic sample sequences")
class RuleEngineTest {

  @Test
  @DisplayName("an alert is pending until the condition has held for its 'for', then fires on the sample that completes it")
  void forDuration() {
    EngineFixture f = new EngineFixture(rule("cpu", "cpu_percent", ">", 90, 90, 30_000, 0));
    f.cpu("pod-a", 0, 10, 50);
    assertThat(f.events).isEmpty();
    f.cpu("pod-a", 10, 40, 95); // 10 s .. 39 s: held for 29 s
    assertThat(f.states()).containsExactly("pending");
    f.cpu("pod-a", 40, 41, 95); // held for 30 s
    assertThat(f.states()).containsExactly("pending", "firing");
    AlertEvent firing = f.last();
    assertThat(firing.reason()).isEqualTo("for_elapsed");
    assertThat(firing.previousState()).isEqualTo("pending");
    assertThat(firing.changedAt()).isEqualTo(EngineFixture.T0 + 40);
    assertThat(firing.activeSince()).isEqualTo(EngineFixture.T0 + 10);
    assertThat(firing.id()).isEqualTo("cpu/pod-a/firing/" + wall(10));
    assertThat(firing.labels()).containsExactly(Map.entry("alertname", "cpu"), Map.entry("instance", "pod-a"),
      Map.entry("severity", "critical"), Map.entry("team", "chat"));
    assertThat(firing.annotations().get("summary")).isEqualTo("cpu on pod-a: cpu_percent is 95 (> 90)");
  }

  @Test
  @DisplayName("a pending alert whose condition goes away before its 'for' becomes inactive, and never fires")
  void pendingThenInactive() {
    EngineFixture f = new EngineFixture(rule("cpu", "cpu_percent", ">", 90, 90, 30_000, 0));
    f.cpu("pod-a", 0, 20, 95);
    f.cpu("pod-a", 20, 21, 50);
    f.cpu("pod-a", 21, 45, 95);
    assertThat(f.states()).containsExactly("pending", "inactive", "pending");
    assertThat(f.events.get(1).reason()).isEqualTo("condition_gone");
    assertThat(f.events.get(2).activeSince()).isEqualTo(EngineFixture.T0 + 21);
  }

  @Test
  @DisplayName("hysteresis: a firing alert stays firing between the clear threshold and the threshold, and resolves only after clear_for below it")
  void hysteresis() {
    EngineFixture f = new EngineFixture(rule("cpu", "cpu_percent", ">", 90, 80, 0, 10_000));
    f.cpu("pod-a", 0, 1, 95);
    assertThat(f.states()).containsExactly("firing");
    assertThat(f.last().reason()).isEqualTo("threshold");
    for (int t = 1; t < 30; t++) { // oscillates 85 / 92: around the threshold, never below the clear threshold
      f.cpu("pod-a", t, t + 1, t % 2 == 0 ? 85 : 92);
    }
    assertThat(f.states()).containsExactly("firing");
    f.cpu("pod-a", 30, 35, 70);  // 5 s below 80
    f.cpu("pod-a", 35, 36, 81);  // back above the clear threshold: the clear timer starts again
    f.cpu("pod-a", 36, 46, 70);  // 36..45: 9 s below
    assertThat(f.states()).containsExactly("firing");
    f.cpu("pod-a", 46, 47, 70);  // 10 s below
    assertThat(f.states()).containsExactly("firing", "resolved");
    AlertEvent resolved = f.last();
    assertThat(resolved.reason()).isEqualTo("cleared");
    assertThat(resolved.id()).isEqualTo("cpu/pod-a/resolved/" + wall(0));
    assertThat(resolved.changedAt()).isEqualTo(EngineFixture.T0 + 46);
    f.cpu("pod-a", 47, 48, 95);
    assertThat(f.states()).containsExactly("firing", "resolved", "firing");
    assertThat(f.last().id()).isEqualTo("cpu/pod-a/firing/" + wall(47));
  }

  @Test
  @DisplayName("flapping: the change that reaches max_changes in the window is reported once as flapping; the rule is held until quiet for 'hold'")
  void flapping() {
    AlertsConfig.Flapping flapping = new AlertsConfig.Flapping(true, 60_000, 4, 20_000);
    EngineFixture f = new EngineFixture(flapping, 100, rule("cpu", "cpu_percent", ">", 90, 90, 0, 0));
    for (int t = 0; t < 12; t++) {
      f.cpu("pod-a", t, t + 1, t % 2 == 0 ? 95 : 50);
    }
    assertThat(f.states()).containsExactly("firing", "resolved", "firing", "flapping");
    AlertEvent flap = f.events.get(3);
    assertThat(flap.reason()).isEqualTo("flapping_started");
    assertThat(flap.id()).isEqualTo("cpu/pod-a/flapping/" + wall(3));
    f.cpu("pod-a", 12, 31, 50); // last change at 11 s; quiet until 31 s
    assertThat(f.states()).hasSize(4);
    f.cpu("pod-a", 31, 32, 50);
    assertThat(f.states()).containsExactly("firing", "resolved", "firing", "flapping", "resolved");
    assertThat(f.last().reason()).isEqualTo("flapping_ended");
    assertThat(f.last().previousState()).isEqualTo("flapping");
    f.cpu("pod-a", 32, 33, 95);
    assertThat(f.last().state()).isEqualTo("firing");
    assertThat(f.last().reason()).isEqualTo("threshold");
  }

  @Test
  @DisplayName("each instance has its own state, and instance patterns choose which instances a rule watches")
  void instances() {
    EngineFixture f = new EngineFixture(EngineFixture.withAnnotations(rule("cpu", "cpu_percent", ">", 90, 90, 0, 0),
      Map.of(), List.of("pod-*")));
    f.cpu("pod-a", 0, 1, 95);
    f.cpu("db-1", 0, 1, 95);
    f.cpu("pod-b", 0, 1, 50);
    f.cpu("pod-b", 1, 2, 99);
    assertThat(f.events).extracting(AlertEvent::instance).containsExactly("pod-a", "pod-b");
    assertThat(f.engine.active()).extracting(AlertEvent::instance).containsExactlyInAnyOrder("pod-a", "pod-b");
  }

  @Test
  @DisplayName("an instance that stops sending is resolved as no_data and forgotten; past max_series new instances are not tracked")
  void staleAndBounded() {
    EngineFixture f = new EngineFixture(EngineFixture.NO_FLAPPING, 2, rule("cpu", "cpu_percent", ">", 90, 90, 0, 0));
    f.cpu("pod-a", 0, 1, 95);
    f.cpu("pod-b", 0, 1, 10);
    f.cpu("pod-c", 0, 1, 99);
    assertThat(f.dropped).isEqualTo(1);
    f.engine.sweep(wall(0) + 299_000, 300_000);
    assertThat(f.states()).containsExactly("firing");
    f.engine.sweep(wall(0) + 300_000, 300_000);
    assertThat(f.states()).containsExactly("firing", "resolved");
    assertThat(f.last().reason()).isEqualTo("no_data");
    assertThat(f.engine.seriesCount()).isZero();
    List<String> forgotten = new java.util.ArrayList<>();
    f.engine.drainChanges(s -> { }, forgotten::add);
    assertThat(forgotten).containsExactlyInAnyOrder("cpu|pod-a", "cpu|pod-b");
  }

  @Test
  @DisplayName("a late sample older than the last one is ignored")
  void outOfOrder() {
    EngineFixture f = new EngineFixture(rule("cpu", "cpu_percent", ">", 90, 90, 0, 0));
    f.cpu("pod-a", 10, 11, 50);
    f.engine.onSample(system("pod-a", 5, 99), wall(12));
    assertThat(f.events).isEmpty();
  }

  @Test
  @DisplayName("a silence marks changes silenced, and the sweep reports when it starts and ends")
  void silenceFlags() {
    EngineFixture f = new EngineFixture(rule("cpu", "cpu_percent", ">", 90, 90, 0, 0));
    f.silences.add(new Silences.Silence("s1", "cp*", Map.of("instance", "pod-a"), wall(0), wall(10), "", "ops"));
    f.cpu("pod-a", 1, 2, 95);
    f.cpu("pod-b", 1, 2, 95);
    assertThat(f.events).extracting(AlertEvent::instance, AlertEvent::silenced)
      .containsExactly(org.assertj.core.groups.Tuple.tuple("pod-a", true), org.assertj.core.groups.Tuple.tuple("pod-b", false));
    f.silences.expire(wall(10));
    f.engine.sweep(wall(10), 300_000);
    assertThat(f.last().reason()).isEqualTo("unsilenced");
    assertThat(f.last().state()).isEqualTo("firing");
    assertThat(f.last().id()).startsWith("cpu/pod-a/firing/" + wall(1) + "/unsilenced/");
  }

  @Test
  @DisplayName("only a firing alert can be acknowledged; the acknowledgement is published and kept until the episode ends")
  void acknowledge() {
    EngineFixture f = new EngineFixture(rule("cpu", "cpu_percent", ">", 90, 90, 10_000, 0));
    f.cpu("pod-a", 0, 1, 95);
    assertThatThrownBy(() -> f.engine.acknowledge("cpu", "pod-a", "alice", wall(1)))
      .isInstanceOf(IllegalStateException.class).hasMessageContaining("pending");
    assertThatThrownBy(() -> f.engine.acknowledge("cpu", "pod-z", "alice", wall(1)))
      .isInstanceOf(java.util.NoSuchElementException.class).hasMessageContaining("pod-z");
    f.cpu("pod-a", 1, 11, 95);
    AlertEvent ack = f.engine.acknowledge("cpu", "pod-a", "alice", wall(11));
    assertThat(ack.acknowledged()).isTrue();
    assertThat(ack.acknowledgedBy()).isEqualTo("alice");
    assertThat(f.engine.active().get(0).acknowledged()).isTrue();
    f.cpu("pod-a", 11, 12, 10);
    f.cpu("pod-a", 12, 13, 95);
    assertThat(f.last().state()).isEqualTo("pending");
    assertThat(f.last().acknowledged()).isFalse();
  }
}
