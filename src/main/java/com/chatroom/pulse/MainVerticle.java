package com.chatroom.pulse;

import com.chatroom.pulse.alerts.AlertVerticle;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.PulseMessageCodec;
import com.chatroom.pulse.chat.ChatRoomsVerticle;
import com.chatroom.pulse.config.ConfigLoader;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.history.HistoryVerticle;
import com.chatroom.pulse.http.HandshakeWarmUp;
import com.chatroom.pulse.http.HttpVerticle;
import com.chatroom.pulse.http.NodeStatus;
import com.chatroom.pulse.ingest.MetricsBridgeVerticle;
import com.chatroom.pulse.optimizer.OptimizerVerticle;
import com.chatroom.pulse.sampler.SamplerVerticle;
import com.chatroom.pulse.stream.StreamVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the configuration and deploys the node: the alert manager and the optimizer first (a bad rule stops start-up
 * before a port is bound), then the stream relay and the edge, then the sampler, so the first sample already has
 * somewhere to go. On shutdown it undeploys the edge, the chat rooms, the sampler and history first, in that order
 * ({@link #onDrain}).
 * It does nothing else.
 */
public final class MainVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(MainVerticle.class);

  /** Deployment ids of what {@link #onDrain} stops first, in order; null until (or unless) deployed. */
  private String edgeId;
  private String chatId;
  private String samplerId;
  private String historyId;
  private boolean drained;

  @Override
  public Future<?> start() {
    PulseMessageCodec.register(vertx);
    return vertx.eventBus().localConsumer(Addresses.NODE_DRAIN, this::onDrain).completion()
      .compose(v -> ConfigLoader.load(vertx, config()))
      .compose(this::deployAll);
  }

  /**
   * The first half of a graceful shutdown, before Vert.x undeploys everything at once (children go in parallel, so
   * their order is set here): readiness 503, then the edge (it stops accepting and closes every WebSocket with 1001),
   * then the chat room registry (it tells the other nodes its members left), then the sampler, then history, whose
   * stop flushes what is buffered to the store. Vert.x then undeploys the rest and leaves the cluster.
   */
  private void onDrain(Message<Object> message) {
    if (drained) {
      message.reply("already drained");
      return;
    }
    drained = true;
    long started = System.nanoTime();
    NodeStatus.of(vertx).markDraining();
    LOG.info("Shutting down: readiness is now 503, closing WebSockets (1001, reconnect), then flushing history");
    undeploy(edgeId)
      .compose(v -> undeploy(chatId))
      .compose(v -> undeploy(samplerId))
      .compose(v -> undeploy(historyId))
      .onComplete(ar -> {
        long ms = (System.nanoTime() - started) / 1_000_000;
        if (ar.succeeded()) {
          LOG.info("Drained in {} ms: edge closed, history flushed; leaving the cluster", ms);
          message.reply(ms);
        } else {
          LOG.warn("Drain incomplete after {} ms: {}", ms, ar.cause().getMessage());
          message.fail(500, String.valueOf(ar.cause().getMessage()));
        }
      });
  }

  /** Undeploys one child, never failing the drain for it: a stop that failed is logged and the next step runs. */
  private Future<Void> undeploy(String id) {
    if (id == null || !vertx.deploymentIDs().contains(id)) {
      return Future.succeededFuture();
    }
    return vertx.undeploy(id).recover(e -> {
      LOG.warn("Undeploying {} during shutdown failed: {}", id, e.getMessage());
      return Future.succeededFuture();
    });
  }

  private Future<?> deployAll(PulseConfig config) {
    labelLogs(config.instanceId());
    return (config.alerts().enabled()
      ? vertx.deployVerticle(() -> new AlertVerticle(config), new DeploymentOptions())
      : Future.succeededFuture("alerts disabled"))
      .compose(alerts -> config.optimizer().enabled()
        ? vertx.deployVerticle(() -> new OptimizerVerticle(config), new DeploymentOptions())
        : Future.succeededFuture("optimizer disabled"))
      .compose(optimizer -> deployPipeline(config));
  }

  private Future<?> deployPipeline(PulseConfig config) {
    Future<String> stream = vertx.deployVerticle(() -> StreamVerticle.of(config.instanceId()), new DeploymentOptions());
    Future<String> history = vertx.deployVerticle(() -> new HistoryVerticle(config), new DeploymentOptions())
      .onSuccess(id -> historyId = id);
    // the room registry answers the edges' chat commands, so it is up before the edge accepts its first socket
    Future<String> edge = vertx.deployVerticle(() -> new ChatRoomsVerticle(config), new DeploymentOptions())
      .onSuccess(id -> chatId = id)
      .compose(id -> vertx.deployVerticle(() -> new HttpVerticle(config),
        new DeploymentOptions().setInstances(config.http().instances())))
      .onSuccess(id -> edgeId = id);
    Future<String> bridge = config.bridge().enabled()
      ? vertx.deployVerticle(() -> new MetricsBridgeVerticle(config.bridge()), new DeploymentOptions())
      : Future.succeededFuture("bridge disabled");
    return Future.all(stream, history, edge, bridge)
      .compose(v -> config.sampler().enabled()
        ? vertx.deployVerticle(() -> new SamplerVerticle(config.instanceId(), config.sampler()),
            new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)).onSuccess(id -> samplerId = id)
        : Future.succeededFuture("sampler disabled"))
      .onSuccess(v -> {
        NodeStatus status = NodeStatus.of(vertx);
        // readiness waits for it (from this call on); the deployment does not
        HandshakeWarmUp.run(vertx, config);
        status.markDeployed();
        LOG.info("Chat-Room Pulse is up: instance {}, HTTP on {}:{} ({} edge instances), history in {}, chat {}, bridge {}, sampler {}, alerts {}, optimizer {}, clustered {}",
          config.instanceId(), config.http().host(), status.httpPort(), config.http().instances(),
          config.redis().enabled() ? "Redis" : "memory", config.chat().identityConfigured() ? "on" : "off (no identity configured)",
          config.bridge().enabled() ? "on port " + config.bridge().port() : "off",
          config.sampler().enabled() ? "every " + config.sampler().intervalMs() + " ms" : "off",
          config.alerts().enabled() ? config.alerts().rules().size() + " rules" : "off",
          config.optimizer().enabled() ? config.optimizer().rules().size() + " rules" + (config.optimizer().dryRun() ? " (dry run)" : "") : "off",
          vertx.isClustered());
      });
  }

  /** Every log line from here on names the configured instance (it may differ from the environment's). */
  private static void labelLogs(String instance) {
    if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext context) {
      context.putProperty("instance", instance);
    }
  }
}
