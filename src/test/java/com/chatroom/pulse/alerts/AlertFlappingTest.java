package com.chatroom.pulse.alerts;

import com.chatroom.pulse.Edge;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.alerts.AlertTestKit.BASE;
import static com.chatroom.pulse.alerts.AlertTestKit.cpu;
import static com.chatroom.pulse.alerts.AlertTestKit.publish;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("Flapping end to end: each channel hears it once, as [FLAPPING], then the resolution when it settles")
class AlertFlappingTest {

  private static final String NOTE = "This alert is flapping: it changed state too often and is held until it settles.";

  private static String rfc(double seconds) {
    return Instant.ofEpochMilli(Math.round(seconds * 1000)).toString();
  }

  private static String key(String state, int offset) {
    return "cpu_high/pod-a/" + state + "/" + Math.round((BASE + offset) * 1000);
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("four changes in the window: one [FLAPPING] webhook and Slack message; held changes stay quiet; 'hold' later, the resolution")
  void flappingOnceThenResolved(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    JsonObject alerts = AlertTestKit.alerts(new JsonArray().add(AlertTestKit.cpuRule("cpu_high", 90, 0, 90, 0)),
        new JsonArray()
          .add(AlertTestKit.channel("hook", "webhook", receiver.url("/hook")))
          .add(AlertTestKit.channel("chat", "slack", receiver.url("/slack"))))
      .put("flapping", new JsonObject().put("enabled", true).put("window", "10m").put("max_changes", 4).put("hold", "10s"))
      .put("external_url", "http://pulse.example:8888");
    receiver.start()
      .compose(r -> AlertTestKit.deploy(vertx, AlertTestKit.config("node-1", alerts, null)))
      .compose(id -> {
        // firing, resolved, firing, resolved (the 4th change: flapping), then held: firing, resolved
        double[] cpu = {95, 50, 95, 50, 95, 50};
        for (int t = 0; t < cpu.length; t++) {
          publish(vertx, cpu("pod-a", t, cpu[t]));
        }
        // quiet for 'hold' since the last held change (t = 5): flapping ends, the real state (resolved) is told
        publish(vertx, cpu("pod-a", 15, 50));
        return receiver.until(rs -> rs.size() >= 10);
      })
      .compose(rs -> AlertDeliveryTest.idle(vertx))
      .onComplete(ctx.succeeding(s -> ctx.verify(() -> {
        List<Receiver.Request> hook = receiver.on("/hook");
        List<Receiver.Request> slack = receiver.on("/slack");
        List<String> keys = List.of(key("firing", 0), key("resolved", 0), key("firing", 2), key("flapping", 3),
          key("resolved", 4));
        assertThat(hook).extracting(r -> r.headers().get("Idempotency-Key")).containsExactlyElementsOf(keys);
        assertThat(slack).extracting(r -> r.headers().get("Idempotency-Key")).containsExactlyElementsOf(keys);
        assertThat(slack).extracting(r -> r.json().getJsonArray("attachments").getJsonObject(0).getString("title"))
          .containsExactly("[FIRING] cpu_high on pod-a", "[RESOLVED] cpu_high on pod-a", "[FIRING] cpu_high on pod-a",
            "[FLAPPING] cpu_high on pod-a", "[RESOLVED] cpu_high on pod-a");

        JsonObject labels = new JsonObject().put("alertname", "cpu_high").put("instance", "pod-a")
          .put("severity", "critical").put("team", "chat");
        JsonObject annotations = new JsonObject().put("flapping", NOTE).put("summary", "CPU at 50% on pod-a (threshold 90%)");
        JsonObject flapping = hook.get(3).json();
        assertThat(flapping.getString("status")).isEqualTo("firing");
        assertThat(flapping.getJsonObject("commonAnnotations")).isEqualTo(annotations);
        JsonObject alert = flapping.getJsonArray("alerts").getJsonObject(0);
        assertThat(alert.copy().put("fingerprint", "")).isEqualTo(new JsonObject().put("status", "firing").put("labels", labels)
          .put("annotations", annotations).put("startsAt", rfc(BASE + 2)).put("endsAt", "0001-01-01T00:00:00Z")
          .put("generatorURL", "http://pulse.example:8888/api/alerts?rule=cpu_high").put("fingerprint", ""));
        assertThat(alert.getString("fingerprint")).isEqualTo(hook.get(0).json().getJsonArray("alerts").getJsonObject(0)
          .getString("fingerprint"));

        assertThat(slack.get(3).json()).isEqualTo(new JsonObject()
          .put("text", "[FLAPPING] cpu_high on pod-a: CPU at 50% on pod-a (threshold 90%)")
          .put("attachments", new JsonArray().add(new JsonObject().put("color", "danger")
            .put("title", "[FLAPPING] cpu_high on pod-a").put("text", "CPU at 50% on pod-a (threshold 90%)\n" + NOTE)
            .put("fields", new JsonArray()
              .add(new JsonObject().put("title", "Severity").put("value", "critical").put("short", true))
              .add(new JsonObject().put("title", "Instance").put("value", "pod-a").put("short", true))
              .add(new JsonObject().put("title", "Value").put("value", "50").put("short", true))
              .add(new JsonObject().put("title", "Threshold").put("value", "> 90").put("short", true)))
            .put("footer", "Chat-Room Pulse · node-1").put("ts", (long) BASE + 3))));

        JsonObject resolved = hook.get(4).json();
        assertThat(resolved.getString("status")).isEqualTo("resolved");
        assertThat(resolved.getJsonArray("alerts").getJsonObject(0).getString("endsAt")).isEqualTo(rfc(BASE + 15));
        assertThat(resolved.getJsonArray("alerts").getJsonObject(0).getJsonObject("annotations").containsKey("flapping"))
          .isFalse();
        assertThat(slack.get(4).json().getJsonArray("attachments").getJsonObject(0).getString("color")).isEqualTo("good");
        assertThat(receiver.requests).hasSize(10);
        ctx.completeNow();
      })));
  }
}
