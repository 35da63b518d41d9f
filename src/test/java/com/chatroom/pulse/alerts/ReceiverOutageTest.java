package com.chatroom.pulse.alerts;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.reliability.Figures;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.alerts.AlertTestKit.cpu;
import static com.chatroom.pulse.alerts.AlertTestKit.publish;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Webhook and SMTP receivers down while alerts fire and resolve, then back: every notification arrives once and in
 * order, and evaluation is as fast meanwhile as with the receivers up (sample publish to the change on
 * {@code alerts.events}). In CI the delivery timings are the defaults divided by 100 (backoff 5 ms to 600 ms, circuit
 * reset 300 ms, 8 attempts) and the outage lasts 6 s, i.e. ten minutes at the default scale;
 * {@code -Dpulse.long=true} runs the default delivery config against a five-minute outage.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Receiver outage: webhook and email down while alerts change")
class ReceiverOutageTest {

  private static final boolean LONG = Boolean.getBoolean("pulse.long");
  private static final long OUTAGE_MS = LONG ? 300_000 : 6_000;
  /** One change every this long, during both phases. */
  private static final long CHANGE_EVERY_MS = LONG ? 2_000 : 100;
  private static final int CHANGES_UP = 60;
  /** The first changes warm the JIT up and are not measured. */
  private static final int WARM_UP = 10;
  private static final int CHANGES_DOWN = (int) (OUTAGE_MS / CHANGE_EVERY_MS);

  private final int smtpPort = Edge.freePort();
  private final List<GreenMail> smtps = new ArrayList<>();
  /** Keys received by SMTP servers already stopped (stopping one empties its store). */
  private final List<String> mailBefore = new ArrayList<>();

  @AfterEach
  void stopSmtp() {
    smtps.forEach(GreenMail::stop);
  }

  private GreenMail startSmtp() {
    GreenMail smtp = new GreenMail(new ServerSetup(smtpPort, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    smtp.start();
    smtps.add(smtp);
    return smtp;
  }

  private List<String> mailKeys() {
    List<String> keys = new ArrayList<>(mailBefore);
    for (GreenMail smtp : smtps) {
      if (!smtp.isRunning()) {
        continue;
      }
      for (MimeMessage m : smtp.getReceivedMessages()) {
        try {
          keys.add(m.getHeader("X-Pulse-Idempotency-Key", null));
        } catch (jakarta.mail.MessagingException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return keys;
  }

  private static JsonObject delivery() {
    if (LONG) {
      return new JsonObject(); // the defaults: backoff 500 ms to 60 s, 8 attempts, circuit 5 failures / 30 s
    }
    return new JsonObject().put("backoff_initial", "5ms").put("backoff_max", "600ms").put("breaker_max_failures", 5)
      .put("breaker_reset", "300ms").put("max_attempts", 8).put("timeout", "2s");
  }

  @Test
  @Timeout(value = 720, timeUnit = TimeUnit.SECONDS) // the long run: 120 s up, 300 s down, up to 120 s to drain
  @DisplayName("every change is delivered once, in order, to both receivers after they return; evaluation latency is unchanged meanwhile")
  void receiversDownWhileAlertsChange(Vertx vertx, VertxTestContext ctx) {
    int hookPort = Edge.freePort();
    Receiver[] hook = {new Receiver(vertx, hookPort)};
    List<Receiver.Request> received = new CopyOnWriteArrayList<>();
    JsonObject email = new JsonObject().put("name", "mail").put("type", "email").put("repeat_interval", 0)
      .put("smtp", new JsonObject().put("host", "127.0.0.1").put("port", smtpPort).put("starttls", "disabled")
        .put("from", "pulse@example.com").put("to", new JsonArray().add("ops@example.com")));
    JsonObject alerts = AlertTestKit.alerts(new JsonArray().add(AlertTestKit.cpuRule("cpu_high", 90, 0, 90, 0)),
        new JsonArray().add(AlertTestKit.channel("hook", "webhook", hook[0].url("/hook"))).add(email))
      .put("delivery", delivery())
      .put("flapping", new JsonObject().put("enabled", false));
    // each change's latency: publish of the sample that makes it -> the change on alerts.events
    Map<Long, Long> publishedNanos = new ConcurrentHashMap<>();
    List<long[]> latencies = new CopyOnWriteArrayList<>(); // {offset, nanos, phase}
    List<String> events = new CopyOnWriteArrayList<>();
    long[] offset = {0};
    long[] outage = {0, 0};
    vertx.eventBus().<AlertEvent>localConsumer(Addresses.ALERTS_EVENTS, m -> {
      AlertEvent e = m.body();
      long at = System.nanoTime();
      long sampleOffset = Math.round(e.changedAt() - AlertTestKit.BASE);
      Long sent = publishedNanos.get(sampleOffset);
      if (sent != null && (e.state().equals("firing") || e.state().equals("resolved"))) {
        int phaseOf = sampleOffset < WARM_UP ? -1 : sampleOffset < CHANGES_UP ? 0 : sampleOffset < CHANGES_UP + CHANGES_DOWN ? 1 : 2;
        latencies.add(new long[] {sampleOffset, at - sent, phaseOf});
        events.add(e.id());
      }
    });
    Runnable change = () -> {
      long t = offset[0]++;
      publishedNanos.put(t, System.nanoTime());
      publish(vertx, cpu("pod-a", t, t % 2 == 0 ? 95 : 50));
    };
    hook[0].start()
      .compose(r -> {
        startSmtp();
        return AlertTestKit.deploy(vertx, AlertTestKit.config("node-1", alerts, null));
      })
      .compose(id -> every(vertx, CHANGE_EVERY_MS, CHANGES_UP, change))
      .compose(v -> within(vertx, AlertTestKit.until(vertx, () -> hook[0].requests.size() >= CHANGES_UP
        && mailKeys().size() >= CHANGES_UP), 30_000, () -> "receivers up: " + hook[0].requests.size() + " / " + mailKeys().size()))
      .compose(v -> {
        received.addAll(hook[0].requests);
        outage[0] = System.currentTimeMillis();
        mailBefore.addAll(mailKeys());
        smtps.get(0).stop();
        return hook[0].stop();
      })
      .compose(v -> every(vertx, CHANGE_EVERY_MS, CHANGES_DOWN, change))
      .compose(v -> {
        outage[1] = System.currentTimeMillis();
        hook[0] = new Receiver(vertx, hookPort);
        startSmtp();
        return hook[0].start();
      })
      .compose(r -> within(vertx, AlertTestKit.until(vertx, () -> received.size() + hook[0].requests.size() >= offset[0]
        && mailKeys().size() >= offset[0]), LONG ? 120_000 : 30_000, () -> "after the receivers returned: webhook "
        + (received.size() + hook[0].requests.size()) + ", email " + mailKeys().size() + " of " + offset[0] + " changes"))
      .compose(v -> AlertDeliveryTest.idle(vertx))
      .onComplete(ctx.succeeding(status -> ctx.verify(() -> {
        received.addAll(hook[0].requests);
        long changes = offset[0];
        assertThat(events).as("changes published").hasSize((int) changes);
        List<String> hookKeys = received.stream().map(r -> r.headers().get("Idempotency-Key")).toList();
        assertThat(hookKeys).as("webhook: every change once, in order").containsExactlyElementsOf(events);
        assertThat(mailKeys()).as("email: every change once, in order").containsExactlyElementsOf(events);
        assertThat(status.getJsonArray("dead_letters")).isEmpty();

        double p99Up = percentile(latencies, 0, 0.99);
        double p99Down = percentile(latencies, 1, 0.99);
        double p50Up = percentile(latencies, 0, 0.5);
        double p50Down = percentile(latencies, 1, 0.5);
        Figures.record(LONG ? "receiver-outage-long" : "receiver-outage", new JsonObject()
          .put("outage_seconds", (outage[1] - outage[0]) / 1000d).put("changes", changes)
          .put("changes_during_outage", latencies.stream().filter(l -> l[2] == 1).count())
          .put("webhook_delivered", hookKeys.size()).put("email_delivered", mailKeys().size())
          .put("evaluation_p50_ms_up", p50Up).put("evaluation_p99_ms_up", p99Up)
          .put("evaluation_p50_ms_down", p50Down).put("evaluation_p99_ms_down", p99Down)
          .put("p99_ratio_down_over_up", p99Down / p99Up)
          .put("webhook_requests_after_return", hook[0].requests.size()));
        // generous on a shared 2-core machine: the real ratio is reported above
        assertThat(p99Down).as("evaluation p99 (ms) with the receivers down vs up " + p99Up)
          .isLessThanOrEqualTo(Math.max(2 * p99Up, p99Up + 5));
        ctx.completeNow();
      })));
  }

  /** Fails with {@code what} if the future has not completed within {@code ms}. */
  static <T> Future<T> within(Vertx vertx, Future<T> future, long ms, java.util.function.Supplier<String> what) {
    Promise<T> result = Promise.promise();
    long timer = vertx.setTimer(ms, id -> result.tryFail("not within " + ms + " ms: " + what.get()));
    future.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        result.tryComplete(ar.result());
      } else {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  /** Runs {@code action} {@code times} times, one every {@code periodMs}, on a Vert.x timer. */
  private static Future<Void> every(Vertx vertx, long periodMs, int times, Runnable action) {
    Promise<Void> done = Promise.promise();
    int[] left = {times};
    vertx.setPeriodic(periodMs, id -> {
      action.run();
      if (--left[0] == 0) {
        vertx.cancelTimer(id);
        done.complete();
      }
    });
    return done.future();
  }

  private static double percentile(List<long[]> latencies, int phase, double q) {
    long[] nanos = latencies.stream().filter(l -> l[2] == phase).mapToLong(l -> l[1]).sorted().toArray();
    if (nanos.length == 0) {
      return Double.NaN;
    }
    return nanos[(int) Math.min(nanos.length - 1, Math.ceil(q * nanos.length) - 1)] / 1e6;
  }
}
