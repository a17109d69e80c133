package org.albertedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ModelFilesTest {
  @Rule public TemporaryFolder tmp = new TemporaryFolder();

  private static final byte[] MODEL = "not really a pte, but bytes all the same".getBytes(StandardCharsets.UTF_8);

  @Test
  public void copiesVerifiesAndSkipsAnUnchangedCopy() throws IOException {
    String sha = sha(MODEL);
    File dest = new File(tmp.getRoot(), "model.pte");
    assertTrue(ModelFiles.copyIfChanged(new ByteArrayInputStream(MODEL), dest, MODEL.length, sha));
    assertArrayEquals(MODEL, Files.readAllBytes(dest.toPath()));
    assertEquals(sha, ModelFiles.sha256Hex(dest));
    assertFalse("same content: no second copy", ModelFiles.copyIfChanged(new ByteArrayInputStream(MODEL), dest, MODEL.length, sha));
    assertFalse(new File(tmp.getRoot(), "model.pte.part").exists());
  }

  @Test
  public void recopiesAFileOfTheSameSizeButOtherContent() throws IOException {
    File dest = new File(tmp.getRoot(), "model.pte");
    ModelFiles.copyIfChanged(new ByteArrayInputStream(MODEL), dest, MODEL.length, sha(MODEL));
    byte[] other = MODEL.clone();
    other[0] ^= 1; // a re-export of the same architecture: equal size, new weights
    assertTrue(ModelFiles.copyIfChanged(new ByteArrayInputStream(other), dest, other.length, sha(other)));
    assertArrayEquals(other, Files.readAllBytes(dest.toPath()));
  }

  @Test
  public void refusesAMismatchAndKeepsTheOldCopy() throws IOException {
    File dest = new File(tmp.getRoot(), "model.pte");
    ModelFiles.copyIfChanged(new ByteArrayInputStream(MODEL), dest, MODEL.length, sha(MODEL));
    try {
      ModelFiles.copyIfChanged(new ByteArrayInputStream("truncated".getBytes(StandardCharsets.UTF_8)), dest, 1000, "00");
      fail("a copy that does not match the manifest must fail");
    } catch (ModelFiles.ChecksumMismatch e) {
      assertTrue(e.getMessage(), e.getMessage().contains("albert_edge.bundle"));
    }
    assertArrayEquals(MODEL, Files.readAllBytes(dest.toPath()));
    assertFalse(new File(tmp.getRoot(), "model.pte.part").exists());
  }

  @Test
  public void sha256MatchesAKnownVector() throws IOException {
    // FIPS 180-2 test vector: sha256("abc").
    File f = tmp.newFile("abc");
    Files.write(f.toPath(), "abc".getBytes(StandardCharsets.US_ASCII));
    assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ModelFiles.sha256Hex(f));
  }

  @Test
  public void writesAtomically() throws IOException {
    File out = new File(tmp.getRoot(), "benchmark_results.json");
    ModelFiles.writeAtomically(out, "[1]");
    ModelFiles.writeAtomically(out, "[2]");
    assertEquals("[2]", new String(Files.readAllBytes(out.toPath()), StandardCharsets.UTF_8));
    assertFalse(new File(tmp.getRoot(), "benchmark_results.json.part").exists());
  }

  private String sha(byte[] data) throws IOException {
    File f = tmp.newFile();
    Files.write(f.toPath(), data);
    return ModelFiles.sha256Hex(f);
  }

  @Test
  public void benchmarkModeLoadsOnlyFromAdbsFolderOrTheAppsOwnFiles() throws IOException {
    File filesDir = tmp.newFolder("files");
    File own = new File(filesDir, "model.pte");
    Files.write(own.toPath(), new byte[] {1});
    assertTrue(ModelFiles.isBenchmarkablePath(own, filesDir));
    assertTrue(ModelFiles.isBenchmarkablePath(new File("/data/local/tmp/albert/model.pte"), filesDir));
    assertFalse(ModelFiles.isBenchmarkablePath(new File("/etc/passwd"), filesDir));
    assertFalse(ModelFiles.isBenchmarkablePath(new File(filesDir, "../other/model.pte"), filesDir));
    assertFalse(ModelFiles.isBenchmarkablePath(new File("/data/local/tmp/../../etc/passwd"), filesDir));
    // A link inside the app's files that points elsewhere is judged by where it points.
    File link = new File(filesDir, "link.pte");
    Files.createSymbolicLink(link.toPath(), new File("/etc/passwd").toPath());
    assertFalse(ModelFiles.isBenchmarkablePath(link, filesDir));
  }
}
