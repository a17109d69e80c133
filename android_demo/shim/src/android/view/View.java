// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.view;

import android.content.Context;

public class View {
  public interface OnClickListener {
    void onClick(View v);
  }

  public View(Context context) {}

  public void setOnClickListener(OnClickListener l) {}

  public void setEnabled(boolean enabled) {}

  public void setPadding(int left, int top, int right, int bottom) {}
}
