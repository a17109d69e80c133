// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.os;

public class Build {
  public static final String BRAND = "shim";
  public static final String MODEL = "shim";
  public static final String[] SUPPORTED_ABIS = {};

  public static class VERSION {
    public static final String RELEASE = "shim";
    public static final int SDK_INT = 0;
  }
}
