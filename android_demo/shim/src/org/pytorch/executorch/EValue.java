// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package org.pytorch.executorch;

public class EValue {
  public static EValue from(Tensor tensor) {
    throw new UnsupportedOperationException("shim");
  }

  public Tensor toTensor() {
    throw new UnsupportedOperationException("shim");
  }
}
