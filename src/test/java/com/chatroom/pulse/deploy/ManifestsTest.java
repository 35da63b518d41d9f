package com.chatroom.pulse.deploy;

import com.chatroom.pulse.cluster.ClusterSetup;
import com.chatroom.pulse.config.DeployedConfig;
import com.chatroom.pulse.config.PulseConfig;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The deployment files (k8s/, docker/) parsed as YAML and held against the code: environment variable names, ports,
 * probe paths, the config file, the image's user, the seed's resource limits, and the references between the files.
 * The probe paths and the Grafana dashboard are also checked against a live node in {@link LiveEndpointsTest}.
 */
@DisplayName("Deployment files agree with the code")
class ManifestsTest {

  /**
   * Variables a deployment file may set besides {@link PulseConfig#ENVIRONMENT}: read by the logging configuration
   * (LOG_*), the image's entry point (JAVA_OPTS), the config loader (PULSE_CONFIG), the launcher's cluster setup
   * ({@link ClusterSetup#ENVIRONMENT}, which its own test holds against the names the class reads) and the chat
   * gateway (CHAT_*). The others are named one by one, so a misspelt name fails here.
   */
  static final Set<String> EXTRA_ENVIRONMENT = Stream.concat(
    Stream.of("LOG_LEVEL", "LOG_FORMAT", "JAVA_OPTS", "PULSE_CONFIG", "CHAT_JWT_SECRET"),
    ClusterSetup.ENVIRONMENT.stream()).collect(Collectors.toUnmodifiableSet());

  /** Kubernetes-only helpers that Pulse does not read: allowed only when another variable spells them as $(NAME). */
  static final Set<String> K8S_HELPERS = Set.of("POD_NAMESPACE");

  /** The seed's docker-compose resources: limits 512 MiB / 0.5 CPU, reservations 256 MiB / 0.25 CPU. */
  static final long LIMIT_MIB = 512;
  static final long LIMIT_MILLICPU = 500;
  static final long RESERVED_MIB = 256;
  static final long RESERVED_MILLICPU = 250;

  static final int HTTP_PORT = 8888;
  static final String LIVE = "/health/live";
  static final String READY = "/health/ready";

  static final Path K8S = Path.of("k8s");
  static final Path DOCKER = Path.of("docker");

  // ---------------------------------------------------------------------------------------------------------------
  // parsing

  record Doc(String file, Map<String, Object> body) {
    String kind() {
      return (String) body.get("kind");
    }

    String name() {
      return at(body, "metadata.name");
    }
  }

  private static Yaml yaml() {
    return new Yaml(new SafeConstructor(new LoaderOptions()));
  }

  static String read(Path path) {
    try {
      return Files.readString(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> load(Path path) {
    return (Map<String, Object>) yaml().load(read(path));
  }

  @SuppressWarnings("unchecked")
  static List<Doc> k8sDocs() {
    List<Doc> docs = new ArrayList<>();
    for (Path file : k8sFiles()) {
      for (Object doc : yaml().loadAll(read(file))) {
        if (doc != null) {
          docs.add(new Doc(file.getFileName().toString(), (Map<String, Object>) doc));
        }
      }
    }
    return docs;
  }

  static List<Path> k8sFiles() {
    try (Stream<Path> files = Files.list(K8S)) {
      return files.filter(p -> p.toString().endsWith(".yaml") && !p.getFileName().toString().equals("kustomization.yaml"))
        .sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Map<String, Object> k8s(String kind, String name) {
    return k8sDocs().stream().filter(d -> d.kind().equals(kind) && d.name().equals(name)).findFirst()
      .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " under k8s/")).body();
  }

  /** {@code at(doc, "spec.template.spec.containers[0].env")}; null when a step is missing. */
  @SuppressWarnings("unchecked")
  static <T> T at(Object node, String path) {
    Object current = node;
    for (String step : path.split("\\.")) {
      String key = step;
      Integer index = null;
      int bracket = step.indexOf('[');
      if (bracket >= 0) {
        key = step.substring(0, bracket);
        index = Integer.parseInt(step.substring(bracket + 1, step.length() - 1));
      }
      if (!(current instanceof Map<?, ?> map)) {
        return null;
      }
      current = map.get(key);
      if (index != null) {
        if (!(current instanceof List<?> list) || list.size() <= index) {
          return null;
        }
        current = list.get(index);
      }
    }
    return (T) current;
  }

  static List<Map<String, Object>> list(Object node, String path) {
    List<Map<String, Object>> value = at(node, path);
    return value == null ? List.of() : value;
  }

  static Map<String, Object> pulsePod() {
    return at(k8s("Deployment", "chatroom-pulse"), "spec.template");
  }

  static Map<String, Object> pulseContainer() {
    List<Map<String, Object>> containers = list(pulsePod(), "spec.containers");
    assertThat(containers).as("containers of the Deployment").hasSize(1);
    return containers.get(0);
  }

  static Map<String, Map<String, Object>> k8sEnv() {
    Map<String, Map<String, Object>> env = new LinkedHashMap<>();
    list(pulseContainer(), "env").forEach(e -> env.put((String) e.get("name"), e));
    return env;
  }

  static String k8sValue(String name) {
    Map<String, Object> entry = k8sEnv().get(name);
    assertThat(entry).as("env " + name + " in k8s/deployment.yaml").isNotNull();
    return String.valueOf(entry.get("value"));
  }

  static Map<String, Object> compose() {
    return load(DOCKER.resolve("docker-compose.yml"));
  }

  /** The compose services built from docker/Dockerfile: the Pulse nodes. */
  static Map<String, Map<String, Object>> pulseServices() {
    Map<String, Map<String, Object>> services = at(compose(), "services");
    Map<String, Map<String, Object>> pulse = new LinkedHashMap<>();
    services.forEach((name, service) -> {
      if ("docker/Dockerfile".equals(at(service, "build.dockerfile"))) {
        pulse.put(name, service);
      }
    });
    return pulse;
  }

  private static final Pattern COMPOSE_VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?}");

  /** Compose's interpolation with nothing set in the environment: {@code ${VAR:-default}} gives the default. */
  static String interpolate(String value) {
    Matcher m = COMPOSE_VARIABLE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String replacement = m.group(2) != null && m.group(2).endsWith("-") ? m.group(3) : "";
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  static Map<String, String> composeEnv(Map<String, Object> service) {
    Map<String, Object> raw = at(service, "environment");
    assertThat(raw).as("environment of a Pulse service, as a map").isNotNull();
    Map<String, String> env = new LinkedHashMap<>();
    raw.forEach((k, v) -> env.put(k, interpolate(String.valueOf(v))));
    return env;
  }

  static JsonObject confYaml() {
    return new JsonObject(load(Path.of("conf/config.yaml")));
  }

  static long millicpu(Object quantity) {
    String q = String.valueOf(quantity);
    return q.endsWith("m") ? Long.parseLong(q.substring(0, q.length() - 1)) : Math.round(Double.parseDouble(q) * 1000);
  }

  /** Kubernetes (Mi, Gi) and Docker (M, G: binary too) memory sizes in MiB. */
  static long mib(Object quantity) {
    Matcher m = Pattern.compile("(\\d+)(Mi|Gi|M|G|m|g)").matcher(String.valueOf(quantity));
    assertThat(m.matches()).as("memory size " + quantity).isTrue();
    long n = Long.parseLong(m.group(1));
    return m.group(2).toUpperCase().startsWith("G") ? n * 1024 : n;
  }

  /** The final stage of the Dockerfile. */
  static List<String> runtimeStage() {
    List<String> lines = read(DOCKER.resolve("Dockerfile")).lines().toList();
    int from = 0;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("FROM ")) {
        from = i;
      }
    }
    return lines.subList(from, lines.size());
  }

  // ---------------------------------------------------------------------------------------------------------------
  // tests

  @Test
  @DisplayName("every k8s/ file parses, is listed in kustomization.yaml, and names its objects uniquely")
  void kustomization() {
    Map<String, Object> kustomization = load(K8S.resolve("kustomization.yaml"));
    List<String> resources = at(kustomization, "resources");
    assertThat(resources).containsExactlyInAnyOrderElementsOf(k8sFiles().stream().map(p -> p.getFileName().toString()).toList());
    List<Doc> docs = k8sDocs();
    assertThat(docs).allSatisfy(d -> {
      assertThat(d.body()).as(d.file()).containsKeys("apiVersion", "kind", "metadata");
      assertThat(d.name()).as(d.file()).isNotBlank();
    });
    assertThat(docs.stream().map(d -> d.kind() + "/" + d.name())).doesNotHaveDuplicates();
    assertThat(docs.stream().map(Doc::kind)).contains("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
      "ConfigMap", "Secret", "StatefulSet", "Ingress", "ServiceMonitor", "NetworkPolicy");
    List<Map<String, Object>> images = at(kustomization, "images");
    assertThat(images).extracting(i -> i.get("name")).contains(at(pulseContainer(), "image").toString().split(":")[0]);
  }

  @Test
  @DisplayName("every environment variable the Deployment, the compose services and the image set is one the code reads")
  void environmentNames() {
    Set<String> known = new TreeSet<>(PulseConfig.ENVIRONMENT.keySet());
    known.addAll(EXTRA_ENVIRONMENT);

    Map<String, Map<String, Object>> k8s = k8sEnv();
    String k8sValues = k8s.values().stream().map(e -> String.valueOf(e.get("value"))).collect(Collectors.joining("\n"));
    for (String name : k8s.keySet()) {
      if (K8S_HELPERS.contains(name)) {
        assertThat(k8sValues).as(name + " is a helper: some other variable must use $(" + name + ")").contains("$(" + name + ")");
      } else {
        assertThat(known).as("k8s/deployment.yaml sets " + name).contains(name);
      }
    }
    assertThat(k8s).as("k8s/deployment.yaml").containsKeys("INSTANCE_ID", "REDIS_URL", "PULSE_CONFIG", "CLUSTER", "CLUSTER_HOST",
      "CLUSTER_K8S_SERVICE_DNS", "PULSE_ADMIN_TOKEN", "PULSE_INGEST_TOKEN", "PULSE_DASHBOARD_TOKEN");

    assertThat(pulseServices()).as("Pulse services in docker-compose.yml").hasSizeGreaterThanOrEqualTo(2);
    pulseServices().forEach((service, body) -> assertThat(known).as("docker-compose.yml service " + service + " sets")
      .containsAll(composeEnv(body).keySet()));

    Matcher env = Pattern.compile("(?m)^ENV\\s+(.*(?:\\\\\\n.*)*)").matcher(String.join("\n", runtimeStage()));
    Set<String> imageEnv = new HashSet<>();
    while (env.find()) {
      Matcher pair = Pattern.compile("(?:^|\\s)([A-Z_][A-Z0-9_]*)=").matcher(env.group(1));
      while (pair.find()) {
        imageEnv.add(pair.group(1));
      }
    }
    assertThat(imageEnv).as("ENV in the runtime stage of docker/Dockerfile").contains("JAVA_OPTS");
    assertThat(known).as("docker/Dockerfile sets").containsAll(imageEnv);
  }

  @Test
  @DisplayName("the Deployment's config and environment load as a node would load them: port 8888, pod name, Redis")
  void k8sConfigLoads() {
    Map<String, String> values = new LinkedHashMap<>();
    Map<String, Object> secret = k8s("Secret", "chatroom-pulse-secrets");
    Map<String, Object> secretData = at(secret, "stringData");
    k8sEnv().forEach((name, entry) -> {
      String fieldPath = at(entry, "valueFrom.fieldRef.fieldPath");
      Map<String, Object> secretRef = at(entry, "valueFrom.secretKeyRef");
      if (fieldPath != null) {
        values.put(name, switch (fieldPath) {
          case "metadata.name" -> "chatroom-pulse-7d9f8b6c5-x2k4q";
          case "metadata.namespace" -> "chat";
          case "status.podIP" -> "10.1.2.3";
          default -> throw new AssertionError(name + ": unexpected fieldRef " + fieldPath);
        });
      } else if (secretRef != null) {
        assertThat(secretRef.get("name")).as(name + " secret").isEqualTo("chatroom-pulse-secrets");
        assertThat(secretData).as(name + ": key in the Secret").containsKey((String) secretRef.get("key"));
        // what an operator puts there: long enough for every token and secret rule
        values.put(name, "0123456789abcdef0123456789abcdef0123456789abcdef");
      } else {
        assertThat(entry).as(name + " has a value").containsKey("value");
        values.put(name, String.valueOf(entry.get("value")));
      }
    });

    Map<String, Object> configMap = k8s("ConfigMap", "chatroom-pulse-config");
    String mountPath = list(pulseContainer(), "volumeMounts").stream().filter(m -> "config".equals(m.get("name")))
      .map(m -> (String) m.get("mountPath")).findFirst().orElseThrow();
    String key = Path.of(values.get("PULSE_CONFIG")).getFileName().toString();
    assertThat(Path.of(values.get("PULSE_CONFIG")).getParent()).as("PULSE_CONFIG is in the ConfigMap's mount").isEqualTo(Path.of(mountPath));
    assertThat(list(pulsePod(), "spec.volumes")).anySatisfy(v -> {
      assertThat(v.get("name")).isEqualTo("config");
      assertThat((String) at(v, "configMap.name")).isEqualTo("chatroom-pulse-config");
    });
    String configYaml = (String) ((Map<String, Object>) at(configMap, "data")).get(key);
    assertThat(configYaml).as("the ConfigMap holds " + key).isNotNull();

    PulseConfig config = DeployedConfig.resolve(new JsonObject((Map<String, Object>) yaml().load(configYaml)), values);
    assertThat(config.http().port()).isEqualTo(HTTP_PORT);
    assertThat(list(pulseContainer(), "ports")).anySatisfy(p -> {
      assertThat(p.get("name")).isEqualTo("http");
      assertThat(p.get("containerPort")).isEqualTo(config.http().port());
    });
    assertThat(config.instanceId()).isEqualTo("chatroom-pulse-7d9f8b6c5-x2k4q");
    assertThat(config.redis().url()).isEqualTo(values.get("REDIS_URL"));
  }

  @Test
  @DisplayName("the ConfigMap's config.yaml is conf/config.yaml")
  void configMapIsConfYaml() {
    String configYaml = (String) ((Map<String, Object>) at(k8s("ConfigMap", "chatroom-pulse-config"), "data")).get("config.yaml");
    assertThat(configYaml).isNotNull();
    @SuppressWarnings("unchecked")
    JsonObject inConfigMap = new JsonObject((Map<String, Object>) yaml().load(configYaml));
    assertThat(inConfigMap.encodePrettily())
      .as("k8s/configmap.yaml must carry conf/config.yaml: copy it again (indented by 4) after changing the defaults")
      .isEqualTo(confYaml().encodePrettily());
  }

  @Test
  @DisplayName("the probes ask /health/live and /health/ready on the HTTP port; the image's HEALTHCHECK asks /health/live")
  void probes() {
    Map<String, Object> c = pulseContainer();
    assertThat((String) at(c, "livenessProbe.httpGet.path")).isEqualTo(LIVE);
    assertThat((String) at(c, "startupProbe.httpGet.path")).isEqualTo(LIVE);
    assertThat((String) at(c, "readinessProbe.httpGet.path")).isEqualTo(READY);
    for (String probe : List.of("livenessProbe", "startupProbe", "readinessProbe")) {
      assertThat((Object) at(c, probe + ".httpGet.port")).as(probe + " port").isEqualTo("http");
    }
    assertThat(k8sValue("HTTP_PORT")).isEqualTo(Integer.toString(HTTP_PORT));
    String healthcheck = String.join("\n", runtimeStage());
    assertThat(healthcheck).containsPattern("HEALTHCHECK[^\\n]*\\\\\\n\\s*CMD curl -fsS[^\\n]*http://127\\.0\\.0\\.1:\\$\\{HTTP_PORT:-8888}" + LIVE);
    assertThat(healthcheck).contains("EXPOSE 8888");
  }

  @Test
  @DisplayName("the image and the pods run as uid 1000, never root; the pod's root file system is read-only with /tmp writable")
  void nonRoot() {
    List<String> stage = runtimeStage();
    assertThat(stage.get(0)).isEqualTo("FROM eclipse-temurin:17-jre");
    assertThat(read(DOCKER.resolve("Dockerfile"))).contains("FROM maven:3.9-eclipse-temurin-17 AS build");
    List<String> users = stage.stream().filter(l -> l.startsWith("USER ")).toList();
    assertThat(users).as("USER in the runtime stage").isNotEmpty();
    String user = users.get(users.size() - 1).substring(5).trim();
    assertThat(user).isEqualTo("1000:1000");
    assertThat(String.join("\n", stage)).contains("useradd --uid 1000 --gid 1000");
    assertThat(String.join("\n", stage)).containsPattern("ENTRYPOINT \\[\"/usr/local/bin/pulse-entrypoint\"]");
    String entrypoint = read(DOCKER.resolve("entrypoint.sh"));
    assertThat(entrypoint).contains("exec java ${JAVA_OPTS:-} -jar /app/chatroom-pulse.jar \"$@\"");

    Map<String, Object> pod = pulsePod();
    assertThat((Boolean) at(pod, "spec.securityContext.runAsNonRoot")).isTrue();
    assertThat((Integer) at(pod, "spec.securityContext.runAsUser")).isEqualTo(1000);
    Map<String, Object> c = pulseContainer();
    assertThat((Boolean) at(c, "securityContext.readOnlyRootFilesystem")).isTrue();
    assertThat((Boolean) at(c, "securityContext.allowPrivilegeEscalation")).isFalse();
    assertThat(list(c, "volumeMounts")).anySatisfy(m -> {
      assertThat(m.get("mountPath")).isEqualTo("/tmp");
      assertThat(list(pod, "spec.volumes")).anySatisfy(v -> {
        assertThat(v.get("name")).isEqualTo(m.get("name"));
        assertThat(v).containsKey("emptyDir");
      });
    });
    assertThat((Boolean) at(k8s("StatefulSet", "chatroom-pulse-redis"), "spec.template.spec.securityContext.runAsNonRoot")).isTrue();
  }

  @Test
  @DisplayName("the Pulse containers get the seed's resources: limits 512 MiB / 0.5 CPU, reservations 256 MiB / 0.25 CPU")
  void seedResources() {
    Map<String, Object> c = pulseContainer();
    assertThat(mib(at(c, "resources.limits.memory"))).isEqualTo(LIMIT_MIB);
    assertThat(millicpu(at(c, "resources.limits.cpu"))).isEqualTo(LIMIT_MILLICPU);
    assertThat(mib(at(c, "resources.requests.memory"))).isEqualTo(RESERVED_MIB);
    assertThat(millicpu(at(c, "resources.requests.cpu"))).isEqualTo(RESERVED_MILLICPU);
    pulseServices().forEach((name, s) -> {
      assertThat(mib(at(s, "deploy.resources.limits.memory"))).as(name).isEqualTo(LIMIT_MIB);
      assertThat(millicpu(at(s, "deploy.resources.limits.cpus"))).as(name).isEqualTo(LIMIT_MILLICPU);
      assertThat(mib(at(s, "deploy.resources.reservations.memory"))).as(name).isEqualTo(RESERVED_MIB);
      assertThat(millicpu(at(s, "deploy.resources.reservations.cpus"))).as(name).isEqualTo(RESERVED_MILLICPU);
    });
  }

  @Test
  @DisplayName("Kubernetes clustering: pod IP and name from the downward API, discovery through a headless Service with the same ports")
  void k8sCluster() {
    Map<String, Map<String, Object>> env = k8sEnv();
    assertThat(k8sValue("CLUSTER")).isEqualTo("true");
    assertThat((String) at(env.get("CLUSTER_HOST"), "valueFrom.fieldRef.fieldPath")).isEqualTo("status.podIP");
    assertThat((String) at(env.get("INSTANCE_ID"), "valueFrom.fieldRef.fieldPath")).isEqualTo("metadata.name");
    assertThat((String) at(env.get("POD_NAMESPACE"), "valueFrom.fieldRef.fieldPath")).isEqualTo("metadata.namespace");

    Map<String, Object> headless = k8s("Service", "chatroom-pulse-cluster");
    assertThat(k8sValue("CLUSTER_K8S_SERVICE_DNS")).isEqualTo("chatroom-pulse-cluster.$(POD_NAMESPACE).svc.cluster.local");
    assertThat((String) at(headless, "spec.clusterIP")).isEqualTo("None");
    assertThat((Boolean) at(headless, "spec.publishNotReadyAddresses")).isTrue();
    Map<String, Integer> containerPorts = list(pulseContainer(), "ports").stream()
      .collect(Collectors.toMap(p -> (String) p.get("name"), p -> (Integer) p.get("containerPort")));
    Map<String, Integer> servicePorts = list(headless, "spec.ports").stream()
      .collect(Collectors.toMap(p -> (String) p.get("targetPort"), p -> (Integer) p.get("port")));
    assertThat(servicePorts).containsEntry("hazelcast", Integer.parseInt(k8sValue("CLUSTER_PORT")))
      .containsEntry("eventbus", Integer.parseInt(k8sValue("CLUSTER_BUS_PORT")));
    servicePorts.forEach((target, port) -> assertThat(containerPorts).containsEntry(target, port));
    assertSelects(headless, "spec.selector");
  }

  @Test
  @DisplayName("compose clustering: CLUSTER=true, the members are exactly the Pulse services, Redis is a service, one bridge network")
  void composeCluster() {
    Map<String, Object> compose = compose();
    Map<String, Map<String, Object>> services = at(compose, "services");
    Map<String, Map<String, Object>> pulse = pulseServices();
    pulse.forEach((name, s) -> {
      Map<String, String> env = composeEnv(s);
      assertThat(env).as(name).containsEntry("CLUSTER", "true").containsEntry("INSTANCE_ID", name);
      assertThat(Set.of(env.get("CLUSTER_MEMBERS").split(","))).as(name + " CLUSTER_MEMBERS").isEqualTo(pulse.keySet());
      String redisHost = URI.create(env.get("REDIS_URL")).getHost();
      assertThat(services).as("REDIS_URL of " + name + " names a service").containsKey(redisHost);
      assertThat((String) at(services.get(redisHost), "image")).startsWith("redis:7");

      PulseConfig config = DeployedConfig.resolve(confYaml(), env);
      assertThat(config.instanceId()).isEqualTo(name);
      assertThat(config.http().port()).isEqualTo(HTTP_PORT);
      assertThat(config.redis().url()).isEqualTo(env.get("REDIS_URL"));
      assertThat(config.http().adminToken()).as("no token committed").isEmpty();
    });
    Map<String, Map<String, Object>> networks = at(compose, "networks");
    assertThat(networks).hasSize(1);
    String network = networks.keySet().iterator().next();
    assertThat((String) at(networks.get(network), "driver")).isEqualTo("bridge");
    services.forEach((name, s) -> {
      assertThat((List<String>) at(s, "networks")).as(name + " networks").containsExactly(network);
      assertThat((String) at(s, "restart")).as(name + " restart").isEqualTo("unless-stopped");
    });
  }

  @Test
  @DisplayName("graceful shutdown: time for Pulse to close WebSockets and flush history, routing stopped first")
  void gracefulShutdown() {
    Map<String, Object> pod = pulsePod();
    int grace = at(pod, "spec.terminationGracePeriodSeconds");
    assertThat(grace).isGreaterThanOrEqualTo(30);
    List<String> preStop = at(pulseContainer(), "lifecycle.preStop.exec.command");
    assertThat(preStop).hasSize(2).first().isEqualTo("sleep");
    assertThat(Integer.parseInt(preStop.get(1))).isBetween(2, grace - 30);
    pulseServices().forEach((name, s) -> assertThat((String) at(s, "stop_grace_period")).as(name).isEqualTo("30s"));
  }

  @Test
  @DisplayName("Services, PDB, HPA, Ingress, ServiceMonitor and NetworkPolicy point at what exists")
  void references() {
    Map<String, Object> service = k8s("Service", "chatroom-pulse");
    assertSelects(service, "spec.selector");
    assertThat(list(service, "spec.ports")).singleElement().satisfies(p -> {
      assertThat(p.get("port")).isEqualTo(HTTP_PORT);
      assertThat(p.get("targetPort")).isEqualTo("http");
    });
    assertSelects(k8s("PodDisruptionBudget", "chatroom-pulse"), "spec.selector.matchLabels");
    assertSelects(k8s("Deployment", "chatroom-pulse"), "spec.selector.matchLabels");

    Map<String, Object> hpa = k8s("HorizontalPodAutoscaler", "chatroom-pulse");
    assertThat((String) at(hpa, "apiVersion")).isEqualTo("autoscaling/v2");
    assertThat((String) at(hpa, "spec.scaleTargetRef.kind")).isEqualTo("Deployment");
    assertThat((String) at(hpa, "spec.scaleTargetRef.name")).isEqualTo("chatroom-pulse");
    assertThat((String) at(hpa, "spec.metrics[0].resource.name")).isEqualTo("cpu");
    assertThat((Integer) at(hpa, "spec.minReplicas")).isGreaterThanOrEqualTo(2);
    assertThat((Object) at(k8s("Deployment", "chatroom-pulse"), "spec.replicas")).as("the HPA owns replicas").isNull();

    Map<String, Object> ingress = k8s("Ingress", "chatroom-pulse");
    assertThat((String) at(ingress, "spec.rules[0].http.paths[0].backend.service.name")).isEqualTo("chatroom-pulse");
    assertThat((String) at(ingress, "spec.rules[0].http.paths[0].backend.service.port.name")).isEqualTo("http");
    Map<String, String> annotations = at(ingress, "metadata.annotations");
    assertThat(Integer.parseInt(annotations.get("nginx.ingress.kubernetes.io/proxy-read-timeout"))).isGreaterThanOrEqualTo(3600);
    assertThat(Integer.parseInt(annotations.get("nginx.ingress.kubernetes.io/proxy-send-timeout"))).isGreaterThanOrEqualTo(3600);
    assertThat(annotations).doesNotContainKey("nginx.ingress.kubernetes.io/affinity");

    Map<String, Object> monitor = k8s("ServiceMonitor", "chatroom-pulse");
    Map<String, String> wanted = at(monitor, "spec.selector.matchLabels");
    assertThat((Map<String, String>) at(service, "metadata.labels")).containsAllEntriesOf(wanted);
    assertThat((Map<String, String>) at(k8s("Service", "chatroom-pulse-cluster"), "metadata.labels"))
      .as("the headless Service is not scraped twice").doesNotContainKeys(wanted.keySet().toArray(String[]::new));
    assertThat((String) at(monitor, "spec.endpoints[0].port")).isEqualTo("http");
    assertThat((String) at(monitor, "spec.endpoints[0].path")).isEqualTo("/metrics");

    Map<String, Object> policy = k8s("NetworkPolicy", "chatroom-pulse");
    assertSelects(policy, "spec.podSelector.matchLabels");
    assertThat(list(policy, "spec.ingress")).anySatisfy(rule -> assertThat(ports(rule)).containsExactly(HTTP_PORT));
    assertThat(list(policy, "spec.ingress")).anySatisfy(rule -> {
      assertThat(ports(rule)).containsExactlyInAnyOrder(Integer.parseInt(k8sValue("CLUSTER_PORT")), Integer.parseInt(k8sValue("CLUSTER_BUS_PORT")));
      assertThat(list(rule, "from")).singleElement().satisfies(from ->
        assertThat((Map<String, String>) at(from, "podSelector.matchLabels")).isEqualTo(at(k8s("Deployment", "chatroom-pulse"), "spec.selector.matchLabels")));
    });
    // egress: Redis's port and DNS
    assertThat(list(policy, "spec.egress")).anySatisfy(rule -> assertThat(ports(rule)).containsExactly(6379));
    assertThat(list(policy, "spec.egress")).anySatisfy(rule -> assertThat(ports(rule)).containsExactly(53, 53));
  }

  @Test
  @DisplayName("Redis: a StatefulSet with a volume at its --dir, append-only, behind the Service that REDIS_URL names")
  void redis() {
    Map<String, Object> statefulSet = k8s("StatefulSet", "chatroom-pulse-redis");
    List<String> args = at(statefulSet, "spec.template.spec.containers[0].args");
    assertThat(String.join(" ", args)).contains("--appendonly yes");
    String dir = args.get(args.indexOf("--dir") + 1);
    String claim = at(statefulSet, "spec.volumeClaimTemplates[0].metadata.name");
    assertThat(list(statefulSet, "spec.template.spec.containers[0].volumeMounts")).anySatisfy(m -> {
      assertThat(m.get("name")).isEqualTo(claim);
      assertThat(m.get("mountPath")).isEqualTo(dir);
    });
    URI url = URI.create(k8sValue("REDIS_URL"));
    Map<String, Object> service = k8s("Service", url.getHost());
    assertThat((Integer) at(service, "spec.ports[0].port")).isEqualTo(url.getPort());
    assertThat((Map<String, String>) at(statefulSet, "spec.template.metadata.labels"))
      .containsAllEntriesOf(at(service, "spec.selector"));

    Map<String, Object> redis = at(compose(), "services.redis");
    assertThat(String.join(" ", (List<String>) at(redis, "command"))).contains("--appendonly yes").contains("--dir /data");
    assertThat((List<String>) at(redis, "volumes")).anySatisfy(v -> assertThat(v).endsWith(":/data"));
  }

  @Test
  @DisplayName("no secret is committed: the Secret's values are empty placeholders, compose takes them from the environment")
  void noSecrets() {
    Map<String, Object> secret = k8s("Secret", "chatroom-pulse-secrets");
    assertThat(secret).doesNotContainKey("data");
    Map<String, Object> data = at(secret, "stringData");
    assertThat(data).containsOnlyKeys("PULSE_ADMIN_TOKEN", "PULSE_INGEST_TOKEN", "PULSE_DASHBOARD_TOKEN", "CHAT_JWT_SECRET");
    assertThat(data.values()).allSatisfy(v -> assertThat(v).isEqualTo(""));
    assertThat(read(K8S.resolve("secret.yaml"))).contains("REPLACE");

    String composeText = read(DOCKER.resolve("docker-compose.yml"));
    for (String name : List.of("PULSE_ADMIN_TOKEN", "PULSE_INGEST_TOKEN", "PULSE_DASHBOARD_TOKEN", "CHAT_JWT_SECRET")) {
      assertThat(composeText).contains(name + ": ${" + name + ":-}");
    }
    // every variable compose reads is documented in .env.example
    Set<String> documented = read(DOCKER.resolve(".env.example")).lines().filter(l -> l.matches("[A-Z_]+=.*"))
      .map(l -> l.substring(0, l.indexOf('='))).collect(Collectors.toSet());
    Matcher m = COMPOSE_VARIABLE.matcher(composeText);
    while (m.find()) {
      assertThat(documented).as("docker/.env.example documents ${" + m.group(1) + "}").contains(m.group(1));
    }
    assertThat(read(Path.of(".gitignore")).lines()).contains("docker/nginx/certs/", "docker/.env");
  }

  @Test
  @DisplayName("compose: Nginx balances the Pulse services without stickiness and upgrades /metrics/stream and /chat; Prometheus scrapes them all")
  void composeEdgeAndMonitoring() {
    Map<String, Map<String, Object>> services = at(compose(), "services");
    Set<String> nodes = pulseServices().keySet();
    Set<String> nodeTargets = nodes.stream().map(n -> n + ":" + HTTP_PORT).collect(Collectors.toSet());

    // the directives, without comments
    String nginx = read(DOCKER.resolve("nginx/nginx.conf")).replaceAll("(?m)#.*$", "");
    Set<String> upstream = new HashSet<>();
    Matcher server = Pattern.compile("(?m)^\\s*server\\s+([\\w.-]+:\\d+)\\b").matcher(nginx);
    while (server.find()) {
      upstream.add(server.group(1));
    }
    assertThat(upstream).isEqualTo(nodeTargets);
    assertThat(nginx).doesNotContain("ip_hash", "sticky", "hash $");
    Matcher ws = Pattern.compile("location ~ \\^/\\(metrics/stream\\|chat\\)\\$ \\{([^}]*)}").matcher(nginx);
    assertThat(ws.find()).as("a WebSocket location for /metrics/stream and /chat").isTrue();
    assertThat(ws.group(1)).contains("proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Connection $connection_upgrade;",
      "proxy_http_version 1.1;", "proxy_read_timeout 1h;");
    assertThat(nginx).contains("listen 443 ssl;", "ssl_certificate     /etc/nginx/certs/tls.crt;", "return 301 https://$host$request_uri;");
    assertThat((List<String>) at(services.get("nginx"), "volumes")).contains("./nginx/certs:/etc/nginx/certs:ro");
    assertThat(read(DOCKER.resolve("nginx/gen-cert.sh"))).contains("tls.crt", "tls.key");

    Map<String, Object> prometheus = load(DOCKER.resolve("prometheus/prometheus.yml"));
    Map<String, Object> job = list(prometheus, "scrape_configs").stream().filter(j -> "pulse".equals(j.get("job_name"))).findFirst().orElseThrow();
    assertThat((String) at(job, "metrics_path")).isEqualTo("/metrics");
    assertThat(new HashSet<>((List<String>) at(job, "static_configs[0].targets"))).isEqualTo(nodeTargets);
    assertThat(prometheus).doesNotContainKey("rule_files");

    Map<String, Object> datasources = load(DOCKER.resolve("grafana/provisioning/datasources/prometheus.yml"));
    URI grafanaSource = URI.create(at(datasources, "datasources[0].url"));
    assertThat(services).containsKey(grafanaSource.getHost());
    assertThat((String) at(services.get(grafanaSource.getHost()), "image")).startsWith("prom/prometheus:");

    assertThat((List<String>) at(services.get("alertmanager"), "profiles")).containsExactly("alertmanager");
    // every file a service mounts from this repository exists (certs/ is made by gen-cert.sh, and git-ignored)
    services.forEach((name, s) -> {
      List<String> volumes = at(s, "volumes");
      for (String volume : volumes == null ? List.<String>of() : volumes) {
        String source = volume.split(":")[0];
        if (source.startsWith("./") && !source.equals("./nginx/certs")) {
          assertThat(DOCKER.resolve(source)).as(name + " mounts " + source).exists();
        }
      }
    });
  }

  /** A cluster port as a deployment sets it: its own value when it names the variable, else the code's default. */
  private static int clusterPort(Map<String, String> env, String name, int fallback) {
    String value = env.get(name);
    return value == null || value.isBlank() ? fallback : Integer.parseInt(value.trim());
  }

  @Test
  @DisplayName("the cluster ports the image exposes, compose exposes and the Deployment declares are the ones the nodes use")
  void clusterPorts() {
    Set<Integer> defaults = Set.of(ClusterSetup.DEFAULT_PORT, ClusterSetup.DEFAULT_BUS_PORT);
    Matcher expose = Pattern.compile("(?m)^EXPOSE\\s+(.*)$").matcher(String.join("\n", runtimeStage()));
    Set<Integer> imagePorts = new HashSet<>();
    while (expose.find()) {
      for (String p : expose.group(1).trim().split("\\s+")) {
        imagePorts.add(Integer.parseInt(p.replace("/tcp", "")));
      }
    }
    assertThat(imagePorts).as("EXPOSE in docker/Dockerfile").contains(HTTP_PORT).containsAll(defaults);

    pulseServices().forEach((name, s) -> {
      Map<String, String> env = composeEnv(s);
      Set<Integer> exposed = ((List<?>) at(s, "expose")).stream().map(p -> Integer.parseInt(String.valueOf(p))).collect(Collectors.toSet());
      int hazelcast = clusterPort(env, "CLUSTER_PORT", ClusterSetup.DEFAULT_PORT);
      int bus = clusterPort(env, "CLUSTER_BUS_PORT", ClusterSetup.DEFAULT_BUS_PORT);
      assertThat(exposed).as(name + " expose").contains(HTTP_PORT, hazelcast, bus);
      // the image exposes the defaults: a compose file that moves them must say so in its own expose (checked above)
      assertThat(Set.of(hazelcast, bus)).as(name + " cluster ports").isEqualTo(defaults);
      // members named without a port: Hazelcast tries 5701-5703 on each, which covers only the default member port
      assertThat(env.get("CLUSTER_MEMBERS")).as(name).doesNotContain(":");
    });

    Map<String, String> k8s = new LinkedHashMap<>();
    k8sEnv().forEach((n, e) -> {
      if (e.get("value") != null) {
        k8s.put(n, String.valueOf(e.get("value")));
      }
    });
    Map<String, Integer> containerPorts = list(pulseContainer(), "ports").stream()
      .collect(Collectors.toMap(p -> (String) p.get("name"), p -> (Integer) p.get("containerPort")));
    assertThat(containerPorts).containsEntry("hazelcast", clusterPort(k8s, "CLUSTER_PORT", ClusterSetup.DEFAULT_PORT))
      .containsEntry("eventbus", clusterPort(k8s, "CLUSTER_BUS_PORT", ClusterSetup.DEFAULT_BUS_PORT))
      .containsEntry("http", HTTP_PORT);
  }

  /** Runs a validator from the monitoring stack's own package, or skips when it is not installed here. */
  private static String validate(String tool, String... args) throws IOException, InterruptedException {
    boolean installed = Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
      .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
    org.junit.jupiter.api.Assumptions.assumeTrue(installed, tool + " is not installed (Debian: prometheus / prometheus-alertmanager)");
    List<String> command = new ArrayList<>(List.of(tool));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ":\n" + out).isZero();
    return out;
  }

  @Test
  @DisplayName("promtool accepts docker/prometheus/prometheus.yml (skipped when promtool is not installed)")
  void promtool() throws Exception {
    validate("promtool", "check", "config", DOCKER.resolve("prometheus/prometheus.yml").toString());
  }

  @Test
  @DisplayName("amtool accepts docker/alertmanager/alertmanager.yml (skipped when amtool is not installed)")
  void amtool() throws Exception {
    validate("amtool", "check-config", DOCKER.resolve("alertmanager/alertmanager.yml").toString());
  }

  private static List<Integer> ports(Map<String, Object> rule) {
    return list(rule, "ports").stream().map(p -> (Integer) p.get("port")).toList();
  }

  /** The selector at {@code path} matches the Pulse pods' labels. */
  private static void assertSelects(Map<String, Object> object, String path) {
    Map<String, String> selector = at(object, path);
    assertThat(selector).as(object.get("kind") + " " + path).isNotEmpty();
    assertThat((Map<String, String>) at(pulsePod(), "metadata.labels")).as(object.get("kind") + " " + path + " selects the Pulse pods")
      .containsAllEntriesOf(selector);
  }
}
