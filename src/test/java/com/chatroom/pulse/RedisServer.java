package com.chatroom.pulse;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} on a free loopback port, owned by the test: nothing on disk, stopped and restarted on
 * the same port to simulate an outage. Start-up is awaited by reading the server's own "Ready to accept connections"
 * line, not by sleeping.
 */
public final class RedisServer implements AutoCloseable {

  private final int port;
  private final java.nio.file.Path dataDir;
  private final String appendfsync;
  private Process process;

  public RedisServer() {
    this(null);
  }

  /**
   * @param dataDir where to keep an append-only file as the deployment does ({@code appendonly yes},
   *                {@code appendfsync everysec}), so a restart after {@code SIGKILL} finds what was acknowledged; null for
   *                nothing on disk
   */
  public RedisServer(java.nio.file.Path dataDir) {
    this(dataDir, "everysec");
  }

  /**
   * @param appendfsync {@code always} (every write fsynced before Redis answers: nothing acknowledged is lost even if
   *                    the host crashes) or {@code everysec} (the deployment's: an OS crash or power loss may lose the
   *                    last second or two of acknowledged writes; a killed redis-server loses nothing, its writes are in
   *                    the page cache)
   */
  public RedisServer(java.nio.file.Path dataDir, String appendfsync) {
    this.port = Edge.freePort();
    this.dataDir = dataDir;
    this.appendfsync = appendfsync;
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public RedisServer start() throws IOException {
    String binary = System.getenv().getOrDefault("REDIS_SERVER", "redis-server");
    List<String> command = new java.util.ArrayList<>(List.of(binary, "--port", Integer.toString(port), "--bind", "127.0.0.1",
      "--save", "", "--loglevel", "notice"));
    command.addAll(dataDir == null ? List.of("--appendonly", "no")
      : List.of("--appendonly", "yes", "--appendfsync", appendfsync, "--dir", dataDir.toString()));
    process = new ProcessBuilder(command).redirectErrorStream(true).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    String line;
    while ((line = out.readLine()) != null) {
      seen.append(line).append('\n');
      if (line.contains("Ready to accept connections")) {
        Thread drain = new Thread(() -> {
          try {
            while (out.readLine() != null) {
              // keep the pipe empty so the server never blocks on its own log
            }
          } catch (IOException ignored) {
            // stopped
          }
        }, "redis-log-" + port);
        drain.setDaemon(true);
        drain.start();
        return this;
      }
    }
    throw new IOException("redis-server did not start on port " + port + ":\n" + seen);
  }

  /** Stops the server abruptly (SIGKILL), as a crash or a network loss would look to the client. */
  public void kill() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }
}
