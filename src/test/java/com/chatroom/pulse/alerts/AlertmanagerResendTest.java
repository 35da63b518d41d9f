package com.chatroom.pulse.alerts;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.config.PulseConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.alerts.AlertTestKit.BASE;
import static com.chatroom.pulse.alerts.AlertTestKit.cpu;
import static com.chatroom.pulse.alerts.AlertTestKit.publish;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("Alertmanager v2: firing alerts are re-posted every resend_interval with endsAt ahead, acknowledged or not")
class AlertmanagerResendTest {

  private static final String PATH = "/am/api/v2/alerts";

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("with repeat_interval 0 and no external_url: every post has endsAt = send time + 4 × resend_interval and a valid generatorURL; an acknowledgement does not stop the posts; the resolution ends it at its time")
  void resendsUntilResolved(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    JsonObject alerts = AlertTestKit.alerts(new JsonArray().add(AlertTestKit.cpuRule("cpu_high", 90, 0, 90, 0)),
      new JsonArray().add(AlertTestKit.channel("am", "alertmanager", receiver.url("/am")).put("resend_interval", "1s")));
    PulseConfig config = AlertTestKit.config("node-1", alerts, null);
    double now = System.currentTimeMillis() / 1000d - BASE; // sample time = wall time: intervals count from it
    String firing = "cpu_high/pod-a/firing/" + Math.round((BASE + now) * 1000);
    long[] published = new long[1];
    long[] acked = new long[1];
    receiver.start()
      .compose(r -> AlertTestKit.deploy(vertx, config))
      .compose(id -> {
        published[0] = System.currentTimeMillis();
        publish(vertx, cpu("pod-a", now, 95));
        return receiver.until(rs -> rs.size() >= 2);
      })
      .compose(rs -> vertx.eventBus().<JsonObject>request(AlertApi.ADDRESS, new JsonObject().put("op", "ack")
        .put("rule", "cpu_high").put("instance", "pod-a").put("by", "bob")))
      .compose(ack -> {
        acked[0] = System.currentTimeMillis();
        return receiver.until(rs -> rs.stream().filter(r -> r.receivedAtMs() > acked[0]).count() >= 2);
      })
      .compose(rs -> {
        publish(vertx, cpu("pod-a", now + 30, 10));
        return receiver.until(rs2 -> rs2.get(rs2.size() - 1).jsonArray().getJsonObject(0).getString("endsAt")
          .equals(Instant.ofEpochMilli(Math.round((BASE + now + 30) * 1000)).toString()));
      })
      .compose(rs -> AlertDeliveryTest.idle(vertx))
      .onComplete(ctx.succeeding(s -> ctx.verify(() -> {
        List<Receiver.Request> posts = receiver.on(PATH);
        assertThat(posts).hasSameSizeAs(receiver.requests);
        List<String> keys = posts.stream().map(r -> r.headers().get("Idempotency-Key")).toList();
        assertThat(keys.get(0)).isEqualTo(firing);
        assertThat(keys.get(keys.size() - 1)).isEqualTo("cpu_high/pod-a/resolved/" + Math.round((BASE + now) * 1000));
        List<String> resends = keys.subList(1, keys.size() - 1);
        assertThat(resends).hasSizeGreaterThanOrEqualTo(3).allSatisfy(k -> assertThat(k).startsWith(firing + "/resend/"));
        List<Integer> numbers = resends.stream().map(k -> Integer.parseInt(k.substring(k.lastIndexOf('/') + 1))).toList();
        assertThat(numbers).isSorted().doesNotHaveDuplicates();
        assertThat(posts.stream().filter(r -> r.receivedAtMs() > acked[0] && r.headers().get("Idempotency-Key").contains("/resend/")))
          .as("re-posts after the acknowledgement").hasSizeGreaterThanOrEqualTo(2);

        long previous = published[0];
        for (Receiver.Request post : posts.subList(0, posts.size() - 1)) {
          JsonObject alert = post.jsonArray().getJsonObject(0);
          long endsAt = Instant.parse(alert.getString("endsAt")).toEpochMilli();
          // computed when it was sent: after the one before it left, before the receiver had it
          assertThat(endsAt - 4000).isBetween(previous, post.receivedAtMs());
          previous = endsAt - 4000;
          assertThat(alert.getString("startsAt")).isEqualTo(Instant.ofEpochMilli(Math.round((BASE + now) * 1000)).toString());
          URI generator = URI.create(alert.getString("generatorURL"));
          assertThat(generator.getScheme()).isEqualTo("http");
          assertThat(generator.getHost()).isEqualTo("127.0.0.1");
          assertThat(generator.getPort()).isEqualTo(config.http().port());
          assertThat(generator.getQuery()).isEqualTo("rule=cpu_high");
        }
        JsonObject resolved = posts.get(posts.size() - 1).jsonArray().getJsonObject(0);
        assertThat(resolved.getString("endsAt")).isEqualTo(Instant.ofEpochMilli(Math.round((BASE + now + 30) * 1000)).toString());
        ctx.completeNow();
      })));
  }
}
