package com.chatroom.pulse.config;

import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * For tests outside this package: the configuration a node would load from a config file and an environment, by
 * the loader's own rules (the file, then the whitelisted environment variables moved onto their keys by
 * {@link ConfigLoader#applyOverrides}), without reading this JVM's real environment.
 */
public final class DeployedConfig {

  private DeployedConfig() {
  }

  /**
   * @param file the parsed config.yaml
   * @param env  the variables a deployment sets; those Pulse does not read are ignored, as the env store does
   * @throws ConfigException naming the first bad key, as start-up would
   */
  public static PulseConfig resolve(JsonObject file, Map<String, String> env) {
    JsonObject merged = file.copy();
    env.forEach((name, value) -> {
      if (PulseConfig.ENVIRONMENT.containsKey(name)) {
        merged.put(name, value);
      }
    });
    return PulseConfig.from(ConfigLoader.applyOverrides(merged));
  }
}
