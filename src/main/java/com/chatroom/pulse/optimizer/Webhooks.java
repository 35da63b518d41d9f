package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.config.OptimizerConfig;
import com.chatroom.pulse.config.OptimizerRuleConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

/**
 * POSTs a webhook rule's action event (apply and revert) as JSON: each attempt bounded by
 * {@code optimizer.webhook.timeout}, at most {@code max_attempts} attempts with a doubling backoff. A 2xx answer is
 * success; a 4xx other than 408 and 429 is final (retrying will not change the receiver's mind); anything else is
 * retried. The future fails with the last error once attempts run out.
 */
final class Webhooks {

  private final Vertx vertx;
  private final OptimizerConfig.WebhookDelivery delivery;
  private final WebClient client;

  Webhooks(Vertx vertx, OptimizerConfig.WebhookDelivery delivery) {
    this.vertx = vertx;
    this.delivery = delivery;
    this.client = WebClient.create(vertx, new WebClientOptions().setUserAgent("chatroom-pulse-optimizer")
      .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, delivery.timeoutMs())));
  }

  Future<Void> post(OptimizerRuleConfig.Webhook webhook, JsonObject event) {
    Promise<Void> done = Promise.promise();
    attempt(webhook, event, 1, delivery.backoffMs(), done);
    return done.future();
  }

  private void attempt(OptimizerRuleConfig.Webhook webhook, JsonObject event, int n, long backoffMs, Promise<Void> done) {
    HttpRequest<Buffer> request = client.postAbs(webhook.url()).timeout(delivery.timeoutMs())
      .putHeader("Idempotency-Key", event.getString("id"));
    webhook.headers().forEach(request::putHeader);
    request.sendJsonObject(event).onComplete(ar -> {
      String error;
      boolean retry;
      if (ar.succeeded()) {
        int status = ar.result().statusCode();
        if (status >= 200 && status < 300) {
          done.complete();
          return;
        }
        error = "HTTP " + status;
        retry = status >= 500 || status == 408 || status == 429;
      } else {
        error = ar.cause().getClass().getSimpleName() + ": " + ar.cause().getMessage();
        retry = true;
      }
      if (!retry || n >= delivery.maxAttempts()) {
        done.fail(error + " after " + n + (n == 1 ? " attempt" : " attempts"));
      } else {
        vertx.setTimer(backoffMs, id -> attempt(webhook, event, n + 1, Math.min(backoffMs * 2, 60_000), done));
      }
    });
  }

  void close() {
    client.close();
  }
}
