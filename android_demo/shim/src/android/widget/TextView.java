// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.widget;

import android.content.Context;
import android.view.View;

public class TextView extends View {
  public TextView(Context context) {
    super(context);
  }

  public void setText(CharSequence text) {}

  public void setTextSize(float size) {}

  public void setHint(CharSequence hint) {}

  public void setMinLines(int minLines) {}

  public CharSequence getText() {
    throw new UnsupportedOperationException("shim");
  }
}
