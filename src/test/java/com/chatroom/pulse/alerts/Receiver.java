package com.chatroom.pulse.alerts;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.Predicate;

/** A real HTTP server standing in for webhook, Slack, DingTalk and Alertmanager receivers; records every request. */
final class Receiver {

  record Request(String method, String path, MultiMap params, MultiMap headers, Buffer body, long receivedNanos,
                 long receivedAtMs) {
    JsonObject json() {
      return new JsonObject(body);
    }

    JsonArray jsonArray() {
      return new JsonArray(body);
    }
  }

  /** What to answer: status and body. */
  record Answer(int status, String body) {
  }

  final List<Request> requests = new CopyOnWriteArrayList<>();
  private final Vertx vertx;
  private final int port;
  private HttpServer server;
  volatile Function<Request, Answer> answer = r -> r.path().startsWith("/dingtalk")
    ? new Answer(200, "{\"errcode\":0,\"errmsg\":\"ok\"}") : new Answer(200, "ok");

  Receiver(Vertx vertx, int port) {
    this.vertx = vertx;
    this.port = port;
  }

  int port() {
    return port;
  }

  String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  Future<Receiver> start() {
    return vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      Request r = new Request(req.method().name(), req.path(), MultiMap.caseInsensitiveMultiMap().addAll(req.params()),
        MultiMap.caseInsensitiveMultiMap().addAll(req.headers()), body, System.nanoTime(),
        System.currentTimeMillis());
      Answer a = answer.apply(r);
      if (a.status() < 300) {
        requests.add(r);
      }
      req.response().setStatusCode(a.status()).end(a.body());
    })).listen(port, "127.0.0.1").map(s -> {
      server = s;
      return this;
    });
  }

  Future<Void> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  List<Request> on(String path) {
    return requests.stream().filter(r -> r.path().equals(path)).toList();
  }

  /** Completes once the recorded requests satisfy the predicate; polls on Vert.x timers, never sleeps a thread. */
  Future<List<Request>> until(Predicate<List<Request>> done) {
    return AlertTestKit.until(vertx, () -> done.test(requests)).map(v -> List.copyOf(requests));
  }
}
