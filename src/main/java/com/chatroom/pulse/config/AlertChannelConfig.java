package com.chatroom.pulse.config;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One notification channel: where to send, in which format, and which alerts it wants.
 *
 * @param name             unique; in metrics, dead letters and the Alertmanager {@code receiver} field
 * @param type             {@code webhook} (Alertmanager webhook JSON), {@code slack}, {@code dingtalk}, {@code email},
 *                         {@code alertmanager} (its v2 API)
 * @param url              the endpoint (for alertmanager, its base URL); empty for email
 * @param secret           DingTalk signing secret (empty: the robot uses another security setting)
 * @param headers          extra HTTP headers (e.g. Authorization for a webhook receiver)
 * @param severities       severities routed here; empty means all
 * @param match            labels an alert must carry (equal values) to be routed here; empty means all
 * @param sendResolved     also send resolutions
 * @param repeatIntervalMs resend a firing, unacknowledged alert this often; 0 never (not for alertmanager: it repeats
 *                         by its own routes)
 * @param resendIntervalMs alertmanager only: re-post every firing alert this often, acknowledged or not, with
 *                         {@code endsAt} four intervals ahead, as Prometheus does ({@code --rules.alert.resend-delay})
 * @param smtp             email only
 */
public record AlertChannelConfig(String name, String type, String url, String secret, Map<String, String> headers,
                                 List<String> severities, Map<String, String> match, boolean sendResolved,
                                 long repeatIntervalMs, long resendIntervalMs, Smtp smtp) {

  /** Prometheus's default resend delay. */
  public static final long DEFAULT_RESEND_MS = 60_000;

  public static final Set<String> TYPES = Set.of("webhook", "slack", "dingtalk", "email", "alertmanager");
  private static final Pattern ENV_REF = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

  /**
   * SMTP settings of an email channel.
   *
   * @param starttls {@code disabled}, {@code optional} or {@code required}
   */
  public record Smtp(String host, int port, String starttls, boolean ssl, String username, String password,
                     String from, List<String> to) {

    @Override
    public String toString() {
      return "Smtp[host=" + host + ", port=" + port + ", starttls=" + starttls + ", ssl=" + ssl + ", username="
        + username + ", password=" + (password.isEmpty() ? "unset" : "***") + ", from=" + from + ", to=" + to + "]";
    }

    static Smtp read(ConfigReader r) {
      String host = r.string("host", "");
      if (host.isEmpty()) {
        throw new ConfigException(r.key("host"), "is required for an email channel");
      }
      String starttls = r.string("starttls", "optional");
      if (!Set.of("disabled", "optional", "required").contains(starttls)) {
        throw new ConfigException(r.key("starttls"), "must be disabled, optional or required, got '" + starttls + "'");
      }
      Smtp smtp = new Smtp(host, r.integer("port", 25, 1, 65535), starttls, r.bool("ssl", false),
        secret(r, "username"), secret(r, "password"), address(r, "from"), r.strings("to", List.of(), 100));
      if (smtp.to().isEmpty()) {
        throw new ConfigException(r.key("to"), "must list at least one recipient");
      }
      for (String to : smtp.to()) {
        if (!to.matches("[^@\\s]+@[^@\\s]+")) {
          throw new ConfigException(r.key("to"), "'" + to + "' is not an email address");
        }
      }
      r.rejectUnknown();
      return smtp;
    }

    private static String address(ConfigReader r, String name) {
      String value = r.string(name, "");
      if (!value.matches("([^<>]*<)?[^@\\s<>]+@[^@\\s<>]+>?")) {
        throw new ConfigException(r.key(name), "must be an email address, got '" + value + "'");
      }
      return value;
    }
  }

  /** URLs and secrets never appear in logs: webhook URLs usually carry their token. */
  @Override
  public String toString() {
    return "AlertChannelConfig[name=" + name + ", type=" + type + ", url=" + (url.isEmpty() ? "" : "***")
      + ", secret=" + (secret.isEmpty() ? "unset" : "***") + ", severities=" + severities + ", match=" + match
      + ", sendResolved=" + sendResolved + ", repeatIntervalMs=" + repeatIntervalMs + ", resendIntervalMs="
      + resendIntervalMs + ", smtp=" + smtp + "]";
  }

  static AlertChannelConfig read(ConfigReader r) {
    String name = r.string("name", "");
    if (!name.matches("[A-Za-z0-9_.-]{1,64}")) {
      throw new ConfigException(r.key("name"), "must be 1-64 letters, digits, '_', '.' or '-', got '" + name + "'");
    }
    String type = r.string("type", "");
    if (!TYPES.contains(type)) {
      throw new ConfigException(r.key("type"), "must be one of alertmanager, dingtalk, email, slack, webhook, got '" + type + "'");
    }
    String url = secret(r, "url");
    if (type.equals("email")) {
      if (!url.isEmpty()) {
        throw new ConfigException(r.key("url"), "an email channel has no url; set smtp.host instead");
      }
    } else {
      checkUrl(r, url);
    }
    String secret = secret(r, "secret");
    if (!secret.isEmpty() && !type.equals("dingtalk")) {
      throw new ConfigException(r.key("secret"), "is the DingTalk signing secret; a " + type + " channel has none");
    }
    Map<String, String> headers = r.stringMap("headers", 32, 8192);
    List<String> severities = r.strings("severities", List.of(), 3);
    for (String severity : severities) {
      if (!AlertRuleConfig.SEVERITIES.contains(severity)) {
        throw new ConfigException(r.key("severities"), "entries must be critical, warning or info, got '" + severity + "'");
      }
    }
    Map<String, String> match = r.stringMap("match", 32, 1024);
    boolean sendResolved = r.bool("send_resolved", true);
    long repeat = r.durationMs("repeat_interval", 4 * 3_600_000L, 0, 7L * 24 * 3_600_000);
    if (repeat > 0 && repeat < 1000) {
      throw new ConfigException(r.key("repeat_interval"), "must be 0 (never) or at least 1s, got " + repeat + " ms");
    }
    long resend = DEFAULT_RESEND_MS;
    if (r.has("resend_interval")) {
      if (!type.equals("alertmanager")) {
        throw new ConfigException(r.key("resend_interval"), "only an alertmanager channel re-posts firing alerts; a "
          + type + " channel uses repeat_interval");
      }
      resend = r.durationMs("resend_interval", DEFAULT_RESEND_MS, 1000, 3_600_000);
    }
    Smtp smtp = null;
    if (type.equals("email")) {
      smtp = Smtp.read(r.section("smtp"));
    } else if (r.has("smtp")) {
      throw new ConfigException(r.key("smtp"), "only an email channel has smtp settings");
    }
    AlertChannelConfig channel = new AlertChannelConfig(name, type, url, secret, headers, severities, match,
      sendResolved, repeat, resend, smtp);
    r.rejectUnknown();
    return channel;
  }

  static void checkUrl(ConfigReader r, String url) {
    try {
      URI uri = URI.create(url);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new IllegalArgumentException("scheme");
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException(r.key("url"), "must be an http:// or https:// URL (or ${ENV_VAR} naming one)");
    }
  }

  /** A string that may be written as {@code ${ENV_VAR}}, so tokens in URLs and passwords stay out of the file. */
  static String secret(ConfigReader r, String name) {
    String value = r.string(name, "");
    Matcher m = ENV_REF.matcher(value);
    if (!m.matches()) {
      return value;
    }
    String fromEnv = System.getenv(m.group(1));
    if (fromEnv == null || fromEnv.isBlank()) {
      throw new ConfigException(r.key(name), "refers to environment variable " + m.group(1) + ", which is not set");
    }
    return fromEnv.trim();
  }
}
