package com.chatroom.pulse.deploy;

import com.chatroom.pulse.Edge;
import com.chatroom.pulse.RedisServer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's backup and restore, run for real with redis-server and redis-cli: {@code redis-cli --rdb} takes the
 * backup, {@code docker/redis/restore-rdb.sh} puts it into an empty data directory, and a Redis started there with
 * append-only persistence (as compose and the StatefulSet run it) has the data back, minus what expired meanwhile.
 */
@DisplayName("Redis backup and restore as documented")
class BackupRestoreTest {

  private static String run(Map<String, String> env, String... command) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", command)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }

  private static String cli(int port, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
    command.addAll(List.of(args));
    return run(Map.of(), command.toArray(String[]::new));
  }

  @Test
  @DisplayName("redis-cli --rdb, then restore-rdb.sh into an AOF data directory: history and alert state are back, expired keys are not")
  void backupAndRestore(@TempDir Path tmp) throws Exception {
    Path backup = tmp.resolve("pulse.rdb");
    long now = System.currentTimeMillis() / 1000;
    long oldExpiresAt;
    try (RedisServer source = new RedisServer().start()) {
      int port = source.port();
      cli(port, "ZADD", "pulse:hist:system:node-a:raw:" + now / 3600, Long.toString(now), "{\"cpu_percent\":12.5}");
      cli(port, "EXPIREAT", "pulse:hist:system:node-a:raw:" + now / 3600, Long.toString(now + 7200));
      cli(port, "HSET", "pulse:alerts:silences", "s-1", "{\"id\":\"s-1\"}");
      // history whose retention ends in a moment: in the backup, but expired by the time it is restored
      // the absolute moment it expires: after the backup is taken (a dump takes well under 1.5 s), before the restore
      oldExpiresAt = System.currentTimeMillis() + 1500;
      cli(port, "SET", "pulse:hist:old", "x", "PXAT", Long.toString(oldExpiresAt));
      cli(port, "CONFIG", "SET", "repl-diskless-sync-delay", "0");   // no wait for more replicas
      cli(port, "--rdb", backup.toString());
    }
    assertThat(backup).isNotEmptyFile();
    assertThat(new String(Files.readAllBytes(backup), StandardCharsets.ISO_8859_1)).as("the short-lived key is in the backup")
      .contains("pulse:hist:old");
    // Redis drops a key whose absolute expiry has passed when it loads the file: restore only after that moment
    long untilExpired = oldExpiresAt + 1 - System.currentTimeMillis();
    if (untilExpired > 0) {
      Thread.sleep(untilExpired);
    }

    Path data = Files.createDirectories(tmp.resolve("data"));
    String restored = run(Map.of("RESTORE_PORT", Integer.toString(Edge.freePort())),
      "sh", "docker/redis/restore-rdb.sh", backup.toString(), data.toString());
    assertThat(restored).contains("keys restored");
    assertThat(data.resolve("appendonlydir")).isDirectory();

    int port = Edge.freePort();
    Process redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
      "--appendonly", "yes", "--dir", data.toString()).redirectErrorStream(true).start();
    try {
      BufferedReader log = new BufferedReader(new InputStreamReader(redis.getInputStream(), StandardCharsets.UTF_8));
      String line;
      StringBuilder seen = new StringBuilder();
      while ((line = log.readLine()) != null && !line.contains("Ready to accept connections")) {
        seen.append(line).append('\n');
      }
      assertThat(seen.toString()).contains("DB loaded from append only file");
      assertThat(cli(port, "ZRANGE", "pulse:hist:system:node-a:raw:" + now / 3600, "0", "-1")).isEqualTo("{\"cpu_percent\":12.5}");
      assertThat(Long.parseLong(cli(port, "TTL", "pulse:hist:system:node-a:raw:" + now / 3600))).isBetween(7000L, 7200L);
      assertThat(cli(port, "HGET", "pulse:alerts:silences", "s-1")).isEqualTo("{\"id\":\"s-1\"}");
      assertThat(cli(port, "EXISTS", "pulse:hist:old")).isEqualTo("0");
    } finally {
      redis.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
