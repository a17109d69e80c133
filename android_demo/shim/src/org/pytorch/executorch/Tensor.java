// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package org.pytorch.executorch;

public abstract class Tensor {
  public static Tensor fromBlob(long[] data, long[] shape) {
    throw new UnsupportedOperationException("shim");
  }

  public static Tensor fromBlob(float[] data, long[] shape) {
    throw new UnsupportedOperationException("shim");
  }

  public long[] shape() {
    throw new UnsupportedOperationException("shim");
  }

  /** Kotlin property {@code dataAsFloatArray}. */
  public float[] getDataAsFloatArray() {
    throw new UnsupportedOperationException("shim");
  }
}
