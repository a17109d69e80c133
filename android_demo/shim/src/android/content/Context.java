// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.content;

import android.content.res.AssetManager;
import java.io.File;

public abstract class Context {
  public static final String ACTIVITY_SERVICE = "activity";

  public AssetManager getAssets() {
    throw new UnsupportedOperationException("shim");
  }

  public File getFilesDir() {
    throw new UnsupportedOperationException("shim");
  }

  public Object getSystemService(String name) {
    throw new UnsupportedOperationException("shim");
  }
}
