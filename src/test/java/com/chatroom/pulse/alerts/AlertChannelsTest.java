package com.chatroom.pulse.alerts;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.AlertEvent;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.alerts.AlertTestKit.BASE;
import static com.chatroom.pulse.alerts.AlertTestKit.cpu;
import static com.chatroom.pulse.alerts.AlertTestKit.publish;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("Notifications reach real receivers in each channel's exact format")
class AlertChannelsTest {

  private static final int SMTP_PORT = Edge.freePort();
  private static final String SECRET = "SECtest-dingtalk-secret";

  @RegisterExtension
  static final GreenMailExtension SMTP = new GreenMailExtension(new ServerSetup(SMTP_PORT, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));

  private static String rfc(double seconds) {
    return Instant.ofEpochMilli(Math.round(seconds * 1000)).toString();
  }

  /** Prometheus's label-set fingerprint, written out independently of the code under test. */
  private static String fingerprint(String... sortedPairs) {
    long h = 0xcbf29ce484222325L;
    for (String part : sortedPairs) {
      for (byte b : part.getBytes(StandardCharsets.UTF_8)) {
        h = (h ^ (b & 0xff)) * 0x100000001b3L;
      }
      h = (h ^ 0xff) * 0x100000001b3L;
    }
    return String.format("%016x", h);
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("webhook (Alertmanager v4), Slack, DingTalk (signed), Alertmanager v2 and email each get firing then resolved, once, as routed")
  void everyChannel(Vertx vertx, VertxTestContext ctx) throws Exception {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    JsonObject email = new JsonObject().put("name", "ops-mail").put("type", "email").put("repeat_interval", 0)
      .put("smtp", new JsonObject().put("host", "127.0.0.1").put("port", SMTP_PORT).put("starttls", "disabled")
        .put("from", "pulse@example.com").put("to", new JsonArray().add("ops@example.com")));
    JsonObject alerts = AlertTestKit.alerts(new JsonArray().add(AlertTestKit.cpuRule("cpu_high", 90, 2, 80, 0)),
      new JsonArray()
        .add(AlertTestKit.channel("ops-webhook", "webhook", receiver.url("/webhook")))
        .add(AlertTestKit.channel("ops-slack", "slack", receiver.url("/slack")))
        .add(AlertTestKit.channel("ops-dingtalk", "dingtalk", receiver.url("/dingtalk?access_token=tok")).put("secret", SECRET))
        // re-posts hourly: the samples' times lie a little in the past (BASE), which must not make one due in this test
        .add(AlertTestKit.channel("ops-am", "alertmanager", receiver.url("/am")).put("resend_interval", "1h"))
        .add(email)
        .add(AlertTestKit.channel("warnings-only", "webhook", receiver.url("/warn")).put("severities", new JsonArray().add("warning")))
        .add(AlertTestKit.channel("db-team", "webhook", receiver.url("/db")).put("match", new JsonObject().put("team", "db")))
        .add(AlertTestKit.channel("no-resolved", "webhook", receiver.url("/nores")).put("send_resolved", false)))
      .put("external_url", "http://pulse.example:8888");
    List<AlertEvent> events = new CopyOnWriteArrayList<>();
    vertx.eventBus().<AlertEvent>consumer(Addresses.ALERTS_EVENTS, m -> events.add(m.body()));
    String firingKey = "cpu_high/pod-a/firing/" + Math.round(BASE * 1000);
    String fp = fingerprint("alertname", "cpu_high", "instance", "pod-a", "severity", "critical", "team", "chat");
    JsonObject labels = new JsonObject().put("alertname", "cpu_high").put("instance", "pod-a").put("severity", "critical")
      .put("team", "chat");
    JsonObject annotations = new JsonObject().put("summary", "CPU at 96% on pod-a (threshold 90%)");

    long started = System.currentTimeMillis();
    receiver.start()
      .compose(r -> AlertTestKit.deploy(vertx, AlertTestKit.config("node-1", alerts, null)))
      .compose(id -> {
        publish(vertx, cpu("pod-a", 0, 95));
        publish(vertx, cpu("pod-a", 2, 96)); // completes the 2 s 'for'
        return receiver.until(rs -> rs.size() >= 5)
          .compose(rs -> AlertTestKit.until(vertx, () -> SMTP.getReceivedMessages().length >= 1));
      })
      .compose(v -> {
        ctx.verify(() -> {
          assertThat(events).extracting(AlertEvent::state).containsExactly("pending", "firing");
          assertThat(receiver.requests).allSatisfy(r -> {
            assertThat(r.method()).isEqualTo("POST");
            assertThat(r.headers().get("Idempotency-Key")).isEqualTo(firingKey);
            assertThat(r.headers().get("Content-Type")).isEqualTo("application/json");
          });
          JsonObject alert = new JsonObject().put("status", "firing").put("labels", labels).put("annotations", annotations)
            .put("startsAt", rfc(BASE)).put("endsAt", "0001-01-01T00:00:00Z")
            .put("generatorURL", "http://pulse.example:8888/api/alerts?rule=cpu_high").put("fingerprint", fp);
          assertThat(receiver.on("/webhook").get(0).json()).isEqualTo(new JsonObject()
            .put("receiver", "ops-webhook").put("status", "firing").put("alerts", new JsonArray().add(alert))
            .put("groupLabels", new JsonObject().put("alertname", "cpu_high").put("instance", "pod-a"))
            .put("commonLabels", labels).put("commonAnnotations", annotations)
            .put("externalURL", "http://pulse.example:8888").put("version", "4")
            .put("groupKey", "{}:{alertname=\"cpu_high\", instance=\"pod-a\"}").put("truncatedAlerts", 0));

          assertThat(receiver.on("/slack").get(0).json()).isEqualTo(new JsonObject()
            .put("text", "[FIRING] cpu_high on pod-a: CPU at 96% on pod-a (threshold 90%)")
            .put("attachments", new JsonArray().add(new JsonObject().put("color", "danger")
              .put("title", "[FIRING] cpu_high on pod-a").put("text", "CPU at 96% on pod-a (threshold 90%)")
              .put("fields", new JsonArray()
                .add(new JsonObject().put("title", "Severity").put("value", "critical").put("short", true))
                .add(new JsonObject().put("title", "Instance").put("value", "pod-a").put("short", true))
                .add(new JsonObject().put("title", "Value").put("value", "96").put("short", true))
                .add(new JsonObject().put("title", "Threshold").put("value", "> 90").put("short", true)))
              .put("footer", "Chat-Room Pulse · node-1").put("ts", (long) BASE + 2))));

          Receiver.Request ding = receiver.on("/dingtalk").get(0);
          assertThat(ding.params().get("access_token")).isEqualTo("tok");
          long timestamp = Long.parseLong(ding.params().get("timestamp"));
          assertThat(Math.abs(System.currentTimeMillis() - timestamp)).isLessThan(60_000);
          Mac mac = Mac.getInstance("HmacSHA256");
          mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
          String expectedSign = Base64.getEncoder().encodeToString(
            mac.doFinal((timestamp + "\n" + SECRET).getBytes(StandardCharsets.UTF_8)));
          assertThat(ding.params().get("sign")).isEqualTo(expectedSign); // the server URL-decoded it
          assertThat(ding.json()).isEqualTo(new JsonObject().put("msgtype", "markdown").put("markdown", new JsonObject()
            .put("title", "[FIRING] cpu_high on pod-a")
            .put("text", "#### [FIRING] cpu_high on pod-a\n\n> CPU at 96% on pod-a (threshold 90%)\n\n"
              + "- **Severity**: critical\n- **Value**: 96 (> 90)\n- **Since**: " + rfc(BASE) + "\n")));

          Receiver.Request am = receiver.on("/am/api/v2/alerts").get(0);
          JsonObject posted = am.jsonArray().getJsonObject(0);
          // a firing alert ends four resend intervals after it was sent, unless posted again
          long endsAt = Instant.parse(posted.getString("endsAt")).toEpochMilli();
          assertThat(endsAt - 4 * 3_600_000).isBetween(started, am.receivedAtMs());
          posted.remove("endsAt");
          assertThat(posted).isEqualTo(new JsonObject()
            .put("labels", labels).put("annotations", annotations).put("startsAt", rfc(BASE))
            .put("generatorURL", "http://pulse.example:8888/api/alerts?rule=cpu_high"));

          MimeMessage mail = SMTP.getReceivedMessages()[0];
          assertThat(mail.getSubject()).isEqualTo("[FIRING] cpu_high on pod-a (critical)");
          assertThat(mail.getFrom()[0].toString()).isEqualTo("pulse@example.com");
          assertThat(mail.getAllRecipients()[0].toString()).isEqualTo("ops@example.com");
          assertThat(mail.getHeader("X-Pulse-Idempotency-Key")[0]).isEqualTo(firingKey);
          assertThat(GreenMailUtil.getBody(mail)).contains("CPU at 96% on pod-a (threshold 90%)")
            .contains("Status:    firing").contains("Instance:  pod-a").contains("Value:     96");
        });
        publish(vertx, cpu("pod-a", 3, 50)); // below the clear threshold; clear_for 0
        return receiver.until(rs -> rs.size() >= 9)
          .compose(rs -> AlertTestKit.until(vertx, () -> SMTP.getReceivedMessages().length >= 2))
          .compose(done -> AlertDeliveryTest.idle(vertx));
      })
      .onComplete(ctx.succeeding(v -> ctx.verify(() -> {
        assertThat(events).extracting(AlertEvent::state).containsExactly("pending", "firing", "resolved");
        String resolvedKey = "cpu_high/pod-a/resolved/" + Math.round(BASE * 1000);
        JsonObject webhook = receiver.on("/webhook").get(1).json();
        assertThat(webhook.getString("status")).isEqualTo("resolved");
        assertThat(webhook.getJsonArray("alerts").getJsonObject(0).getString("endsAt")).isEqualTo(rfc(BASE + 3));
        assertThat(receiver.on("/webhook").get(1).headers().get("Idempotency-Key")).isEqualTo(resolvedKey);
        assertThat(receiver.on("/slack").get(1).json().getJsonArray("attachments").getJsonObject(0).getString("color"))
          .isEqualTo("good");
        assertThat(receiver.on("/dingtalk").get(1).json().getJsonObject("markdown").getString("title"))
          .isEqualTo("[RESOLVED] cpu_high on pod-a");
        assertThat(receiver.on("/am/api/v2/alerts").get(1).jsonArray().getJsonObject(0).getString("endsAt"))
          .isEqualTo(rfc(BASE + 3));
        assertThat(SMTP.getReceivedMessages()[1].getSubject()).isEqualTo("[RESOLVED] cpu_high on pod-a (critical)");
        // routing: a severity and a label filter kept the alert out; send_resolved: false got the firing only
        assertThat(receiver.on("/warn")).isEmpty();
        assertThat(receiver.on("/db")).isEmpty();
        assertThat(receiver.on("/nores")).extracting(r -> r.json().getString("status")).containsExactly("firing");
        assertThat(receiver.requests).hasSize(9);
        ctx.completeNow();
      })));
  }
}
