package com.chatroom.pulse.sampler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * The Linux fast path of {@link HostProbe}: the five {@code /proc} files a sample needs, each kept open and re-read
 * from offset 0 into one reused buffer (the kernel regenerates a seq file on every read at offset 0), parsed in place
 * without strings. OSHI reads the same files, but through line lists, string splits and one {@code /sys} file per
 * counter per interface; at one sample a second that code never gets compiled, and it cost most of the sampler's
 * CPU (see BENCHMARKS.md, "Sampler overhead"). Not thread-safe: one probe, one worker at a time.
 */
final class ProcFiles implements AutoCloseable {

  /** CPU tick columns of /proc/stat's first line, in OSHI's TickType order: user nice system idle iowait irq softirq steal. */
  static final int CPU_FIELDS = 8;

  private final FileChannel stat;
  private final FileChannel meminfo;
  private final FileChannel netDev;
  private final FileChannel snmp;
  private final FileChannel loadavg;
  private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
  private final byte[] bytes = buffer.array();
  private int length;

  private ProcFiles(Path proc) throws IOException {
    FileChannel[] opened = new FileChannel[5];
    String[] names = {"stat", "meminfo", "net/dev", "net/snmp", "loadavg"};
    try {
      for (int i = 0; i < names.length; i++) {
        opened[i] = FileChannel.open(proc.resolve(names[i]), StandardOpenOption.READ);
      }
    } catch (IOException | RuntimeException e) {
      for (FileChannel channel : opened) {
        if (channel != null) {
          channel.close();
        }
      }
      throw e;
    }
    stat = opened[0];
    meminfo = opened[1];
    netDev = opened[2];
    snmp = opened[3];
    loadavg = opened[4];
  }

  /**
   * Opens the files under {@code proc} and checks that each one parses, or answers {@code null} (not Linux, a
   * restricted container, an unexpected format): the caller then reads everything through OSHI.
   */
  static ProcFiles openIfUsable(Path proc) {
    ProcFiles files = null;
    try {
      files = new ProcFiles(proc);
      files.cpuTicks(new long[CPU_FIELDS]);
      files.memory(new long[2]);
      files.networkTotals(Set.of(), new long[2]);
      files.establishedTcp();
      files.loadAverage(new double[3]);
      return files;
    } catch (IOException | RuntimeException e) {
      if (files != null) {
        files.close();
      }
      return null;
    }
  }

  /** Fills {@code ticks} with the aggregate "cpu" line's first eight columns. */
  void cpuTicks(long[] ticks) {
    // the first line is all a sample needs: one read of its start, not the per-IRQ lines that follow
    read(stat, "stat", 4096);
    int at = expect(0, "cpu ", "stat");
    for (int i = 0; i < CPU_FIELDS; i++) {
      at = skipSpaces(at);
      if (at >= length || bytes[at] == '\n') {
        // kernels before 2.6.11 have no steal column: absent columns are zero
        ticks[i] = 0;
        continue;
      }
      long value = 0;
      int start = at;
      while (at < length && isDigit(bytes[at])) {
        value = value * 10 + (bytes[at++] - '0');
      }
      if (at == start) {
        throw new IllegalStateException("/proc/stat: column " + (i + 1) + " of the cpu line is not a number");
      }
      ticks[i] = value;
    }
  }

  /** Fills {@code out} with MemTotal and MemAvailable, in bytes. */
  void memory(long[] out) {
    read(meminfo, "meminfo", bytes.length);
    out[0] = kibField("MemTotal:") * 1024;
    out[1] = kibField("MemAvailable:") * 1024;
  }

  /**
   * Fills {@code out} with bytes sent and received, summed over the interfaces named in {@code interfaces}.
   */
  void networkTotals(Set<String> interfaces, long[] out) {
    read(netDev, "net/dev", bytes.length);
    long sent = 0;
    long recv = 0;
    int at = nextLine(nextLine(0)); // two header lines
    long[] columns = new long[9];
    while (at < length) {
      int colon = at;
      while (colon < length && bytes[colon] != ':' && bytes[colon] != '\n') {
        colon++;
      }
      if (colon >= length || bytes[colon] != ':') {
        break;
      }
      int nameStart = skipSpaces(at);
      String name = new String(bytes, nameStart, colon - nameStart, java.nio.charset.StandardCharsets.US_ASCII);
      int p = colon + 1;
      for (int i = 0; i < columns.length; i++) {
        p = skipSpaces(p);
        long value = 0;
        int start = p;
        while (p < length && isDigit(bytes[p])) {
          value = value * 10 + (bytes[p++] - '0');
        }
        if (p == start) {
          throw new IllegalStateException("/proc/net/dev: column " + (i + 1) + " of " + name + " is not a number");
        }
        columns[i] = value;
      }
      if (interfaces.contains(name)) {
        recv += columns[0];
        sent += columns[8];
      }
      at = nextLine(p);
    }
    out[0] = sent;
    out[1] = recv;
  }

  /** The Tcp MIB's CurrEstab: connections in ESTABLISHED or CLOSE_WAIT, IPv4 and IPv6, kept by the kernel. */
  long establishedTcp() {
    read(snmp, "net/snmp", bytes.length);
    int header = find("Tcp: ", 0);
    if (header < 0) {
      throw new IllegalStateException("/proc/net/snmp: no Tcp line");
    }
    int values = find("Tcp: ", nextLine(header));
    if (values < 0) {
      throw new IllegalStateException("/proc/net/snmp: no Tcp values line");
    }
    int column = -1;
    int at = header + 5;
    int end = nextLine(header);
    for (int i = 0; at < end; i++) {
      int start = at;
      while (at < end && bytes[at] != ' ' && bytes[at] != '\n') {
        at++;
      }
      if (at - start == 9 && matches(start, "CurrEstab")) {
        column = i;
        break;
      }
      at++;
    }
    if (column < 0) {
      throw new IllegalStateException("/proc/net/snmp: no CurrEstab column");
    }
    at = values + 5;
    for (int i = 0; i < column; i++) {
      while (at < length && bytes[at] != ' ' && bytes[at] != '\n') {
        at++;
      }
      at++;
    }
    long value = 0;
    int start = at;
    while (at < length && isDigit(bytes[at])) {
      value = value * 10 + (bytes[at++] - '0');
    }
    if (at == start) {
      throw new IllegalStateException("/proc/net/snmp: CurrEstab is not a number");
    }
    return value;
  }

  /** Fills {@code out} with the 1, 5 and 15 minute load averages. */
  void loadAverage(double[] out) {
    read(loadavg, "loadavg", bytes.length);
    int at = 0;
    for (int i = 0; i < 3; i++) {
      at = skipSpaces(at);
      long whole = 0;
      long fraction = 0;
      long scale = 1;
      int start = at;
      while (at < length && isDigit(bytes[at])) {
        whole = whole * 10 + (bytes[at++] - '0');
      }
      if (at < length && bytes[at] == '.') {
        at++;
        while (at < length && isDigit(bytes[at])) {
          fraction = fraction * 10 + (bytes[at++] - '0');
          scale *= 10;
        }
      }
      if (at == start) {
        throw new IllegalStateException("/proc/loadavg: field " + (i + 1) + " is not a number");
      }
      out[i] = whole + (double) fraction / scale;
    }
  }

  @Override
  public void close() {
    for (FileChannel channel : new FileChannel[] {stat, meminfo, netDev, snmp, loadavg}) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // closing a read-only /proc file cannot lose anything
      }
    }
  }

  private void read(FileChannel channel, String name, int limit) {
    buffer.clear().limit(limit);
    try {
      long position = 0;
      int n;
      while (buffer.hasRemaining() && (n = channel.read(buffer, position)) > 0) {
        position += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read /proc/" + name, e);
    }
    length = buffer.position();
    if (length == 0) {
      throw new IllegalStateException("/proc/" + name + " is empty");
    }
  }

  private long kibField(String key) {
    int at = find(key, 0);
    if (at < 0 || (at > 0 && bytes[at - 1] != '\n')) {
      throw new IllegalStateException("/proc/meminfo: no " + key);
    }
    at = skipSpaces(at + key.length());
    long value = 0;
    int start = at;
    while (at < length && isDigit(bytes[at])) {
      value = value * 10 + (bytes[at++] - '0');
    }
    if (at == start) {
      throw new IllegalStateException("/proc/meminfo: " + key + " is not a number");
    }
    return value;
  }

  private int expect(int at, String prefix, String name) {
    if (!matches(at, prefix)) {
      throw new IllegalStateException("/proc/" + name + " does not start with '" + prefix.trim() + "'");
    }
    return at + prefix.length();
  }

  private boolean matches(int at, String text) {
    if (at + text.length() > length) {
      return false;
    }
    for (int i = 0; i < text.length(); i++) {
      if (bytes[at + i] != text.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private int find(String text, int from) {
    for (int at = from; at + text.length() <= length; at++) {
      if (bytes[at] == text.charAt(0) && matches(at, text)) {
        return at;
      }
    }
    return -1;
  }

  private int skipSpaces(int at) {
    while (at < length && bytes[at] == ' ') {
      at++;
    }
    return at;
  }

  private int nextLine(int at) {
    while (at < length && bytes[at] != '\n') {
      at++;
    }
    return at + 1;
  }

  private static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }
}
