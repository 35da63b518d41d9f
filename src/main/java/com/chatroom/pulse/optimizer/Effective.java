package com.chatroom.pulse.optimizer;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;

/**
 * The parameters published for an action type that several rules hold at once: per parameter, the strongest value any
 * holder asks for — the largest {@code interval_ms}, and the smallest of everything else ({@code per_second},
 * {@code cap}, {@code idle_seconds}, the trim floors). Min and max do not depend on the order the rules acted in, so
 * the result is the same whichever rule fired first; holders are listed in config order.
 */
final class Effective {

  private Effective() {
  }

  /** @param holders the rules holding one action type live, in config order */
  static JsonObject parameters(List<OptimizerRule> holders) {
    JsonObject out = new JsonObject();
    for (OptimizerRule rule : holders) {
      for (Map.Entry<String, Number> p : rule.spec.action().parameters().entrySet()) {
        Object current = out.getValue(p.getKey());
        out.put(p.getKey(), current instanceof Number n ? stronger(p.getKey(), n, p.getValue()) : p.getValue());
      }
    }
    return out;
  }

  static Number stronger(String parameter, Number a, Number b) {
    boolean larger = parameter.equals("interval_ms");
    double x = a.doubleValue();
    double y = b.doubleValue();
    return (larger ? y > x : y < x) ? b : a;
  }

  static JsonArray names(List<OptimizerRule> holders) {
    JsonArray names = new JsonArray();
    holders.forEach(r -> names.add(r.name));
    return names;
  }
}
