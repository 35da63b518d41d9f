package com.chatroom.pulse.chat;

import com.chatroom.pulse.WsClient;
import com.chatroom.pulse.bus.Addresses;
import com.chatroom.pulse.bus.ChatMessage;
import com.chatroom.pulse.bus.ChatPresence;
import com.chatroom.pulse.bus.ChatPresence.Member;
import com.chatroom.pulse.metrics.MeterNames;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.chatroom.pulse.chat.Chat.join;
import static com.chatroom.pulse.chat.Chat.seqs;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
@DisplayName("The room registry: ordering across publishers and presence")
class ChatRoomsTest {

  private WebSocketClient client;

  private static ChatMessage remote(String room, long seq) {
    return new ChatMessage(room, seq, "r" + seq, "remote-user", "Remote", "from another node #" + seq, 1_764_000_000d, "pod-b", 0);
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("messages published out of sequence (two nodes racing) reach clients in sequence; a hole history cannot fill is skipped")
  void reordersAcrossPublishers(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    Chat.deploy(vertx, new JsonObject())
      .compose(port -> Chat.connect(vertx, client, port, "alice"))
      .compose(a -> join(a, "room", null).map(a))
      .compose(a -> {
        vertx.eventBus().publish(Addresses.chatRoom("room"), remote("room", 3));
        vertx.eventBus().publish(Addresses.chatRoom("room"), remote("room", 1));
        vertx.eventBus().publish(Addresses.chatRoom("room"), remote("room", 2));
        vertx.eventBus().publish(Addresses.chatRoom("room"), remote("room", 2));
        // 4 never comes and is in no history: 5 is delivered after the reorder wait
        vertx.eventBus().publish(Addresses.chatRoom("room"), remote("room", 5));
        return a.await(Chat.message("room", 5)).map(a);
      })
      .onComplete(ctx.succeeding(a -> ctx.verify(() -> {
        assertThat(seqs(a, "room")).containsExactly(1L, 2L, 3L, 5L);
        assertThat(a.ofType("message").get(0).getString("text")).isEqualTo("from another node #1");
        assertThat(Chat.counter(vertx, MeterNames.CHAT_REORDERED)).isEqualTo(2);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("joins and leaves are announced in batches, with the member list in a small room and only the count in a large one")
  void presence(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    WsClient[] c = new WsClient[3];
    int[] port = new int[1];
    Chat.deploy(vertx, new JsonObject().put("presence_list_max", 2).put("presence_batch_ms", 100))
      .compose(p -> {
        port[0] = p;
        return Chat.connect(vertx, client, p, "alice");
      })
      .compose(a -> {
        c[0] = a;
        return join(a, "room", null);
      })
      .compose(joined -> {
        ctx.verify(() -> {
          assertThat(joined.getInteger("count")).isEqualTo(1);
          assertThat(joined.getJsonArray("members")).hasSize(1);
        });
        return Chat.connect(vertx, client, port[0], "bob");
      })
      .compose(b -> {
        c[1] = b;
        return join(b, "room", null);
      })
      .compose(joined -> c[0].await(f -> "presence".equals(f.getString("type")) && f.getInteger("count") == 2))
      .compose(p2 -> {
        ctx.verify(() -> {
          assertThat(p2.getJsonArray("joined")).extracting(m -> ((JsonObject) m).getString("id")).contains("bob");
          assertThat(p2.getJsonArray("members")).hasSize(2);
        });
        // a user on another node joins: the room now has 3 members, over presence_list_max
        vertx.eventBus().publish(Addresses.chatRoom("room"), new ChatPresence("room", "pod-b",
          List.of(new Member("carol", "Carol")), List.of(), false));
        return c[0].await(f -> "presence".equals(f.getString("type")) && f.getInteger("count") == 3);
      })
      .compose(p3 -> {
        ctx.verify(() -> assertThat(p3.containsKey("members")).as("large room: count only").isFalse());
        c[1].ws.writeTextMessage("{\"type\":\"leave\",\"room\":\"room\"}");
        return c[1].awaitType("left").compose(x -> c[0].await(f -> "presence".equals(f.getString("type")) && !f.getJsonArray("left").isEmpty()));
      })
      .onComplete(ctx.succeeding(p4 -> ctx.verify(() -> {
        assertThat(p4.getInteger("count")).isEqualTo(2);
        assertThat(p4.getJsonArray("left")).extracting(m -> ((JsonObject) m).getString("id")).containsExactly("bob");
        assertThat(p4.getJsonArray("members")).extracting(m -> ((JsonObject) m).getString("id")).containsExactlyInAnyOrder("alice", "carol");
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a node that newly subscribes to a room asks for member lists: this node answers with its members, and its clients see only the new one")
  void presenceSync(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    io.vertx.core.Promise<ChatPresence> answer = io.vertx.core.Promise.promise();
    vertx.eventBus().<Object>consumer(Addresses.chatRoom("room"), m -> {
      if (m.body() instanceof ChatPresence p && p.origin().equals("edge-test") && !p.sync() && p.left().isEmpty()
        && p.joined().stream().anyMatch(x -> x.id().equals("alice")) && syncSent) {
        answer.tryComplete(p);
      }
    });
    Chat.deploy(vertx, new JsonObject().put("presence_batch_ms", 20))
      .compose(port -> Chat.connect(vertx, client, port, "alice"))
      .compose(a -> join(a, "room", null).map(a))
      .compose(a -> a.await(f -> "presence".equals(f.getString("type"))).map(a))
      .compose(a -> {
        syncSent = true;
        vertx.eventBus().publish(Addresses.chatRoom("room"), new ChatPresence("room", "pod-b",
          List.of(new Member("dave", "Dave")), List.of(), true));
        return answer.future().compose(p -> a.await(f -> "presence".equals(f.getString("type")) && f.getInteger("count") == 2)
          .map(frame -> List.of(p, frame)));
      })
      .onComplete(ctx.succeeding(r -> ctx.verify(() -> {
        ChatPresence p = (ChatPresence) r.get(0);
        assertThat(p.joined()).extracting(Member::id).containsExactly("alice");
        JsonObject frame = (JsonObject) r.get(1);
        assertThat(frame.getJsonArray("joined")).extracting(m -> ((JsonObject) m).getString("id")).containsExactly("dave");
        assertThat(frame.getJsonArray("members")).hasSize(2);
        ctx.completeNow();
      })));
  }

  @Test
  @Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
  @DisplayName("a node that leaves the cluster unannounced: its members are dropped and announced as left (unless known elsewhere); when it comes back, this node asks for lists again")
  void nodeLeftAndBack(Vertx vertx, VertxTestContext ctx) {
    client = WsClient.newClient(vertx, 0);
    List<ChatPresence> syncs = new java.util.concurrent.CopyOnWriteArrayList<>();
    io.vertx.core.Promise<Void> bothSynced = io.vertx.core.Promise.promise();
    for (String room : List.of("room", "room2")) {
      vertx.eventBus().<Object>consumer(Addresses.chatRoom(room), m -> {
        if (m.body() instanceof ChatPresence p && p.origin().equals("edge-test") && p.sync() && nodeBLeft) {
          syncs.add(p);
          if (syncs.stream().map(ChatPresence::room).distinct().count() == 2) {
            bothSynced.tryComplete();
          }
        }
      });
    }
    WsClient[] a = new WsClient[1];
    Chat.deploy(vertx, new JsonObject().put("presence_batch_ms", 20))
      .compose(port -> Chat.connect(vertx, client, port, "alice"))
      .compose(alice -> {
        a[0] = alice;
        return join(alice, "room", null).compose(x -> join(alice, "room2", null));
      })
      .compose(x -> {
        // carol and dave on node-b, dave also on node-c; erin on node-b in room2
        vertx.eventBus().publish(Addresses.chatRoom("room"), new ChatPresence("room", "node-b",
          List.of(new Member("carol", "Carol"), new Member("dave", "Dave")), List.of(), false));
        vertx.eventBus().publish(Addresses.chatRoom("room"), new ChatPresence("room", "node-c",
          List.of(new Member("dave", "Dave")), List.of(), false));
        vertx.eventBus().publish(Addresses.chatRoom("room2"), new ChatPresence("room2", "node-b",
          List.of(new Member("erin", "Erin")), List.of(), false));
        return Future.all(a[0].await(f -> "presence".equals(f.getString("type")) && "room".equals(f.getString("room")) && f.getInteger("count") == 3),
          a[0].await(f -> "presence".equals(f.getString("type")) && "room2".equals(f.getString("room")) && f.getInteger("count") == 2));
      })
      .compose(x -> {
        nodeBLeft = true;
        vertx.eventBus().publish(Addresses.CLUSTER_NODE_LEFT, "node-b");
        return Future.all(a[0].await(f -> "presence".equals(f.getString("type")) && "room".equals(f.getString("room")) && !f.getJsonArray("left").isEmpty()),
          a[0].await(f -> "presence".equals(f.getString("type")) && "room2".equals(f.getString("room")) && !f.getJsonArray("left").isEmpty()));
      })
      .compose(left -> {
        ctx.verify(() -> {
          JsonObject room = left.resultAt(0);
          assertThat(room.getJsonArray("left")).extracting(m -> ((JsonObject) m).getString("id")).containsExactly("carol");
          assertThat(room.getInteger("count")).as("alice, and dave still on node-c").isEqualTo(2);
          assertThat(room.getJsonArray("members")).extracting(m -> ((JsonObject) m).getString("id")).containsExactlyInAnyOrder("alice", "dave");
          JsonObject room2 = left.resultAt(1);
          assertThat(room2.getJsonArray("left")).extracting(m -> ((JsonObject) m).getString("id")).containsExactly("erin");
          assertThat(room2.getInteger("count")).isEqualTo(1);
        });
        // a node never seen leave joins (a new pod): nothing to ask; node-b comes back (a split healed): ask again
        vertx.eventBus().publish(Addresses.CLUSTER_NODE_ADDED, "node-z");
        vertx.eventBus().publish(Addresses.CLUSTER_NODE_ADDED, "node-b");
        return bothSynced.future();
      })
      .onComplete(ctx.succeeding(x -> ctx.verify(() -> {
        assertThat(syncs).as("one request per room with members here, none for the new node").hasSize(2)
          .allSatisfy(p -> assertThat(p.joined()).hasSize(1));
        assertThat(a[0].ofType("presence").stream().filter(f -> !f.getJsonArray("left").isEmpty())).as("no one left twice").hasSize(2);
        ctx.completeNow();
      })));
  }

  private volatile boolean nodeBLeft;

  private volatile boolean syncSent;
}
