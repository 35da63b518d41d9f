package com.chatroom.pulse.sampler;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.SystemMetrics;
import com.chatroom.pulse.config.SamplerConfig;
import com.chatroom.pulse.metrics.MeterNames;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Samples the host every {@code sampler.interval_ms} and publishes one {@link SystemMetrics} per tick on
 * {@link Addresses#METRICS_SYSTEM}. Deploy it as a worker verticle: every OSHI read runs on a worker thread,
 * never on an event loop. The next tick is scheduled when the last one finished, so a slow read delays the
 * next sample instead of piling reads up.
 */
public final class SamplerVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SamplerVerticle.class);

  private final String instance;
  private final SamplerConfig config;
  private final List<Meter> meters = new ArrayList<>();

  private HostProbe probe;
  private ThresholdWarnings warnings;
  private Counter samples;
  private Counter failures;
  private Timer duration;
  private long seq;
  private long timerId = -1;
  private boolean stopped;
  /** Read by gauges on the scrape thread: an immutable record behind a volatile reference. */
  private volatile SystemMetrics latest;

  public SamplerVerticle(String instance, SamplerConfig config) {
    this.instance = instance;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    if (!context.isWorkerContext()) {
      return Future.failedFuture(new IllegalStateException(
        "SamplerVerticle reads the host with blocking calls: deploy it with ThreadingModel.WORKER"));
    }
    try {
      probe = new HostProbe(config.mounts());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    registerMeters(Meters.registry(vertx));
    Counter[] crossings = new Counter[ThresholdWarnings.Metric.values().length];
    for (ThresholdWarnings.Metric metric : ThresholdWarnings.Metric.values()) {
      crossings[metric.ordinal()] = Counter.builder(MeterNames.SAMPLER_THRESHOLD_CROSSINGS)
        .description("Times a host value went above its warning threshold")
        .tag("metric", metric.name().toLowerCase()).register(Meters.registry(vertx));
      meters.add(crossings[metric.ordinal()]);
    }
    warnings = new ThresholdWarnings(config.warn(), ordinal -> crossings[ordinal].increment());
    LOG.info("Sampler started: instance {}, every {} ms, mounts {}, reading {}", instance, config.intervalMs(), config.mounts(),
      probe.readsProcDirectly() ? "/proc directly" : "through OSHI");
    scheduleNextSample();
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(timerId);
    if (probe != null) {
      probe.close();
    }
    MeterRegistry registry = Meters.registry(vertx);
    meters.forEach(registry::remove);
    return Future.succeededFuture();
  }

  private void scheduleNextSample() {
    if (!stopped) {
      timerId = vertx.setTimer(config.intervalMs(), id -> onTick());
    }
  }

  private void onTick() {
    long started = System.nanoTime();
    try {
      SystemMetrics sample = probe.read(instance, ++seq);
      latest = sample;
      vertx.eventBus().publish(Addresses.METRICS_SYSTEM, sample);
      samples.increment();
      warnings.check(sample);
    } catch (RuntimeException e) {
      failures.increment();
      LOG.warn("Sampling failed, retrying next tick: {}", e.toString());
    } finally {
      duration.record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
      scheduleNextSample();
    }
  }

  private void registerMeters(MeterRegistry registry) {
    samples = Counter.builder(MeterNames.SAMPLER_SAMPLES).description("Host samples taken and published").register(registry);
    failures = Counter.builder(MeterNames.SAMPLER_FAILURES).description("Host samples that failed").register(registry);
    duration = Timer.builder(MeterNames.SAMPLER_DURATION).description("Time to read the host for one sample").register(registry);
    meters.addAll(List.of(samples, failures, duration));
    gauge(registry, MeterNames.HOST_CPU_UTILIZATION, "CPU busy share of all cores, 0-1", s -> s.cpuPercent() / 100d);
    gauge(registry, MeterNames.HOST_MEMORY_UTILIZATION, "Memory in use (total - available) / total, 0-1", s -> s.memoryPercent() / 100d);
    gauge(registry, MeterNames.HOST_MEMORY_USED, "Memory in use (total - available)", s -> s.memoryUsedMb() * 1024 * 1024);
    gauge(registry, MeterNames.HOST_MEMORY_AVAILABLE, "Memory available without swapping", s -> s.memoryAvailableMb() * 1024 * 1024);
    gauge(registry, MeterNames.HOST_CONNECTIONS, "Established TCP connections", SystemMetrics::activeConnections);
    String[] periods = {"1m", "5m", "15m"};
    for (int i = 0; i < periods.length; i++) {
      int index = i;
      meters.add(Gauge.builder(MeterNames.HOST_LOAD, this, v -> v.latest == null ? Double.NaN : v.latest.loadAverage().get(index))
        .description("Load average").tag("period", periods[i]).register(registry));
    }
    for (int i = 0; i < config.mounts().size(); i++) {
      int index = i;
      String mount = config.mounts().get(i);
      meters.add(Gauge.builder(MeterNames.HOST_DISK_UTILIZATION, this,
          v -> v.latest == null ? Double.NaN : v.latest.disks().get(index).usagePercent() / 100d)
        .description("File system usage as df counts it, 0-1").tag("mount", mount).register(registry));
      meters.add(Gauge.builder(MeterNames.HOST_DISK_FREE, this,
          v -> v.latest == null ? Double.NaN : v.latest.disks().get(index).freeGb() * 1024 * 1024 * 1024)
        .description("File system space available to unprivileged users").tag("mount", mount).register(registry));
    }
    meters.add(FunctionCounter.builder(MeterNames.HOST_NETWORK_SENT, this, v -> v.latest == null ? 0 : v.latest.networkBytesSent())
      .description("Bytes sent by non-loopback interfaces since boot").register(registry));
    meters.add(FunctionCounter.builder(MeterNames.HOST_NETWORK_RECEIVED, this, v -> v.latest == null ? 0 : v.latest.networkBytesRecv())
      .description("Bytes received by non-loopback interfaces since boot").register(registry));
  }

  private void gauge(MeterRegistry registry, String name, String description, ToDoubleFunction<SystemMetrics> value) {
    meters.add(Gauge.builder(name, this, v -> v.latest == null ? Double.NaN : value.applyAsDouble(v.latest))
      .description(description).register(registry));
  }
}
