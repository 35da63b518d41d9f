package com.chatroom.pulse.alerts;

import com.chatroom.pulse.Edge;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;

import java.io.IOException;

/** A real, throw-away redis-server on a free loopback port: no persistence, never 6379. */
final class RedisServer {

  private final int port = Edge.freePort();
  private Process process;

  String url() {
    return "redis://127.0.0.1:" + port;
  }

  /** Starts the server and completes once it accepts connections (polled on Vert.x timers). */
  Future<RedisServer> start(Vertx vertx) {
    try {
      process = new ProcessBuilder("/usr/bin/redis-server", "--save", "", "--appendonly", "no", "--port",
        String.valueOf(port), "--bind", "127.0.0.1").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      return Future.failedFuture(e);
    }
    NetClient client = vertx.createNetClient();
    Promise<RedisServer> ready = Promise.promise();
    probe(vertx, client, ready, 200);
    return ready.future().eventually(client::close);
  }

  private void probe(Vertx vertx, NetClient client, Promise<RedisServer> ready, int triesLeft) {
    client.connect(port, "127.0.0.1").onSuccess(socket -> socket.close().onComplete(v -> ready.complete(this)))
      .onFailure(e -> {
        if (triesLeft == 0 || !process.isAlive()) {
          ready.fail("redis-server did not start on port " + port + ": " + e.getMessage());
        } else {
          vertx.setTimer(25, id -> probe(vertx, client, ready, triesLeft - 1));
        }
      });
  }

  void stop() {
    if (process != null) {
      process.destroy();
    }
  }
}
