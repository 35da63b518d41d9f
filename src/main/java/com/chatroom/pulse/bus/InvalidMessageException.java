package com.chatroom.pulse.bus;

/**
 * A message from outside (bus body, HTTP body, WebSocket frame) that does not match the contract.
 * {@link #field()} names the offending field ({@code "$"} for the whole message) so the sender can fix it.
 */
public final class InvalidMessageException extends RuntimeException {

  /** Why a message was rejected; also the {@code reason} tag of the rejection counter. */
  public enum Reason {
    MALFORMED("malformed"), MISSING_FIELD("missing_field"), WRONG_TYPE("wrong_type"),
    OUT_OF_RANGE("out_of_range"), UNSUPPORTED_BODY("unsupported_body");

    private final String tag;

    Reason(String tag) {
      this.tag = tag;
    }

    public String tag() {
      return tag;
    }
  }

  private final String field;
  private final Reason reason;

  public InvalidMessageException(String field, Reason reason, String message) {
    super(message, null, false, false);
    this.field = field;
    this.reason = reason;
  }

  public String field() {
    return field;
  }

  public Reason reason() {
    return reason;
  }
}
