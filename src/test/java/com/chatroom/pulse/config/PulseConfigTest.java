package com.chatroom.pulse.config;

import io.vertx.core.Vertx;
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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(VertxExtension.class)
@DisplayName("Configuration")
class PulseConfigTest {

  @Test
  @Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the shipped conf/config.yaml loads to the seed's defaults")
  void shippedDefaults(Vertx vertx, VertxTestContext ctx) {
    ConfigLoader.load(vertx, new JsonObject()).onComplete(ctx.succeeding(config -> ctx.verify(() -> {
      assertThat(config.http().port()).isEqualTo(8888);
      assertThat(config.http().instances()).isGreaterThanOrEqualTo(1);
      assertThat(config.sampler().intervalMs()).isEqualTo(1000);
      assertThat(config.sampler().mounts()).containsExactly("/");
      assertThat(config.sampler().warn()).isEqualTo(new SamplerConfig.WarnThresholds(80, 85, 90, 1000));
      assertThat(config.stream().maxSubscribers()).isEqualTo(20000);
      assertThat(config.instanceId()).isNotBlank();
      assertThat(config.chat().identityConfigured()).as("chat is closed until an identity is configured").isFalse();
      assertThat(config.chat().historySize()).isEqualTo(200);
      assertThat(config.bridge().enabled()).isFalse();
      assertThat(config.bridge().port()).isEqualTo(7000);
      ctx.completeNow();
    })));
  }

  @Test
  @DisplayName("environment variables and pulse.* system properties override the file, in that order")
  void overrides() {
    JsonObject merged = new JsonObject()
      .put("http", new JsonObject().put("port", 8888).put("host", "0.0.0.0"))
      .put("sampler", new JsonObject().put("interval_ms", 1000))
      .put("HTTP_PORT", "9100")
      .put("SAMPLER_MOUNTS", "/, /tmp")
      .put("INSTANCE_ID", "pod-7")
      .put("CHAT_ALLOW_ANONYMOUS", "true")
      .put("CHAT_JWT_SECRET", "s".repeat(32))
      .put("BRIDGE_PORT", "7100")
      .put("pulse.http.port", "9200")
      .put("java.version", "17");
    PulseConfig config = PulseConfig.from(ConfigLoader.applyOverrides(merged));
    assertThat(config.http().port()).isEqualTo(9200);
    assertThat(config.http().host()).isEqualTo("0.0.0.0");
    assertThat(config.sampler().mounts()).containsExactly("/", "/tmp");
    assertThat(config.instanceId()).isEqualTo("pod-7");
    assertThat(config.chat().allowAnonymous()).isTrue();
    assertThat(config.chat().jwtSecret()).hasSize(32);
    assertThat(config.chat().toString()).doesNotContain("sss");
    assertThat(config.bridge().port()).isEqualTo(7100);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "{\"http\":{\"port\":\"eighty\"}}                 | 'http.port': must be an integer",
    "{\"http\":{\"port\":70000}}                      | 'http.port': must be between 0 and 65535",
    "{\"http\":{\"prot\":80}}                         | 'http.prot': unknown key",
    "{\"samplr\":{}}                                  | 'samplr': unknown key",
    "{\"sampler\":{\"interval_ms\":10}}               | 'sampler.interval_ms': must be between 100",
    "{\"sampler\":{\"enabled\":\"yes\"}}              | 'sampler.enabled': must be true or false",
    "{\"sampler\":{\"mounts\":[\"data\"]}}            | 'sampler.mounts': entries must be absolute paths",
    "{\"sampler\":{\"mounts\":[]}}                    | 'sampler.mounts': must name at least one mount",
    "{\"sampler\":{\"warn\":{\"cpu_percent\":120}}}   | 'sampler.warn.cpu_percent': must be between 0",
    "{\"sampler\":\"fast\"}                           | 'sampler': must be a section",
    "{\"stream\":{\"allowed_origins\":[1]}}           | 'stream.allowed_origins[0]': must be a non-empty string",
    "{\"instance_id\":\"bad name!\"}                  | 'instance_id': must be 1-253 characters",
    "{\"chat\":{\"jwt_secret\":\"short\"}}            | 'chat.jwt_secret': must be at least 32 bytes",
    "{\"chat\":{\"jwt_public_key\":\"abc\"}}          | 'chat.jwt_public_key': must be a PEM public key",
    "{\"chat\":{\"jwt_algorithm\":\"none\"}}          | 'chat.jwt_algorithm': must be RS256",
    "{\"chat\":{\"ops_room\":\"ops room\"}}           | 'chat.ops_room': must be 1-64 letters",
    "{\"chat\":{\"history_size\":0}}                | 'chat.history_size': must be between 1",
    "{\"chat\":{\"allow_anonymus\":true}}           | 'chat.allow_anonymus': unknown key",
    "{\"bridge\":{\"port\":-1}}                     | 'bridge.port': must be between 0 and 65535"
  })
  @DisplayName("a bad value stops start-up with the key named")
  void rejects(String json, String message) {
    assertThatThrownBy(() -> PulseConfig.from(new JsonObject(json)))
      .isInstanceOf(ConfigException.class)
      .hasMessageContaining("invalid config key " + message.substring(0, message.indexOf(':')))
      .hasMessageContaining(message.substring(message.indexOf(':') + 2));
  }

  @Test
  @DisplayName("lists accept YAML arrays and comma-separated strings alike")
  void lists() {
    PulseConfig a = PulseConfig.from(new JsonObject().put("stream", new JsonObject().put("allowed_origins",
      new io.vertx.core.json.JsonArray(List.of("https://a.example", "https://b.example")))));
    PulseConfig b = PulseConfig.from(new JsonObject().put("stream", new JsonObject().put("allowed_origins",
      "https://a.example,https://b.example")));
    assertThat(a.stream().allowedOrigins()).isEqualTo(b.stream().allowedOrigins()).hasSize(2);
  }
}
