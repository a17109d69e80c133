// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.app;

import android.content.Context;
import android.content.Intent;
import android.os.Bundle;
import android.view.View;

public class Activity extends Context {
  protected void onCreate(Bundle savedInstanceState) {}

  protected void onDestroy() {}

  public void setContentView(View view) {}

  public void runOnUiThread(Runnable action) {}

  public Intent getIntent() {
    throw new UnsupportedOperationException("shim");
  }

  public void finish() {}

  public boolean isFinishing() {
    return false;
  }

  public boolean isDestroyed() {
    return false;
  }
}
