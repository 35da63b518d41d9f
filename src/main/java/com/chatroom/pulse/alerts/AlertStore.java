package com.chatroom.pulse.alerts;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * Where alert state outlives the process. Without Redis nothing does (the verticle keeps everything in memory);
 * with Redis, series states, silences, history and dead letters are written behind, in batches, and read back at
 * start. Writes never hold up evaluation: they are buffered (bounded) and flushed one batch at a time.
 */
interface AlertStore {

  /** What a previous run (or a peer) left. Lists are oldest first. */
  record Loaded(List<JsonObject> series, List<JsonObject> silences, List<JsonObject> history,
                List<JsonObject> deadLetters) {
  }

  Future<Loaded> load();

  void saveSeries(String key, JsonObject state);

  void deleteSeries(String key);

  /** A silence that ended (new silences are written at once, by {@link RedisSync}). */
  void deleteSilence(String id);

  /**
   * @param key the change's identity: replicas write the same changes, and each is kept once under this key
   */
  void appendHistory(String key, JsonObject event);

  void appendDeadLetter(JsonObject record);

  /** Writes what is buffered, unless a write is still in flight. */
  void flush();

  Future<Void> close();

  /** No Redis: nothing to keep. */
  AlertStore NONE = new AlertStore() {
    @Override
    public Future<Loaded> load() {
      return Future.succeededFuture(new Loaded(List.of(), List.of(), List.of(), List.of()));
    }

    @Override
    public void saveSeries(String key, JsonObject state) {
    }

    @Override
    public void deleteSeries(String key) {
    }

    @Override
    public void deleteSilence(String id) {
    }

    @Override
    public void appendHistory(String key, JsonObject event) {
    }

    @Override
    public void appendDeadLetter(JsonObject record) {
    }

    @Override
    public void flush() {
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }
  };
}
