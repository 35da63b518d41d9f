package com.chatroom.pulse.history;

import com.chatroom.pulse.RedisServer;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;

import java.io.IOException;

@DisplayName("History contract: Redis store, against a real redis-server")
class RedisHistoryStoreTest extends HistoryStoreContract {

  private static RedisServer redis;

  @BeforeAll
  static void startRedis() throws IOException {
    redis = new RedisServer().start();
  }

  @AfterAll
  static void stopRedis() throws InterruptedException {
    redis.close();
  }

  @Override
  HistoryStore newStore(Vertx vertx) {
    Redis client = Redis.createClient(vertx, new RedisOptions().setConnectionString(redis.url()).setMaxPoolWaiting(10_000));
    return new RedisHistoryStore(vertx, client, CONFIG);
  }
}
