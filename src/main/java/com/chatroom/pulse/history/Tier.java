package com.chatroom.pulse.history;

/** The resolutions history keeps. */
public enum Tier {
  RAW(0), MINUTE(60), HOUR(3600);

  final long seconds;

  Tier(long seconds) {
    this.seconds = seconds;
  }

  String wireName() {
    return name().toLowerCase();
  }

  static long floor(double time, long step) {
    return (long) Math.floor(time / step) * step;
  }
}
