package org.albertedge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class JsonTest {
  @Test
  public void parsesScalars() {
    assertEquals(Boolean.TRUE, Json.parse("true"));
    assertEquals(Boolean.FALSE, Json.parse(" false "));
    assertNull(Json.parse("null"));
    assertEquals("x", Json.parse("\"x\""));
    assertEquals(0.0, (Double) Json.parse("0"), 0);
    assertEquals(-12.5, (Double) Json.parse("-12.5"), 0);
    assertEquals(1.5e-7, (Double) Json.parse("1.5E-7"), 0);
    assertEquals(2e10, (Double) Json.parse("2e+10"), 0);
    assertEquals(9007199254740993.0, (Double) Json.parse("9007199254740993"), 0);
  }

  @Test
  public void float32ScoresRoundTripExactly() {
    // Python prints the double of a float32 score; parsing it back must give the same float32.
    float score = -10.123456f;
    double printed = Double.parseDouble(Double.toString((double) score));
    assertEquals(score, (float) (double) (Double) Json.parse(Double.toString(printed)), 0f);
  }

  @Test
  public void nonFiniteNumbersAreRefused() {
    // The exporter writes strict JSON (null for a non-finite number); a hand-edited NaN or
    // Infinity in a manifest is an error, not a number.
    for (String bad : new String[] {"{\"max_seq_len\": NaN}", "{\"snr\": [Infinity]}"}) {
      try {
        Json.parseObject(bad);
        fail("should reject: " + bad);
      } catch (Json.JsonException e) {
        assertTrue(e.getMessage(), e.getMessage().startsWith("invalid JSON: "));
      }
    }
  }

  @Test
  public void parsesNestedStructuresKeepingKeyOrder() {
    Map<String, Object> m = Json.parseObject("{\"b\": [1, {\"c\": null}, []], \"a\": {}, \"z\": \"\"}");
    assertEquals(Arrays.asList("b", "a", "z"), new java.util.ArrayList<>(m.keySet()));
    List<?> b = (List<?>) m.get("b");
    assertEquals(3, b.size());
    assertTrue(((Map<?, ?>) b.get(1)).containsKey("c"));
    assertNull(((Map<?, ?>) b.get(1)).get("c"));
    assertEquals(Collections.emptyList(), b.get(2));
    assertEquals(Collections.emptyMap(), m.get("a"));
  }

  @Test
  public void decodesEscapes() {
    assertEquals("\"\\/\b\f\n\r\t", Json.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""));
    assertEquals("\u2581x", Json.parse("\"\\u2581x\""));
    // A surrogate pair written as two escapes is one supplementary character.
    assertEquals("\ud83d\ude00", Json.parse("\"\\ud83d\\ude00\""));
    // Raw non-ASCII passes through (ensure_ascii=False output).
    assertEquals("caf\u00e9 \ud83d\ude00", Json.parse("\"caf\u00e9 \ud83d\ude00\""));
  }

  @Test
  public void rejectsMalformedInput() {
    // What org.json refuses (it tolerates more than RFC 8259: unquoted keys, trailing commas in
    // arrays, single quotes); trailing content is refused here.
    String[] bad = {
      "", " ", "{", "{\"a\":1,}", "{\"a\" 1}", "[1 2]", "\"unterminated", "\"\\u12\"", "\"\\u12G4\"",
      "[1] x", "{\"a\": 1} {}",
    };
    for (String s : bad) {
      try {
        Json.parse(s);
        fail("should reject: " + s);
      } catch (Json.JsonException e) {
        assertTrue(e.getMessage(), e.getMessage().startsWith("invalid JSON: "));
      }
    }
  }

  @Test
  public void rejectsHostileNesting() {
    StringBuilder deep = new StringBuilder();
    for (int i = 0; i < 10000; i++) {
      deep.append('[');
    }
    try {
      Json.parse(deep.toString());
      fail("10,000 nested arrays must be refused, not overflow the stack");
    } catch (Json.JsonException e) {
      assertTrue(e.getMessage(), e.getMessage().contains("nesting"));
    }
  }

  @Test
  public void parseObjectRequiresAnObject() {
    try {
      Json.parseObject("[1]");
      fail();
    } catch (Json.JsonException e) {
      assertTrue(e.getMessage().contains("object"));
    }
  }

  @Test
  public void writesAndReadsBack() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("s", "quote \" backslash \\ newline \n tab \t ctrl \u0001 \u2581");
    m.put("d", 12.0);
    m.put("f", 0.1f);
    m.put("l", 123456789012L);
    m.put("i", 7);
    m.put("b", true);
    m.put("n", null);
    m.put("list", Arrays.asList(1.5, "x", Collections.emptyList()));
    String json = Json.write(m);
    assertTrue(json, json.contains("\"d\":12"));
    assertTrue(json, json.contains("\"l\":123456789012"));
    assertTrue(json, json.contains("\\u0001"));
    Map<String, Object> back = Json.parseObject(json);
    assertEquals(m.get("s"), back.get("s"));
    assertEquals(12.0, (Double) back.get("d"), 0);
    assertEquals(0.1f, (float) (double) (Double) back.get("f"), 0f);
    assertEquals(123456789012.0, (Double) back.get("l"), 0);
    assertEquals(Boolean.TRUE, back.get("b"));
    assertTrue(back.containsKey("n"));
    assertEquals(Arrays.asList(1.5, "x", Collections.emptyList()), back.get("list"));
    // Pretty output parses to the same value.
    assertEquals(back, Json.parseObject(Json.writePretty(m, 2)));
  }

  @Test
  public void writesNonFiniteAsNull() {
    assertEquals("[null,null]", Json.write(Arrays.asList(Double.NaN, Double.POSITIVE_INFINITY)));
  }

  @Test
  public void refusesUnknownTypes() {
    try {
      Json.write(new Object());
      fail();
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().contains("cannot write"));
    }
  }
}
