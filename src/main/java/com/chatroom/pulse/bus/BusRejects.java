package com.chatroom.pulse.bus;

import com.chatroom.pulse.metrics.MeterNames;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

/**
 * What a consumer does with a bus message that failed validation: count it (per address, consumer and reason),
 * answer a request with a 400 failure naming the field, and log the first one of each kind (then every 1000th),
 * so a misbehaving producer is visible without flooding the log. One per consumer, used on its context.
 */
public final class BusRejects {

  private static final Logger LOG = LoggerFactory.getLogger(BusRejects.class);

  private final MeterRegistry registry;
  private final String consumer;
  private final Map<String, Counter> counters = new HashMap<>();

  public BusRejects(MeterRegistry registry, String consumer) {
    this.registry = registry;
    this.consumer = consumer;
  }

  public void reject(Message<?> message, InvalidMessageException e) {
    String address = message.address();
    Counter counter = counters.computeIfAbsent(address + '|' + e.reason().tag(), k -> Counter.builder(MeterNames.BUS_REJECTED)
      .description("Bus messages that failed validation, per address, consumer and reason")
      .tags("address", address, "consumer", consumer, "reason", e.reason().tag())
      .register(registry));
    counter.increment();
    if ((long) counter.count() % 1000 == 1) {
      LOG.warn("{} refused a message on {} ({} so far for this reason): {}", consumer, address, (long) counter.count(), e.getMessage());
    }
    if (message.replyAddress() != null) {
      message.fail(400, e.getMessage());
    }
  }
}
