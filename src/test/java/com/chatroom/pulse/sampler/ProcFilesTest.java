package com.chatroom.pulse.sampler;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import oshi.SystemInfo;
import oshi.hardware.CentralProcessor.TickType;
import oshi.hardware.HardwareAbstractionLayer;
import oshi.hardware.NetworkIF;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

@DisplayName("The sampler's /proc fast path")
class ProcFilesTest {

  private static final String STAT = """
    cpu  4705 356 584 3699176 23060 0 1277 12 0 0
    cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0
    intr 1462898 0 0
    """;
  private static final String MEMINFO = """
    MemTotal:       25165824 kB
    MemFree:         1000000 kB
    MemAvailable:   20971520 kB
    Buffers:           12345 kB
    """;
  private static final String NET_DEV = """
    Inter-|   Receive                                                |  Transmit
     face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
        lo: 3720213948 12915257    0    0    0     0          0         0 3720213948 12915257    0    0    0     0       0          0
      eth0:   1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0
      eth1:    300       3    0    0    0     0          0         0      400       4    0    0    0     0       0          0
    """;
  private static final String SNMP = """
    Ip: Forwarding DefaultTTL InReceives
    Ip: 2 64 12918366
    Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs
    Tcp: 1 200 120000 -1 3312 1602 12 5 10002 998877
    Udp: InDatagrams NoPorts
    Udp: 1 2
    """;
  private static final String LOADAVG = "0.52 1.05 12.75 2/345 6789\n";

  @TempDir
  Path dir;

  private Path proc(String stat, String meminfo, String netDev, String snmp, String loadavg) throws IOException {
    Files.createDirectories(dir.resolve("net"));
    Files.writeString(dir.resolve("stat"), stat);
    Files.writeString(dir.resolve("meminfo"), meminfo);
    Files.writeString(dir.resolve("net/dev"), netDev);
    Files.writeString(dir.resolve("net/snmp"), snmp);
    Files.writeString(dir.resolve("loadavg"), loadavg);
    return dir;
  }

  @Test
  @DisplayName("parses every field a sample needs from the kernel's formats")
  void parsesTheKernelsFormats() throws IOException {
    try (ProcFiles files = ProcFiles.openIfUsable(proc(STAT, MEMINFO, NET_DEV, SNMP, LOADAVG))) {
      assertThat(files).isNotNull();
      long[] ticks = new long[ProcFiles.CPU_FIELDS];
      files.cpuTicks(ticks);
      assertThat(ticks).containsExactly(4705, 356, 584, 3699176, 23060, 0, 1277, 12);
      long[] memory = new long[2];
      files.memory(memory);
      assertThat(memory).containsExactly(25165824L * 1024, 20971520L * 1024);
      long[] net = new long[2];
      files.networkTotals(Set.of("eth0", "eth1"), net);
      assertThat(net).containsExactly(2400, 1300);
      files.networkTotals(Set.of("eth1"), net);
      assertThat(net).containsExactly(400, 300);
      files.networkTotals(Set.of(), net);
      assertThat(net).containsExactly(0, 0);
      assertThat(files.establishedTcp()).isEqualTo(10002);
      double[] load = new double[3];
      files.loadAverage(load);
      assertThat(load).containsExactly(0.52, 1.05, 12.75);
    }
  }

  @Test
  @DisplayName("re-reads each file on every call, so values move with the host")
  void rereadsEachCall() throws IOException {
    Path root = proc(STAT, MEMINFO, NET_DEV, SNMP, LOADAVG);
    try (ProcFiles files = ProcFiles.openIfUsable(root)) {
      assertThat(files).isNotNull();
      assertThat(files.establishedTcp()).isEqualTo(10002);
      Files.writeString(root.resolve("net/snmp"), SNMP.replace(" 10002 ", " 7 "));
      assertThat(files.establishedTcp()).isEqualTo(7);
      Files.writeString(root.resolve("loadavg"), "3 4.5 6.25 1/2 3\n");
      double[] load = new double[3];
      files.loadAverage(load);
      assertThat(load).containsExactly(3, 4.5, 6.25);
    }
  }

  @Test
  @DisplayName("an old kernel's cpu line without the steal column reads it as zero")
  void missingStealColumnIsZero() throws IOException {
    try (ProcFiles files = ProcFiles.openIfUsable(proc("cpu  1 2 3 4 5 6 7\nintr 0\n", MEMINFO, NET_DEV, SNMP, LOADAVG))) {
      assertThat(files).isNotNull();
      long[] ticks = new long[ProcFiles.CPU_FIELDS];
      files.cpuTicks(ticks);
      assertThat(ticks).containsExactly(1, 2, 3, 4, 5, 6, 7, 0);
    }
  }

  @Test
  @DisplayName("any file it cannot parse makes it step aside, so the probe reads through OSHI")
  void unusableFilesFallBackToOshi() throws IOException {
    List<String[]> broken = List.of(
      new String[] {"", MEMINFO, NET_DEV, SNMP, LOADAVG},
      new String[] {"intr 0\ncpu 1 2 3\n", MEMINFO, NET_DEV, SNMP, LOADAVG},
      new String[] {"cpu  x 2 3 4\n", MEMINFO, NET_DEV, SNMP, LOADAVG},
      new String[] {STAT, "MemTotal: 100 kB\nMemFree: 50 kB\n", NET_DEV, SNMP, LOADAVG},
      new String[] {STAT, "MemTotal:  kB\nMemAvailable: 5 kB\n", NET_DEV, SNMP, LOADAVG},
      new String[] {STAT, MEMINFO, NET_DEV.replace("1000      10", "abc      10"), SNMP, LOADAVG},
      new String[] {STAT, MEMINFO, NET_DEV, SNMP.replace("CurrEstab", "CurrEsta"), LOADAVG},
      new String[] {STAT, MEMINFO, NET_DEV, "Ip: a\nIp: 1\n", LOADAVG},
      new String[] {STAT, MEMINFO, NET_DEV, SNMP.replace(" 10002 ", " - "), LOADAVG},
      new String[] {STAT, MEMINFO, NET_DEV, SNMP, "load\n"},
      new String[] {STAT, MEMINFO, NET_DEV, SNMP, ""});
    for (String[] files : broken) {
      Path root = proc(files[0], files[1], files[2], files[3], files[4]);
      assertThat(ProcFiles.openIfUsable(root)).as("usable with %s", String.join(" | ", files)).isNull();
    }
    assertThat(ProcFiles.openIfUsable(dir.resolve("missing"))).isNull();
  }

  @Test
  @DisplayName("on this Linux host it agrees with OSHI on every value")
  void agreesWithOshiOnThisHost() {
    ProcFiles files = ProcFiles.openIfUsable(Path.of("/proc"));
    assumeTrue(files != null, "no usable /proc on this host");
    try (files) {
      HardwareAbstractionLayer hal = new SystemInfo().getHardware();

      long[] memory = new long[2];
      files.memory(memory);
      assertThat(memory[0]).isEqualTo(hal.getMemory().getTotal());
      assertThat((double) memory[1]).isCloseTo(hal.getMemory().getAvailable(), within(256d * 1024 * 1024));

      // shares of the ticks, since OSHI converts them to milliseconds
      long[] ticks = new long[ProcFiles.CPU_FIELDS];
      files.cpuTicks(ticks);
      long[] oshi = hal.getProcessor().getSystemCpuLoadTicks();
      double ourIdle = (double) ticks[TickType.IDLE.getIndex()] / java.util.Arrays.stream(ticks).sum();
      double oshiIdle = (double) oshi[TickType.IDLE.getIndex()] / java.util.Arrays.stream(oshi).sum();
      assertThat(ourIdle).isCloseTo(oshiIdle, within(0.01));

      List<NetworkIF> interfaces = hal.getNetworkIFs();
      Set<String> names = interfaces.stream().map(NetworkIF::getName).collect(Collectors.toSet());
      long oshiSentBefore = 0;
      long oshiRecvBefore = 0;
      for (NetworkIF nif : interfaces) {
        nif.updateAttributes();
        oshiSentBefore += nif.getBytesSent();
        oshiRecvBefore += nif.getBytesRecv();
      }
      long[] net = new long[2];
      files.networkTotals(names, net);
      // counters only grow: ours, read after OSHI's, are at least OSHI's and close to them
      assertThat(net[0]).isGreaterThanOrEqualTo(oshiSentBefore).isLessThan(oshiSentBefore + 10_000_000);
      assertThat(net[1]).isGreaterThanOrEqualTo(oshiRecvBefore).isLessThan(oshiRecvBefore + 10_000_000);

      long established = new SystemInfo().getOperatingSystem().getInternetProtocolStats().getTCPv4Stats()
        .getConnectionsEstablished();
      assertThat((double) files.establishedTcp()).isCloseTo(established, within(50d));

      double[] load = new double[3];
      files.loadAverage(load);
      double[] oshiLoad = hal.getProcessor().getSystemLoadAverage(3);
      assertThat(load[2]).isCloseTo(oshiLoad[2], within(0.5));
    }
  }

  @Test
  @DisplayName("the probe's samples read the same through /proc as through OSHI")
  void probeReadsTheSameEitherWay() {
    ProcFiles files = ProcFiles.openIfUsable(Path.of("/proc"));
    assumeTrue(files != null, "no usable /proc on this host");
    HostProbe fast = new HostProbe(List.of("/"), files);
    HostProbe oshi = new HostProbe(List.of("/"), null);
    try {
      assertThat(fast.readsProcDirectly()).isTrue();
      assertThat(oshi.readsProcDirectly()).isFalse();
      var a = fast.read("i", 1);
      var b = oshi.read("i", 1);
      assertThat(a.memoryTotalMb()).isEqualTo(b.memoryTotalMb());
      assertThat(a.cpuCount()).isEqualTo(b.cpuCount());
      assertThat(a.cpuPercent()).isBetween(0d, 100d);
      assertThat((double) a.networkBytesSent()).isCloseTo(b.networkBytesSent(), within(10_000_000d));
      assertThat((double) a.activeConnections()).isCloseTo(b.activeConnections(), within(50d));
      assertThat(a.loadAverage()).hasSize(3);
      assertThat(a.diskUsagePercent()).isEqualTo(b.diskUsagePercent());
    } finally {
      fast.close();
      oshi.close();
    }
  }
}
