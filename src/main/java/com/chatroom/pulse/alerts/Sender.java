package com.chatroom.pulse.alerts;

import com.chatroom.pulse.config.AlertChannelConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mail.MailClient;
import io.vertx.ext.mail.MailConfig;
import io.vertx.ext.mail.MailMessage;
import io.vertx.ext.mail.StartTLSOptions;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import java.util.Locale;
import java.util.Set;

/** Sends one notification to one channel's receiver. */
interface Sender {

  /**
   * Succeeds once the receiver accepted it; fails with {@link Rejected} if it refused it for good (retrying would not
   * help), with anything else if a retry might.
   */
  Future<Void> send(Notification n);

  /** Releases what the sender holds (an SMTP connection pool). */
  default Future<Void> close() {
    return Future.succeededFuture();
  }

  /** A receiver's final answer (an HTTP 4xx, DingTalk's errcode): not retried, and not held against the circuit. */
  final class Rejected extends RuntimeException {
    Rejected(String message) {
      super(message, null, false, false);
    }
  }

  static Sender create(Vertx vertx, WebClient web, AlertChannelConfig channel, String externalUrl, long timeoutMs) {
    return channel.type().equals("email")
      ? new Email(MailClient.create(vertx, mailConfig(channel.smtp(), timeoutMs)), channel, externalUrl)
      : new Http(web, channel, externalUrl, timeoutMs);
  }

  private static MailConfig mailConfig(AlertChannelConfig.Smtp smtp, long timeoutMs) {
    MailConfig config = new MailConfig().setHostname(smtp.host()).setPort(smtp.port()).setSsl(smtp.ssl())
      .setStarttls(StartTLSOptions.valueOf(smtp.starttls().toUpperCase(Locale.ROOT)))
      .setConnectTimeout((int) timeoutMs).setMaxPoolSize(1);
    if (!smtp.username().isEmpty()) {
      config.setUsername(smtp.username()).setPassword(smtp.password());
    }
    return config;
  }

  /** Webhook, Slack, DingTalk and Alertmanager: one POST of JSON. */
  final class Http implements Sender {

    /** Statuses worth retrying even though they are 4xx. */
    private static final Set<Integer> RETRYABLE_4XX = Set.of(408, 425, 429);
    private final WebClient web;
    private final AlertChannelConfig channel;
    private final String externalUrl;
    private final long timeoutMs;

    Http(WebClient web, AlertChannelConfig channel, String externalUrl, long timeoutMs) {
      this.web = web;
      this.channel = channel;
      this.externalUrl = externalUrl;
      this.timeoutMs = timeoutMs;
    }

    @Override
    public Future<Void> send(Notification n) {
      long now = System.currentTimeMillis();
      String url = channel.url();
      Buffer body;
      switch (channel.type()) {
        case "slack" -> body = Payloads.slack(n).toBuffer();
        case "dingtalk" -> {
          body = Payloads.dingTalk(n).toBuffer();
          if (!channel.secret().isEmpty()) {
            url += (url.contains("?") ? "&" : "?") + "timestamp=" + now + "&sign=" + Payloads.dingTalkSign(now, channel.secret());
          }
        }
        case "alertmanager" -> {
          body = Payloads.alertmanagerV2(n, externalUrl, channel.resendIntervalMs(), now).toBuffer();
          url = url.replaceAll("/+$", "");
          url += url.endsWith("/api/v2/alerts") ? "" : "/api/v2/alerts";
        }
        default -> body = Payloads.alertmanagerWebhook(n, channel.name(), externalUrl).toBuffer();
      }
      HttpRequest<Buffer> request = web.postAbs(url).timeout(timeoutMs)
        .putHeader("Content-Type", "application/json")
        .putHeader("Idempotency-Key", n.key())
        .putHeader("User-Agent", "chatroom-pulse");
      channel.headers().forEach(request::putHeader);
      return request.sendBuffer(body).compose(this::check);
    }

    private Future<Void> check(HttpResponse<Buffer> response) {
      int status = response.statusCode();
      if (status >= 200 && status < 300) {
        return channel.type().equals("dingtalk") ? dingTalkAnswer(response.body()) : Future.succeededFuture();
      }
      String detail = "HTTP " + status + " " + snippet(response.body());
      if (status >= 400 && status < 500 && !RETRYABLE_4XX.contains(status)) {
        return Future.failedFuture(new Rejected(detail));
      }
      return Future.failedFuture(detail);
    }

    /** DingTalk answers 200 with {@code {"errcode":0}}; anything else (a bad signature: 310000) is a refusal. */
    private static Future<Void> dingTalkAnswer(Buffer body) {
      try {
        JsonObject answer = body == null ? new JsonObject() : new JsonObject(body);
        int code = answer.getInteger("errcode", 0);
        return code == 0 ? Future.succeededFuture()
          : Future.failedFuture(new Rejected("DingTalk errcode " + code + ": " + answer.getString("errmsg", "")));
      } catch (DecodeException | ClassCastException e) {
        return Future.failedFuture("DingTalk answered with something other than JSON: " + snippet(body));
      }
    }

    private static String snippet(Buffer body) {
      if (body == null) {
        return "";
      }
      String text = body.toString();
      return text.length() > 200 ? text.substring(0, 200) + "…" : text;
    }
  }

  /** Email through vertx-mail-client. */
  final class Email implements Sender {

    private final MailClient mail;
    private final AlertChannelConfig channel;
    private final String externalUrl;

    Email(MailClient mail, AlertChannelConfig channel, String externalUrl) {
      this.mail = mail;
      this.channel = channel;
      this.externalUrl = externalUrl;
    }

    @Override
    public Future<Void> send(Notification n) {
      MailMessage message = new MailMessage().setFrom(channel.smtp().from()).setTo(channel.smtp().to())
        .setSubject(Payloads.emailSubject(n)).setText(Payloads.emailBody(n, externalUrl))
        .addHeader("X-Pulse-Idempotency-Key", n.key());
      return mail.sendMail(message).mapEmpty();
    }

    @Override
    public Future<Void> close() {
      return mail.close();
    }
  }
}
