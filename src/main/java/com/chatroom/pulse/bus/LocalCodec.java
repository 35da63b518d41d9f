package com.chatroom.pulse.bus;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Passes node-internal records (chat commands, ready-to-write frames) by reference. Only for local-only addresses:
 * encoding for the wire fails loudly, so such a record can never leak onto the cluster by mistake.
 */
public final class LocalCodec implements MessageCodec<Object, Object> {

  public static final String NAME = "pulse-local";

  /** Delivery options for a node-local message passed by reference. */
  public static DeliveryOptions local() {
    return new DeliveryOptions().setLocalOnly(true).setCodecName(NAME);
  }

  static void register(Vertx vertx) {
    vertx.eventBus().registerCodec(new LocalCodec());
  }

  @Override
  public void encodeToWire(Buffer buffer, Object o) {
    throw new IllegalStateException("a node-local message (" + o.getClass().getSimpleName() + ") cannot cross the cluster");
  }

  @Override
  public Object decodeFromWire(int pos, Buffer buffer) {
    throw new IllegalStateException("node-local messages never arrive from the cluster");
  }

  @Override
  public Object transform(Object o) {
    return o;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
