package com.chatroom.pulse.config;

/** Invalid configuration: the message names the key and says what is expected, so start-up can stop with it. */
public final class ConfigException extends RuntimeException {

  private final String key;

  public ConfigException(String key, String message) {
    super("invalid config key '" + key + "': " + message, null, false, false);
    this.key = key;
  }

  public String key() {
    return key;
  }
}
