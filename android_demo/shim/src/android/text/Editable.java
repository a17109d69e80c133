// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.text;

public interface Editable extends CharSequence {}
