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
 * unacknowledged. Silenced alerts are not notified. Used only on the alert verticle's context.
 */
final class Notifier {

  private record Channel(AlertChannelConfig config, DeliveryQueue queue) {
  }

  private final List<Channel> channels = new ArrayList<>();
  private final WebClient web;
  private final ArrayDeque<JsonObject> deadLetters = new ArrayDeque<>();
  private final int maxDeadLetters;
  private final Consumer<JsonObject> deadLetterStore;
  /** Per firing alert (series key): the last repeat number sent per channel. */
  private final Map<String, long[]> repeats = new HashMap<>();
  private final Counter silenced;

  Notifier(Vertx vertx, AlertsConfig config, Claims claims, Consumer<JsonObject> deadLetterStore, MeterRegistry registry) {
    this.maxDeadLetters = config.limits().deadLetters();
    this.deadLetterStore = deadLetterStore;
    this.web = WebClient.create(vertx, new WebClientOptions()
      .setUserAgent("chatroom-pulse")
      .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.delivery().timeoutMs())),
      // one request in flight per channel: a small pool and wait queue are plenty, and bounded
      new io.vertx.core.http.PoolOptions().setHttp1MaxSize(Math.max(1, config.channels().size()))
        .setMaxWaitQueueSize(Math.max(16, 4 * config.channels().size())));
    for (AlertChannelConfig c : config.channels()) {
      Sender sender = Sender.create(vertx, web, c, config.externalUrl(), config.delivery().timeoutMs());
      channels.add(new Channel(c, new DeliveryQueue(vertx, c.name(), c.type(), sender, claims, config.delivery(),
        this::deadLetter, registry)));
    }
    this.silenced = Counter.builder(MeterNames.ALERTS_NOTIFICATIONS_SUPPRESSED)
      .description("Changes not notified because a silence matched").tag("reason", "silenced").register(registry);
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
    offer(new Notification(key, firing, e.state().equals("flapping"), e, System.nanoTime()), firing);
  }

  /** Called on every sweep for each firing, unsilenced, unacknowledged alert. */
  void repeat(AlertEvent current, String seriesKey, long firedAtMs, long nowMs) {
    if (channels.isEmpty()) {
      return;
    }
    long[] last = repeats.computeIfAbsent(seriesKey, k -> new long[channels.size()]);
    for (int i = 0; i < channels.size(); i++) {
      Channel c = channels.get(i);
      long interval = c.config().repeatIntervalMs();
      if (interval <= 0 || !routes(c.config(), current)) {
        continue;
      }
      long n = (nowMs - firedAtMs) / interval;
      if (n >= 1 && n > last[i]) {
        last[i] = n;
        c.queue().offer(new Notification(current.id() + "/repeat/" + n, true, false, current, System.nanoTime()));
      }
    }
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
