package com.chatroom.pulse;

import com.chatroom.pulse.metrics.Meters;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Deployable;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.launcher.application.HookContext;
import io.vertx.launcher.application.VertxApplication;
import io.vertx.launcher.application.VertxApplicationHooks;

import java.util.function.Supplier;

/**
 * {@code java -jar chatroom-pulse.jar [-conf file|json] [-instances N] [-cluster ...]}: Vert.x's standard launcher,
 * with Prometheus metrics wired in. {@code -instances N} sets the number of edge (HTTP/WebSocket) instances;
 * the node itself is deployed once, since a second sampler or alert manager on one node would double everything.
 */
public final class Main extends VertxApplication {

  private Main(String[] args, Hooks hooks) {
    super(args, hooks);
  }

  public static void main(String[] args) {
    // Vert.x and Netty log through SLF4J (logback), like everything else
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    System.setProperty("hazelcast.logging.type", "slf4j");
    int code = new Main(args, new Hooks()).launch();
    if (code != 0) {
      System.exit(code);
    }
  }

  /** The launcher hooks, kept apart from the application so they can hold the registry before Vert.x exists. */
  static final class Hooks implements VertxApplicationHooks {

    private final PrometheusMeterRegistry registry = Meters.newRegistry();

    @Override
    public VertxBuilder createVertxBuilder(VertxOptions options) {
      return Meters.vertxBuilder(options, registry);
    }

    @Override
    public void afterVertxStarted(HookContext context) {
      Meters.attach(context.vertx(), registry);
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
