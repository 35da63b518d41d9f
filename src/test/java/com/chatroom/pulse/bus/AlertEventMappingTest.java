package com.chatroom.pulse.bus;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("The alert event record on the bus")
class AlertEventMappingTest {

  static AlertEvent event() {
    return new AlertEvent("cpu/pod-a/firing/1764000000000", "cpu", "pod-a", "firing", "pending", "for_elapsed",
      "critical", "cpu_percent", ">", 97.5, 90, 85, Map.of("alertname", "cpu", "instance", "pod-a", "severity", "critical"),
      Map.of("summary", "CPU at 97.5%"), 1_764_000_000d, 1_764_000_030.5, false, false, null, "node-1");
  }

  @Test
  @DisplayName("its JSON names every field in snake_case and carries the instance for stream filters")
  void json() {
    JsonObject json = event().toJson();
    assertThat(json.fieldNames()).containsExactlyInAnyOrder("id", "rule", "instance", "state", "previous_state", "reason",
      "severity", "metric", "op", "value", "threshold", "clear_threshold", "labels", "annotations", "active_since",
      "changed_at", "silenced", "acknowledged", "acknowledged_by", "node");
    assertThat(json.getString("instance")).isEqualTo("pod-a");
    assertThat(json.encode()).contains("\"changed_at\":1764000030.500");
    assertThat(AlertEvent.fromJson(json)).isEqualTo(event());
  }

  @Test
  @DisplayName("the cluster codec carries it as JSON and validates it on arrival")
  void codec() {
    PulseMessageCodec codec = new PulseMessageCodec();
    Buffer wire = Buffer.buffer();
    codec.encodeToWire(wire, event());
    assertThat(codec.decodeFromWire(0, wire)).isEqualTo(event());

    JsonObject bad = event().toJson().put("state", "exploded");
    assertThatThrownBy(() -> AlertEvent.fromJson(bad)).isInstanceOf(InvalidMessageException.class)
      .hasMessageContaining("field 'state' must be one of");
    JsonObject noRule = event().toJson();
    noRule.remove("rule");
    assertThatThrownBy(() -> AlertEvent.fromJson(noRule)).isInstanceOf(InvalidMessageException.class)
      .hasMessageContaining("field 'rule' is missing");
  }

  @Test
  @DisplayName("an unknown value is written as null, not NaN")
  void nanValue() {
    AlertEvent e = event();
    AlertEvent unknown = new AlertEvent(e.id(), e.rule(), e.instance(), "resolved", "firing", "no_data", e.severity(),
      e.metric(), e.op(), Double.NaN, e.threshold(), e.clearThreshold(), e.labels(), e.annotations(), e.activeSince(),
      e.changedAt(), false, false, null, e.node());
    assertThat(unknown.toJson().getValue("value")).isNull();
    assertThat(AlertEvent.fromJson(unknown.toJson()).value()).isNaN();
  }
}
