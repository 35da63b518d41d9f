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
 * <p>{@code stall} (issue 9, 1 % of chat clients stop reading): {@code rooms} rooms (default 10) of {@code members}
 * (default 500), one sender per room at {@code rate} a second (default 1). Every {@code stalled-every}-th member
 * (default 100: 1 %) is marked: its receive buffer is 4 KB and it is also in a {@code bulk} room where a separate
 * client sends {@code bulk-rate} messages a second of {@code bulk-size} characters, so that once it stops reading, the
 * socket buffers and the server's bounded queue for it fill in seconds, not hours. Two measured phases of
 * {@code duration} seconds each, the same traffic: in phase 2 the marked stop reading if {@code --stall=true} (the
 * control run, {@code --stall=false}, changes nothing). Latency and loss count the readers (everyone not marked), per
 * phase; the server's slow-client disconnects are read from its {@code /metrics} twice a second, its VmRSS from
 * {@code /proc}; after phase 2 the marked read again and report the close code and reason they were given.
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
  private final int stalledEvery;
  private final boolean stall;
  private final double bulkRate;
  private final int bulkSize;
  private static final String BULK = "bulk";

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
  /** Room scenario: per message sent in the window (by its stamp), its first and last delivery's latency in µs. */
  private final Map<Long, long[]> perMessage = new HashMap<>();
  private final Map<Integer, Integer> closeCodes = new HashMap<>();
  private final Map<String, Integer> roomSizes = new HashMap<>();
  private final String pad;
  // stall scenario: stamps from stallAt on are phase 2's
  private long stallAt = Long.MAX_VALUE;
  private final Histogram phase2 = new Histogram(1, 60_000_000L, 3);
  /** Phase 2's first {@code headSeconds}: while the stalled are still connected and their queues fill (they are cut
   *  ~5 s in; after that the node writes less than in a control run, which flatters the whole phase's p99). */
  private final Histogram phase2Head = new Histogram(1, 60_000_000L, 3);
  private final int headSeconds;
  private long markedReceived;
  private final Map<Integer, Integer> markedCloseCodes = new HashMap<>();
  private String markedCloseReason;

  public static void main(String[] args) throws Exception {
    Options.launch(args, ChatLoadClient::new);
  }

  ChatLoadClient(Options o) {
    url = URI.create(o.string("url", "ws://127.0.0.1:8888/chat"));
    scenario = o.string("scenario", "room");
    if (!scenario.equals("room") && !scenario.equals("rooms") && !scenario.equals("stall")) {
      throw new IllegalArgumentException("option 'scenario' must be room, rooms or stall, got '" + scenario + "'");
    }
    boolean stallScenario = scenario.equals("stall");
    rooms = scenario.equals("room") ? 1 : o.integer("rooms", stallScenario ? 10 : 100, 1, 100_000);
    members = o.integer("members", scenario.equals("room") ? 5000 : stallScenario ? 500 : 50, 1, 1_000_000);
    stalledEvery = stallScenario ? o.integer("stalled-every", 100, 2, 1_000_000) : 0;
    stall = stallScenario && o.bool("stall", true);
    bulkRate = Double.parseDouble(o.string("bulk-rate", "40"));
    bulkSize = o.integer("bulk-size", 16_384, 30, 1_000_000);
    headSeconds = o.integer("head-seconds", 6, 1, 3600);
    rate = Double.parseDouble(o.string("rate", scenario.equals("room") ? "10" : "1"));
    if (stallScenario && rooms * members <= rooms) {
      throw new IllegalArgumentException("the stall scenario needs more members than rooms");
    }
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
    /** Stall scenario: also in the bulk room, and stops reading in phase 2; not counted in latency or loss. */
    final boolean marked;
    final CompletableFuture<Member> joined = new CompletableFuture<>();
    Channel channel;
    long lastSeq = -1;
    private boolean upgraded;

    Member(int index, String room, boolean marked) {
      this.index = index;
      this.room = room;
      this.marked = marked;
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
          int code = len >= 2 ? in.getUnsignedShort(from) : 1005;
          closeCodes.merge(code, 1, Integer::sum);
          if (marked) {
            markedCloseCodes.merge(code, 1, Integer::sum);
            if (len > 2 && markedCloseReason == null) {
              markedCloseReason = in.toString(from + 2, len - 2, StandardCharsets.UTF_8);
            }
          }
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
      if (m.marked || m.room.equals(BULK)) {
        markedReceived += m.marked ? 1 : 0;
        return;
      }
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
          (stamp >= stallAt ? phase2 : latency).recordValue(Math.min(micros, 60_000_000L));
          if (stamp >= stallAt && stamp < stallAt + headSeconds * 1_000_000L) {
            phase2Head.recordValue(Math.min(micros, 60_000_000L));
          }
          measuredReceived++;
          if (rooms == 1) {
            long[] span = perMessage.computeIfAbsent(stamp, k -> new long[] {Long.MAX_VALUE, 0});
            span[0] = Math.min(span[0], micros);
            span[1] = Math.max(span[1], micros);
          }
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
      if (m.marked && !BULK.equals(joined.getString("room"))) {
        m.send(new JsonObject().put("type", "join").put("room", BULK).encode());
        return;
      }
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

  /** Stall scenario: every {@code stalledEvery}-th member, never a sender (members 0 to rooms - 1 send). */
  private boolean isMarked(int i) {
    return stalledEvery > 0 && i >= rooms && i % stalledEvery == stalledEvery - 1;
  }

  /**
   * Phase 1 ({@code duration} s, everyone reads), then phase 2 (as long, the marked paused if {@code stall}): the
   * server's VmRSS and its slow-client disconnect counter are sampled twice a second meanwhile.
   */
  private JsonObject stallPhases(EventLoop loop, Member[] all) throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpRequest scrape = java.net.http.HttpRequest.newBuilder(
      URI.create("http://" + url.getHost() + ":" + url.getPort() + "/metrics")).timeout(java.time.Duration.ofSeconds(5)).build();
    long rssMax = 0;
    long rssPhase1End = 0;
    long slowAtStart = -1;
    double allCutAfter = -1;
    int marked = 0;
    for (Member m : all) {
      marked += m.marked ? 1 : 0;
    }
    long phaseStart = System.nanoTime();
    for (int phase = 1; phase <= 2; phase++) {
      if (phase == 2) {
        rssPhase1End = pid > 0 ? ProcStats.rssKiB(pid) : -1;
        slowAtStart = slowDisconnects(http, scrape);
        phaseStart = System.nanoTime();
        onLoop(loop, () -> {
          stallAt = nowMicros();
          if (stall) {
            for (Member m : all) {
              if (m.marked) {
                m.channel.config().setAutoRead(false);
              }
            }
          }
          return null;
        });
      }
      long phaseEnd = phaseStart + TimeUnit.SECONDS.toNanos(duration);
      while (System.nanoTime() < phaseEnd) {
        Thread.sleep(Math.max(1, Math.min(500, (phaseEnd - System.nanoTime()) / 1_000_000)));
        if (pid > 0) {
          rssMax = Math.max(rssMax, ProcStats.rssKiB(pid));
        }
        if (phase == 2 && allCutAfter < 0 && slowDisconnects(http, scrape) - Math.max(0, slowAtStart) >= marked) {
          allCutAfter = (System.nanoTime() - phaseStart) / 1e9;
        }
      }
    }
    long slowAtEnd = slowDisconnects(http, scrape);
    return new JsonObject().put("paused", stall).put("marked", marked).put("bulk_rate", bulkRate).put("bulk_chars", bulkSize)
      .put("phase_s", duration)
      .put("slow_disconnects_phase2", slowAtEnd < 0 ? null : slowAtEnd - Math.max(0, slowAtStart))
      .put("all_marked_cut_after_s", allCutAfter < 0 ? null : Report.round(allCutAfter, 1))
      .put("server_rss_mib_phase1_end", rssPhase1End / 1024).put("server_rss_mib_max", rssMax / 1024)
      .put("server_rss_mib_end", pid > 0 ? ProcStats.rssKiB(pid) / 1024 : null);
  }

  /** {@code pulse_chat_disconnects_total{reason="slow"}} from the server's /metrics; -1 if it cannot be read. */
  private static long slowDisconnects(java.net.http.HttpClient http, java.net.http.HttpRequest scrape) {
    try {
      String body = http.send(scrape, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("(?m)^pulse_chat_disconnects_total\\{[^}]*reason=\"slow\"[^}]*\\}\\s+([0-9.eE+]+)").matcher(body);
      return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    } catch (java.io.IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private String roomOf(int i) {
    return "bench-" + (i % rooms);
  }

  private void connect(Bootstrap bootstrap, Member m) {
    Bootstrap b = bootstrap.clone();
    if (m.marked) {
      b.option(ChannelOption.SO_RCVBUF, 4096);
    }
    b.handler(new ChannelInitializer<Channel>() {
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

  private String bulkPad;

  /** A bulk-room message: not measured, not expected anywhere (only the marked members are in that room). */
  private void sendBulk(Member sender) {
    if (bulkPad == null) {
      bulkPad = "b".repeat(bulkSize);
    }
    sender.send("{\"type\":\"send\",\"room\":\"" + BULK + "\",\"id\":\"b" + (++nextId) + "\",\"text\":\"" + bulkPad + "\"}");
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
        if (!isMarked(i)) {
          roomSizes.merge(roomOf(i), 1, Integer::sum);
        }
      }
      Member[] all = new Member[n];
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i += 200) {
        List<CompletableFuture<Member>> batch = new ArrayList<>();
        for (int j = i; j < Math.min(n, i + 200); j++) {
          Member m = new Member(j, roomOf(j), isMarked(j));
          all[j] = m;
          batch.add(m.joined);
          loop.execute(() -> connect(bootstrap, m));
        }
        CompletableFuture.allOf(batch.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
      }
      double connectSeconds = (System.nanoTime() - t0) / 1e9;
      List<Member> senders = scenario.equals("room") ? List.of(all[0])
        : scenario.equals("stall") ? List.of(all).subList(0, rooms) : List.of(all);
      long interval = (long) (1e9 / rate);
      List<java.util.concurrent.ScheduledFuture<?>> timers = new ArrayList<>();
      for (Member s : senders) {
        timers.add(loop.scheduleAtFixedRate(() -> sendOne(s), ThreadLocalRandom.current().nextLong(interval), interval,
          TimeUnit.NANOSECONDS));
      }
      Member bulk = null;
      if (stalledEvery > 0) {
        bulk = new Member(n, BULK, false);
        Member b = bulk;
        loop.execute(() -> connect(bootstrap, b));
        bulk.joined.get(30, TimeUnit.SECONDS);
        long bulkInterval = (long) (1e9 / bulkRate);
        timers.add(loop.scheduleAtFixedRate(() -> sendBulk(b), 0, bulkInterval, TimeUnit.NANOSECONDS));
      }
      Thread.sleep(warmup * 1000L);
      long[] start = onLoop(loop, () -> {
        measureFrom = nowMicros();
        measuring = true;
        return new long[] {received, pid > 0 ? ProcStats.cpuTicks(pid) : -1, Report.processCpuNanos()};
      });
      JsonObject stallReport = null;
      if (stalledEvery > 0) {
        stallReport = stallPhases(loop, all);
      } else {
        Thread.sleep(duration * 1000L);
      }
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
      if (stall) {
        // the marked read again: they find their close frame (4000 and the reason) behind what was queued for them
        onLoop(loop, () -> {
          for (Member m : all) {
            if (m.marked && m.channel != null) {
              m.channel.config().setAutoRead(true);
            }
          }
          return null;
        });
        long closeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int marked = (int) java.util.stream.IntStream.range(0, n).filter(this::isMarked).count();
        while (System.nanoTime() < closeDeadline
          && onLoop(loop, () -> markedCloseCodes.values().stream().mapToInt(Integer::intValue).sum()) < marked) {
          Thread.sleep(100);
        }
      }
      JsonObject finalStall = stallReport;
      JsonObject result = onLoop(loop, () -> {
        JsonObject r = result(connectSeconds, senders.size(), start, end);
        if (finalStall != null) {
          JsonObject codes = new JsonObject();
          markedCloseCodes.forEach((code, count) -> codes.put(String.valueOf(code), count));
          r.put("stall", finalStall.put("p50_ms_phase2", ms(phase2.getValueAtPercentile(50)))
            .put("p99_ms_phase2", ms(phase2.getValueAtPercentile(99))).put("p999_ms_phase2", ms(phase2.getValueAtPercentile(99.9)))
            .put("max_ms_phase2", ms(phase2.getMaxValue())).put("deliveries_phase1", latency.getTotalCount())
            .put("head_seconds", headSeconds).put("deliveries_phase2_head", phase2Head.getTotalCount())
            .put("p50_ms_phase2_head", ms(phase2Head.getValueAtPercentile(50)))
            .put("p99_ms_phase2_head", ms(phase2Head.getValueAtPercentile(99)))
            .put("deliveries_phase2", phase2.getTotalCount())
            .put("p99_ratio", Report.round(phase2.getValueAtPercentile(99) / (double) latency.getValueAtPercentile(99), 3))
            .put("marked_received", markedReceived).put("marked_close_codes", codes).put("marked_close_reason", markedCloseReason));
        }
        return r;
      });
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
      .put("client_cpu_us_per_delivery", deliveries == 0 ? null : Report.round((end[2] - start[2]) / 1e3 / deliveries, 2))
      .put("per_message", perMessageSummary());
  }

  /**
   * How the room's deliveries spread per message: the latency of each message's first and last delivery (the last
   * is the end of its fan-out as the client saw it). A p99 over all deliveries set by a few slow messages shows as a
   * max far above the p90 here; one set by every message's fan-out shows as a p50 near the p99.
   */
  private JsonObject perMessageSummary() {
    if (perMessage.isEmpty()) {
      return null;
    }
    long[] first = perMessage.values().stream().mapToLong(v -> v[0]).sorted().toArray();
    long[] last = perMessage.values().stream().mapToLong(v -> v[1]).sorted().toArray();
    return new JsonObject().put("messages", last.length)
      .put("first_ms_p50", ms(first[first.length / 2])).put("first_ms_max", ms(first[first.length - 1]))
      .put("last_ms_p10", ms(last[last.length / 10])).put("last_ms_p50", ms(last[last.length / 2]))
      .put("last_ms_p90", ms(last[last.length * 9 / 10])).put("last_ms_max", ms(last[last.length - 1]))
      .put("last_over_40ms", java.util.Arrays.stream(last).filter(v -> v > 40_000).count());
  }

  private static double ms(long micros) {
    return Report.round(micros / 1000d, 2);
  }
}
