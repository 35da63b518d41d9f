package com.chatroom.pulse.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("One computation in flight (the /metrics scrape)")
class SingleFlightTest {

  @Test
  @DisplayName("a computation already over when it is started (its listener runs at once) is not handed out again: the next call starts anew")
  void completedAtOnceIsNotKept() {
    SingleFlight<String> flight = new SingleFlight<>();
    assertThat(flight.run(() -> Future.succeededFuture("first")).result()).isEqualTo("first");
    assertThat(flight.run(() -> Future.succeededFuture("second")).result()).isEqualTo("second");
    assertThat(flight.run(() -> Future.failedFuture("third failed")).cause()).hasMessage("third failed");
    assertThat(flight.run(() -> Future.succeededFuture("fourth")).result()).isEqualTo("fourth");
  }

  @Test
  @DisplayName("callers while one runs share it; once it ends, the next caller starts a new one")
  void sharedWhileRunning() {
    SingleFlight<String> flight = new SingleFlight<>();
    AtomicInteger started = new AtomicInteger();
    Promise<String> slow = Promise.promise();
    Future<String> a = flight.run(() -> {
      started.incrementAndGet();
      return slow.future();
    });
    Future<String> b = flight.run(() -> {
      started.incrementAndGet();
      return Future.succeededFuture("must not start");
    });
    assertThat(b).isSameAs(a);
    assertThat(started).hasValue(1);
    slow.complete("shared");
    assertThat(b.result()).isEqualTo("shared");
    assertThat(flight.run(() -> {
      started.incrementAndGet();
      return Future.succeededFuture("fresh");
    }).result()).isEqualTo("fresh");
    assertThat(started).hasValue(2);
  }
}
