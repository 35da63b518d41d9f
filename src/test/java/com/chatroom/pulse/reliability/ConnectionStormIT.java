package com.chatroom.pulse.reliability;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.Samples;
import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.bus.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code pulse.storm.connects} WebSocket connects (CI: 2,000; {@code -Dpulse.long=true}: 10,000) within 5 s, half to
 * {@code /metrics/stream} and half to {@code /chat}, against one node whose caps are a quarter of the storm each
 * ({@code stream.max_subscribers}, {@code chat.max_connections}), while an existing stream client receives samples
 * published every 20 ms and an existing chat member receives a message every 100 ms.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Connection storm: caps hold, the node stays up, existing clients are not disturbed")
class ConnectionStormIT {

  private static final boolean LONG = Boolean.getBoolean("pulse.long");
  private static final int CONNECTS = Integer.getInteger("pulse.storm.connects", LONG ? 10_000 : 2_000);
  private static final int CAP = CONNECTS / 4;
  private static final long STORM_MS = 5_000;

  private WebSocketClient stormClient;
  private WebSocketClient client;
  private HttpClient http;

  @Test
  @Timeout(value = 300, timeUnit = TimeUnit.SECONDS)
  @DisplayName("past each cap a connect is closed with 1013, every other one gets its hello; the existing clients see every sample and message")
  void storm(Vertx vertx, VertxTestContext ctx) {
    stormClient = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(CONNECTS)
      .setConnectTimeout(30_000));
    client = WsClient.newClient(vertx, 0);
    http = vertx.createHttpClient();
    JsonObject config = new JsonObject()
      .put("stream", new JsonObject().put("max_subscribers", CAP))
      .put("chat", new JsonObject().put("allow_anonymous", true).put("max_connections", CAP)
        .put("max_connections_per_ip", CONNECTS * 2).put("messages_per_second", 100).put("burst", 100));
    Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    List<ClientWebSocket> held = java.util.Collections.synchronizedList(new ArrayList<>());
    WsClient[] existing = new WsClient[3]; // stream, chat listener, chat sender
    int[] port = new int[1];
    long[] seq = {0};
    long[] sent = {0};
    long[] stormTook = new long[1];
    long[] timers = new long[2];
    Edge.deploy(vertx, config)
      .compose(c -> {
        port[0] = c.http().port();
        return WsClient.connect(client, port[0], null, "/metrics/stream?streams=system");
      })
      .compose(s -> {
        existing[0] = s;
        return WsClient.connect(client, port[0], null, "/chat?nickname=listener");
      })
      .compose(l -> {
        existing[1] = l;
        return WsClient.connect(client, port[0], null, "/chat?nickname=sender");
      })
      .compose(snd -> {
        existing[2] = snd;
        return Future.all(existing[1].awaitType("hello"), snd.awaitType("hello"), existing[0].awaitType("hello"));
      })
      .compose(x -> {
        existing[1].ws.writeTextMessage("{\"type\":\"join\",\"room\":\"storm\"}");
        existing[2].ws.writeTextMessage("{\"type\":\"join\",\"room\":\"storm\"}");
        return Future.all(existing[1].awaitType("joined"), existing[2].awaitType("joined"));
      })
      .compose(x -> {
        timers[0] = vertx.setPeriodic(20, id -> vertx.eventBus().publish(Addresses.METRICS_SYSTEM, Samples.system("storm", ++seq[0])));
        timers[1] = vertx.setPeriodic(100, id -> existing[2].ws.writeTextMessage(new JsonObject().put("type", "send")
          .put("room", "storm").put("id", "s" + ++sent[0]).put("text", "during the storm").encode()));
        long start = System.currentTimeMillis();
        return storm(vertx, port[0], outcomes, held).map(v -> stormTook[0] = System.currentTimeMillis() - start);
      })
      .compose(took -> {
        // every connect has an outcome: its hello, or a close
        return until(vertx, () -> outcomes.entrySet().stream().filter(e -> !e.getKey().contains("after_hello"))
          .mapToInt(e -> e.getValue().get()).sum() >= CONNECTS, 60_000, () -> "outcomes " + outcomes);
      })
      .compose(v -> {
        vertx.cancelTimer(timers[0]);
        vertx.cancelTimer(timers[1]);
        long lastSeq = seq[0];
        long lastSent = sent[0];
        return Future.all(existing[0].await(WsClient.sample("system", "storm", lastSeq)),
            existing[1].await(f -> "message".equals(f.getString("type")) && ("s" + lastSent).equals(f.getString("id"))))
          .compose(x -> http.request(HttpMethod.GET, port[0], "127.0.0.1", "/health/live").compose(r -> r.send()))
          .map(r -> r.statusCode());
      })
      .onComplete(ctx.succeeding(live -> ctx.verify(() -> {
        int streamOk = count(outcomes, "stream.hello");
        int chatOk = count(outcomes, "chat.hello");
        Figures.record(LONG ? "connection-storm-long" : "connection-storm", new JsonObject()
          .put("connects", CONNECTS).put("storm_ms", stormTook[0]).put("cap_per_endpoint", CAP)
          .put("outcomes", new JsonObject(new java.util.TreeMap<>(outcomes.entrySet().stream()
            .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> (Object) e.getValue().get())))))
          .put("samples_to_existing_client", existing[0].ofType("system").size())
          .put("chat_messages_to_existing_member", existing[1].ofType("message").size())
          .put("heap_used_mb", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20));
        assertThat(live).isEqualTo(200);
        assertThat(stormTook[0]).as("the connects were issued within the storm's window (ms)").isLessThan(STORM_MS + 2_000);
        // the existing stream client is one of the cap's subscribers
        assertThat(streamOk).as("stream connects that got a hello").isEqualTo(CAP - 1);
        assertThat(count(outcomes, "stream.closed.1013")).as("stream connects closed with 1013").isEqualTo(CONNECTS / 2 - (CAP - 1));
        assertThat(chatOk).as("chat connects that got a hello").isEqualTo(CAP - 2);
        assertThat(count(outcomes, "chat.closed.1013")).isEqualTo(CONNECTS / 2 - (CAP - 2));
        assertThat(outcomes.keySet()).as("no other outcome (failed handshakes, other close codes)")
          .containsOnly("stream.hello", "stream.closed.1013", "chat.hello", "chat.closed.1013");
        List<Long> seqs = existing[0].ofType("system").stream().map(f -> f.getJsonObject("data").getLong("seq")).toList();
        assertThat(seqs).as("samples to the existing stream client").hasSize((int) seq[0]);
        for (int i = 0; i < seqs.size(); i++) {
          assertThat(seqs.get(i)).isEqualTo(i + 1L);
        }
        List<String> ids = existing[1].ofType("message").stream().map(f -> f.getString("id")).toList();
        assertThat(ids).as("messages to the existing chat member").hasSize((int) sent[0]).doesNotHaveDuplicates();
        assertThat(existing[1].ofType("error")).isEmpty();
        assertThat(existing[2].ofType("error")).isEmpty();
        ctx.completeNow();
      })));
  }

  private static int count(Map<String, AtomicInteger> outcomes, String key) {
    AtomicInteger n = outcomes.get(key);
    return n == null ? 0 : n.get();
  }

  /** Issues the connects evenly over {@link #STORM_MS}, alternating endpoints; records each one's outcome. */
  private Future<Void> storm(Vertx vertx, int port, Map<String, AtomicInteger> outcomes, List<ClientWebSocket> held) {
    Promise<Void> issued = Promise.promise();
    int ticks = (int) (STORM_MS / 10);
    int perTick = (CONNECTS + ticks - 1) / ticks;
    int[] done = {0};
    vertx.setPeriodic(10, id -> {
      for (int k = 0; k < perTick && done[0] < CONNECTS; k++) {
        int i = done[0]++;
        String kind = i % 2 == 0 ? "stream" : "chat";
        ClientWebSocket ws = stormClient.webSocket();
        boolean[] hello = {false};
        ws.textMessageHandler(text -> {
          if (!hello[0] && text.contains("\"type\":\"hello\"")) {
            hello[0] = true;
            outcomes.computeIfAbsent(kind + ".hello", x -> new AtomicInteger()).incrementAndGet();
          }
        });
        ws.closeHandler(v -> {
          if (!hello[0]) {
            outcomes.computeIfAbsent(kind + ".closed." + ws.closeStatusCode(), x -> new AtomicInteger()).incrementAndGet();
          } else {
            outcomes.computeIfAbsent(kind + ".closed_after_hello." + ws.closeStatusCode(), x -> new AtomicInteger()).incrementAndGet();
          }
        });
        ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
            .setURI(kind.equals("stream") ? "/metrics/stream?streams=alerts" : "/chat?nickname=storm" + i))
          .onSuccess(w -> held.add(ws))
          .onFailure(e -> outcomes.computeIfAbsent(kind + ".failed", x -> new AtomicInteger()).incrementAndGet());
      }
      if (done[0] >= CONNECTS) {
        vertx.cancelTimer(id);
        issued.complete();
      }
    });
    return issued.future();
  }

  private static Future<Void> until(Vertx vertx, java.util.function.BooleanSupplier done, long timeoutMs,
                                    java.util.function.Supplier<String> what) {
    Promise<Void> result = Promise.promise();
    long deadline = System.currentTimeMillis() + timeoutMs;
    long timer = vertx.setPeriodic(20, id -> {
      if (done.getAsBoolean()) {
        result.tryComplete();
      } else if (System.currentTimeMillis() > deadline) {
        result.tryFail("not within " + timeoutMs + " ms: " + what.get());
      }
    });
    return result.future().onComplete(x -> vertx.cancelTimer(timer));
  }
}
