// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.content;

public class Intent {
  public String getStringExtra(String name) {
    throw new UnsupportedOperationException("shim");
  }

  public int getIntExtra(String name, int defaultValue) {
    throw new UnsupportedOperationException("shim");
  }

  public boolean hasExtra(String name) {
    throw new UnsupportedOperationException("shim");
  }
}
