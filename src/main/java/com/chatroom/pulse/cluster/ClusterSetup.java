package com.chatroom.pulse.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * How a node finds the others, from the environment (read before Vert.x starts, so not part of conf/):
 * <ul>
 *   <li>{@code CLUSTER=true}: join the cluster (the same as the launcher's {@code -cluster});</li>
 *   <li>{@code CLUSTER_HOST}: the address this node binds and advertises (the pod IP on Kubernetes);</li>
 *   <li>{@code CLUSTER_NAME} (default {@code chatroom-pulse}): nodes only join a cluster of the same name;</li>
 *   <li>{@code CLUSTER_PORT} (default 5701): Hazelcast's member port; {@code CLUSTER_BUS_PORT} (default 5710): the
 *       Vert.x event bus's TCP port;</li>
 *   <li>{@code CLUSTER_K8S_SERVICE_DNS}: discover members by a DNS lookup of this headless Service (Hazelcast's
 *       Kubernetes discovery); otherwise {@code CLUSTER_MEMBERS} (default {@code 127.0.0.1}): a TCP-IP member list.</li>
 * </ul>
 * Multicast and auto-detection are always off: a node joins exactly what it is told to.
 */
public final class ClusterSetup {

  /** Hazelcast's member port unless {@code CLUSTER_PORT} says otherwise; the image and manifests expose it. */
  public static final int DEFAULT_PORT = 5701;
  /** The event bus's TCP port unless {@code CLUSTER_BUS_PORT} says otherwise; the image and manifests expose it. */
  public static final int DEFAULT_BUS_PORT = 5710;
  public static final String DEFAULT_NAME = "chatroom-pulse";

  /** Every variable this class reads, for the deployment files' checks. */
  public static final List<String> ENVIRONMENT = List.of("CLUSTER", "CLUSTER_HOST", "CLUSTER_NAME", "CLUSTER_PORT",
    "CLUSTER_BUS_PORT", "CLUSTER_MEMBERS", "CLUSTER_K8S_SERVICE_DNS");

  private ClusterSetup() {
  }

  public static boolean requested(Map<String, String> env) {
    return "true".equalsIgnoreCase(env.getOrDefault("CLUSTER", "").trim());
  }

  /** The launcher arguments that {@code CLUSTER*} variables stand for, added unless given explicitly. */
  public static String[] launcherArgs(String[] args, Map<String, String> env) {
    List<String> out = new ArrayList<>(Arrays.asList(args));
    if (requested(env) && !out.contains("-cluster") && !out.contains("--cluster") && !out.contains("-c")) {
      out.add("-cluster");
    }
    boolean clustered = out.contains("-cluster") || out.contains("--cluster") || out.contains("-c");
    if (clustered && env.containsKey("CLUSTER_HOST") && !out.contains("-cluster-host")) {
      out.add("-cluster-host");
      out.add(env.get("CLUSTER_HOST").trim());
    }
    if (clustered && !out.contains("-cluster-port")) {
      out.add("-cluster-port");
      out.add(Integer.toString(port(env, "CLUSTER_BUS_PORT", DEFAULT_BUS_PORT)));
    }
    return out.toArray(String[]::new);
  }

  /** Vert.x's default Hazelcast config (its internal maps) with the network set from the environment. */
  public static PulseClusterManager clusterManager(Map<String, String> env) {
    Config config = ConfigUtil.loadConfig();
    config.setClusterName(env.getOrDefault("CLUSTER_NAME", DEFAULT_NAME));
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    // SIGTERM: Hazelcast's own JVM shutdown hook would leave the cluster at once, in parallel with Pulse's drain (its
    // WebSockets, presence and history still to go over the bus). Vert.x leaves it last, when it closes
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    // a member that vanishes (kill -9, lost pod) is dropped after this, not after Hazelcast's default 60 s
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "15");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "2");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(port(env, "CLUSTER_PORT", DEFAULT_PORT)).setPortAutoIncrement(true);
    String host = env.get("CLUSTER_HOST");
    if (host != null && !host.isBlank()) {
      network.getInterfaces().setEnabled(true).addInterface(host.trim());
      network.setPublicAddress(host.trim() + ":" + port(env, "CLUSTER_PORT", DEFAULT_PORT));
    }
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    String dns = env.get("CLUSTER_K8S_SERVICE_DNS");
    if (dns != null && !dns.isBlank()) {
      join.getTcpIpConfig().setEnabled(false);
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", dns.trim())
        .setProperty("service-port", Integer.toString(port(env, "CLUSTER_PORT", DEFAULT_PORT)));
    } else {
      join.getKubernetesConfig().setEnabled(false);
      join.getTcpIpConfig().setEnabled(true).setMembers(Arrays.stream(env.getOrDefault("CLUSTER_MEMBERS", "127.0.0.1")
        .split(",")).map(String::trim).filter(m -> !m.isEmpty()).toList());
    }
    return new PulseClusterManager(config);
  }

  private static int port(Map<String, String> env, String name, int fallback) {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      return fallback;
    }
    try {
      int port = Integer.parseInt(value.trim());
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a port number (1-65535), got '" + value + "'");
    }
  }
}
