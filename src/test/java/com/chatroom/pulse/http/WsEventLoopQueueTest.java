package com.chatroom.pulse.http;

import io.netty.channel.Channel;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.impl.VertxConnection;
import io.vertx.core.net.impl.VertxHandler;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link WsWire#useEventLoopQueue}: the WebSocket's multi-producer write queue replaced by Vert.x's direct one behind Pulse's event-loop proxy, and
 * everything Vert.x writes through it (text, pong, close) still arriving, in order with the frames written straight
 * to the channel, also when written from a worker thread.
 */
@ExtendWith(VertxExtension.class)
@DisplayName("WebSocket write queue on the event loop")
class WsEventLoopQueueTest {

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("the queue is replaced; Vert.x's writes, direct writes, a worker's write, pong and the close code all reach the client")
  void replaced(Vertx vertx, VertxTestContext ctx) {
    Promise<List<Object>> swap = Promise.promise();
    HttpServer server = vertx.createHttpServer().requestHandler(req -> {
      Channel channel = WsWire.channel(req);
      req.toWebSocket().onSuccess(ws -> {
        boolean replaced = WsWire.useEventLoopQueue(channel);
        swap.complete(List.of(replaced, queueClass(channel)));
        ws.setWriteQueueMaxSize(64 * 1024);
        ws.writeTextMessage("one");
        WsWire.write(channel, WsWire.textFrame(Buffer.buffer("two")));
        ws.writeTextMessage("three");
        ws.textMessageHandler(text -> {
          if (text.equals("close")) {
            ws.close((short) 4000, "bye");
          } else if (text.equals("worker")) {
            vertx.executeBlocking(() -> ws.writeTextMessage("from a worker"));
          } else {
            ws.writeTextMessage("echo:" + text + ":" + ws.writeQueueFull());
          }
        });
      });
    });
    List<String> received = new CopyOnWriteArrayList<>();
    Promise<WebSocket> closed = Promise.promise();
    server.listen(0, "127.0.0.1")
      .compose(s -> vertx.createWebSocketClient(new WebSocketClientOptions())
        .connect(new WebSocketConnectOptions().setPort(s.actualPort()).setHost("127.0.0.1").setURI("/")))
      .onComplete(ctx.succeeding(ws -> {
        ws.closeHandler(v -> closed.complete(ws));
        ws.textMessageHandler(text -> {
          received.add(text);
          switch (text) {
            case "three" -> ws.writeTextMessage("x");
            case "echo:x:false" -> ws.writeTextMessage("worker");
            case "from a worker" -> ws.writePing(Buffer.buffer("p"));
            default -> { }
          }
        });
        ws.pongHandler(pong -> {
          received.add("pong:" + pong.toString());
          ws.writeTextMessage("close");
        });
      }));
    vertx.setTimer(10_000, t -> ctx.failNow(new AssertionError("received so far: " + received)));
    swap.future().compose(s -> closed.future().map(ws -> List.of(s, ws)))
      .onComplete(ctx.succeeding(result -> ctx.verify(() -> {
        @SuppressWarnings("unchecked")
        List<Object> s = (List<Object>) result.get(0);
        WebSocket ws = (WebSocket) result.get(1);
        assertThat(s.get(0)).as("replaced").isEqualTo(true);
        assertThat((String) s.get(1)).startsWith("EventLoopQueue@");
        assertThat(received).containsExactly("one", "two", "three", "echo:x:false", "from a worker", "pong:p");
        assertThat(ws.closeStatusCode()).isEqualTo((short) 4000);
        assertThat(ws.closeReason()).isEqualTo("bye");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 20, timeUnit = TimeUnit.SECONDS)
  @DisplayName("off the connection's event loop nothing is replaced")
  void offTheEventLoop(Vertx vertx, VertxTestContext ctx) {
    Promise<Channel> opened = Promise.promise();
    HttpServer server = vertx.createHttpServer().requestHandler(req -> {
      Channel channel = WsWire.channel(req);
      req.toWebSocket().onSuccess(ws -> opened.complete(channel));
    });
    server.listen(0, "127.0.0.1")
      .compose(s -> vertx.createWebSocketClient().connect(s.actualPort(), "127.0.0.1", "/"))
      .compose(ws -> opened.future())
      .onComplete(ctx.succeeding(channel -> new Thread(() -> ctx.verify(() -> {
        assertThat(WsWire.useEventLoopQueue(channel)).isFalse();
        assertThat(queueClass(channel)).doesNotStartWith("EventLoopQueue@");
        ctx.completeNow();
      })).start()));
  }

  private static String queueClass(Channel channel) {
    try {
      VertxConnection connection = channel.pipeline().get(VertxHandler.class).getConnection();
      var field = VertxConnection.class.getDeclaredField("outboundMessageQueue");
      field.setAccessible(true);
      Object queue = field.get(connection);
      return java.lang.reflect.Proxy.isProxyClass(queue.getClass()) ? queue.toString() : queue.getClass().getName();
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }
}
