package com.chatroom.pulse.reliability;

import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a reliability scenario measured, for RELIABILITY.md: logged, and written to
 * {@code target/reliability/<scenario>.json} (the long runs' figures are read from there).
 */
public final class Figures {

  private static final Logger LOG = LoggerFactory.getLogger(Figures.class);

  private Figures() {
  }

  public static void record(String scenario, JsonObject figures) {
    LOG.info("{}: {}", scenario, figures.encode());
    try {
      Path dir = Path.of("target", "reliability");
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(scenario + ".json"), figures.encodePrettily(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Keeps a process's output next to the figures, for a look at what it logged during the fault. */
  public static void keepLog(String scenario, String output) {
    try {
      Path dir = Path.of("target", "reliability");
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(scenario + ".log"), output, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
