// COMPILE-ONLY SHIM, never packaged: see android_demo/shim/README.md.
package android.os;

public final class Bundle {}
