package com.chatroom.pulse;

/**
 * {@code java -jar chatroom-pulse.jar [-conf file|json] [-instances N] [-cluster ...]}.
 * Sets what logging needs before anything logs (the launcher logs from its class initializer), then launches.
 * The properties are named outside {@code pulse.*}, which the config loader reads as config overrides.
 */
public final class Main {

  private Main() {
  }

  public static void main(String[] args) {
    System.setProperty("chatroom.log.format", "json".equalsIgnoreCase(System.getenv("LOG_FORMAT")) ? "json" : "text");
    String instance = System.getenv("INSTANCE_ID");
    System.setProperty("chatroom.log.instance", instance != null && !instance.isBlank() ? instance : hostName());
    // Vert.x and Netty log through SLF4J (logback), like everything else
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    System.setProperty("hazelcast.logging.type", "slf4j");
    PulseApplication.launch(args);
  }

  private static String hostName() {
    String fromEnv = System.getenv("HOSTNAME");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv;
    }
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "unknown";
    }
  }
}
