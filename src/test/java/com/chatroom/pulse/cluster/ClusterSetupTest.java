package com.chatroom.pulse.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("The cluster set-up from the environment")
class ClusterSetupTest {

  private static Config config(Map<String, String> env) {
    return ClusterSetup.clusterManager(env).getConfig();
  }

  @Test
  @DisplayName("TCP-IP: the member list, host and ports from the environment; multicast, auto-detection and Kubernetes off")
  void tcpIp() {
    Config config = config(Map.of("CLUSTER_HOST", " 10.0.0.5 ", "CLUSTER_PORT", "5801", "CLUSTER_NAME", "staging",
      "CLUSTER_MEMBERS", "10.0.0.5:5801, 10.0.0.6:5801,,"));
    assertThat(config.getClusterName()).isEqualTo("staging");
    assertThat(config.getNetworkConfig().getPort()).isEqualTo(5801);
    assertThat(config.getNetworkConfig().getPublicAddress()).isEqualTo("10.0.0.5:5801");
    assertThat(config.getNetworkConfig().getInterfaces().isEnabled()).isTrue();
    assertThat(config.getNetworkConfig().getInterfaces().getInterfaces()).containsExactly("10.0.0.5");
    JoinConfig join = config.getNetworkConfig().getJoin();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("10.0.0.5:5801", "10.0.0.6:5801");
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    assertThat(join.getKubernetesConfig().isEnabled()).isFalse();
    assertThat(config.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
    assertThat(config.getProperty("hazelcast.max.no.heartbeat.seconds")).isEqualTo("15");
    // the node leaves when Vert.x closes, after draining, not when Hazelcast's own hook fires on SIGTERM
    assertThat(config.getProperty("hazelcast.shutdownhook.enabled")).isEqualTo("false");
    // Vert.x's own maps from its default cluster config are kept
    assertThat(config.getMultiMapConfigs()).containsKey("__vertx.subs");
  }

  @Test
  @DisplayName("defaults: cluster chatroom-pulse, Hazelcast on 5701, member 127.0.0.1, no interface pinned")
  void defaults() {
    Config config = config(Map.of());
    assertThat(config.getClusterName()).isEqualTo(ClusterSetup.DEFAULT_NAME).isEqualTo("chatroom-pulse");
    assertThat(config.getNetworkConfig().getPort()).isEqualTo(ClusterSetup.DEFAULT_PORT).isEqualTo(5701);
    assertThat(config.getNetworkConfig().getInterfaces().isEnabled()).isFalse();
    assertThat(config.getNetworkConfig().getJoin().getTcpIpConfig().getMembers()).containsExactly("127.0.0.1");
  }

  @Test
  @DisplayName("Kubernetes: a DNS lookup of the headless Service on the Hazelcast port, with TCP-IP off")
  void kubernetesDns() {
    Config config = config(Map.of("CLUSTER_K8S_SERVICE_DNS", " chatroom-pulse-cluster.pulse.svc.cluster.local ",
      "CLUSTER_PORT", "5701", "CLUSTER_MEMBERS", "ignored:1"));
    JoinConfig join = config.getNetworkConfig().getJoin();
    assertThat(join.getKubernetesConfig().isEnabled()).isTrue();
    assertThat(join.getKubernetesConfig().getProperty("service-dns")).isEqualTo("chatroom-pulse-cluster.pulse.svc.cluster.local");
    assertThat(join.getKubernetesConfig().getProperty("service-port")).isEqualTo("5701");
    assertThat(join.getTcpIpConfig().isEnabled()).isFalse();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
  }

  @Test
  @DisplayName("launcher arguments: CLUSTER=true adds -cluster, the host and the event bus port (default 5710) unless given")
  void launcherArgs() {
    assertThat(ClusterSetup.launcherArgs(new String[] {"-conf", "x.json"}, Map.of()))
      .containsExactly("-conf", "x.json");
    assertThat(ClusterSetup.launcherArgs(new String[0], Map.of("CLUSTER", "TRUE", "CLUSTER_HOST", "10.0.0.5")))
      .containsExactly("-cluster", "-cluster-host", "10.0.0.5", "-cluster-port", Integer.toString(ClusterSetup.DEFAULT_BUS_PORT));
    assertThat(ClusterSetup.launcherArgs(new String[] {"-cluster", "-cluster-port", "6000"}, Map.of("CLUSTER_BUS_PORT", "7000")))
      .containsExactly("-cluster", "-cluster-port", "6000");
    assertThat(ClusterSetup.launcherArgs(new String[0], Map.of("CLUSTER", "false", "CLUSTER_HOST", "10.0.0.5"))).isEmpty();
  }

  @Test
  @DisplayName("a port that is not a port stops start-up with a message naming the variable")
  void badPort() {
    for (String bad : List.of("eighty", "0", "65536", "-1")) {
      assertThatThrownBy(() -> ClusterSetup.clusterManager(Map.of("CLUSTER_PORT", bad)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CLUSTER_PORT").hasMessageContaining(bad);
      assertThatThrownBy(() -> ClusterSetup.launcherArgs(new String[] {"-cluster"}, Map.of("CLUSTER_BUS_PORT", bad)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CLUSTER_BUS_PORT");
    }
  }

  @Test
  @DisplayName("ENVIRONMENT names exactly the variables the class reads")
  void environment() throws java.io.IOException {
    String source = java.nio.file.Files.readString(java.nio.file.Path.of("src/main/java/com/chatroom/pulse/cluster/ClusterSetup.java"));
    java.util.Set<String> read = new java.util.TreeSet<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"(CLUSTER[A-Z0-9_]*)\"").matcher(source);
    while (m.find()) {
      read.add(m.group(1));
    }
    assertThat(read).hasSizeGreaterThanOrEqualTo(7);
    assertThat(ClusterSetup.ENVIRONMENT).containsExactlyInAnyOrderElementsOf(read);
  }
}
