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

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(VertxExtension.class)
@DisplayName("Optimizer configuration")
class OptimizerConfigTest {

  @Test
  @Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the shipped conf/config.yaml has the seed's three rules, with real actions and their cooldowns")
  void shippedDefaults(Vertx vertx, VertxTestContext ctx) {
    ConfigLoader.load(vertx, new JsonObject()).onComplete(ctx.succeeding(config -> ctx.verify(() -> {
      OptimizerConfig o = config.optimizer();
      assertThat(o.enabled()).isTrue();
      assertThat(o.dryRun()).isFalse();
      assertThat(o.maxActionsPerHour()).isEqualTo(12);
      assertThat(o.rules()).extracting(OptimizerRuleConfig::name).containsExactly("cpu_high", "memory_high", "connections_high");
      assertThat(o.rules()).extracting(r -> r.condition().metric() + " " + r.condition().op() + " " + r.condition().threshold()
          + " cooldown " + r.cooldownMs() / 1000 + " s → " + r.action().type())
        .containsExactly("cpu_percent > 80.0 cooldown 300 s → throttle_streams",
          "memory_percent > 85.0 cooldown 300 s → trim_caches",
          "active_connections > 500.0 cooldown 600 s → reap_idle");
      assertThat(o.rules().get(0).action().parameters()).containsEntry("interval_ms", 5000).containsEntry("per_second", 2.0);
      assertThat(o.rules().get(2).action().parameters()).containsEntry("idle_seconds", 300);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("OPTIMIZER_ENABLED and OPTIMIZER_DRY_RUN override the file")
  void environment() {
    JsonObject file = new JsonObject().put("optimizer", new JsonObject().put("enabled", true).put("dry_run", false));
    PulseConfig config = DeployedConfig.resolve(file, Map.of("OPTIMIZER_ENABLED", "false", "OPTIMIZER_DRY_RUN", "true"));
    assertThat(config.optimizer().enabled()).isFalse();
    assertThat(config.optimizer().dryRun()).isTrue();
    assertThat(PulseConfig.ENVIRONMENT).containsEntry("OPTIMIZER_ENABLED", "optimizer.enabled")
      .containsEntry("OPTIMIZER_DRY_RUN", "optimizer.dry_run");
  }

  private static JsonObject rule() {
    return new JsonObject().put("name", "cpu_high").put("metric", "cpu_percent").put("op", ">").put("threshold", 80)
      .put("clear_threshold", 70).put("action", new JsonObject().put("type", "throttle_streams"));
  }

  private static JsonObject with(JsonObject rule) {
    return new JsonObject().put("optimizer", new JsonObject().put("rules", new JsonArray().add(rule)));
  }

  @Test
  @DisplayName("a rule's parameters default to the contract's, and an explicit list replaces the seed's")
  void parameters() {
    PulseConfig config = PulseConfig.from(with(rule()));
    OptimizerRuleConfig r = config.optimizer().rules().get(0);
    assertThat(r.action().parameters()).containsExactly(Map.entry("interval_ms", 5000), Map.entry("per_second", 2.0));
    assertThat(r.cooldownMs()).isEqualTo(300_000);
    assertThat(r.verify()).isEqualTo(new OptimizerRuleConfig.Verify(true, 60_000, 0.1));
    assertThat(r.key()).isEqualTo("optimizer.rules[cpu_high]");

    JsonObject shed = new JsonObject().put("optimizer", new JsonObject().put("rules", new io.vertx.core.json.JsonArray().add(
      new JsonObject().put("name", "flood").put("metric", "active_connections").put("op", ">").put("threshold", 1000)
        .put("action", new JsonObject().put("type", "shed_load").put("cap", 100).put("stream_cap", 150)))));
    assertThat(PulseConfig.from(shed).optimizer().rules().get(0).action().parameters())
      .containsExactly(Map.entry("cap", 100), Map.entry("stream_cap", 150));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "{\"optimizer\":{\"enabled\":\"maybe\"}}                    | 'optimizer.enabled': must be true or false",
    "{\"optimizer\":{\"max_actions_per_hour\":0}}               | 'optimizer.max_actions_per_hour': must be between 1",
    "{\"optimizer\":{\"audit_size\":-5}}                        | 'optimizer.audit_size': must be between 1",
    "{\"optimizer\":{\"escalation_severity\":\"loud\"}}         | 'optimizer.escalation_severity': must be one of critical",
    "{\"optimizer\":{\"webhook\":{\"max_attempts\":0}}}         | 'optimizer.webhook.max_attempts': must be between 1",
    "{\"optimizer\":{\"budget\":3}}                             | 'optimizer.budget': unknown key",
    "{\"optimizer\":{\"rules\":{\"name\":\"x\"}}}               | 'optimizer.rules': must be a list of sections",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80}]}} | 'optimizer.rules[r].action': is required",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\"=\",\"threshold\":80,\"action\":{\"type\":\"trim_caches\"}}]}} | 'optimizer.rules[r].op': must be one of",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"action\":{\"type\":\"trim_caches\"}}]}} | 'optimizer.rules[r].threshold': is required",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"clear_threshold\":90,\"action\":{\"type\":\"trim_caches\"}}]}} | 'optimizer.rules[r].clear_threshold': must be at most the threshold",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"cooldown\":\"soon\",\"action\":{\"type\":\"trim_caches\"}}]}} | 'optimizer.rules[r].cooldown': must be a duration",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"reboot\"}}]}} | 'optimizer.rules[r].action.type': must be one of reap_idle, shed_load",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"shed_load\"}}]}} | 'optimizer.rules[r].action.cap': is required",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"shed_load\",\"cap\":5,\"stream_cap\":-1}}]}} | 'optimizer.rules[r].action.stream_cap': must be between 0",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"throttle_streams\",\"interval_ms\":200}}]}} | 'optimizer.rules[r].action.interval_ms': must be between 1000",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"reap_idle\",\"idle_seconds\":0}}]}} | 'optimizer.rules[r].action.idle_seconds': must be between 1",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"reap_idle\",\"cap\":3}}]}} | 'optimizer.rules[r].action.cap': unknown key",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"webhook\",\"url\":\"ftp://x\"}}]}} | 'optimizer.rules[r].action.url': must be an http:// or https:// URL",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"trim_caches\"},\"verify\":{\"min_improvement\":2}}]}} | 'optimizer.rules[r].verify.min_improvement': must be between 0",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"trim_caches\"},\"severity\":\"critical\"}]}} | 'optimizer.rules[r].severity': unknown key",
    "{\"optimizer\":{\"rules\":[{\"name\":\"manual\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"trim_caches\"}}]}} | 'optimizer.rules[manual].name': names the operator",
    "{\"optimizer\":{\"rules\":[{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"trim_caches\"}},{\"name\":\"r\",\"metric\":\"cpu_percent\",\"op\":\">\",\"threshold\":80,\"action\":{\"type\":\"trim_caches\"}}]}} | 'optimizer.rules[r].name': two rules are named"
  })
  @DisplayName("a bad optimizer value stops start-up with the key named")
  void rejects(String json, String message) {
    assertThatThrownBy(() -> PulseConfig.from(new JsonObject(json)))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("invalid config key " + message.substring(0, message.indexOf(':')))
      .hasMessageContaining(message.substring(message.indexOf(':') + 2));
  }
}
