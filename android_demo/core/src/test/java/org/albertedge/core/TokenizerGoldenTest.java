package org.albertedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Id-for-id parity with the Python tokenizer on the lines of {@code golden_tokens.tsv}, written by
 * {@code scripts/make_android_golden.py} from {@code AlbertTokenizer.encode(text).input_ids}.
 */
public class TokenizerGoldenTest {
  private static final int MIN_LINES = 2000;
  private static final String REGENERATE = "; run python scripts/make_android_golden.py";

  private static SentencePieceUnigram tokenizer;
  private static InputBuilder builder;
  private static final List<String> texts = new ArrayList<>();
  private static final List<long[]> expected = new ArrayList<>();

  @BeforeClass
  public static void load() throws IOException {
    InputStream vocab = TokenizerGoldenTest.class.getResourceAsStream("/vocab.json");
    assertNotNull("test resource vocab.json is missing" + REGENERATE, vocab);
    tokenizer = SentencePieceUnigram.load(vocab);
    // Long enough that nothing is truncated: this test is about tokenization alone.
    builder = new InputBuilder(tokenizer, 1 << 20);

    InputStream golden = TokenizerGoldenTest.class.getResourceAsStream("/golden_tokens.tsv");
    assertNotNull("test resource golden_tokens.tsv is missing" + REGENERATE, golden);
    try (BufferedReader r = new BufferedReader(new InputStreamReader(golden, StandardCharsets.UTF_8))) {
      String header = r.readLine();
      assertTrue("golden_tokens.tsv lacks its header" + REGENERATE, header != null && header.startsWith("# generated"));
      String line;
      while ((line = r.readLine()) != null) {
        int tab = line.lastIndexOf('\t');
        assertTrue("golden line without a tab: " + line, tab >= 0);
        texts.add(unescape(line.substring(0, tab)));
        String[] parts = line.substring(tab + 1).trim().split(" ");
        long[] ids = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
          ids[i] = Long.parseLong(parts[i]);
        }
        expected.add(ids);
      }
    }
  }

  /** Inverse of the script's escape(): backslash, \t, \n, \r and uXXXX. */
  static String unescape(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char e = s.charAt(++i);
      switch (e) {
        case 't':
          sb.append('\t');
          break;
        case 'n':
          sb.append('\n');
          break;
        case 'r':
          sb.append('\r');
          break;
        case 'u':
          sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
          i += 4;
          break;
        default:
          sb.append(e);
      }
    }
    return sb.toString();
  }

  @Test
  public void goldenFileIsLargeEnough() {
    assertTrue("only " + texts.size() + " golden lines" + REGENERATE, texts.size() >= MIN_LINES);
  }

  @Test
  public void everyLineMatchesIdForId() {
    int mismatches = 0;
    StringBuilder report = new StringBuilder();
    for (int i = 0; i < texts.size(); i++) {
      long[] actual = builder.encode(texts.get(i)).inputIds;
      if (!Arrays.equals(expected.get(i), actual)) {
        mismatches++;
        if (mismatches <= 5) {
          report.append("\n  text:     ").append(texts.get(i))
              .append("\n  python:   ").append(Arrays.toString(expected.get(i)))
              .append("\n  java:     ").append(Arrays.toString(actual))
              .append("\n  pieces:   ").append(tokenizer.tokenize(texts.get(i)));
        }
      }
    }
    assertEquals(mismatches + " of " + texts.size() + " golden lines differ:" + report, 0, mismatches);
  }

  @Test
  public void everyLineIsFramedByClsAndSep() {
    for (long[] ids : expected) {
      assertEquals(tokenizer.clsId, ids[0]);
      assertEquals(tokenizer.sepId, ids[ids.length - 1]);
    }
  }
}
