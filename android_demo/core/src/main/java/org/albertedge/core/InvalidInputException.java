package org.albertedge.core;

/** A model input outside what the program accepts; the message names the input, the position and the range. */
public final class InvalidInputException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public InvalidInputException(String message) {
    super(message);
  }
}
