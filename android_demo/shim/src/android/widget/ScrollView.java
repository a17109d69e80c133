// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.widget;

import android.content.Context;

public class ScrollView extends android.view.ViewGroup {
  public ScrollView(Context context) {
    super(context);
  }
}
