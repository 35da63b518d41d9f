package com.chatroom.pulse;

import com.chatroom.pulse.bus.ApplicationMetrics;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.bus.SystemMetrics.DiskUsage;

import java.util.List;

/** Synthetic records for tests. */
public final class Samples {

  private Samples() {
  }

  public static SystemMetrics system(String instance, long seq) {
    return new SystemMetrics(1_764_000_000d + seq, 12.5, 40.25, 4096, 6144, 55.5, 120.75, 1000 + seq, 2000 + seq,
      17, List.of(0.5, 0.25, 0.125), instance, seq, 10240, 2, 100, 200,
      List.of(new DiskUsage("/", 55.5, 120.75, 250)));
  }

  /** A ~5 KB sample (60 mounts): fills socket buffers quickly in back-pressure tests. */
  public static SystemMetrics bigSystem(String instance, long seq) {
    List<DiskUsage> disks = new java.util.ArrayList<>();
    for (int i = 0; i < 60; i++) {
      disks.add(new DiskUsage("/mnt/volume-with-a-long-name-" + i, 55.5, 120.75, 250));
    }
    SystemMetrics s = system(instance, seq);
    return new SystemMetrics(s.timestamp(), s.cpuPercent(), s.memoryPercent(), s.memoryUsedMb(), s.memoryAvailableMb(),
      s.diskUsagePercent(), s.diskFreeGb(), s.networkBytesSent(), s.networkBytesRecv(), s.activeConnections(),
      s.loadAverage(), instance, seq, s.memoryTotalMb(), s.cpuCount(), s.networkSentPerSec(), s.networkRecvPerSec(), disks);
  }

  /** A sample at a chosen time with chosen CPU, memory and disk values. */
  public static SystemMetrics at(String instance, long seq, double timestamp, double cpu, double memory, double disk) {
    return new SystemMetrics(timestamp, cpu, memory, memory * 100, 10000 - memory * 100, disk, 250 - disk * 2.5,
      1000 + seq * 10, 2000 + seq * 20, 10 + seq % 7, List.of(cpu / 50, cpu / 60, cpu / 70), instance, seq, 10000, 2,
      seq % 13, seq % 17, List.of(new DiskUsage("/", disk, 250 - disk * 2.5, 250)));
  }

  public static ApplicationMetrics app(String instance, long totalMessages) {
    return new ApplicationMetrics(1_764_000_000d + totalMessages, 42, totalMessages, 120, 7, 2, 5, 12.5, 0.01,
      instance, "chat-room");
  }
}
