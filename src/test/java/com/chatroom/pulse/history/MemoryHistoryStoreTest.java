package com.chatroom.pulse.history;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.DisplayName;

@DisplayName("History contract: in-memory store")
class MemoryHistoryStoreTest extends HistoryStoreContract {

  @Override
  HistoryStore newStore(Vertx vertx) {
    return new MemoryHistoryStore(CONFIG);
  }
}
