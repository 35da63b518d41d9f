package com.chatroom.pulse.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Load client for {@code WS /chat} (and the Node reference server, which speaks the same frames), on Netty's epoll
 * transport without a WebSocket library on top: one event loop, the upgrade and the frames done in place. It exists because the
 * Node client ({@code bench-chat/load.js}) spent ~11 µs of its core per received message against the servers' 6-8,
 * so in a 5,000-member room it, not the server, set the latency. Same scenarios, same figures, same JSON line:
 * <pre>java -cp bench/target/pulse-bench.jar com.chatroom.pulse.bench.ChatLoadClient --url=ws://127.0.0.1:18888/chat
 *     --scenario=room --members=5000 --rate=10 --duration=20 --warmup=30 --pid=PID --label=pulse</pre>
 * {@code room}: one room, one sender sending {@code rate} messages a second; {@code rooms}: {@code rooms} rooms of
 * {@code members}, every member sending {@code rate} (may be fractional, e.g. 0.2) a second to its room. Latency is
 * the sender's stamp (in the text) to receipt, one process clock; a message sent in the window is expected once at
 * every member of its room once its ack arrives; what has not arrived 10 s after the window is {@code loss}.
 */
public final class ChatLoadClient implements Options.Tool {

  private static final byte[] MESSAGE = "{\"type\":\"message\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SEQ = "\"seq\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] STAMP = "\"text\":\"t:".getBytes(StandardCharsets.US_ASCII);

  private final URI url;
  private final String scenario;
  private final int rooms;
  private final int members;
  private final double rate;
  private final int duration;
  private final int warmup;
  private final int size;
  private final long pid;
  private final String label;

  // all of the following are touched on the one event loop only
  private final Histogram latency = new Histogram(1, 60_000_000L, 3);
  /** The same recording before the window, so that the path is compiled when it opens. */
  private final Histogram warmLatency = new Histogram(1, 60_000_000L, 3);
  private long measureFrom = Long.MAX_VALUE;
  private long measureTo = Long.MAX_VALUE;
  private boolean measuring;
  private long received;
  private long measuredReceived;
  private long reorders;
  private long gaps;
  private long errors;
  private long closes;
  private long sentMeasured;
  private long expectedMeasured;
  private long nextId;
  private final Map<String, Integer> inWindow = new HashMap<>();
  private final Map<Integer, Integer> closeCodes = new HashMap<>();
  private final Map<String, Integer> roomSizes = new HashMap<>();
  private final String pad;

  public static void main(String[] args) throws Exception {
    Options.launch(args, ChatLoadClient::new);
  }

  ChatLoadClient(Options o) {
    url = URI.create(o.string("url", "ws://127.0.0.1:8888/chat"));
    scenario = o.string("scenario", "room");
    if (!scenario.equals("room") && !scenario.equals("rooms")) {
      throw new IllegalArgumentException("option 'scenario' must be room or rooms, got '" + scenario + "'");
    }
    rooms = scenario.equals("room") ? 1 : o.integer("rooms", 100, 1, 100_000);
    members = o.integer("members", scenario.equals("room") ? 5000 : 50, 1, 1_000_000);
    rate = Double.parseDouble(o.string("rate", scenario.equals("room") ? "10" : "1"));
    duration = o.integer("duration", 30, 1, 86_400);
    warmup = o.integer("warmup", 5, 0, 86_400);
    size = o.integer("size", 100, 30, 60_000);
    pid = Long.parseLong(o.string("pid", "-1"));
    label = o.string("label", "target");
    pad = "x".repeat(Math.max(0, size - 30));
  }

  private static long nowMicros() {
    return System.nanoTime() / 1000;
  }

  /**
   * One member: its socket, its room, the last seq it saw. It speaks the protocol itself: the upgrade request, then
   * the server's frames read in place from the socket's bytes (server frames are unmasked: a 2-10 byte header and the
   * payload), no frame objects and no copies; its own frames are masked with a zero key (valid: the key is 4 bytes the
   * server XORs with, and Pulse and the reference both accept it), so their bytes are the payload's.
   */
  private final class Member extends ByteToMessageDecoder {
    final int index;
    final String room;
    final CompletableFuture<Member> joined = new CompletableFuture<>();
    Channel channel;
    long lastSeq = -1;
    private boolean upgraded;

    Member(int index, String room) {
      this.index = index;
      this.room = room;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
      String query = url.getRawQuery() == null ? "?" : "?" + url.getRawQuery() + "&";
      String request = "GET " + url.getRawPath() + query + "nickname=u" + index + " HTTP/1.1\r\n"
        + "Host: " + url.getHost() + ":" + url.getPort() + "\r\n"
        + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
      ctx.writeAndFlush(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII), ctx.voidPromise());
      super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      if (!upgraded) {
        int end = ByteBufUtil.indexOf(HEADERS_END, in);
        if (end < 0) {
          return;
        }
        String head = in.toString(in.readerIndex(), end - in.readerIndex(), StandardCharsets.US_ASCII);
        in.readerIndex(end + HEADERS_END.readableBytes());
        if (!head.startsWith("HTTP/1.1 101")) {
          joined.completeExceptionally(new IllegalStateException("upgrade refused: " + head.lines().findFirst().orElse("")));
          ctx.close();
          return;
        }
        upgraded = true;
      }
      while (in.readableBytes() >= 2) {
        int at = in.readerIndex();
        int b0 = in.getByte(at) & 0xff;
        int len = in.getByte(at + 1) & 0x7f;
        int header = 2;
        if (len == 126) {
          if (in.readableBytes() < 4) {
            return;
          }
          len = in.getUnsignedShort(at + 2);
          header = 4;
        } else if (len == 127) {
          if (in.readableBytes() < 10) {
            return;
          }
          long big = in.getLong(at + 2);
          if (big > (1 << 24)) {
            ctx.close();
            return;
          }
          len = (int) big;
          header = 10;
        }
        if (in.readableBytes() < header + len) {
          return;
        }
        int from = at + header;
        int opcode = b0 & 0x0f;
        if (opcode == 1) {
          onText(this, in, from, from + len);
        } else if (opcode == 8) {
          closeCodes.merge(len >= 2 ? in.getUnsignedShort(from) : 1005, 1, Integer::sum);
          ctx.close();
        } else if (opcode == 9) {
          sendFrame(0x8a, in.retainedSlice(from, len));
        }
        in.readerIndex(from + len);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      closes++;
      joined.completeExceptionally(new IllegalStateException("closed before joining"));
      super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      joined.completeExceptionally(cause);
      ctx.close();
    }

    void send(String text) {
      sendFrame(0x81, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    /** A masked client frame with a zero mask key: FIN + opcode {@code first}, then {@code payload} as it is. */
    private void sendFrame(int first, ByteBuf payload) {
      int len = payload.readableBytes();
      ByteBuf header = channel.alloc().buffer(14);
      header.writeByte(first);
      if (len < 126) {
        header.writeByte(0x80 | len);
      } else if (len < 65536) {
        header.writeByte(0x80 | 126).writeShort(len);
      } else {
        header.writeByte(0x80 | 127).writeLong(len);
      }
      header.writeInt(0);
      channel.write(header, channel.voidPromise());
      channel.writeAndFlush(payload, channel.voidPromise());
    }
  }

  private static final ByteBuf HEADERS_END = Unpooled.unreleasableBuffer(
    Unpooled.copiedBuffer("\r\n\r\n", StandardCharsets.US_ASCII));

  private void onText(Member m, ByteBuf b, int from, int to) {
    if (startsWith(b, from, to, MESSAGE)) {
      received++;
      long seq = intAfter(b, from, to, SEQ);
      if (m.lastSeq >= 0 && seq <= m.lastSeq) {
        reorders++;
      } else if (m.lastSeq >= 0 && seq > m.lastSeq + 1) {
        gaps += seq - m.lastSeq - 1;
      }
      m.lastSeq = Math.max(seq, m.lastSeq);
      long stamp = intAfter(b, from, to, STAMP);
      if (stamp >= 0) {
        long micros = Math.max(0, nowMicros() - stamp);
        if (stamp >= measureFrom && stamp < measureTo) {
          latency.recordValue(Math.min(micros, 60_000_000L));
          measuredReceived++;
        } else {
          warmLatency.recordValue(Math.min(micros, 60_000_000L));
        }
      }
      return;
    }
    String text = b.toString(from, to - from, StandardCharsets.UTF_8);
    if (text.startsWith("{\"type\":\"ack\"")) {
      JsonObject ack = new JsonObject(text);
      Integer pending = inWindow.remove(ack.getString("id"));
      if (pending != null) {
        expectedMeasured += pending;
      }
    } else if (text.startsWith("{\"type\":\"joined\"")) {
      JsonObject joined = new JsonObject(text);
      Number last = joined.getNumber("last_seq");
      m.lastSeq = last == null ? -1 : last.longValue();
      m.joined.complete(m);
    } else if (text.startsWith("{\"type\":\"hello\"")) {
      m.send(new JsonObject().put("type", "join").put("room", m.room).encode());
    } else if (text.startsWith("{\"type\":\"error\"")) {
      errors++;
    }
  }

  private static boolean startsWith(ByteBuf b, int at, int to, byte[] prefix) {
    if (to - at < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b.getByte(at + i) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** The non-negative integer in ASCII right after the first {@code key} in {@code b[from, to)}; -1 if there is none. */
  private static long intAfter(ByteBuf b, int from, int to, byte[] key) {
    int end = to - key.length;
    outer:
    for (int i = from; i <= end; i++) {
      for (int k = 0; k < key.length; k++) {
        if (b.getByte(i + k) != key[k]) {
          continue outer;
        }
      }
      long n = 0;
      int digits = 0;
      for (int p = i + key.length; p < to; p++) {
        byte c = b.getByte(p);
        if (c < '0' || c > '9') {
          break;
        }
        n = n * 10 + (c - '0');
        digits++;
      }
      return digits == 0 ? -1 : n;
    }
    return -1;
  }

  private String roomOf(int i) {
    return "bench-" + (i % rooms);
  }

  private void connect(Bootstrap bootstrap, Member m) {
    bootstrap.clone().handler(new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        m.channel = ch;
        ch.pipeline().addLast(m);
      }
    }).connect(url.getHost(), url.getPort()).addListener(f -> {
      if (!f.isSuccess()) {
        m.joined.completeExceptionally(f.cause());
      }
    });
  }

  private void sendOne(Member sender) {
    long t = nowMicros();
    String id = "m" + (++nextId);
    if (t >= measureFrom && t < measureTo) {
      sentMeasured++;
      inWindow.put(id, roomSizes.get(sender.room));
    }
    sender.send("{\"type\":\"send\",\"room\":\"" + sender.room + "\",\"id\":\"" + id + "\",\"text\":\"t:" + t + ":" + pad + "\"}");
  }

  private <T> T onLoop(EventLoop loop, java.util.concurrent.Callable<T> task) throws Exception {
    return loop.submit(task).get(30, TimeUnit.SECONDS);
  }

  @Override
  public int run() throws Exception {
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    try {
      EventLoop loop = group.next();
      Bootstrap bootstrap = new Bootstrap().group(loop).channel(EpollSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true);
      int n = rooms * members;
      for (int i = 0; i < n; i++) {
        roomSizes.merge(roomOf(i), 1, Integer::sum);
      }
      Member[] all = new Member[n];
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i += 200) {
        List<CompletableFuture<Member>> batch = new ArrayList<>();
        for (int j = i; j < Math.min(n, i + 200); j++) {
          Member m = new Member(j, roomOf(j));
          all[j] = m;
          batch.add(m.joined);
          loop.execute(() -> connect(bootstrap, m));
        }
        CompletableFuture.allOf(batch.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
      }
      double connectSeconds = (System.nanoTime() - t0) / 1e9;
      List<Member> senders = scenario.equals("room") ? List.of(all[0]) : List.of(all);
      long interval = (long) (1e9 / rate);
      List<java.util.concurrent.ScheduledFuture<?>> timers = new ArrayList<>();
      for (Member s : senders) {
        timers.add(loop.scheduleAtFixedRate(() -> sendOne(s), ThreadLocalRandom.current().nextLong(interval), interval,
          TimeUnit.NANOSECONDS));
      }
      Thread.sleep(warmup * 1000L);
      long[] start = onLoop(loop, () -> {
        measureFrom = nowMicros();
        measuring = true;
        return new long[] {received, pid > 0 ? ProcStats.cpuTicks(pid) : -1, Report.processCpuNanos()};
      });
      Thread.sleep(duration * 1000L);
      long[] end = onLoop(loop, () -> {
        measureTo = nowMicros();
        measuring = false;
        return new long[] {received, pid > 0 ? ProcStats.cpuTicks(pid) : -1, Report.processCpuNanos()};
      });
      timers.forEach(t -> t.cancel(false));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline && onLoop(loop, () -> measuredReceived < expectedMeasured || !inWindow.isEmpty())) {
        Thread.sleep(100);
      }
      JsonObject result = onLoop(loop, () -> result(connectSeconds, senders.size(), start, end));
      System.err.println(result.encode());
      System.out.println(result.encode());
      for (Member m : all) {
        if (m.channel != null) {
          m.channel.close();
        }
      }
      return 0;
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  private JsonObject result(double connectSeconds, int senders, long[] start, long[] end) {
    long deliveries = end[0] - start[0];
    double serverCpu = pid > 0 ? (end[1] - start[1]) / (double) ProcStats.CLK_TCK : Double.NaN;
    JsonObject codes = new JsonObject();
    closeCodes.forEach((code, count) -> codes.put(String.valueOf(code), count));
    return new JsonObject().put("label", label).put("client", "java-netty-epoll").put("scenario", scenario)
      .put("rooms", rooms).put("members", members).put("connections", rooms * members).put("rate_per_sender", rate)
      .put("senders", senders).put("connect_seconds", Report.round(connectSeconds, 2)).put("duration_s", duration)
      .put("sent", sentMeasured).put("acked", sentMeasured - inWindow.size())
      .put("deliveries_per_s", Math.round(deliveries / (double) duration))
      .put("expected", expectedMeasured).put("received", measuredReceived).put("loss", expectedMeasured - measuredReceived)
      .put("reorders", reorders).put("gaps", gaps).put("errors", errors).put("closes", closes).put("close_codes", codes)
      .put("p50_ms", ms(latency.getValueAtPercentile(50))).put("p99_ms", ms(latency.getValueAtPercentile(99)))
      .put("p999_ms", ms(latency.getValueAtPercentile(99.9))).put("max_ms", ms(latency.getMaxValue()))
      .put("server_cpu_s", Report.round(serverCpu, 2))
      .put("server_cpu_us_per_delivery", deliveries == 0 ? null : Report.round(serverCpu * 1e6 / deliveries, 2))
      .put("client_cpu_s", Report.round((end[2] - start[2]) / 1e9, 2))
      .put("client_cpu_us_per_delivery", deliveries == 0 ? null : Report.round((end[2] - start[2]) / 1e3 / deliveries, 2));
  }

  private static double ms(long micros) {
    return Report.round(micros / 1000d, 2);
  }
}
