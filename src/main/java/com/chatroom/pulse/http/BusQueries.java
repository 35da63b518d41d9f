package com.chatroom.pulse.http;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** How the read routes of /api turn a request into the request they send on the bus to the verticle that answers. */
public final class BusQueries {

  private BusQueries() {
  }

  /** {@code {"op": op}} plus each named query parameter the request has, as given (the answering verticle validates). */
  public static JsonObject query(RoutingContext ctx, String op, String... params) {
    JsonObject request = new JsonObject().put("op", op);
    for (String p : params) {
      String value = ctx.queryParams().get(p);
      if (value != null) {
        request.put(p, value);
      }
    }
    return request;
  }
}
