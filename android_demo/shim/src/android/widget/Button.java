// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.widget;

import android.content.Context;

public class Button extends TextView {
  public Button(Context context) {
    super(context);
  }
}
