package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.config.AlertRuleConfig;
import com.chatroom.pulse.config.ConfigException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static com.chatroom.pulse.alerts.EngineFixture.app;
import static com.chatroom.pulse.alerts.EngineFixture.disk;
import static com.chatroom.pulse.alerts.EngineFixture.rule;
import static com.chatroom.pulse.alerts.EngineFixture.wall;
import static com.chatroom.pulse.alerts.EngineFixture.withAnnotations;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("Rule engine: metrics, templates, compile errors and restarts")
class RuleCompileTest {

  @Test
  @DisplayName("a template error never drops the alert: a bad format and a missing label are written into the text and counted")
  void templateErrors() {
    AlertRuleConfig r = withAnnotations(rule("cpu", "cpu_percent", ">", 90, 90, 0, 0), Map.of(
      "summary", "{{instance}} at {{value:%d}}%",
      "owner", "owned by {{labels.owner}}, team {{labels.team}}",
      "detail", "{{value:%.1f}} {{op}} {{threshold}} for {{for}} (clears at {{clear_threshold}}) on {{node}}"), List.of());
    EngineFixture f = new EngineFixture(r);
    f.cpu("pod-a", 0, 1, 97.25);
    assertThat(f.states()).containsExactly("firing");
    Map<String, String> annotations = f.last().annotations();
    assertThat(annotations.get("summary")).isEqualTo("pod-a at 97.25 <bad format %d>%");
    assertThat(annotations.get("owner")).isEqualTo("owned by <no value>, team chat");
    assertThat(annotations.get("detail")).isEqualTo("97.3 > 90 for 0s (clears at 90) on node-1");
    // one bad format and one missing label; the alert was still published with the text filled in
    assertThat(f.templateErrors).isEqualTo(2);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "cpu_precent                      | alerts.rules[r].metric | unknown metric 'cpu_precent'",
    "rate(cpu_percent, 5m)            | alerts.rules[r].metric | rate() takes one argument",
    "predict_linear(disk_usage_percent) | alerts.rules[r].metric | needs a horizon",
    "rate(rate(total_messages))       | alerts.rules[r].metric | unknown metric",
    "predict_linear(disk_usage_percent, soon) | alerts.rules[r].metric | 'soon' is not a duration"
  })
  @DisplayName("a bad metric stops start-up naming the rule and field")
  void badMetric(String metric, String key, String message) {
    assertThatThrownBy(() -> Rule.compile(rule("r", metric, ">", 1, 1, 0, 0)))
      .isInstanceOf(ConfigException.class).hasMessageContaining("'" + key + "'").hasMessageContaining(message);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "'{{instance}} is {{valeu}}'  | unknown template variable 'valeu'",
    "'{{instance} is hot'         | is never closed",
    "'{{value:.2}}'               | must be a printf pattern"
  })
  @DisplayName("a bad template stops start-up naming the rule and annotation")
  void badTemplate(String template, String message) {
    AlertRuleConfig r = withAnnotations(rule("r", "cpu_percent", ">", 1, 1, 0, 0), Map.of("summary", template), List.of());
    assertThatThrownBy(() -> Rule.compile(r)).isInstanceOf(ConfigException.class)
      .hasMessageContaining("'alerts.rules[r].annotations.summary'").hasMessageContaining(message);
  }

  @Test
  @DisplayName("application fields and rate() of a counter: per second between samples, no value across a counter reset")
  void rateOfCounter() {
    EngineFixture f = new EngineFixture(rule("msgs", "rate(total_messages)", ">", 50, 50, 0, 0),
      rule("errors", "error_rate", ">=", 0.05, 0.01, 0, 0));
    f.engine.onSample(app("chat-1", 0, 1000, 0.01), wall(0));
    f.engine.onSample(app("chat-1", 10, 1400, 0.01), wall(10));   // 40/s
    assertThat(f.events).isEmpty();
    f.engine.onSample(app("chat-1", 20, 2000, 0.05), wall(20));   // 60/s; error rate at the threshold
    assertThat(f.events).extracting(AlertEvent::rule, AlertEvent::state)
      .containsExactly(org.assertj.core.groups.Tuple.tuple("msgs", "firing"), org.assertj.core.groups.Tuple.tuple("errors", "firing"));
    assertThat(f.events.get(0).value()).isEqualTo(60.0);
    f.engine.onSample(app("chat-1", 30, 10, 0.02), wall(30));     // restarted: no rate, the alert stays
    assertThat(f.events).hasSize(2);
    f.engine.onSample(app("chat-1", 40, 110, 0.005), wall(40));   // 10/s; errors below the clear threshold
    assertThat(f.events).extracting(AlertEvent::state).containsExactly("firing", "firing", "resolved", "resolved");
  }

  @Test
  @DisplayName("predict_linear() forecasts a filling disk, and disks[/mount] reads a named mount")
  void forecast() {
    EngineFixture f = new EngineFixture(rule("disk_full_1h", "predict_linear(disks[/data].usage_percent, 1h, 10m)", ">=", 100, 100, 0, 0));
    for (int minute = 0; minute < 40; minute++) { // +0.5 % a minute from 50 %: full in an hour once at 70 %
      f.engine.onSample(disk("db-1", minute * 60, 50 + minute * 0.5), wall(minute * 60));
    }
    assertThat(f.events).isEmpty();
    f.engine.onSample(disk("db-1", 40 * 60, 70), wall(40 * 60));
    assertThat(f.states()).containsExactly("firing");
    assertThat(f.last().value()).isCloseTo(100, org.assertj.core.data.Offset.offset(0.01));
    assertThat(f.last().changedAt()).isEqualTo(EngineFixture.T0 + 2400);
  }

  @Test
  @DisplayName("two engines fed the same samples make the same changes with the same ids; a restored engine carries on")
  void deterministicAndRestorable() {
    AlertRuleConfig r = rule("cpu", "cpu_percent", ">", 90, 80, 5_000, 5_000);
    EngineFixture a = new EngineFixture(r);
    EngineFixture b = new EngineFixture(r);
    for (EngineFixture f : List.of(a, b)) {
      f.cpu("pod-a", 0, 3, 50);
      f.cpu("pod-a", 3, 12, 95);
    }
    assertThat(a.events).extracting(AlertEvent::id).containsExactlyElementsOf(b.events.stream().map(AlertEvent::id).toList());
    assertThat(a.states()).containsExactly("pending", "firing");

    List<JsonObject> stored = new ArrayList<>();
    a.engine.drainChanges(s -> stored.add(s.toJson()), k -> { });
    EngineFixture restarted = new EngineFixture(r);
    stored.forEach(json -> assertThat(restarted.engine.restore(new JsonObject(json.encode()), wall(12))).isTrue());
    assertThat(restarted.engine.active()).extracting(AlertEvent::id).containsExactly("cpu/pod-a/firing/" + wall(3));
    restarted.cpu("pod-a", 12, 18, 10);
    a.cpu("pod-a", 12, 18, 10);
    assertThat(restarted.states()).containsExactly("resolved");
    assertThat(restarted.last().id()).isEqualTo(a.last().id()).isEqualTo("cpu/pod-a/resolved/" + wall(3));
  }
}
