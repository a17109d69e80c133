package org.albertedge.core;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Puts bundled model files where the runtime can map them. ExecuTorch loads from a path (and maps
 * it), but an APK asset is not a file, so the .pte is copied to the app's files directory once;
 * the copy is checked against the manifest's sha256 and written atomically, so a killed app never
 * leaves a half-written model that looks valid next time.
 */
public final class ModelFiles {
  private ModelFiles() {}

  /** Thrown when a copied file does not match the manifest. */
  public static final class ChecksumMismatch extends IOException {
    public ChecksumMismatch(String message) {
      super(message);
    }
  }

  /**
   * Copies {@code in} to {@code dest} unless an earlier copy of the same content is there. A size
   * check alone is not enough: re-exporting the same architecture gives a file of equal size, so
   * the sha256 of the last verified copy is kept in {@code dest.sha256} and compared. The copy
   * must have {@code expectedBytes} bytes and sha256 {@code expectedSha256} (hex). Returns true
   * when it copied. Closes {@code in}.
   */
  public static boolean copyIfChanged(InputStream in, File dest, long expectedBytes, String expectedSha256)
      throws IOException {
    try (InputStream source = in) {
      File stamp = new File(dest.getPath() + ".sha256");
      if (dest.isFile() && dest.length() == expectedBytes && stamp.isFile()
          && readUtf8(new FileInputStream(stamp)).trim().equalsIgnoreCase(expectedSha256)) {
        return false;
      }
      File tmp = new File(dest.getPath() + ".part");
      MessageDigest sha = sha256();
      long n = 0;
      try (FileOutputStream out = new FileOutputStream(tmp)) {
        byte[] buf = new byte[1 << 20];
        int r;
        while ((r = source.read(buf)) > 0) {
          out.write(buf, 0, r);
          sha.update(buf, 0, r);
          n += r;
        }
        out.getFD().sync();
      }
      String actual = hex(sha.digest());
      if (n != expectedBytes || !actual.equalsIgnoreCase(expectedSha256)) {
        tmp.delete();
        throw new ChecksumMismatch(
            dest.getName() + " has " + n + " bytes, sha256 " + actual + "; manifest.json says "
                + expectedBytes + " bytes, sha256 " + expectedSha256
                + ". Re-run python -m albert_edge.bundle so the model and manifest come from one export.");
      }
      stamp.delete(); // a crash between the rename and the new stamp must not bless a stale stamp
      if (!tmp.renameTo(dest)) {
        tmp.delete();
        throw new IOException("could not rename " + tmp + " to " + dest);
      }
      writeAtomically(stamp, actual + "\n");
      return true;
    }
  }

  /** Hex sha256 of a file. */
  public static String sha256Hex(File file) throws IOException {
    MessageDigest sha = sha256();
    try (InputStream in = new FileInputStream(file)) {
      byte[] buf = new byte[1 << 20];
      int r;
      while ((r = in.read(buf)) > 0) {
        sha.update(buf, 0, r);
      }
    }
    return hex(sha.digest());
  }

  /** Reads a whole UTF-8 stream (an asset such as manifest.json); closes it. */
  /**
   * True when {@code model} resolves (symlinks and {@code ..} followed) to a file under
   * {@code /data/local/tmp/} or under {@code filesDir}: the only places the benchmark mode loads from.
   */
  public static boolean isBenchmarkablePath(File model, File filesDir) {
    try {
      String path = model.getCanonicalPath();
      String own = filesDir.getCanonicalPath() + File.separator;
      return path.startsWith("/data/local/tmp/") || path.startsWith(own);
    } catch (IOException e) {
      return false;
    }
  }

  public static String readUtf8(InputStream in) throws IOException {
    return SentencePieceUnigram.readUtf8(in);
  }

  /** Writes text to {@code dest} through a temporary file and a rename. */
  public static void writeAtomically(File dest, String text) throws IOException {
    File tmp = new File(dest.getPath() + ".part");
    try (FileOutputStream out = new FileOutputStream(tmp)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.getFD().sync();
    }
    if (!tmp.renameTo(dest)) {
      tmp.delete();
      throw new IOException("could not rename " + tmp + " to " + dest);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
  }

  private static String hex(byte[] bytes) {
    StringBuilder sb = new StringBuilder(bytes.length * 2);
    for (byte b : bytes) {
      sb.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
    }
    return sb.toString();
  }
}
