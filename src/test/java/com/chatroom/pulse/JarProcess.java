package com.chatroom.pulse;

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

/** The fat JAR as a separate process, as a user runs it, with its output captured for assertions. */
public final class JarProcess implements AutoCloseable {

  private final Process process;
  private final StringBuffer output = new StringBuffer();

  private JarProcess(Process process) {
    this.process = process;
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          output.append(line).append('\n');
        }
      } catch (IOException ignored) {
        // the process ended
      }
    }, "jar-output-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * @param env     environment on top of this one (INSTANCE_ID, CLUSTER*, REDIS_URL and OPTIMIZER* of this JVM are
   *                removed first; OPTIMIZER_DRY_RUN is true unless {@code env} sets it)
   * @param jvmArgs JVM options before {@code -jar}
   * @param args    launcher arguments after the JAR
   */
  public static JarProcess start(Map<String, String> env, List<String> jvmArgs, String... args) throws IOException {
    Path jar = Path.of(System.getProperty("pulse.jar", "target/chatroom-pulse.jar"));
    assertThat(Files.exists(jar)).as("fat JAR at " + jar + " (run mvn package first)").isTrue();
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("-Xmx256m");
    command.addAll(jvmArgs);
    command.addAll(List.of("-jar", jar.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().keySet().removeIf(k -> k.equals("INSTANCE_ID") || k.startsWith("CLUSTER") || k.equals("REDIS_URL")
      || k.startsWith("OPTIMIZER"));
    // the optimizer decides and records but does not act, unless a test says otherwise: on a busy CI machine its
    // default rules (cpu > 80 % for 30 s: throttle the stream) would change what the other tests observe
    pb.environment().put("OPTIMIZER_DRY_RUN", "true");
    pb.environment().putAll(env);
    return new JarProcess(pb.start());
  }

  public String output() {
    return output.toString();
  }

  public Process process() {
    return process;
  }

  /**
   * SIGTERM, keeping the output: {@code Process.destroy()} also closes the pipes, so whatever the process logs while
   * it shuts down would be lost; the handle only sends the signal.
   */
  public void terminate() {
    process.toHandle().destroy();
  }

  /** kill -9: no shutdown hook, no flush, no goodbye. */
  public void crash() throws InterruptedException {
    process.destroyForcibly().waitFor(15, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      crash();
    }
  }
}
