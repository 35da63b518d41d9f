package com.chatroom.pulse.http;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The edge's upgrade gate, with raw sockets against one edge instance: of a burst of WebSocket upgrades, the burst goes
 * ahead at once, the next ones wait their turn at the gate's rate and are then upgraded, and past the waiting queue an
 * upgrade gets 503 with Retry-After; plain HTTP is not held meanwhile.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("Upgrade gate")
class UpgradeGateTest {

  /**
   * Slow enough that no token comes back while the server is still taking in the test's upgrades: at 2 a second, a
   * loaded machine (a cold edge, a build alongside) once took over 500 ms for 25 and let a 16th through.
   */
  private static final int RATE = 1;
  private static final int BURST = 5;
  private static final int QUEUE = 6;
  private static final int CONNECTS = 16;

  @Test
  @Timeout(value = 60, timeUnit = TimeUnit.SECONDS)
  @DisplayName("16 upgrades at once, rate 1/s, burst 5, queue 6: 5 upgraded at once, 6 in arrival order no faster than the rate, 5 refused with 503; /health/live answered while they wait; counted")
  void burstThenRateThenRefusal(Vertx vertx) throws Exception {
    int port = Edge.deploy(vertx, new JsonObject().put("http", new JsonObject().put("instances", 1)
        .put("upgrade_rate", RATE).put("upgrade_burst", BURST).put("upgrade_queue", QUEUE)))
      .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).http().port();
    MeterRegistry registry = Meters.registry(vertx);

    List<Socket> sockets = new ArrayList<>();
    long start = System.nanoTime();
    try {
      for (int i = 0; i < CONNECTS; i++) {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("GET /metrics/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
          + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
        sockets.add(s);
      }
      // plain HTTP goes past the waiting upgrades
      try (Socket probe = new Socket("127.0.0.1", port)) {
        probe.setSoTimeout(10_000);
        probe.getOutputStream().write("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(statusLine(probe.getInputStream())).startsWith("HTTP/1.1 200");
        assertThat(registry.get(MeterNames.HTTP_UPGRADES_WAITING).gauge().value())
          .as("upgrades still waiting when the probe was answered").isPositive();
      }

      List<String> outcomes = new ArrayList<>();
      long[] answeredAt = new long[CONNECTS];
      for (int i = 0; i < CONNECTS; i++) {
        String status = statusLine(sockets.get(i).getInputStream());
        answeredAt[i] = System.nanoTime() - start;
        outcomes.add(status.startsWith("HTTP/1.1 101") ? "upgraded" : status.startsWith("HTTP/1.1 503") ? "503" : "other: " + status);
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < CONNECTS; i++) {
        expected.add(i < BURST + QUEUE ? "upgraded" : "503");
      }
      assertThat(outcomes).as("outcome per upgrade, in the order sent").isEqualTo(expected);
      // the waiting ones cannot have gone ahead faster than the rate: QUEUE tokens at RATE a second after the burst,
      // less what refilled while the test was still connecting
      long connectMs = TimeUnit.NANOSECONDS.toMillis(answeredAt[0]);
      long lastWaitingMs = TimeUnit.NANOSECONDS.toMillis(answeredAt[BURST + QUEUE - 1]);
      assertThat(lastWaitingMs).as("the last waiting upgrade went ahead after (ms)")
        .isGreaterThanOrEqualTo(QUEUE * 1000L / RATE - connectMs - 100);

      assertThat(registry.get(MeterNames.HTTP_UPGRADES_DELAYED).counter().count()).isEqualTo(QUEUE);
      assertThat(registry.get(MeterNames.HTTP_UPGRADES_REFUSED).counter().count()).isEqualTo(CONNECTS - BURST - QUEUE);
      assertThat(registry.get(MeterNames.HTTP_UPGRADES_WAITING).gauge().value()).isZero();
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  /** The response's first line, or what went wrong instead. */
  private static String statusLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    try {
      for (int c; (c = in.read()) >= 0 && c != '\n'; ) {
        line.append((char) c);
      }
    } catch (SocketTimeoutException e) {
      return "timed out after '" + line + "'";
    }
    return line.toString().trim();
  }
}
