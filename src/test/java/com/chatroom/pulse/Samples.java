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

  public static ApplicationMetrics app(String instance, long totalMessages) {
    return new ApplicationMetrics(1_764_000_000d + totalMessages, 42, totalMessages, 120, 7, 2, 5, 12.5, 0.01,
      instance, "chat-room");
  }
}
