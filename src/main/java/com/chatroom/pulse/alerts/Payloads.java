package com.chatroom.pulse.alerts;

import com.chatroom.pulse.bus.AlertEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** The bodies each channel type expects, built from one notification. */
final class Payloads {

  /** Alertmanager writes this for the end of an alert that has not ended. */
  static final String ZERO_TIME = "0001-01-01T00:00:00Z";

  private Payloads() {
  }

  /**
   * Alertmanager's webhook payload, version 4, with one alert (Pulse sends one notification per change rather than
   * grouping), so receivers written for Alertmanager work unchanged.
   */
  static JsonObject alertmanagerWebhook(Notification n, String receiver, String externalUrl) {
    AlertEvent e = n.event();
    Map<String, String> group = new LinkedHashMap<>();
    group.put("alertname", e.rule());
    group.put("instance", e.instance());
    JsonObject labels = sorted(e.labels());
    JsonObject annotations = annotations(n);
    JsonObject alert = new JsonObject()
      .put("status", n.status())
      .put("labels", labels)
      .put("annotations", annotations)
      .put("startsAt", rfc3339(e.activeSince()))
      .put("endsAt", n.firing() ? ZERO_TIME : rfc3339(e.changedAt()))
      .put("generatorURL", generatorUrl(externalUrl, e))
      .put("fingerprint", fingerprint(e.labels()));
    return new JsonObject()
      .put("receiver", receiver)
      .put("status", n.status())
      .put("alerts", new JsonArray().add(alert))
      .put("groupLabels", sorted(group))
      .put("commonLabels", labels.copy())
      .put("commonAnnotations", annotations.copy())
      .put("externalURL", externalUrl)
      .put("version", "4")
      .put("groupKey", "{}:" + labelString(group))
      .put("truncatedAlerts", 0);
  }

  /**
   * Alertmanager's v2 API body ({@code POST /api/v2/alerts}): a list of postable alerts. As Prometheus does, a firing
   * alert is re-posted every resend interval with an end four intervals ahead: Alertmanager keeps it while the posts
   * go on and resolves it by itself if Pulse goes away. A resolved alert ends when it resolved.
   */
  static JsonArray alertmanagerV2(Notification n, String externalUrl, long resendIntervalMs, long nowMs) {
    AlertEvent e = n.event();
    JsonObject alert = new JsonObject()
      .put("labels", sorted(e.labels()))
      .put("annotations", annotations(n))
      .put("startsAt", rfc3339(e.activeSince()))
      .put("endsAt", n.firing() ? Instant.ofEpochMilli(nowMs + 4 * resendIntervalMs).toString() : rfc3339(e.changedAt()))
      .put("generatorURL", generatorUrl(externalUrl, e));
    return new JsonArray().add(alert);
  }

  /** A Slack incoming-webhook message: a text fallback and one coloured attachment with the facts. */
  static JsonObject slack(Notification n) {
    AlertEvent e = n.event();
    String color = !n.firing() ? "good" : switch (e.severity()) {
      case "critical" -> "danger";
      case "warning" -> "warning";
      default -> "#439FE0";
    };
    JsonArray fields = new JsonArray()
      .add(field("Severity", e.severity()))
      .add(field("Instance", e.instance()))
      .add(field("Value", Template.plain(e.value())))
      .add(field("Threshold", e.op() + " " + Template.plain(e.threshold())));
    return new JsonObject()
      .put("text", n.title() + ": " + n.summary())
      .put("attachments", new JsonArray().add(new JsonObject()
        .put("color", color)
        .put("title", n.title())
        .put("text", n.summary() + (n.flapping() ? "\n" + flappingNote() : ""))
        .put("fields", fields)
        .put("footer", "Chat-Room Pulse · " + e.node())
        .put("ts", (long) e.changedAt())));
  }

  /** A DingTalk robot message in markdown. */
  static JsonObject dingTalk(Notification n) {
    AlertEvent e = n.event();
    StringBuilder text = new StringBuilder()
      .append("#### ").append(n.title()).append("\n\n")
      .append("> ").append(n.summary()).append("\n\n")
      .append("- **Severity**: ").append(e.severity()).append('\n')
      .append("- **Value**: ").append(Template.plain(e.value())).append(" (").append(e.op()).append(' ')
      .append(Template.plain(e.threshold())).append(")\n")
      .append("- **Since**: ").append(rfc3339(e.activeSince())).append('\n');
    if (n.flapping()) {
      text.append("- **Note**: ").append(flappingNote()).append('\n');
    }
    return new JsonObject().put("msgtype", "markdown")
      .put("markdown", new JsonObject().put("title", n.title()).put("text", text.toString()));
  }

  /**
   * DingTalk's signature, as its robot documentation specifies: Base64(HmacSHA256(key = secret, data = timestamp + "\n"
   * + secret)), then URL-encoded; sent as {@code &timestamp=<ms>&sign=<signature>}.
   */
  static String dingTalkSign(long timestampMs, String secret) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] digest = mac.doFinal((timestampMs + "\n" + secret).getBytes(StandardCharsets.UTF_8));
      return URLEncoder.encode(Base64.getEncoder().encodeToString(digest), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }

  static String emailSubject(Notification n) {
    return n.title() + " (" + n.event().severity() + ")";
  }

  static String emailBody(Notification n, String externalUrl) {
    AlertEvent e = n.event();
    StringBuilder body = new StringBuilder(n.summary()).append("\n\n");
    body.append("Status:    ").append(n.flapping() ? "flapping" : n.status()).append('\n');
    body.append("Rule:      ").append(e.rule()).append(" (").append(e.metric()).append(' ').append(e.op()).append(' ')
      .append(Template.plain(e.threshold())).append(")\n");
    body.append("Instance:  ").append(e.instance()).append('\n');
    body.append("Severity:  ").append(e.severity()).append('\n');
    body.append("Value:     ").append(Template.plain(e.value())).append('\n');
    body.append("Since:     ").append(rfc3339(e.activeSince())).append('\n');
    body.append("Changed:   ").append(rfc3339(e.changedAt())).append('\n');
    e.annotations().forEach((k, v) -> {
      if (!k.equals("summary")) {
        body.append(k).append(": ").append(v).append('\n');
      }
    });
    if (n.flapping()) {
      body.append('\n').append(flappingNote()).append('\n');
    }
    body.append("\nLabels: ").append(labelString(e.labels())).append('\n');
    body.append("Event:  ").append(n.key()).append('\n');
    if (!externalUrl.isEmpty()) {
      body.append(generatorUrl(externalUrl, e)).append('\n');
    }
    return body.toString();
  }

  /** Prometheus's fingerprint of a label set: FNV-1a 64 over sorted name, 0xff, value, 0xff; 16 hex digits. */
  static String fingerprint(Map<String, String> labels) {
    long hash = 0xcbf29ce484222325L;
    for (Map.Entry<String, String> e : new TreeMap<>(labels).entrySet()) {
      hash = fnv(hash, e.getKey());
      hash = fnvByte(hash, (byte) 0xff);
      hash = fnv(hash, e.getValue());
      hash = fnvByte(hash, (byte) 0xff);
    }
    return String.format("%016x", hash);
  }

  private static long fnv(long hash, String s) {
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      hash = fnvByte(hash, b);
    }
    return hash;
  }

  private static long fnvByte(long hash, byte b) {
    return (hash ^ (b & 0xff)) * 0x100000001b3L;
  }

  static String rfc3339(double epochSeconds) {
    return Instant.ofEpochMilli(Math.round(epochSeconds * 1000)).toString();
  }

  private static String generatorUrl(String externalUrl, AlertEvent e) {
    return externalUrl.isEmpty() ? "" : externalUrl + "/api/alerts?rule=" + URLEncoder.encode(e.rule(), StandardCharsets.UTF_8);
  }

  private static JsonObject annotations(Notification n) {
    JsonObject annotations = sorted(n.event().annotations());
    if (n.flapping()) {
      annotations.put("flapping", flappingNote());
    }
    return annotations;
  }

  private static String flappingNote() {
    return "This alert is flapping: it changed state too often and is held until it settles.";
  }

  private static JsonObject field(String title, String value) {
    return new JsonObject().put("title", title).put("value", value).put("short", true);
  }

  private static JsonObject sorted(Map<String, String> map) {
    return new JsonObject(new LinkedHashMap<>(new TreeMap<>(map)));
  }

  /** Alertmanager's label-set form: {@code {alertname="cpu", instance="pod-a"}}. */
  static String labelString(Map<String, String> labels) {
    return new TreeMap<>(labels).entrySet().stream()
      .map(e -> e.getKey() + "=\"" + e.getValue().replace("\\", "\\\\").replace("\"", "\\\"") + "\"")
      .collect(Collectors.joining(", ", "{", "}"));
  }
}
