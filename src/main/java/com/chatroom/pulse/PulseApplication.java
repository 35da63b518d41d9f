package com.chatroom.pulse;

import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.cluster.ClusterSetup;
import com.chatroom.pulse.metrics.Meters;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.launcher.application.HookContext;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Vert.x's standard launcher with Prometheus metrics and the cluster manager wired in; started by {@link Main}.
 * {@code -instances N} sets the number of edge (HTTP/WebSocket) instances; the node itself is deployed once, since a
 * second sampler or alert manager on one node would double everything.
 */
final class PulseApplication extends VertxApplication {

  private PulseApplication(String[] args, Hooks hooks) {
    super(args, hooks);
  }

  static void launch(String[] args) {
    String[] launcherArgs;
    try {
      launcherArgs = ClusterSetup.launcherArgs(args, System.getenv());
    } catch (IllegalArgumentException e) {
      LoggerFactory.getLogger(PulseApplication.class).error("Cannot start: {}", e.getMessage());
      System.exit(1);
      return;
    }
    boolean clustered = java.util.Arrays.stream(launcherArgs).anyMatch(a -> a.equals("-cluster") || a.equals("--cluster") || a.equals("-c"));
    int code = new PulseApplication(launcherArgs, new Hooks(clustered)).launch();
    if (code != 0) {
      System.exit(code);
    }
  }

  /** The launcher hooks, kept apart from the application so they can hold the registry before Vert.x exists. */
  static final class Hooks implements VertxApplicationHooks {

    /** The drain's budget: Kubernetes waits terminationGracePeriodSeconds (45) minus preStop, compose 30 s. */
    static final long DRAIN_TIMEOUT_MS = 20_000;

    private final PrometheusMeterRegistry registry = Meters.newRegistry();
    private final boolean clustered;

    Hooks(boolean clustered) {
      this.clustered = clustered;
    }

    @Override
    public VertxBuilder createVertxBuilder(VertxOptions options) {
      options.setPreferNativeTransport(!"false".equalsIgnoreCase(System.getenv("NATIVE_TRANSPORT")));
      VertxBuilder builder = Meters.vertxBuilder(options, registry);
      return clustered ? builder.withClusterManager(ClusterSetup.clusterManager(System.getenv())) : builder;
    }

    @Override
    public void afterVertxStarted(HookContext context) {
      Meters.attach(context.vertx(), registry);
      var log = LoggerFactory.getLogger(PulseApplication.class);
      if (context.vertx().isNativeTransportEnabled()) {
        log.info("Network transport: native (epoll)");
      } else {
        Throwable cause = context.vertx().unavailableNativeTransportCause();
        log.info("Network transport: NIO{}", cause == null ? "" : " (native unavailable: " + cause.getMessage() + ")");
      }
    }

    /**
     * SIGTERM (the JVM's shutdown hook closes Vert.x, which runs this first): drain the node before Vert.x undeploys
     * everything and leaves the cluster. Waits here, on the shutdown thread, so the cluster is left only after the
     * WebSockets were told to reconnect and history was flushed.
     */
    @Override
    public void beforeStoppingVertx(HookContext context) {
      io.vertx.core.Vertx vertx = context.vertx();
      if (vertx == null) {
        return;
      }
      var drained = vertx.eventBus().request(Addresses.NODE_DRAIN, null,
        new DeliveryOptions().setLocalOnly(true).setSendTimeout(DRAIN_TIMEOUT_MS)).toCompletionStage().toCompletableFuture();
      if (io.vertx.core.Context.isOnVertxThread()) {
        return; // closed from inside Vert.x: blocking here would stall the loop the drain runs on
      }
      try {
        drained.get(DRAIN_TIMEOUT_MS + 1000, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        LoggerFactory.getLogger(PulseApplication.class).warn("Shutdown without a complete drain: {}", String.valueOf(e.getMessage()));
      }
    }

    @Override
    public Supplier<? extends Deployable> verticleSupplier() {
      return MainVerticle::new;
    }

    @Override
    public void beforeDeployingVerticle(HookContext context) {
      DeploymentOptions options = context.deploymentOptions();
      if (options.getInstances() > 1) {
        JsonObject config = options.getConfig() == null ? new JsonObject() : options.getConfig().copy();
        JsonObject http = config.getJsonObject("http", new JsonObject()).copy();
        http.put("instances", options.getInstances());
        options.setConfig(config.put("http", http)).setInstances(1);
      }
    }
  }
}
