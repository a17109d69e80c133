// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
// Signatures as Java sees executorch-android 1.5.1's Kotlin Module (companion @JvmStatic/@JvmOverloads).
package org.pytorch.executorch;

public class Module {
  public static final int LOAD_MODE_FILE = 0;
  public static final int LOAD_MODE_MMAP = 1;

  public static Module load(String modelPath, int loadMode, int numThreads) {
    throw new UnsupportedOperationException("shim");
  }

  public EValue[] forward(EValue... inputs) {
    throw new UnsupportedOperationException("shim");
  }

  public EValue[] execute(String methodName, EValue... inputs) {
    throw new UnsupportedOperationException("shim");
  }

  /** Throws ExecutorchRuntimeException on failure (1.x; it returned an int error code in 0.x). */
  public void loadMethod(String methodName) {}

  public void destroy() {}
}
