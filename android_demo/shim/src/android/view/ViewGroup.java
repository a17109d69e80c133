// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.view;

import android.content.Context;

public abstract class ViewGroup extends View {
  public ViewGroup(Context context) {
    super(context);
  }

  public void addView(View child) {}
}
