package com.chatroom.pulse.sampler;

import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.bus.SystemMetrics.DiskUsage;
import oshi.SystemInfo;
import oshi.hardware.CentralProcessor;
import oshi.hardware.CentralProcessor.TickType;
import oshi.hardware.GlobalMemory;
import oshi.hardware.HardwareAbstractionLayer;
import oshi.hardware.NetworkIF;
import oshi.software.os.InternetProtocolStats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the host once per call. Blocking (file reads under /proc and /sys, statvfs): call it from a worker only.
 * Every read is O(1) in the number of open sockets: connections come from the kernel's established counter, never
 * from enumerating sockets, and disks from {@code statvfs} on the configured mounts, never from OSHI's file-store
 * listing (which forks {@code lsblk}). On Linux the per-tick values come from {@link ProcFiles} (the same
 * {@code /proc} files OSHI reads, without its per-call parsing); OSHI still lists the interfaces, gives the static
 * facts, and reads everything on hosts where {@code /proc} is not usable.
 */
final class HostProbe {

  private static final double MIB = 1024d * 1024d;
  private static final double GIB = MIB * 1024d;
  /** Interfaces come and go (containers, VPNs): re-list them this often, not on every tick (a listing costs ~2 ms). */
  private static final long INTERFACE_REFRESH_NANOS = 60_000_000_000L;

  private final HardwareAbstractionLayer hal;
  private final CentralProcessor processor;
  private final GlobalMemory memory;
  private final InternetProtocolStats ipStats;
  private final List<Mount> mounts;
  private List<NetworkIF> interfaces;
  private Set<String> interfaceNames = Set.of();
  private long interfacesListedAt;
  /** The Linux fast path, or null to read everything through OSHI. */
  private final ProcFiles proc;
  private final int logicalProcessors;
  private final long[] memoryScratch = new long[2];
  private final long[] netScratch = new long[2];
  private final double[] loadScratch = new double[3];

  private long[] previousTicks;
  private long previousSent = -1;
  private long previousRecv = -1;
  private long previousNanos;

  private record Mount(String path, FileStore store) {
  }

  /** @throws IllegalArgumentException when a configured mount cannot be read, with the mount named */
  HostProbe(List<String> mountPaths) {
    this(mountPaths, ProcFiles.openIfUsable(Path.of("/proc")));
  }

  /** @param proc the /proc fast path, or null to read everything through OSHI */
  HostProbe(List<String> mountPaths, ProcFiles proc) {
    this.proc = proc;
    SystemInfo info = new SystemInfo();
    this.hal = info.getHardware();
    this.processor = hal.getProcessor();
    this.memory = hal.getMemory();
    this.ipStats = info.getOperatingSystem().getInternetProtocolStats();
    this.mounts = new ArrayList<>();
    for (String path : mountPaths) {
      try {
        mounts.add(new Mount(path, Files.getFileStore(Path.of(path))));
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("sampler.mounts: cannot read file system at '" + path + "': " + e, e);
      }
    }
    this.logicalProcessors = processor.getLogicalProcessorCount();
    listInterfaces(System.nanoTime());
    // a baseline, so the first sample's CPU share and rates cover one interval rather than the time since boot
    this.previousTicks = cpuTicks();
    long[] net = networkTotals();
    this.previousSent = net[0];
    this.previousRecv = net[1];
    this.previousNanos = System.nanoTime();
  }

  SystemMetrics read(String instance, long seq) {
    long now = System.nanoTime();
    double timestamp = System.currentTimeMillis() / 1000d;

    long[] ticks = cpuTicks();
    double cpuPercent = busyPercent(previousTicks, ticks);
    previousTicks = ticks;

    long total;
    long available;
    if (proc != null) {
      proc.memory(memoryScratch);
      total = memoryScratch[0];
      available = memoryScratch[1];
    } else {
      total = memory.getTotal();
      available = memory.getAvailable();
    }
    double memoryPercent = total == 0 ? 0 : 100d * (total - available) / total;

    if (now - interfacesListedAt > INTERFACE_REFRESH_NANOS) {
      listInterfaces(now);
    }
    long[] net = networkTotals();
    double seconds = Math.max(1e-3, (now - previousNanos) / 1e9);
    // a counter that went down (interface gone, counter reset) gives no rate rather than a negative one
    double sentRate = net[0] >= previousSent ? (net[0] - previousSent) / seconds : 0;
    double recvRate = net[1] >= previousRecv ? (net[1] - previousRecv) / seconds : 0;
    previousSent = net[0];
    previousRecv = net[1];
    previousNanos = now;

    List<DiskUsage> disks = new ArrayList<>(mounts.size());
    for (Mount mount : mounts) {
      disks.add(diskUsage(mount));
    }
    DiskUsage first = disks.get(0);

    double[] load;
    long established;
    if (proc != null) {
      proc.loadAverage(loadScratch);
      load = loadScratch;
      established = proc.establishedTcp();
    } else {
      load = processor.getSystemLoadAverage(3);
      established = ipStats.getTCPv4Stats().getConnectionsEstablished();
    }

    return new SystemMetrics(timestamp, round2(cpuPercent), round2(memoryPercent), round2((total - available) / MIB),
      round2(available / MIB), first.usagePercent(), first.freeGb(), net[0], net[1], established,
      List.of(round2(Math.max(0, load[0])), round2(Math.max(0, load[1])), round2(Math.max(0, load[2]))),
      instance, seq, round2(total / MIB), logicalProcessors, round2(sentRate), round2(recvRate), disks);
  }

  /** CPU busy share between two tick snapshots: everything but idle and iowait, as top and psutil count it. */
  static double busyPercent(long[] before, long[] after) {
    long total = 0;
    for (int i = 0; i < after.length; i++) {
      total += after[i] - before[i];
    }
    long idle = (after[TickType.IDLE.getIndex()] - before[TickType.IDLE.getIndex()])
      + (after[TickType.IOWAIT.getIndex()] - before[TickType.IOWAIT.getIndex()]);
    if (total <= 0) {
      return 0;
    }
    return Math.min(100d, Math.max(0d, 100d * (total - idle) / total));
  }

  /** Two decimals are all a percentage or a size in MiB/GiB needs, and they keep every frame small. */
  static double round2(double value) {
    return Math.round(value * 100d) / 100d;
  }

  private DiskUsage diskUsage(Mount mount) {
    try {
      long totalBytes = mount.store().getTotalSpace();
      long usable = mount.store().getUsableSpace();
      long unallocated = mount.store().getUnallocatedSpace();
      long used = totalBytes - unallocated;
      // like df and psutil: blocks reserved for root count neither as used nor as available
      double percent = used + usable == 0 ? 0 : 100d * used / (used + usable);
      return new DiskUsage(mount.path(), round2(percent), round2(usable / GIB), round2(totalBytes / GIB));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read file system at " + mount.path(), e);
    }
  }

  /** Whether samples come from the /proc fast path (Linux) rather than OSHI's readers. */
  boolean readsProcDirectly() {
    return proc != null;
  }

  void close() {
    if (proc != null) {
      proc.close();
    }
  }

  private long[] cpuTicks() {
    if (proc == null) {
      return processor.getSystemCpuLoadTicks();
    }
    long[] ticks = new long[ProcFiles.CPU_FIELDS];
    proc.cpuTicks(ticks);
    return ticks;
  }

  private void listInterfaces(long now) {
    interfaces = hal.getNetworkIFs();
    Set<String> names = new HashSet<>();
    for (NetworkIF nif : interfaces) {
      names.add(nif.getName());
    }
    interfaceNames = Set.copyOf(names);
    interfacesListedAt = now;
  }

  /** Bytes sent and received by the interfaces OSHI lists (non-loopback, with a hardware address). */
  private long[] networkTotals() {
    if (proc != null) {
      // /proc/net/dev has every interface's counters in one read, instead of a dozen /sys files per interface
      proc.networkTotals(interfaceNames, netScratch);
      return new long[] {netScratch[0], netScratch[1]};
    }
    long sent = 0;
    long recv = 0;
    for (NetworkIF nif : interfaces) {
      nif.updateAttributes();
      sent += nif.getBytesSent();
      recv += nif.getBytesRecv();
    }
    return new long[] {sent, recv};
  }
}
