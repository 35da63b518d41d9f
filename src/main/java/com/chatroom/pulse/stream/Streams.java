package com.chatroom.pulse.stream;

import java.util.List;

/** The stream names a subscriber can choose in its subscribe frame; each is also the {@code type} of its frames. */
public final class Streams {

  public static final String SYSTEM = "system";
  public static final String APP = "app";
  public static final String ALERTS = "alerts";
  public static final String OPTIMIZER = "optimizer";
  public static final List<String> ALL = List.of(SYSTEM, APP, ALERTS, OPTIMIZER);
  /**
   * Not a stream a client chooses: the server's notices about the push mode (throttled, unthrottled). They reach every
   * subscriber that receives system or app samples, whatever its instance filter.
   */
  public static final String NOTICE = "notice";

  private Streams() {
  }
}
