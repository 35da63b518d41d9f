package com.chatroom.pulse.bus;

/**
 * A measurement of one instance at one moment: what rule engines (alerts, optimizer) read without caring which of the
 * two sample records it is.
 */
public sealed interface Sample extends PulseMessage permits SystemMetrics, ApplicationMetrics {

  /** The instance the sample is about. */
  String instance();

  /** Epoch seconds of the measurement. */
  double timestamp();
}
