// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package org.pytorch.executorch;

public class ExecutorchRuntimeException extends RuntimeException {
  public ExecutorchRuntimeException(int errorCode, String details) {
    super(details);
  }

  /** Kotlin property {@code errorCode}. */
  public int getErrorCode() {
    throw new UnsupportedOperationException("shim");
  }
}
