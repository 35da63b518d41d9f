package com.chatroom.pulse.alerts;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.config.PulseConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.alerts.AlertTestKit.ADMIN_TOKEN;
import static com.chatroom.pulse.alerts.AlertTestKit.cpu;
import static com.chatroom.pulse.alerts.AlertTestKit.publish;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The alert API over real HTTP: tokens, silences, acknowledgements, history")
class AlertApiTest {

  private HttpClient http;
  private int port;

  private record Response(int status, JsonObject json) {
  }

  private Future<Response> call(HttpMethod method, String uri, String token, String body) {
    return http.request(method, port, "127.0.0.1", uri).compose(req -> {
      if (token != null) {
        req.putHeader("Authorization", "Bearer " + token);
      }
      return (body == null ? req.send() : req.putHeader("Content-Type", "application/json").send(body))
        .compose(resp -> resp.body().map(b -> new Response(resp.statusCode(), new JsonObject(b))));
    });
  }

  /** The edge and the alert manager, as MainVerticle deploys them, with one webhook channel. */
  private Future<PulseConfig> start(Vertx vertx, Receiver receiver, boolean withAlertManager) {
    http = vertx.createHttpClient();
    JsonObject alerts = AlertTestKit.alerts(new JsonArray().add(AlertTestKit.cpuRule("cpu_high", 90, 0, 90, 0)),
      new JsonArray().add(AlertTestKit.channel("hook", "webhook", receiver.url("/hook"))));
    return Edge.deploy(vertx, new JsonObject().put("instance_id", "node-1").put("alerts", alerts)
        .put("http", new JsonObject().put("admin_token", ADMIN_TOKEN)))
      .compose(config -> {
        port = config.http().port();
        return withAlertManager ? AlertTestKit.deploy(vertx, config).map(config) : Future.succeededFuture(config);
      });
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("writes need the admin token: none is 401, a wrong one is 401, the right one works; bad bodies name the field")
  void tokens(Vertx vertx, VertxTestContext ctx) {
    String silence = new JsonObject().put("rule", "cpu_high").put("duration", "1h").encode();
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    start(vertx, receiver, true)
      .compose(c -> call(HttpMethod.POST, "/api/alerts/silences", null, silence))
      .compose(none -> {
        ctx.verify(() -> {
          assertThat(none.status()).isEqualTo(401);
          assertThat(none.json().getString("error")).isEqualTo("unauthorized");
        });
        return call(HttpMethod.POST, "/api/alerts/silences", "not-the-admin-token", silence);
      })
      .compose(wrong -> {
        ctx.verify(() -> {
          assertThat(wrong.status()).isEqualTo(401);
          assertThat(wrong.json().getString("message")).contains("not valid");
        });
        return call(HttpMethod.GET, "/api/alerts/channels", null, null);
      })
      .compose(channels -> {
        ctx.verify(() -> assertThat(channels.status()).isEqualTo(401));
        return call(HttpMethod.POST, "/api/alerts/silences", ADMIN_TOKEN, "{\"rule\":\"cpu_high\",\"duration\":\"soon\"}");
      })
      .compose(bad -> {
        ctx.verify(() -> {
          assertThat(bad.status()).isEqualTo(400);
          assertThat(bad.json().getString("message")).isEqualTo("field 'duration' must be a duration such as 30m, 2h or 1d");
        });
        return call(HttpMethod.POST, "/api/alerts/silences", ADMIN_TOKEN, "{\"duration\":\"1h\"}");
      })
      .compose(everything -> {
        ctx.verify(() -> {
          assertThat(everything.status()).isEqualTo(400);
          assertThat(everything.json().getString("message")).contains("field 'rule' or 'labels' is required");
        });
        return call(HttpMethod.POST, "/api/alerts/silences", ADMIN_TOKEN, "[1,2]");
      })
      .compose(notObject -> {
        ctx.verify(() -> assertThat(notObject.json().getString("error")).isEqualTo("wrong_type"));
        return call(HttpMethod.POST, "/api/alerts/silences", ADMIN_TOKEN, silence);
      })
      .compose(created -> {
        ctx.verify(() -> {
          assertThat(created.status()).isEqualTo(201);
          assertThat(created.json().getString("rule")).isEqualTo("cpu_high");
          assertThat(created.json().getString("id")).hasSize(36);
        });
        return call(HttpMethod.DELETE, "/api/alerts/silences/" + created.json().getString("id"), ADMIN_TOKEN, null)
          .compose(deleted -> {
            ctx.verify(() -> assertThat(deleted.status()).isEqualTo(200));
            return call(HttpMethod.DELETE, "/api/alerts/silences/" + created.json().getString("id"), ADMIN_TOKEN, null);
          });
      })
      .onComplete(ctx.succeeding(again -> ctx.verify(() -> {
        assertThat(again.status()).isEqualTo(404);
        assertThat(again.json().getString("error")).isEqualTo("not_found");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a silence suppresses the notification; when it expires the firing alert is notified, once")
  void silenceThenExpiry(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    List<AlertEvent> events = new CopyOnWriteArrayList<>();
    long[] endsAt = new long[1];
    receiver.start()
      .compose(r -> start(vertx, receiver, true))
      .compose(c -> {
        endsAt[0] = System.currentTimeMillis() + 2500;
        String silence = new JsonObject().put("labels", new JsonObject().put("instance", "pod-a"))
          .put("ends_at", Instant.ofEpochMilli(endsAt[0]).toString()).put("comment", "deploy").encode();
        return call(HttpMethod.POST, "/api/alerts/silences", ADMIN_TOKEN, silence);
      })
      .compose(created -> {
        vertx.eventBus().<AlertEvent>consumer(Addresses.ALERTS_EVENTS, m -> events.add(m.body()));
        publish(vertx, cpu("pod-a", 0, 95));
        publish(vertx, cpu("pod-b", 0, 95));
        return receiver.until(rs -> rs.size() >= 1);
      })
      .compose(rs -> {
        ctx.verify(() -> {
          assertThat(rs).extracting(r -> r.json().getJsonArray("alerts").getJsonObject(0).getJsonObject("labels")
            .getString("instance")).containsExactly("pod-b");
          assertThat(events).filteredOn(e -> e.instance().equals("pod-a")).extracting(AlertEvent::silenced).containsExactly(true);
        });
        return call(HttpMethod.GET, "/api/alerts?instance=pod-a", null, null);
      })
      .compose(active -> {
        ctx.verify(() -> assertThat(active.json().getJsonArray("alerts").getJsonObject(0).getBoolean("silenced")).isTrue());
        return receiver.until(rs -> rs.size() >= 2);
      })
      .compose(rs -> AlertDeliveryTest.idle(vertx))
      .onComplete(ctx.succeeding(idle -> ctx.verify(() -> {
        Receiver.Request restored = receiver.requests.get(1);
        assertThat(restored.json().getJsonArray("alerts").getJsonObject(0).getJsonObject("labels").getString("instance"))
          .isEqualTo("pod-a");
        assertThat(restored.receivedAtMs()).isGreaterThanOrEqualTo(endsAt[0]);
        assertThat(events).filteredOn(e -> e.instance().equals("pod-a")).extracting(AlertEvent::reason)
          .containsExactly("threshold", "unsilenced");
        assertThat(receiver.requests).hasSize(2);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("acknowledge a firing alert; unknown and non-firing alerts are refused; history lists changes newest first")
  void acknowledgeAndHistory(Vertx vertx, VertxTestContext ctx) {
    Receiver receiver = new Receiver(vertx, Edge.freePort());
    receiver.start()
      .compose(r -> start(vertx, receiver, true))
      .compose(c -> {
        publish(vertx, cpu("pod-a", 0, 95));
        publish(vertx, cpu("pod-b", 0, 95));
        publish(vertx, cpu("pod-b", 1, 10));
        return receiver.until(rs -> rs.size() >= 3);
      })
      .compose(rs -> call(HttpMethod.POST, "/api/alerts/ack", ADMIN_TOKEN, "{\"rule\":\"cpu_high\"}"))
      .compose(missing -> {
        ctx.verify(() -> assertThat(missing.json().getString("message")).isEqualTo("field 'instance' is required"));
        return call(HttpMethod.POST, "/api/alerts/ack", ADMIN_TOKEN, "{\"rule\":\"cpu_high\",\"instance\":\"pod-b\"}");
      })
      .compose(resolved -> {
        ctx.verify(() -> {
          assertThat(resolved.status()).isEqualTo(409);
          assertThat(resolved.json().getString("message")).contains("the alert is resolved");
        });
        return call(HttpMethod.POST, "/api/alerts/ack", ADMIN_TOKEN, "{\"rule\":\"cpu_high\",\"instance\":\"pod-z\"}");
      })
      .compose(unknown -> {
        ctx.verify(() -> assertThat(unknown.status()).isEqualTo(404));
        return call(HttpMethod.POST, "/api/alerts/ack", ADMIN_TOKEN, "{\"rule\":\"cpu_high\",\"instance\":\"pod-a\",\"by\":\"alice\"}");
      })
      .compose(acked -> {
        ctx.verify(() -> {
          assertThat(acked.status()).isEqualTo(200);
          assertThat(acked.json().getBoolean("acknowledged")).isTrue();
          assertThat(acked.json().getString("acknowledged_by")).isEqualTo("alice");
        });
        return call(HttpMethod.GET, "/api/alerts/history?limit=3", null, null);
      })
      .compose(history -> {
        ctx.verify(() -> assertThat(history.json().getJsonArray("events")).extracting(o -> ((JsonObject) o).getString("reason"))
          .containsExactly("acknowledged", "cleared", "threshold"));
        return call(HttpMethod.GET, "/api/alerts/history?limit=0", null, null);
      })
      .onComplete(ctx.succeeding(bad -> ctx.verify(() -> {
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().getString("message")).startsWith("field 'limit' must be between 1 and");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("without an alert manager on the node the API answers 503 at once, saying why")
  void noAlertManager(Vertx vertx, VertxTestContext ctx) {
    start(vertx, new Receiver(vertx, Edge.freePort()), false)
      .compose(c -> call(HttpMethod.GET, "/api/alerts", null, null))
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.json().getString("error")).isEqualTo("unavailable");
        assertThat(r.json().getString("message")).contains("not running on this node");
        ctx.completeNow();
      })));
  }
}
