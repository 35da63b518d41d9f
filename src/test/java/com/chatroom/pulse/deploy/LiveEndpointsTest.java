package com.chatroom.pulse.deploy;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.RedisServer;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.config.PulseConfig;
import com.chatroom.pulse.metrics.Meters;
import com.chatroom.pulse.optimizer.OptimizerVerticle;
import com.chatroom.pulse.sampler.SamplerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static com.chatroom.pulse.deploy.ManifestsTest.at;
import static com.chatroom.pulse.deploy.ManifestsTest.k8s;
import static com.chatroom.pulse.deploy.ManifestsTest.list;
import static com.chatroom.pulse.deploy.ManifestsTest.load;
import static com.chatroom.pulse.deploy.ManifestsTest.pulseContainer;
import static com.chatroom.pulse.deploy.ManifestsTest.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One node as the deployments run it (Prometheus registry with Vert.x and JVM metrics, history in a real Redis, the
 * sampler on), exercised a little (a stream subscriber, a refused connection, a rejected bus message, some requests),
 * then held against the deployment files: every path they probe or scrape answers, and every metric and label the
 * Grafana dashboard queries is in the node's own {@code /metrics}.
 */
@DisplayName("Deployment files against a live node")
class LiveEndpointsTest {

  /** Metrics Prometheus makes itself for each target, not scraped from the node. */
  static final Set<String> PROMETHEUS_MADE = Set.of("up");
  /** Labels Prometheus attaches to every scraped series (the compose relabelling and the ServiceMonitor set both). */
  static final Set<String> TARGET_LABELS = Set.of("instance", "job");
  /** PromQL words that are not metric names: functions, aggregations, operators and modifiers the dashboard may use. */
  static final Set<String> PROMQL = Set.of("sum", "avg", "min", "max", "count", "rate", "irate", "increase", "delta",
    "by", "without", "on", "ignoring", "group_left", "group_right", "or", "and", "unless", "bool", "offset", "vector",
    "histogram_quantile", "clamp_min", "clamp_max", "abs", "topk", "bottomk", "avg_over_time", "max_over_time",
    "min_over_time", "label_values");

  private static final Path DASHBOARD = Path.of("docker/grafana/dashboards/chatroom-pulse.json");
  private static final String INGEST_TOKEN = "live-ingest-token-0123456789";

  private static RedisServer redis;
  private static Vertx vertx;
  private static int port;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  /** metric name → the label sets of its samples */
  private static Map<String, List<Map<String, String>>> scraped;

  @BeforeAll
  static void startNode() throws Exception {
    redis = new RedisServer().start();
    vertx = Meters.newVertx(new VertxOptions());
    // chat on, the alert manager and the optimizer (dry run) deployed: their meters are on the dashboard too
    PulseConfig config = Edge.deployWithAlerts(vertx, new JsonObject()
        .put("redis", new JsonObject().put("url", redis.url()))
        .put("sampler", new JsonObject().put("enabled", true).put("interval_ms", 100))
        .put("chat", new JsonObject().put("allow_anonymous", true))
        .put("http", new JsonObject().put("ingest_token", INGEST_TOKEN))
        .put("optimizer", new JsonObject().put("dry_run", true)))
      .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    port = config.http().port();
    vertx.deployVerticle(() -> new OptimizerVerticle(config), new DeploymentOptions())
      .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    vertx.deployVerticle(() -> new SamplerVerticle(config.instanceId(), config.sampler()),
        new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER))
      .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);

    // a stream subscriber that has received a sample: frames sent, subscribers, HTTP connections
    CompletableFuture<String> sample = new CompletableFuture<>();
    WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + port + "/metrics/stream"),
      new WebSocket.Listener() {
        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
          if (data.toString().contains("\"type\":\"system\"")) {
            sample.complete(data.toString());
          }
          socket.request(1);
          return null;
        }
      }).get(10, TimeUnit.SECONDS);
    sample.get(20, TimeUnit.SECONDS);
    // a refused stream connection and a rejected bus message: their counters exist only once it has happened
    assertThatThrownBy(() -> HTTP.newWebSocketBuilder()
      .buildAsync(URI.create("ws://127.0.0.1:" + port + "/metrics/stream?backfill_minutes=soon"), new WebSocket.Listener() {
      }).join()).isInstanceOf(CompletionException.class);
    vertx.eventBus().publish(Addresses.METRICS_APP, new JsonObject().put("timestamp", "yesterday"));
    // a chat message (sequenced, delivered), and app metrics ingested once and refused once
    CompletableFuture<String> message = new CompletableFuture<>();
    WebSocket chat = HTTP.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + port + "/chat?nickname=live"),
      new WebSocket.Listener() {
        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
          String frame = data.toString();
          if (frame.contains("\"type\":\"joined\"")) {
            // a frame the gateway refuses (counted per reason), then a message
            // (one send at a time: java.net.http's WebSocket refuses a send while one is pending)
            socket.sendText("{\"type\":\"shout\"}", true)
              .thenCompose(s -> s.sendText("{\"type\":\"send\",\"room\":\"lobby\",\"id\":\"l1\",\"text\":\"hi\"}", true));
          } else if (frame.contains("\"type\":\"message\"")) {
            message.complete(frame);
          }
          socket.request(1);
          return null;
        }
      }).get(10, TimeUnit.SECONDS);
    chat.sendText("{\"type\":\"join\",\"room\":\"lobby\"}", true);
    message.get(20, TimeUnit.SECONDS);
    assertThat(get("/chat").statusCode()).as("a refused chat handshake").isEqualTo(400);
    String app = "{\"timestamp\":" + System.currentTimeMillis() / 1000d + ",\"active_users\":1,\"total_messages\":1,"
      + "\"messages_per_minute\":1,\"ai_requests_per_minute\":0,\"file_transfers_active\":0,\"database_connections\":1,"
      + "\"response_time_avg\":1.0,\"error_rate\":0.0}";
    for (String body : List.of(app, "{\"timestamp\":\"yesterday\"}")) {
      HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/metrics/app"))
        .header("Authorization", "Bearer " + INGEST_TOKEN).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
    // GC pause timers appear with the first collection after the registry was bound: have one
    System.gc();

    String text = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      text = get("/metrics").body();
      if (text.contains("pulse_bus_messages_rejected_total{") && text.contains("pulse_stream_connections_refused_total{")
        && text.contains("vertx_http_server_requests_total{") && text.contains("jvm_gc_pause_seconds_count{")
        && text.contains("pulse_ingest_rejected_total{") && text.contains("pulse_ingest_accepted_total{")
        && text.contains("pulse_chat_messages_total ") && text.contains("pulse_optimizer_samples_total")
        && text.contains("pulse_chat_connections_refused_total{") && text.contains("pulse_chat_inbound_rejected_total{")
        && text.contains("pulse_alerts_samples_total")
        && text.contains("pulse_history_samples_total{kind=\"system\"} ")
        && !text.contains("pulse_history_samples_total{kind=\"system\"} 0.0")) {
        break;
      }
      Thread.sleep(100);
    }
    scraped = parse(text);
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    chat.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stopNode() throws Exception {
    if (vertx != null) {
      vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
    if (redis != null) {
      redis.close();
    }
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
      HttpResponse.BodyHandlers.ofString());
  }

  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+\\S+.*$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** Prometheus text format: metric name → the label sets of its samples. */
  static Map<String, List<Map<String, String>>> parse(String text) {
    Map<String, List<Map<String, String>>> out = new HashMap<>();
    for (String line : text.lines().toList()) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertThat(m.matches()).as("a sample line: " + line).isTrue();
      Map<String, String> labels = new HashMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      out.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(labels);
    }
    return out;
  }

  @Test
  @DisplayName("every path the deployments probe or scrape answers on the HTTP port: live and ready 200, /metrics Prometheus text")
  void probedPathsAnswer() throws Exception {
    Set<String> paths = new LinkedHashSet<>();
    Map<String, Object> container = pulseContainer();
    for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
      paths.add(at(container, probe + ".httpGet.path"));
    }
    Matcher healthcheck = Pattern.compile("CMD curl [^\\n]*http://127\\.0\\.0\\.1:\\$\\{HTTP_PORT:-8888}(/[\\w/]+)")
      .matcher(read(Path.of("docker/Dockerfile")));
    assertThat(healthcheck.find()).isTrue();
    paths.add(healthcheck.group(1));
    assertThat(paths).containsExactlyInAnyOrder(ManifestsTest.LIVE, ManifestsTest.READY);
    assertThat(get(ManifestsTest.LIVE).statusCode()).isEqualTo(200);
    // ready once this node's sampler has produced a sample, which it has (a stream client received one)
    assertThat(get(ManifestsTest.READY).statusCode()).isEqualTo(200);

    Set<String> scrapePaths = new HashSet<>();
    scrapePaths.add(at(k8s("ServiceMonitor", "chatroom-pulse"), "spec.endpoints[0].path"));
    list(load(Path.of("docker/prometheus/prometheus.yml")), "scrape_configs").stream()
      .filter(j -> "pulse".equals(j.get("job_name"))).forEach(j -> scrapePaths.add((String) j.get("metrics_path")));
    for (String path : scrapePaths) {
      HttpResponse<String> metrics = get(path);
      assertThat(metrics.statusCode()).as(path).isEqualTo(200);
      assertThat(metrics.headers().firstValue("Content-Type").orElse("")).as(path).startsWith("text/plain");
      assertThat(metrics.body()).contains("# TYPE pulse_host_cpu_utilization gauge");
    }
    // the WebSocket paths Nginx upgrades are WebSocket endpoints here (a plain GET is told to upgrade)
    for (String path : List.of("/metrics/stream", "/chat")) {
      HttpResponse<String> plain = get(path);
      assertThat(plain.statusCode()).as(path).isEqualTo(400);
      assertThat(plain.body()).as(path).contains("websocket_required");
    }
  }

  @Test
  @DisplayName("every metric and label the Grafana dashboard queries is in the node's /metrics")
  void dashboardQueriesRealMetrics() {
    JsonObject dashboard = new JsonObject(read(DASHBOARD));
    List<String> expressions = new ArrayList<>();
    collectExpressions(dashboard.getJsonArray("panels"), expressions);
    assertThat(expressions).as("panel queries").hasSizeGreaterThanOrEqualTo(20);

    Set<String> used = new HashSet<>();
    for (String expr : expressions) {
      used.addAll(checkExpression(expr));
    }
    for (Object variable : dashboard.getJsonObject("templating").getJsonArray("list")) {
      JsonObject v = (JsonObject) variable;
      if (!"query".equals(v.getString("type"))) {
        continue;
      }
      Object query = v.getValue("query");
      String text = query instanceof JsonObject q ? q.getString("query") : String.valueOf(query);
      Matcher m = Pattern.compile("label_values\\(\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*,\\s*(\\w+)\\s*\\)").matcher(text);
      assertThat(m.matches()).as("variable " + v.getString("name") + ": " + text).isTrue();
      assertThat(scraped).as("variable " + v.getString("name")).containsKey(m.group(1));
      assertThat(TARGET_LABELS.contains(m.group(2)) || hasLabel(m.group(1), m.group(2))).as(text).isTrue();
    }
    // the dashboard covers the pipeline, not just the JVM
    for (String family : List.of("pulse_host_", "pulse_sampler_", "pulse_stream_", "pulse_history_", "pulse_bus_", "pulse_chat_",
      "pulse_alerts_", "pulse_optimizer_", "pulse_ingest_", "vertx_", "jvm_")) {
      assertThat(used).as("a query on " + family + "*").anyMatch(n -> n.startsWith(family));
    }
  }

  private static void collectExpressions(JsonArray panels, List<String> out) {
    for (Object p : panels) {
      JsonObject panel = (JsonObject) p;
      if (panel.getJsonArray("panels") != null) {
        collectExpressions(panel.getJsonArray("panels"), out);
      }
      JsonArray targets = panel.getJsonArray("targets");
      if (targets != null) {
        targets.forEach(t -> out.add(((JsonObject) t).getString("expr")));
      }
    }
  }

  private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{([^}]*)}");
  private static final Pattern MATCHER = Pattern.compile("(\\w+)\\s*(=~|!~|!=|=)\\s*\"([^\"]*)\"");
  private static final Pattern GROUPING = Pattern.compile("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");
  private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w$.])[a-zA-Z_:][a-zA-Z0-9_:]*");

  /** @return the metric names the expression reads, each checked against the scrape with its labels */
  private static Set<String> checkExpression(String expr) {
    Set<String> metrics = new HashSet<>();
    Matcher selector = SELECTOR.matcher(expr);
    while (selector.find()) {
      String metric = selector.group(1);
      if (PROMETHEUS_MADE.contains(metric)) {
        continue;
      }
      Matcher m = MATCHER.matcher(selector.group(2));
      while (m.find()) {
        String label = m.group(1);
        if (TARGET_LABELS.contains(label)) {
          continue;
        }
        assertThat(hasLabel(metric, label)).as(expr + ": " + metric + " has label " + label).isTrue();
        if (m.group(2).equals("=")) {
          String value = m.group(3);
          assertThat(scraped.getOrDefault(metric, List.of())).as(expr + ": " + metric + "{" + label + "=\"" + value + "\"}")
            .anyMatch(labels -> value.equals(labels.get(label)));
        }
      }
    }
    String rest = expr.replaceAll("\"[^\"]*\"", " ").replaceAll("\\{[^}]*}", " ").replaceAll("\\[[^]]*]", " ");
    List<String> grouping = new ArrayList<>();
    Matcher g = GROUPING.matcher(rest);
    while (g.find()) {
      for (String label : g.group(1).split(",")) {
        if (!label.isBlank()) {
          grouping.add(label.trim());
        }
      }
    }
    rest = GROUPING.matcher(rest).replaceAll(" ");
    Matcher id = IDENTIFIER.matcher(rest);
    while (id.find()) {
      String word = id.group();
      if (PROMQL.contains(word)) {
        continue;
      }
      if (!PROMETHEUS_MADE.contains(word)) {
        assertThat(scraped).as(expr + ": metric " + word + " is in /metrics").containsKey(word);
      }
      metrics.add(word);
    }
    for (String label : grouping) {
      assertThat(TARGET_LABELS.contains(label) || metrics.stream().anyMatch(metric -> hasLabel(metric, label)))
        .as(expr + ": grouping label " + label + " exists on one of " + metrics).isTrue();
    }
    assertThat(metrics).as("metrics in " + expr).isNotEmpty();
    return metrics;
  }

  private static boolean hasLabel(String metric, String label) {
    return scraped.getOrDefault(metric, List.of()).stream().anyMatch(labels -> labels.containsKey(label));
  }
}
