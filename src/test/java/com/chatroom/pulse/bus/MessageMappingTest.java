package com.chatroom.pulse.bus;

import com.chatroom.pulse.Samples;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@DisplayName("The bus contract's JSON mapping")
class MessageMappingTest {

  /** Exactly what Python's json.dumps(asdict(SystemMetrics(...))) prints for the seed's dataclass. */
  static final String SEED_SYSTEM = "{\"timestamp\": 1764146820.123456, \"cpu_percent\": 37.5, \"memory_percent\": 61.2, "
    + "\"memory_used_mb\": 9876.54321, \"memory_available_mb\": 6234.5, \"disk_usage_percent\": 48.1, "
    + "\"disk_free_gb\": 120.33, \"network_bytes_sent\": 123456789, \"network_bytes_recv\": 987654321, "
    + "\"active_connections\": 412, \"load_average\": [1.25, 0.98, 0.7]}";

  /** Exactly what json.dumps(asdict(ApplicationMetrics(...))) prints. */
  static final String SEED_APP = "{\"timestamp\": 1764146820.5, \"active_users\": 150, \"total_messages\": 48213, "
    + "\"messages_per_minute\": 320, \"ai_requests_per_minute\": 12, \"file_transfers_active\": 3, "
    + "\"database_connections\": 8, \"response_time_avg\": 45.2, \"error_rate\": 0.002}";

  @Test
  @DisplayName("reads the seed's SystemMetrics asdict() output unchanged and fills Pulse's additions with defaults")
  void readsSeedSystemMetrics() {
    SystemMetrics s = BusMessages.systemMetrics(SEED_SYSTEM);
    assertThat(s.timestamp()).isEqualTo(1764146820.123456);
    assertThat(s.cpuPercent()).isEqualTo(37.5);
    assertThat(s.memoryUsedMb()).isEqualTo(9876.54321);
    assertThat(s.networkBytesRecv()).isEqualTo(987654321L);
    assertThat(s.activeConnections()).isEqualTo(412);
    assertThat(s.loadAverage()).containsExactly(1.25, 0.98, 0.7);
    assertThat(s.instance()).isEqualTo("unknown");
    assertThat(s.seq()).isZero();
    assertThat(s.memoryTotalMb()).isEqualTo(9876.54321 + 6234.5);
    assertThat(s.disks()).isEmpty();
  }

  @Test
  @DisplayName("reads the seed's ApplicationMetrics asdict() output unchanged")
  void readsSeedApplicationMetrics() {
    ApplicationMetrics a = BusMessages.applicationMetrics(new JsonObject(SEED_APP));
    assertThat(a.activeUsers()).isEqualTo(150);
    assertThat(a.totalMessages()).isEqualTo(48213);
    assertThat(a.responseTimeAvg()).isEqualTo(45.2);
    assertThat(a.errorRate()).isEqualTo(0.002);
    assertThat(a.instance()).isEqualTo(ApplicationMetrics.DEFAULT_INSTANCE);
    assertThat(a.service()).isEqualTo(ApplicationMetrics.DEFAULT_SERVICE);
  }

  @Test
  @DisplayName("writes every seed field name, plus Pulse's, and reads its own output back to an equal record")
  void roundTrips() {
    SystemMetrics s = Samples.system("node-a", 7);
    JsonObject json = s.toJson();
    assertThat(json.fieldNames()).contains("timestamp", "cpu_percent", "memory_percent", "memory_used_mb",
      "memory_available_mb", "disk_usage_percent", "disk_free_gb", "network_bytes_sent", "network_bytes_recv",
      "active_connections", "load_average", "instance", "seq", "disks", "network_sent_bytes_per_sec");
    assertThat(SystemMetrics.fromJson(new JsonObject(json.encode()))).isEqualTo(s);

    ApplicationMetrics a = Samples.app("node-a", 99);
    assertThat(a.toJson().fieldNames()).contains("timestamp", "active_users", "total_messages", "messages_per_minute",
      "ai_requests_per_minute", "file_transfers_active", "database_connections", "response_time_avg", "error_rate");
    assertThat(ApplicationMetrics.fromJson(new JsonObject(a.toJson().encode()))).isEqualTo(a);
  }

  @Test
  @DisplayName("writes timestamps as plain epoch seconds, never in exponent form")
  void plainTimestamps() {
    String encoded = Samples.system("n", 1).toJson().encode();
    assertThat(encoded).contains("\"timestamp\":1764000001.000");
  }

  @Test
  @DisplayName("accepts 5.0 for an integer field (Python and JavaScript senders) but not 5.5")
  void integralFloats() {
    JsonObject json = new JsonObject(SEED_APP).put("active_users", 5.0);
    assertThat(ApplicationMetrics.fromJson(json).activeUsers()).isEqualTo(5);
    assertThatThrownBy(() -> ApplicationMetrics.fromJson(json.put("active_users", 5.5)))
      .isInstanceOf(InvalidMessageException.class).hasMessageContaining("'active_users' must be an integer");
  }

  static Stream<Arguments> badApplicationMetrics() {
    return Stream.of(
      Arguments.of("timestamp", null, InvalidMessageException.Reason.MISSING_FIELD, "'timestamp' is missing"),
      Arguments.of("timestamp", 1764146820123.0, InvalidMessageException.Reason.OUT_OF_RANGE, "looks like milliseconds"),
      Arguments.of("timestamp", "now", InvalidMessageException.Reason.WRONG_TYPE, "must be a number, got a string"),
      Arguments.of("active_users", -1, InvalidMessageException.Reason.OUT_OF_RANGE, "'active_users' must be between 0"),
      Arguments.of("active_users", "150", InvalidMessageException.Reason.WRONG_TYPE, "'active_users' must be an integer, got a string"),
      Arguments.of("active_users", true, InvalidMessageException.Reason.WRONG_TYPE, "got a boolean"),
      Arguments.of("total_messages", new java.math.BigInteger("99999999999999999999999"), InvalidMessageException.Reason.OUT_OF_RANGE, "must be an integer up to"),
      Arguments.of("messages_per_minute", new JsonArray(), InvalidMessageException.Reason.WRONG_TYPE, "got an array"),
      Arguments.of("ai_requests_per_minute", new JsonObject(), InvalidMessageException.Reason.WRONG_TYPE, "got an object"),
      Arguments.of("file_transfers_active", 1e300, InvalidMessageException.Reason.WRONG_TYPE, "must be an integer"),
      Arguments.of("database_connections", null, InvalidMessageException.Reason.MISSING_FIELD, "'database_connections' is missing"),
      Arguments.of("response_time_avg", Double.POSITIVE_INFINITY, InvalidMessageException.Reason.OUT_OF_RANGE, "must be a finite number"),
      Arguments.of("response_time_avg", -0.5, InvalidMessageException.Reason.OUT_OF_RANGE, "'response_time_avg' must be between 0"),
      Arguments.of("error_rate", 1.5, InvalidMessageException.Reason.OUT_OF_RANGE, "'error_rate' must be between 0 and 1"),
      Arguments.of("instance", 42, InvalidMessageException.Reason.WRONG_TYPE, "'instance' must be a string"),
      Arguments.of("service", "", InvalidMessageException.Reason.OUT_OF_RANGE, "'service' must be a string of 1 to 128"));
  }

  @ParameterizedTest(name = "{0} = {1} → {2}")
  @MethodSource("badApplicationMetrics")
  @DisplayName("rejects a bad ApplicationMetrics field with its name and the reason")
  void rejectsBadApplicationMetrics(String field, Object value, InvalidMessageException.Reason reason, String message) {
    JsonObject json = new JsonObject(SEED_APP);
    if (value == null) {
      json.remove(field);
    } else {
      json.put(field, value);
    }
    assertThatThrownBy(() -> ApplicationMetrics.fromJson(json))
      .isInstanceOfSatisfying(InvalidMessageException.class, e -> {
        assertThat(e.field()).isEqualTo(field);
        assertThat(e.reason()).isEqualTo(reason);
      })
      .hasMessageContaining(message);
  }

  static Stream<Arguments> badSystemMetrics() {
    return Stream.of(
      Arguments.of("cpu_percent", 100.01, "'cpu_percent' must be between 0 and 100"),
      Arguments.of("memory_percent", null, "'memory_percent' is missing"),
      Arguments.of("disk_usage_percent", "full", "'disk_usage_percent' must be a number, got a string"),
      Arguments.of("network_bytes_sent", -5, "'network_bytes_sent' must be between 0"),
      Arguments.of("active_connections", 3.5, "'active_connections' must be an integer"),
      Arguments.of("load_average", new JsonArray().add(1).add(2), "'load_average' must have exactly 3 elements, got 2"),
      Arguments.of("load_average", new JsonArray().add(1).add("x").add(2), "'load_average[1]' must be a number"),
      Arguments.of("load_average", 1.0, "'load_average' must be an array"),
      Arguments.of("disks", new JsonArray().add(new JsonObject().put("mount", "/").put("usage_percent", 50)
        .put("free_gb", -1).put("total_gb", 10)), "'disks[0].free_gb' must be between 0"),
      Arguments.of("disks", new JsonArray().add("/"), "'disks[0]' must be an object"));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("badSystemMetrics")
  @DisplayName("rejects a bad SystemMetrics field with its name")
  void rejectsBadSystemMetrics(String field, Object value, String message) {
    JsonObject json = new JsonObject(SEED_SYSTEM);
    if (value == null) {
      json.remove(field);
    } else {
      json.put(field, value);
    }
    assertThatThrownBy(() -> SystemMetrics.fromJson(json)).isInstanceOf(InvalidMessageException.class)
      .hasMessageContaining(message);
  }

  @Test
  @DisplayName("rejects bodies that are not a JSON object, with the reason")
  void rejectsNonObjects() {
    List.of("", "{", "[1,2]", "null", "42", "\"text\"", "{\"timestamp\": NaN}").forEach(text ->
      assertThatThrownBy(() -> BusMessages.applicationMetrics(text)).isInstanceOf(InvalidMessageException.class)
        .satisfies(e -> assertThat(((InvalidMessageException) e).field()).isIn("$", "timestamp")));
    assertThatThrownBy(() -> BusMessages.applicationMetrics(42)).isInstanceOf(InvalidMessageException.class)
      .hasMessageContaining("got a Integer");
    assertThatThrownBy(() -> BusMessages.applicationMetrics(null)).isInstanceOf(InvalidMessageException.class)
      .hasMessageContaining("an empty body");
  }

  @Test
  @DisplayName("the codec hands the same record to local consumers and round-trips the wire form through validation")
  void codec() {
    PulseMessageCodec codec = new PulseMessageCodec();
    SystemMetrics s = Samples.system("node-b", 3);
    assertThat(codec.transform(s)).isSameAs(s);

    Buffer wire = Buffer.buffer().appendString("prefix");
    codec.encodeToWire(wire, s);
    assertThat(codec.decodeFromWire(6, wire)).isEqualTo(s);

    ApplicationMetrics a = Samples.app("node-b", 5);
    Buffer wire2 = Buffer.buffer();
    codec.encodeToWire(wire2, a);
    assertThat(codec.decodeFromWire(0, wire2)).isEqualTo(a);
  }

  @Test
  @DisplayName("the codec refuses an invalid message from a cluster peer instead of passing it on")
  void codecValidatesWire() {
    PulseMessageCodec codec = new PulseMessageCodec();
    byte[] kind = "app".getBytes();
    Buffer json = new JsonObject(SEED_APP).put("error_rate", 7).toBuffer();
    Buffer wire = Buffer.buffer().appendInt(kind.length).appendBytes(kind).appendInt(json.length()).appendBuffer(json);
    assertThatThrownBy(() -> codec.decodeFromWire(0, wire)).isInstanceOf(InvalidMessageException.class)
      .hasMessageContaining("error_rate");
  }
}
