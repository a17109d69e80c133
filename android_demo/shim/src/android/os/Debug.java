// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.os;

public final class Debug {
  /** Proportional set size of this process, in kB. */
  public static long getPss() {
    throw new UnsupportedOperationException("shim");
  }
}
