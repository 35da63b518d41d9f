package com.chatroom.pulse.stream;

import com.chatroom.pulse.Samples;
import com.chatroom.pulse.bus.ApplicationMetrics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("A throttle window folds samples into count, min, max and avg")
class SampleWindowTest {

  @Test
  @DisplayName("measured fields are aggregated, counters and identities keep their newest value, integers stay integers in min and max")
  void appMetrics() {
    SampleWindow window = new SampleWindow();
    ApplicationMetrics[] samples = {
      new ApplicationMetrics(1_764_000_001d, 10, 100, 60, 1, 0, 3, 20.0, 0.01, "pod-a", "chat"),
      new ApplicationMetrics(1_764_000_002d, 14, 130, 90, 2, 1, 4, 40.0, 0.03, "pod-a", "chat"),
      new ApplicationMetrics(1_764_000_003d, 12, 150, 30, 3, 0, 5, 30.0, 0.0, "pod-a", "chat")};
    for (ApplicationMetrics s : samples) {
      window.add(s.toJson(), s);
    }
    JsonObject frame = new JsonObject(window.toFrame("app", 5000).encode());
    JsonObject data = frame.getJsonObject("data");
    JsonObject agg = frame.getJsonObject("aggregate");
    assertThat(frame.getString("type")).isEqualTo("app");
    assertThat(agg.getLong("count")).isEqualTo(3);
    assertThat(agg.getLong("window_ms")).isEqualTo(5000);
    assertThat(agg.getDouble("first_timestamp")).isEqualTo(1_764_000_001d);
    assertThat(data.getDouble("timestamp")).isEqualTo(1_764_000_003d);
    assertThat(data.getLong("total_messages")).isEqualTo(150);
    assertThat(data.getString("instance")).isEqualTo("pod-a");
    assertThat(agg.getJsonObject("min").getValue("active_users")).isEqualTo(10);
    assertThat(agg.getJsonObject("max").getValue("active_users")).isEqualTo(14);
    assertThat(agg.getJsonObject("avg").getDouble("active_users")).isEqualTo(12.0);
    assertThat(data.getDouble("response_time_avg")).isEqualTo(30.0);
    assertThat(agg.getJsonObject("avg").getDouble("error_rate")).isEqualTo(0.0133);
    assertThat(agg.getJsonObject("max").getDouble("error_rate")).isEqualTo(0.03);
    assertThat(agg.getJsonObject("min").containsKey("total_messages")).isFalse();
    assertThat(agg.getJsonObject("min").containsKey("timestamp")).isFalse();
    assertThat(window.newestRecord()).isSameAs(samples[2]);
  }

  @Test
  @DisplayName("arrays of numbers are aggregated element by element; objects and a field that changes shape keep the newest value")
  void shapes() {
    SampleWindow window = new SampleWindow();
    window.add(Samples.system("n", 1).toJson().put("extra", 5), null);
    window.add(Samples.system("n", 2).toJson().put("extra", "five").put("load_average", new JsonArray().add(1.5).add(0.25).add(0.125)), null);
    JsonObject frame = window.toFrame("system", 1000);
    JsonObject agg = frame.getJsonObject("aggregate");
    assertThat(agg.getJsonObject("max").getJsonArray("load_average").getList()).containsExactly(1.5, 0.25, 0.125);
    assertThat(agg.getJsonObject("avg").getJsonArray("load_average").getList()).containsExactly(1.0, 0.25, 0.125);
    assertThat(frame.getJsonObject("data").getJsonArray("load_average").getList()).containsExactly(1.0, 0.25, 0.125);
    assertThat(frame.getJsonObject("data").getString("extra")).isEqualTo("five");
    assertThat(agg.getJsonObject("avg").containsKey("extra")).isFalse();
    assertThat(agg.getJsonObject("avg").containsKey("disks")).isFalse();
    assertThat(frame.getJsonObject("data").getJsonArray("disks")).hasSize(1);
    assertThat(frame.getJsonObject("data").getLong("seq")).isEqualTo(2);
  }
}
