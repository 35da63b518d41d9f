package com.chatroom.pulse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.impl.MessageWrite;
import io.vertx.core.net.impl.VertxConnection;
import io.vertx.core.net.impl.VertxHandler;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Server-to-client WebSocket frames written straight to the socket's Netty channel. A server frame is unmasked, so
 * the bytes of one event are the same for every recipient: the frame (header and UTF-8 payload) is encoded once and
 * each socket gets a duplicate of it. Against Vert.x's {@code writeFrame}, that skips per recipient a lock, a promise,
 * a queue hand-off and the frame encoder's allocation and copy (measured in BENCHMARKS.md: chat gateway, stream
 * fan-out). Every data frame of a connection must go this way so they stay in order; the close frame goes through
 * Vert.x, after them. The write queue bound is the channel's own: {@code ServerWebSocket.setWriteQueueMaxSize} sets
 * its high water mark, {@link #full} reads its writability and {@link #onWritable} hears when it drains (Vert.x's own
 * drain handler does not: it tracks Vert.x's queue, which these writes bypass).
 * The channel comes from the upgraded request's connection (vertx-web wraps the WebSocket itself, hiding it),
 * through Vert.x's {@link ConnectionBase}; if an upgrade breaks that, fall back to
 * {@code ws.writeFrame(WebSocketFrame.textFrame(...))}, {@code ws.writeQueueFull()} and {@code ws.drainHandler}.
 */
public final class WsWire {

  private WsWire() {
  }

  /**
   * A complete, final, unmasked text frame holding {@code utf8}, for one recipient or a few; shareable: writers take
   * duplicates, nobody frees it (a heap array: the socket copies it once into a direct buffer on write).
   */
  public static ByteBuf textFrame(Buffer utf8) {
    byte[] frame = new byte[frameLength(utf8.length())];
    int header = writeHeader(utf8.length(), frame);
    utf8.getBytes(0, utf8.length(), frame, header);
    return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(frame));
  }

  /**
   * The same frame in off-heap memory, for a fan-out to many sockets: a heap frame is copied into a fresh direct
   * buffer by the transport on every write, a direct one goes to the socket as it is. The memory is the JDK's
   * (freed by the garbage collector once no duplicate is queued), so it stays shareable with nobody to free it.
   * Costs one off-heap allocation per frame: for frames written to one socket, {@link #textFrame} is cheaper.
   */
  public static ByteBuf sharedTextFrame(Buffer utf8) {
    int length = utf8.length();
    byte[] header = new byte[frameLength(length) - length];
    writeHeader(length, header);
    ByteBuffer direct = ByteBuffer.allocateDirect(header.length + length);
    direct.put(header);
    direct.put(utf8.getBytes());
    direct.flip();
    return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(direct));
  }

  private static int frameLength(int payload) {
    return (payload < 126 ? 2 : payload < 65536 ? 4 : 10) + payload;
  }

  /** Writes the header of an unfragmented text frame of {@code length} payload bytes; returns the header's size. */
  private static int writeHeader(int length, byte[] frame) {
    frame[0] = (byte) 0x81; // FIN + text
    if (length < 126) {
      frame[1] = (byte) length;
      return 2;
    }
    if (length < 65536) {
      frame[1] = 126;
      frame[2] = (byte) (length >>> 8);
      frame[3] = (byte) length;
      return 4;
    }
    frame[1] = 127;
    for (int i = 0; i < 8; i++) {
      frame[2 + i] = (byte) ((long) length >>> (56 - 8 * i));
    }
    return 10;
  }

  /** The TCP channel under an HTTP/1.1 request, which its WebSocket upgrade keeps using. */
  public static Channel channel(HttpServerRequest request) {
    return ((ConnectionBase) request.connection()).channel();
  }

  /**
   * Gives an upgraded WebSocket connection a write queue that holds nothing, in place of the multi-producer queue
   * Vert.x 5 always gives WebSockets (even where its HTTP connections use strict thread mode): a JCTools chunked MPSC
   * queue whose first chunk (1,024 slots) and cache-line padding are about 4.4 KB per connection, most of an idle
   * connection's heap. The replacement is Vert.x's own direct queue for strict thread mode (a write goes to the
   * channel at once), behind a proxy that hands a write from any other thread to the event loop as a task, since
   * Vert.x's direct path may only be entered on the event loop. Pulse writes data frames straight to the channel
   * ({@link #write}); what Vert.x still writes (pong, close) is rare, so the proxy's reflection costs nothing that
   * matters. Call on the connection's event loop as soon as the WebSocket exists. Returns whether the queue was
   * replaced: false off the event loop or if this Vert.x is laid out differently, and then the connection simply
   * keeps its own queue.
   */
  public static boolean useEventLoopQueue(Channel channel) {
    if (QUEUE == null || !channel.eventLoop().inEventLoop()) {
      return false;
    }
    try {
      VertxHandler<?> handler = channel.pipeline().get(VertxHandler.class);
      VertxConnection connection = handler == null ? null : handler.getConnection();
      if (connection == null || connection.channel() != channel) {
        return false;
      }
      Object direct = QUEUE.direct.newInstance(connection);
      Object queue = java.lang.reflect.Proxy.newProxyInstance(QUEUE.type.getClassLoader(), new Class<?>[] {QUEUE.type},
        new EventLoopQueue(direct, channel.eventLoop()));
      QUEUE.field.set(connection, queue);
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /** Vert.x's private pieces, found once; null if this Vert.x does not have them. */
  private static final QueueParts QUEUE = QueueParts.find();

  private record QueueParts(java.lang.reflect.Field field, Class<?> type, java.lang.reflect.Constructor<?> direct,
                            Map<String, java.lang.reflect.Method> methods) {

    static QueueParts find() {
      try {
        java.lang.reflect.Field field = VertxConnection.class.getDeclaredField("outboundMessageQueue");
        Class<?> type = field.getType();
        Class<?> directType = Class.forName(VertxConnection.class.getName() + "$DirectOutboundMessageQueue");
        if (!type.isInterface() || !type.isAssignableFrom(directType)) {
          return null;
        }
        java.lang.reflect.Constructor<?> direct = directType.getDeclaredConstructor(VertxConnection.class);
        Map<String, java.lang.reflect.Method> methods = new HashMap<>();
        for (java.lang.reflect.Method m : type.getDeclaredMethods()) {
          m.setAccessible(true);
          methods.put(m.getName(), m);
        }
        if (!methods.keySet().containsAll(java.util.Set.of("write", "isWritable", "tryDrain", "close"))) {
          return null;
        }
        field.setAccessible(true);
        direct.setAccessible(true);
        return new QueueParts(field, type, direct, Map.copyOf(methods));
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        return null;
      }
    }
  }

  /** Vert.x's direct queue, with writes from other threads moved onto the event loop. */
  private record EventLoopQueue(Object direct, EventLoop eventLoop) implements java.lang.reflect.InvocationHandler {

    @Override
    public Object invoke(Object proxy, java.lang.reflect.Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class) {
        return switch (method.getName()) {
          case "equals" -> proxy == args[0];
          case "hashCode" -> System.identityHashCode(proxy);
          default -> "EventLoopQueue@" + eventLoop;
        };
      }
      java.lang.reflect.Method target = QUEUE.methods.get(method.getName());
      if (method.getName().equals("write") && !eventLoop.inEventLoop()) {
        MessageWrite write = (MessageWrite) args[0];
        try {
          eventLoop.execute(() -> {
            try {
              target.invoke(direct, args);
            } catch (ReflectiveOperationException e) {
              write.cancel(e.getCause() != null ? e.getCause() : e);
            }
          });
        } catch (java.util.concurrent.RejectedExecutionException e) {
          write.cancel(e);
        }
        return true;
      }
      try {
        return target.invoke(direct, args);
      } catch (java.lang.reflect.InvocationTargetException e) {
        throw e.getCause();
      }
    }
  }

  /** Whether the socket's outbound buffer is past its high water mark. */
  public static boolean full(Channel channel) {
    return !channel.isWritable();
  }

  /**
   * Writes and flushes a frame built by {@link #textFrame}; call on the socket's event loop. The bytes are a complete
   * WebSocket frame, so they enter the pipeline at its head end and pass no handler: not the WebSocket encoder (it
   * would let a buffer through anyway), and not an HTTP encoder that Vert.x has not removed yet. With the io_uring
   * transport the 101 response's write completes later, so the HTTP encoder is still in place when the first frame
   * (chat's hello) goes out, and it refuses a plain buffer ("unexpected message type").
   */
  public static void write(Channel channel, ByteBuf frame) {
    ChannelHandlerContext first = channel.pipeline().firstContext();
    if (first != null) {
      first.writeAndFlush(frame.duplicate(), channel.voidPromise());
    } else {
      channel.writeAndFlush(frame.duplicate(), channel.voidPromise());
    }
  }

  /** Runs {@code drained} on the channel's event loop each time its outbound buffer falls back under the low water mark. */
  public static void onWritable(Channel channel, Runnable drained) {
    channel.pipeline().addFirst("pulse-writable", new ChannelInboundHandlerAdapter() {
      @Override
      public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isWritable()) {
          drained.run();
        }
        super.channelWritabilityChanged(ctx);
      }
    });
  }
}
