package com.chatroom.pulse.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.shareddata.Shareable;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

import java.util.UUID;

/**
 * Where Pulse's meters live. The launcher builds Vert.x with a Prometheus registry that also carries Vert.x's
 * own metrics and attaches it to that Vert.x instance; every verticle finds it with {@link #registry(Vertx)}.
 * A Vert.x built without metrics (a unit test) gets a private registry of its own on first use, so verticles never
 * need to know which case they are in, and two Vert.x instances in one JVM never share meters.
 */
public final class Meters {

  private static final String LOCAL_MAP = "pulse.meters";
  private static final String KEY = "registry";

  private Meters() {
  }

  /** A builder whose Vert.x metrics go to {@code registry}; call {@link #attach} once the instance exists. */
  public static VertxBuilder vertxBuilder(VertxOptions options, PrometheusMeterRegistry registry) {
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions()
      .setEnabled(true)
      .setJvmMetricsEnabled(true)
      // Vert.x keeps backend registries in a static map by name: a unique name keeps instances apart
      .setRegistryName("pulse-" + UUID.randomUUID());
    return Vertx.builder().with(options.setMetricsOptions(metrics)).withMetrics(new MicrometerMetricsFactory(registry));
  }

  public static PrometheusMeterRegistry newRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }

  /** Makes {@code registry} the one {@link #registry(Vertx)} returns for this Vert.x instance. */
  public static void attach(Vertx vertx, PrometheusMeterRegistry registry) {
    vertx.sharedData().getLocalMap(LOCAL_MAP).put(KEY, new Holder(registry));
  }

  /** A non-clustered Vert.x with metrics, for tests and tools. */
  public static Vertx newVertx(VertxOptions options) {
    PrometheusMeterRegistry registry = newRegistry();
    Vertx vertx = vertxBuilder(options, registry).build();
    attach(vertx, registry);
    return vertx;
  }

  /** The registry this Vert.x instance reports to. */
  public static PrometheusMeterRegistry registry(Vertx vertx) {
    Holder holder = (Holder) vertx.sharedData().getLocalMap(LOCAL_MAP).computeIfAbsent(KEY, k -> new Holder(newRegistry()));
    return holder.registry;
  }

  private record Holder(PrometheusMeterRegistry registry) implements Shareable {
  }
}
