package com.chatroom.pulse.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time and resident memory of a Linux process, read from {@code /proc/<pid>/stat} and {@code /proc/<pid>/status}.
 * {@code utime + stime} are in clock ticks ({@code getconf CLK_TCK}, 100 on every mainstream Linux build; override
 * with {@code -Dclk.tck=N}), so one reading is exact to 10 ms.
 */
final class ProcStats {

  static final int CLK_TCK = Integer.getInteger("clk.tck", 100);

  private ProcStats() {
  }

  /** utime + stime of the whole process (all threads) in clock ticks, or -1 when the process is gone. */
  static long cpuTicks(long pid) {
    long[] split = cpuTicksSplit(pid);
    return split == null ? -1 : split[0] + split[1];
  }

  /** {utime, stime} of a process ({@code self} for this one) in clock ticks, or null when it is gone. */
  static long[] cpuTicksSplit(Object pid) {
    String stat;
    try {
      stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      return null;
    }
    // the command name (field 2) may hold spaces and parentheses: count fields from the last ')'
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime field 15
    return new long[] {Long.parseLong(fields[11]), Long.parseLong(fields[12])};
  }

  /** The columns of a {@code cpuN} line of {@code /proc/stat} that {@link #cpuJiffies()} returns, in order. */
  static final String[] CPU_COLUMNS = {"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"};

  /**
   * Per-CPU jiffies from {@code /proc/stat}, one row per CPU with the {@link #CPU_COLUMNS}. Used to see where each
   * core's time went during a window: this client, the server, softirq (loopback TCP is processed there, and that
   * time is in no process's utime/stime), steal (this is a VM) and other processes.
   */
  static long[][] cpuJiffies() {
    try {
      return Files.readAllLines(Path.of("/proc/stat"), StandardCharsets.US_ASCII).stream()
        .filter(line -> line.startsWith("cpu") && Character.isDigit(line.charAt(3)))
        .map(line -> {
          String[] f = line.trim().split("\\s+");
          long[] row = new long[CPU_COLUMNS.length];
          for (int i = 0; i < row.length && i + 1 < f.length; i++) {
            row[i] = Long.parseLong(f[i + 1]);
          }
          return row;
        })
        .toArray(long[][]::new);
    } catch (IOException | RuntimeException e) {
      return new long[0][];
    }
  }

  /** VmRSS in KiB, or -1 when the process is gone. */
  static long rssKiB(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
