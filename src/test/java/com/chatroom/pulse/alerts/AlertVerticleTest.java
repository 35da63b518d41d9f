package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.bus.PulseMessageCodec;
import com.chatroom.pulse.bus.StreamFrame;
import com.chatroom.pulse.config.ConfigException;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import com.chatroom.pulse.stream.StreamVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The alert verticle on the bus")
class AlertVerticleTest {

  private static JsonObject errorRule() {
    return new JsonObject().put("name", "errors").put("metric", "error_rate").put("op", ">=").put("threshold", 0.05)
      .put("severity", "warning");
  }

  @Test
  @Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a rule with an unknown metric fails the deployment, naming the rule and field")
  void badRuleStopsStartUp(Vertx vertx, VertxTestContext ctx) {
    JsonObject bad = errorRule().put("metric", "eror_rate");
    AlertTestKit.deploy(vertx, AlertTestKit.config("node-1", AlertTestKit.alerts(new JsonArray().add(bad), new JsonArray()), null))
      .onComplete(ctx.failing(e -> ctx.verify(() -> {
        assertThat(e).isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("invalid config key 'alerts.rules[errors].metric': unknown metric 'eror_rate'");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
  @DisplayName("application samples sent as JSON are validated: a good one is evaluated, a bad one refused naming the field")
  void jsonSamples(Vertx vertx, VertxTestContext ctx) {
    JsonObject sample = new JsonObject().put("timestamp", AlertTestKit.BASE).put("active_users", 3).put("total_messages", 10)
      .put("messages_per_minute", 1).put("ai_requests_per_minute", 0).put("file_transfers_active", 0)
      .put("database_connections", 2).put("response_time_avg", 40.5).put("error_rate", 0.2).put("instance", "chat-1");
    vertx.eventBus().<AlertEvent>consumer(Addresses.ALERTS_EVENTS, m -> ctx.verify(() -> {
      assertThat(m.body().rule()).isEqualTo("errors");
      assertThat(m.body().instance()).isEqualTo("chat-1");
      assertThat(m.body().state()).isEqualTo("firing");
      assertThat(m.body().value()).isEqualTo(0.2);
      vertx.eventBus().request(Addresses.METRICS_APP, sample.copy().put("error_rate", 1.5))
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertThat(((ReplyException) e).failureCode()).isEqualTo(400);
          assertThat(e.getMessage()).contains("field 'error_rate' must be between 0 and 1");
          assertThat(Meters.registry(vertx).find(MeterNames.BUS_REJECTED).tags("consumer", "alerts").counter().count())
            .isEqualTo(1);
          ctx.completeNow();
        })));
    }));
    AlertTestKit.deploy(vertx, AlertTestKit.config("node-1", AlertTestKit.alerts(new JsonArray().add(errorRule()), new JsonArray()), null))
      .onComplete(ctx.succeeding(id -> vertx.eventBus().publish(Addresses.METRICS_APP, sample)));
  }

  @Test
  @Timeout(value = 10, timeUnit = TimeUnit.SECONDS)
  @DisplayName("each change reaches the live stream as an 'alerts' frame that carries the instance for filters")
  void toTheStream(Vertx vertx, VertxTestContext ctx) {
    PulseMessageCodec.register(vertx);
    vertx.eventBus().<StreamFrame>consumer(Addresses.STREAM_FRAMES, m -> {
      StreamFrame frame = m.body();
      if (!frame.stream().equals("alerts")) {
        return;
      }
      ctx.verify(() -> {
        assertThat(frame.instance()).isEqualTo("pod-a");
        assertThat(frame.coalesce()).isFalse();
        JsonObject json = new JsonObject(frame.payload());
        assertThat(json.getString("type")).isEqualTo("alerts");
        assertThat(json.getJsonObject("data").getString("state")).isEqualTo("firing");
        assertThat(json.getJsonObject("data").getString("instance")).isEqualTo("pod-a");
        assertThat(frame.source()).isInstanceOf(AlertEvent.class);
        ctx.completeNow();
      });
    });
    vertx.deployVerticle(StreamVerticle::new, new DeploymentOptions())
      .compose(id -> AlertTestKit.deploy(vertx, AlertTestKit.config("node-1",
        AlertTestKit.alerts(new JsonArray().add(AlertTestKit.cpuRule("cpu_high", 90, 0, 80, 0)), new JsonArray()), null)))
      .onComplete(ctx.succeeding(id -> AlertTestKit.publish(vertx, AlertTestKit.cpu("pod-a", 0, 99))));
  }
}
