package com.chatroom.pulse.bus;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * One host sample, taken once per sampler tick. The JSON form is a superset of the seed's Python
 * {@code SystemMetrics} dataclass: its eleven fields keep their names and meaning, Pulse adds the rest.
 *
 * @param timestamp          epoch seconds of the reading
 * @param cpuPercent         CPU busy share of all cores since the previous tick, 0–100
 * @param memoryPercent      (total − available) / total, 0–100
 * @param memoryUsedMb       total − available, MiB
 * @param memoryAvailableMb  memory available for new work without swapping (MemAvailable), MiB
 * @param diskUsagePercent   usage of the first configured mount, 0–100, as {@code df} counts it
 * @param diskFreeGb         space available to unprivileged users on the first mount, GiB
 * @param networkBytesSent   bytes sent by all non-loopback interfaces since boot
 * @param networkBytesRecv   bytes received by all non-loopback interfaces since boot
 * @param activeConnections  established TCP connections (IPv4 and IPv6)
 * @param loadAverage        1, 5 and 15 minute load averages
 * @param instance           the id of the instance that took the sample
 * @param seq                tick number of this sampler run; a gap means samples were missed
 * @param memoryTotalMb      physical memory, MiB
 * @param cpuCount           logical processors
 * @param networkSentPerSec  bytes/s sent since the previous tick
 * @param networkRecvPerSec  bytes/s received since the previous tick
 * @param disks              every configured mount
 */
public record SystemMetrics(
  double timestamp,
  double cpuPercent,
  double memoryPercent,
  double memoryUsedMb,
  double memoryAvailableMb,
  double diskUsagePercent,
  double diskFreeGb,
  long networkBytesSent,
  long networkBytesRecv,
  long activeConnections,
  List<Double> loadAverage,
  String instance,
  long seq,
  double memoryTotalMb,
  int cpuCount,
  double networkSentPerSec,
  double networkRecvPerSec,
  List<DiskUsage> disks) implements Sample {

  public static final String KIND = "system";
  static final int MAX_DISKS = 64;

  public SystemMetrics {
    loadAverage = List.copyOf(loadAverage);
    disks = List.copyOf(disks);
    if (loadAverage.size() != 3) {
      throw new IllegalArgumentException("loadAverage needs exactly 3 values");
    }
  }

  /** Usage of one mounted file system. */
  public record DiskUsage(String mount, double usagePercent, double freeGb, double totalGb) {

    JsonObject toJson() {
      return new JsonObject()
        .put("mount", mount)
        .put("usage_percent", usagePercent)
        .put("free_gb", freeGb)
        .put("total_gb", totalGb);
    }

    static DiskUsage fromJson(JsonObject json) {
      JsonFields f = new JsonFields(json);
      String mount = f.optionalString("mount", 4096, null);
      if (mount == null) {
        throw new InvalidMessageException("mount", InvalidMessageException.Reason.MISSING_FIELD, "field 'mount' is missing");
      }
      return new DiskUsage(mount, f.number("usage_percent", 0, 100),
        f.number("free_gb", 0, Double.MAX_VALUE), f.number("total_gb", 0, Double.MAX_VALUE));
    }
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public JsonObject toJson() {
    JsonArray diskArray = new JsonArray(new ArrayList<>(disks.size()));
    disks.forEach(d -> diskArray.add(d.toJson()));
    return new JsonObject()
      .put("timestamp", JsonFields.seconds(timestamp))
      .put("cpu_percent", cpuPercent)
      .put("memory_percent", memoryPercent)
      .put("memory_used_mb", memoryUsedMb)
      .put("memory_available_mb", memoryAvailableMb)
      .put("disk_usage_percent", diskUsagePercent)
      .put("disk_free_gb", diskFreeGb)
      .put("network_bytes_sent", networkBytesSent)
      .put("network_bytes_recv", networkBytesRecv)
      .put("active_connections", activeConnections)
      .put("load_average", new JsonArray().add(loadAverage.get(0))
        .add(loadAverage.get(1)).add(loadAverage.get(2)))
      .put("instance", instance)
      .put("seq", seq)
      .put("memory_total_mb", memoryTotalMb)
      .put("cpu_count", cpuCount)
      .put("network_sent_bytes_per_sec", networkSentPerSec)
      .put("network_recv_bytes_per_sec", networkRecvPerSec)
      .put("disks", diskArray);
  }

  /**
   * Reads and validates the JSON form. The seed's eleven fields are required; Pulse's additions are optional
   * (a sample posted by the original Python collector has none of them). Unknown fields are ignored.
   *
   * @throws InvalidMessageException naming the first offending field
   */
  public static SystemMetrics fromJson(JsonObject json) {
    JsonFields f = new JsonFields(json);
    double timestamp = f.timestamp("timestamp");
    double cpu = f.number("cpu_percent", 0, 100);
    double memory = f.number("memory_percent", 0, 100);
    double used = f.number("memory_used_mb", 0, Double.MAX_VALUE);
    double available = f.number("memory_available_mb", 0, Double.MAX_VALUE);
    double disk = f.number("disk_usage_percent", 0, 100);
    double diskFree = f.number("disk_free_gb", 0, Double.MAX_VALUE);
    long sent = f.integer("network_bytes_sent", 0, JsonFields.MAX_SAFE_INTEGER);
    long recv = f.integer("network_bytes_recv", 0, JsonFields.MAX_SAFE_INTEGER);
    long connections = f.integer("active_connections", 0, JsonFields.MAX_SAFE_INTEGER);
    JsonArray load = f.array("load_average", 3, 3);
    List<Double> loadAverage = List.of(
      JsonFields.element("load_average", load, 0, 0, Double.MAX_VALUE),
      JsonFields.element("load_average", load, 1, 0, Double.MAX_VALUE),
      JsonFields.element("load_average", load, 2, 0, Double.MAX_VALUE));
    String instance = f.optionalString("instance", 253, "unknown");
    long seq = f.optionalInteger("seq", 0, JsonFields.MAX_SAFE_INTEGER, 0);
    double total = f.optionalNumber("memory_total_mb", 0, Double.MAX_VALUE, used + available);
    int cpuCount = (int) f.optionalInteger("cpu_count", 0, 65_536, 0);
    double sentRate = f.optionalNumber("network_sent_bytes_per_sec", 0, Double.MAX_VALUE, 0);
    double recvRate = f.optionalNumber("network_recv_bytes_per_sec", 0, Double.MAX_VALUE, 0);
    JsonArray diskArray = f.optionalArray("disks", MAX_DISKS);
    List<DiskUsage> disks = new ArrayList<>();
    if (diskArray != null) {
      for (int i = 0; i < diskArray.size(); i++) {
        try {
          disks.add(DiskUsage.fromJson(JsonFields.objectElement("disks", diskArray, i)));
        } catch (InvalidMessageException e) {
          String field = e.field().startsWith("disks[") ? e.field() : "disks[" + i + "]." + e.field();
          throw new InvalidMessageException(field, e.reason(), e.getMessage().replace("'" + e.field() + "'", "'" + field + "'"));
        }
      }
    }
    return new SystemMetrics(timestamp, cpu, memory, used, available, disk, diskFree, sent, recv, connections,
      loadAverage, instance, seq, total, cpuCount, sentRate, recvRate, disks);
  }
}
