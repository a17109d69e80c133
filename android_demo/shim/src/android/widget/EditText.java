// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.widget;

import android.content.Context;
import android.text.Editable;

public class EditText extends TextView {
  public EditText(Context context) {
    super(context);
  }

  @Override
  public Editable getText() {
    throw new UnsupportedOperationException("shim");
  }
}
