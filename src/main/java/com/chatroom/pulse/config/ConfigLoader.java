package com.chatroom.pulse.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * Loads the configuration once, in this order (later wins):
 * <ol>
 *   <li>{@code conf/config.yaml}: the file in the working directory if there is one, else the copy packed in the
 *       JAR; or the file named by {@code PULSE_CONFIG};</li>
 *   <li>the launcher's {@code -conf} JSON;</li>
 *   <li>the whitelisted environment variables of {@link PulseConfig#ENVIRONMENT};</li>
 *   <li>system properties prefixed {@code pulse.}, e.g. {@code -Dpulse.http.port=9000}.</li>
 * </ol>
 */
public final class ConfigLoader {

  public static final String DEFAULT_PATH = "conf/config.yaml";
  private static final String SYSTEM_PREFIX = "pulse.";

  private ConfigLoader() {
  }

  public static Future<PulseConfig> load(Vertx vertx, JsonObject launcherConfig) {
    String path = System.getenv().getOrDefault("PULSE_CONFIG", DEFAULT_PATH);
    ConfigRetrieverOptions options = new ConfigRetrieverOptions()
      .setScanPeriod(0)
      .addStore(new ConfigStoreOptions().setType("file").setFormat("yaml").setConfig(new JsonObject().put("path", path)))
      .addStore(new ConfigStoreOptions().setType("json").setConfig(launcherConfig == null ? new JsonObject() : launcherConfig))
      .addStore(new ConfigStoreOptions().setType("env").setConfig(new JsonObject()
        .put("raw-data", true).put("keys", new JsonArray(PulseConfig.ENVIRONMENT.keySet().stream().toList()))))
      .addStore(new ConfigStoreOptions().setType("sys").setConfig(new JsonObject().put("cache", false).put("raw-data", true)));
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever.getConfig()
      .recover(e -> Future.failedFuture(new ConfigException(path, "cannot read the config file: " + e.getMessage())))
      .eventually(retriever::close)
      // the host-name lookup for a missing instance_id may touch the resolver: keep it off the event loop
      .compose(merged -> vertx.executeBlocking(() -> PulseConfig.from(applyOverrides(merged))));
  }

  /**
   * Moves environment variables and {@code pulse.*} system properties onto the keys they override, and drops every
   * other system property (the JVM's own), leaving only the config sections.
   */
  static JsonObject applyOverrides(JsonObject merged) {
    JsonObject document = new JsonObject();
    JsonObject systemOverrides = new JsonObject();
    for (Map.Entry<String, Object> entry : merged) {
      String key = entry.getKey();
      if (PulseConfig.ENVIRONMENT.containsKey(key)) {
        continue;
      }
      if (key.startsWith(SYSTEM_PREFIX)) {
        systemOverrides.put(key.substring(SYSTEM_PREFIX.length()), entry.getValue());
      } else if (System.getProperty(key) == null) {
        // not one of the JVM's or a tool's own system properties: it came from the file or -conf, and an unknown
        // key there is a typo that validation should report
        document.put(key, entry.getValue());
      }
    }
    PulseConfig.ENVIRONMENT.forEach((env, target) -> {
      Object value = merged.getValue(env);
      if (value != null) {
        setPath(document, target, value);
      }
    });
    systemOverrides.forEach(e -> setPath(document, e.getKey(), e.getValue()));
    return document;
  }

  private static void setPath(JsonObject document, String dotted, Object value) {
    String[] parts = dotted.split("\\.");
    JsonObject node = document;
    for (int i = 0; i < parts.length - 1; i++) {
      Object child = node.getValue(parts[i]);
      if (!(child instanceof JsonObject)) {
        child = new JsonObject();
        node.put(parts[i], child);
      }
      node = (JsonObject) child;
    }
    node.put(parts[parts.length - 1], value);
  }
}
