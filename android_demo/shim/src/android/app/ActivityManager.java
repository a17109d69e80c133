// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.app;

public class ActivityManager {
  public static class MemoryInfo {
    public long availMem;
    public long totalMem;
  }

  public void getMemoryInfo(MemoryInfo outInfo) {}
}
