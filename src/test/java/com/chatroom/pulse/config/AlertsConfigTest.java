package com.chatroom.pulse.config;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(VertxExtension.class)
@DisplayName("Alerts configuration")
class AlertsConfigTest {

  private static JsonObject rule(String name) {
    return new JsonObject().put("name", name).put("metric", "cpu_percent").put("op", ">").put("threshold", 90);
  }

  private static PulseConfig withAlerts(JsonObject alerts) {
    return PulseConfig.from(new JsonObject().put("instance_id", "t").put("alerts", alerts));
  }

  @Test
  @Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the shipped file holds the seed's three alerts, no channels and the documented limits")
  void shippedDefaults(Vertx vertx, VertxTestContext ctx) {
    ConfigLoader.load(vertx, new JsonObject()).onComplete(ctx.succeeding(config -> ctx.verify(() -> {
      AlertsConfig alerts = config.alerts();
      assertThat(alerts.enabled()).isTrue();
      assertThat(alerts.rules()).extracting(AlertRuleConfig::metric, AlertRuleConfig::op, AlertRuleConfig::threshold,
          AlertRuleConfig::severity)
        .containsExactly(
          org.assertj.core.groups.Tuple.tuple("cpu_percent", ">", 90.0, "critical"),
          org.assertj.core.groups.Tuple.tuple("memory_percent", ">", 95.0, "critical"),
          org.assertj.core.groups.Tuple.tuple("disk_usage_percent", ">", 95.0, "warning"));
      assertThat(alerts.rules().get(0).forMs()).isEqualTo(30_000);
      assertThat(alerts.rules().get(0).clearThreshold()).isEqualTo(85);
      assertThat(alerts.channels()).isEmpty();
      assertThat(alerts.delivery().maxAttempts()).isEqualTo(8);
      assertThat(alerts.delivery().backoffInitialMs()).isEqualTo(500);
      assertThat(alerts.limits().staleAfterMs()).isEqualTo(300_000);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("durations, labels, channels and ${ENV} secrets are read into typed values")
  void typedValues() {
    JsonObject channel = new JsonObject().put("name", "ops").put("type", "dingtalk")
      .put("url", "https://oapi.dingtalk.com/robot/send?access_token=abc").put("secret", "${HOME}")
      .put("severities", new JsonArray().add("critical")).put("match", new JsonObject().put("team", "chat"))
      .put("repeat_interval", "2h").put("send_resolved", false);
    JsonObject mail = new JsonObject().put("name", "mail").put("type", "email").put("smtp", new JsonObject()
      .put("host", "smtp.example.com").put("port", 2525).put("from", "Pulse <pulse@example.com>")
      .put("to", new JsonArray().add("ops@example.com")));
    AlertsConfig alerts = withAlerts(new JsonObject()
      .put("rules", new JsonArray().add(rule("cpu").put("for", "1m").put("clear_for", "250ms").put("clear_threshold", 80)
        .put("labels", new JsonObject().put("team", "chat")).put("instances", new JsonArray().add("pod-*"))))
      .put("channels", new JsonArray().add(channel).add(mail)
        .add(new JsonObject().put("name", "am").put("type", "alertmanager").put("url", "http://am:9093"))
        .add(new JsonObject().put("name", "am2").put("type", "alertmanager").put("url", "http://am:9093")
          .put("resend_interval", "30s")))).alerts();
    AlertRuleConfig r = alerts.rules().get(0);
    assertThat(r.key()).isEqualTo("alerts.rules[cpu]");
    assertThat(r.forMs()).isEqualTo(60_000);
    assertThat(r.clearForMs()).isEqualTo(250);
    assertThat(r.labels()).isEqualTo(Map.of("team", "chat"));
    assertThat(r.instances()).containsExactly("pod-*");
    AlertChannelConfig c = alerts.channels().get(0);
    assertThat(c.secret()).isEqualTo(System.getenv("HOME"));
    assertThat(c.repeatIntervalMs()).isEqualTo(7_200_000);
    assertThat(c.sendResolved()).isFalse();
    assertThat(c.toString()).doesNotContain("access_token").doesNotContain(System.getenv("HOME"));
    assertThat(alerts.channels().get(1).smtp().to()).isEqualTo(List.of("ops@example.com"));
    assertThat(alerts.channels().get(2).resendIntervalMs()).as("Prometheus's default resend delay").isEqualTo(60_000);
    assertThat(alerts.channels().get(3).resendIntervalMs()).isEqualTo(30_000);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "{\"name\":\"cpu\",\"op\":\">\",\"threshold\":90}                                  | alerts.rules[cpu].metric | is required",
    "{\"name\":\"cpu\",\"metric\":\"cpu_percent\",\"op\":\"=>\",\"threshold\":90}      | alerts.rules[cpu].op | must be one of",
    "{\"name\":\"cpu\",\"metric\":\"cpu_percent\",\"op\":\">\"}                        | alerts.rules[cpu].threshold | is required",
    "{\"name\":\"cpu\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":90,\"clear_threshold\":95} | alerts.rules[cpu].clear_threshold | must be at most",
    "{\"name\":\"cpu\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":90,\"for\":\"soon\"}      | alerts.rules[cpu].for | must be a duration",
    "{\"name\":\"cpu\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":90,\"severity\":\"page\"}  | alerts.rules[cpu].severity | must be one of",
    "{\"name\":\"cpu\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":90,\"labels\":{\"instance\":\"x\"}} | alerts.rules[cpu].labels.instance | is set by Pulse",
    "{\"name\":\"cpu\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":90,\"thresold\":1}        | alerts.rules[cpu].thresold | unknown key",
    "{\"name\":\"bad name\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":90}  | alerts.rules[bad name].name | must be 1-128"
  })
  @DisplayName("a bad rule stops start-up naming the rule and the field")
  void badRules(String rule, String key, String message) {
    assertThatThrownBy(() -> withAlerts(new JsonObject().put("rules", new JsonArray().add(new JsonObject(rule)))))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("invalid config key '" + key + "'")
      .hasMessageContaining(message);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "{\"name\":\"x\",\"type\":\"pager\",\"url\":\"http://a\"}                  | alerts.channels[x].type | must be one of",
    "{\"name\":\"x\",\"type\":\"webhook\",\"url\":\"ftp://a\"}                 | alerts.channels[x].url | http:// or https://",
    "{\"name\":\"x\",\"type\":\"slack\",\"url\":\"http://a\",\"secret\":\"s\"} | alerts.channels[x].secret | DingTalk signing secret",
    "{\"name\":\"x\",\"type\":\"webhook\",\"url\":\"${PULSE_SURELY_UNSET_VAR}\"} | alerts.channels[x].url | PULSE_SURELY_UNSET_VAR, which is not set",
    "{\"name\":\"x\",\"type\":\"email\",\"smtp\":{\"host\":\"h\",\"from\":\"a@b\"}} | alerts.channels[x].smtp.to | at least one recipient",
    "{\"name\":\"x\",\"type\":\"webhook\",\"url\":\"http://a\",\"repeat_interval\":\"10ms\"} | alerts.channels[x].repeat_interval | at least 1s",
    "{\"name\":\"x\",\"type\":\"webhook\",\"url\":\"http://a\",\"resend_interval\":\"30s\"} | alerts.channels[x].resend_interval | only an alertmanager channel",
    "{\"name\":\"x\",\"type\":\"alertmanager\",\"url\":\"http://a\",\"resend_interval\":\"100ms\"} | alerts.channels[x].resend_interval | between 1000 ms"
  })
  @DisplayName("a bad channel stops start-up naming the channel and the field")
  void badChannels(String channel, String key, String message) {
    assertThatThrownBy(() -> withAlerts(new JsonObject().put("channels", new JsonArray().add(new JsonObject(channel)))))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("invalid config key '" + key + "'")
      .hasMessageContaining(message);
  }

  @Test
  @DisplayName("two rules with one name are refused")
  void duplicateRule() {
    assertThatThrownBy(() -> withAlerts(new JsonObject().put("rules", new JsonArray().add(rule("cpu")).add(rule("cpu")))))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("'alerts.rules[cpu].name'").hasMessageContaining("two rules are named 'cpu'");
  }
}
