package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;
import com.chatroom.pulse.config.AlertChannelConfig;
import com.chatroom.pulse.config.AlertsConfig;
import com.chatroom.pulse.metrics.MeterNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns alert changes into notifications and routes each to the channels that want it (by severity and labels):
 * firing (and flapping) always, resolved if the channel sends resolutions, repeats while an alert keeps firing
 * unacknowledged, and — to Alertmanager channels — a re-post of every firing alert each {@code resend_interval},
 * acknowledged or not, so Alertmanager never times it out while it still fires. Silenced alerts are not notified.
 * Used only on the alert verticle's context.
 */
final class Notifier {

  static final String SUPPRESSED_DESCRIPTION = "Notifications not sent because a silence matched or (repeats) the alert was acknowledged";

  private record Channel(AlertChannelConfig config, DeliveryQueue queue) {
  }

  private final List<Channel> channels = new ArrayList<>();
  private final WebClient web;
  private final ArrayDeque<JsonObject> deadLetters = new ArrayDeque<>();
  private final int maxDeadLetters;
  private final Consumer<JsonObject> deadLetterStore;
  /** Per firing alert (series key): the last repeat (or Alertmanager re-post) number queued per channel. */
  private final Map<String, long[]> repeats = new HashMap<>();
  private final Counter silenced;

  /**
   * @param externalUrl this Pulse's URL for links ({@code generatorURL}): {@code alerts.external_url}, or one derived
   *                    from the node when that is unset
   */
  Notifier(Vertx vertx, AlertsConfig config, String externalUrl, Claims claims, Outbox outbox, Gate gate,
           Consumer<JsonObject> deadLetterStore, MeterRegistry registry) {
    this.maxDeadLetters = config.limits().deadLetters();
    this.deadLetterStore = deadLetterStore;
    this.web = WebClient.create(vertx, new WebClientOptions()
      .setUserAgent("chatroom-pulse")
      .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.delivery().timeoutMs())),
      // one request in flight per channel: a small pool and wait queue are plenty, and bounded
      new io.vertx.core.http.PoolOptions().setHttp1MaxSize(Math.max(1, config.channels().size()))
        .setMaxWaitQueueSize(Math.max(16, 4 * config.channels().size())));
    DeliveryQueue.Shared shared = new DeliveryQueue.Shared(claims, outbox, gate, config.delivery(), this::deadLetter, registry);
    for (AlertChannelConfig c : config.channels()) {
      Sender sender = Sender.create(vertx, web, c, externalUrl, config.delivery().timeoutMs());
      Backoff backoff = new Backoff(config.delivery().backoffInitialMs(), config.delivery().backoffMaxMs());
      channels.add(new Channel(c, new DeliveryQueue(vertx, c.name(), c.type(), sender, backoff, shared)));
    }
    this.silenced = Counter.builder(MeterNames.ALERTS_NOTIFICATIONS_SUPPRESSED)
      .description(SUPPRESSED_DESCRIPTION).tag("reason", "silenced").register(registry);
  }

  /**
   * @param stateId   the id of the series' current state (a flag change's own id has a suffix)
   * @param seriesKey the series, for repeat bookkeeping
   */
  void onEvent(AlertEvent e, String stateId, String seriesKey) {
    String reason = e.reason();
    if (reason.equals("silenced") || reason.equals("acknowledged")) {
      return;
    }
    boolean firing = e.state().equals("firing") || e.state().equals("flapping");
    boolean resolution = e.state().equals("resolved")
      || (e.previousState().equals("flapping") && !firing); // we told them "flapping": tell them it is over
    if (!firing) {
      repeats.remove(seriesKey);
    }
    if (!firing && !resolution) {
      return; // pending, or a pending alert going away: nobody was told
    }
    if (firing && !reason.equals("unsilenced") && !reason.equals("restored")) {
      repeats.put(seriesKey, new long[channels.size()]);
    }
    if (e.silenced()) {
      silenced.increment();
      return;
    }
    // an alert that becomes unsilenced (or is restored) is told under its state's id: if that was sent, it is not again
    String key = reason.equals("unsilenced") || reason.equals("restored") ? stateId : e.id();
    offer(new Notification(key, Notification.Kind.CHANGE, firing, e.state().equals("flapping"), e, System.nanoTime()), firing);
  }

  /**
   * Called on every sweep for each firing (or flapping), unsilenced alert: repeats to people unless it was
   * acknowledged, re-posts to Alertmanager regardless.
   *
   * @param sinceMs when it started firing (or flapping): intervals count from there
   */
  void stillFiring(AlertEvent current, String seriesKey, long sinceMs, long nowMs, boolean acknowledged) {
    if (channels.isEmpty()) {
      return;
    }
    long[] last = repeats.computeIfAbsent(seriesKey, k -> new long[channels.size()]);
    boolean flapping = current.state().equals("flapping");
    for (int i = 0; i < channels.size(); i++) {
      Channel c = channels.get(i);
      boolean alertmanager = c.config().type().equals("alertmanager");
      // flapping is reported to people once; Alertmanager must still hear that the alert is alive
      long interval = alertmanager ? c.config().resendIntervalMs()
        : acknowledged || flapping ? 0 : c.config().repeatIntervalMs();
      if (interval <= 0 || !routes(c.config(), current)) {
        continue;
      }
      long n = (nowMs - sinceMs) / interval;
      if (n >= 1 && n > last[i]) {
        last[i] = n;
        Notification.Kind kind = alertmanager ? Notification.Kind.RESEND : Notification.Kind.REPEAT;
        String suffix = alertmanager ? "/resend/" : "/repeat/";
        c.queue().offer(new Notification(current.id() + suffix + n, kind, true, flapping, current, System.nanoTime()));
      }
    }
  }

  /** Queues what a previous run left in the channels' outboxes, in order, ahead of anything new. */
  void restoreQueued(Map<String, List<Notification>> byChannel) {
    for (Channel c : channels) {
      for (Notification n : byChannel.getOrDefault(c.config().name(), List.of())) {
        c.queue().offerRestored(n);
      }
    }
  }

  List<String> channelNames() {
    return channels.stream().map(c -> c.config().name()).toList();
  }

  private void offer(Notification n, boolean firing) {
    for (Channel c : channels) {
      if ((firing || c.config().sendResolved()) && routes(c.config(), n.event())) {
        c.queue().offer(n);
      }
    }
  }

  static boolean routes(AlertChannelConfig channel, AlertEvent e) {
    if (!channel.severities().isEmpty() && !channel.severities().contains(e.severity())) {
      return false;
    }
    for (Map.Entry<String, String> m : channel.match().entrySet()) {
      if (!m.getValue().equals(e.labels().get(m.getKey()))) {
        return false;
      }
    }
    return true;
  }

  private void deadLetter(JsonObject record) {
    if (deadLetters.size() >= maxDeadLetters) {
      deadLetters.pollFirst();
    }
    deadLetters.addLast(record);
    deadLetterStore.accept(record);
  }

  /** Restores dead letters written before a restart (oldest first). */
  void restoreDeadLetters(List<JsonObject> records) {
    for (JsonObject r : records) {
      if (deadLetters.size() >= maxDeadLetters) {
        deadLetters.pollFirst();
      }
      deadLetters.addLast(r);
    }
  }

  JsonObject status() {
    JsonArray queues = new JsonArray();
    channels.forEach(c -> queues.add(c.queue().status()));
    JsonArray dead = new JsonArray();
    deadLetters.descendingIterator().forEachRemaining(dead::add);
    return new JsonObject().put("channels", queues).put("dead_letters", dead);
  }

  boolean idle() {
    return channels.stream().allMatch(c -> c.queue().idle());
  }

  Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    channels.forEach(c -> closing.add(c.queue().close()));
    return Future.join(closing).<Void>mapEmpty().eventually(() -> {
      web.close();
      return Future.succeededFuture();
    });
  }
}
