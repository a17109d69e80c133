package org.albertedge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.junit.Test;

/**
 * [CLS]/[SEP] framing, token types and truncation against {@code golden_inputs.tsv}, written by
 * {@code scripts/make_android_golden.py} from {@code AlbertTokenizer.encode(text, pair, max_length)}.
 */
public class InputGoldenTest {
  @Test
  public void everyInputMatches() throws IOException {
    InputStream vocab = getClass().getResourceAsStream("/vocab.json");
    assertNotNull("test resource vocab.json is missing; run python scripts/make_android_golden.py", vocab);
    SentencePieceUnigram tok = SentencePieceUnigram.load(vocab);
    InputStream golden = getClass().getResourceAsStream("/golden_inputs.tsv");
    assertNotNull("test resource golden_inputs.tsv is missing; run python scripts/make_android_golden.py", golden);

    int lines = 0;
    int pairs = 0;
    int truncated = 0;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(golden, StandardCharsets.UTF_8))) {
      assertTrue(r.readLine().startsWith("# generated"));
      String line;
      while ((line = r.readLine()) != null) {
        String[] f = line.split("\t", -1);
        assertEquals("5 columns expected: " + line, 5, f.length);
        int maxLength = Integer.parseInt(f[0]);
        String text = TokenizerGoldenTest.unescape(f[1]);
        InputBuilder builder = new InputBuilder(tok, maxLength);
        InputBuilder.EncodedInput in = "\\N".equals(f[2])
            ? builder.encode(text)
            : builder.encodePair(text, TokenizerGoldenTest.unescape(f[2]));
        String where = "max_length " + maxLength + ", text: " + text;
        assertArrayEquals(where, ids(f[3]), in.inputIds);
        assertArrayEquals(where, ids(f[4]), in.tokenTypeIds);
        assertEquals(where, in.length, in.inputIds.length);
        for (long m : in.attentionMask) {
          assertEquals(1L, m);
        }
        lines++;
        pairs += "\\N".equals(f[2]) ? 0 : 1;
        truncated += in.truncated ? 1 : 0;
      }
    }
    // The file must exercise what it is for: pairs, and truncation.
    assertTrue("only " + lines + " lines", lines >= 100);
    assertTrue("only " + pairs + " pairs", pairs >= 50);
    assertTrue("only " + truncated + " truncated inputs", truncated >= 50);
  }

  private static long[] ids(String field) {
    String[] parts = field.trim().split(" ");
    long[] out = new long[parts.length];
    for (int i = 0; i < parts.length; i++) {
      out[i] = Long.parseLong(parts[i]);
    }
    return out;
  }
}
