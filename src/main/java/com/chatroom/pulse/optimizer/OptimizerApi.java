package com.chatroom.pulse.optimizer;

import com.chatroom.pulse.config.OptimizerRuleConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.NoSuchElementException;
import java.util.Set;

/**
 * The optimizer's side of the HTTP API: requests on the node-local address {@link #ADDRESS} (from any edge instance,
 * see {@link OptimizerRoutes}), answered on the optimizer verticle's context, so reads and overrides see and change
 * the decisions' own state without locks. Failures carry the HTTP status to answer with.
 */
final class OptimizerApi {

  /** Node-local request/reply: a JSON object with {@code op} and its arguments. */
  static final String ADDRESS = "pulse.optimizer.api";
  static final Set<String> STATES = Set.of("applied", "reverted", "skipped", "dry_run", "verified", "failed", "suspended", "resumed");

  private final Vertx vertx;
  private final Optimizer optimizer;
  private final Audit audit;
  private final boolean dryRun;

  OptimizerApi(Vertx vertx, Optimizer optimizer, Audit audit, boolean dryRun) {
    this.vertx = vertx;
    this.optimizer = optimizer;
    this.audit = audit;
    this.dryRun = dryRun;
  }

  Future<Void> register() {
    return vertx.eventBus().localConsumer(ADDRESS, this::handle).completion();
  }

  private void handle(Message<Object> message) {
    if (!(message.body() instanceof JsonObject request)) {
      message.fail(400, "expected a JSON object with 'op'");
      return;
    }
    try {
      message.reply(answer(request));
    } catch (BadRequest e) {
      message.fail(400, e.getMessage());
    } catch (NoSuchElementException e) {
      message.fail(404, e.getMessage());
    } catch (IllegalStateException e) {
      message.fail(409, e.getMessage());
    }
  }

  private JsonObject answer(JsonObject r) {
    String op = string(r, "op", 32, true);
    return switch (op) {
      case "actions" -> actions(r);
      case "rules" -> rules();
      case "revert" -> optimizer.revert(string(r, "rule", 128, true), by(r));
      case "suspend" -> optimizer.suspend(string(r, "rule", 128, true), by(r));
      case "resume" -> optimizer.resume(string(r, "rule", 128, true), by(r));
      default -> throw new BadRequest("unknown op '" + op + "'");
    };
  }

  private JsonObject actions(JsonObject r) {
    int limit = (int) integer(r, "limit", 1, audit.size(), Math.min(100, audit.size()));
    String rule = string(r, "rule", 128, false);
    String action = string(r, "action", 32, false);
    if (action != null && !OptimizerRuleConfig.ACTIONS.contains(action)) {
      throw new BadRequest("parameter 'action' must be one of " + String.join(", ", new java.util.TreeSet<>(OptimizerRuleConfig.ACTIONS)));
    }
    String state = string(r, "state", 32, false);
    if (state != null && !STATES.contains(state)) {
      throw new BadRequest("parameter 'state' must be one of " + String.join(", ", new java.util.TreeSet<>(STATES)));
    }
    return new JsonObject().put("node", optimizer.instance()).put("dry_run", dryRun)
      .put("actions", audit.newestFirst(limit, rule, action, state)).put("limit", limit).put("kept", audit.kept());
  }

  private JsonObject rules() {
    JsonArray rules = new JsonArray();
    optimizer.rules().forEach(rule -> rules.add(optimizer.ruleJson(rule)));
    return new JsonObject().put("node", optimizer.instance()).put("dry_run", dryRun).put("now", optimizer.now())
      .put("budget", optimizer.budgetJson()).put("rules", rules);
  }

  private static String by(JsonObject r) {
    String by = string(r, "by", 128, false);
    return by == null ? "admin" : by;
  }

  private static String string(JsonObject r, String field, int maxLength, boolean required) {
    Object raw = r.getValue(field);
    if (raw == null) {
      if (required) {
        throw new BadRequest("field '" + field + "' is required");
      }
      return null;
    }
    if (!(raw instanceof String s) || s.isBlank() || s.length() > maxLength) {
      throw new BadRequest("field '" + field + "' must be a non-empty string of at most " + maxLength + " characters");
    }
    return s;
  }

  private static long integer(JsonObject r, String field, long min, long max, long fallback) {
    Object raw = r.getValue(field);
    if (raw == null) {
      return fallback;
    }
    long value;
    if (raw instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
      value = n.longValue();
    } else if (raw instanceof String s && s.matches("-?\\d{1,9}")) {
      value = Long.parseLong(s);
    } else {
      throw new BadRequest("parameter '" + field + "' must be an integer between " + min + " and " + max);
    }
    if (value < min || value > max) {
      throw new BadRequest("parameter '" + field + "' must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  static final class BadRequest extends RuntimeException {
    BadRequest(String message) {
      super(message, null, false, false);
    }
  }
}
