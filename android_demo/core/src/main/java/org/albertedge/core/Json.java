package org.albertedge.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader and writer, so that core needs no JSON library (Android's org.json is not on
 * a plain JVM).
 *
 * <p>Values map to Java as: object → {@code LinkedHashMap<String, Object>} (key order kept),
 * array → {@code List<Object>}, string → String, number → Double, true/false → Boolean,
 * null → null. A number is a Double because every number the exporter writes (scores, byte
 * counts, sequence lengths) fits a double exactly below 2^53.
 *
 * <p>Besides RFC 8259 the reader accepts {@code NaN}, {@code Infinity} and {@code -Infinity},
 * which Python's {@code json.dump} writes by default for non-finite floats; a manifest with a NaN
 * metric must still load.
 */
public final class Json {
  /** Nesting deeper than this is rejected so that hostile input cannot overflow the stack. */
  private static final int MAX_DEPTH = 256;

  private final String text;
  private int pos;

  private Json(String text) {
    this.text = text;
  }

  /** Thrown for malformed JSON; the message names the character offset. */
  public static final class JsonException extends IllegalArgumentException {
    public JsonException(String message) {
      super(message);
    }
  }

  /** Parses one JSON value; anything but whitespace after it is an error. */
  public static Object parse(String text) {
    Json p = new Json(text);
    p.skipWhitespace();
    Object value = p.readValue(0);
    p.skipWhitespace();
    if (p.pos != text.length()) {
      throw p.error("unexpected trailing content");
    }
    return value;
  }

  /** Parses text whose top level must be an object. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) {
    Object value = parse(text);
    if (!(value instanceof Map)) {
      throw new JsonException("expected a JSON object at the top level");
    }
    return (Map<String, Object>) value;
  }

  private Object readValue(int depth) {
    if (depth > MAX_DEPTH) {
      throw error("nesting deeper than " + MAX_DEPTH);
    }
    if (pos >= text.length()) {
      throw error("unexpected end of input");
    }
    char c = text.charAt(pos);
    switch (c) {
      case '{':
        return readObject(depth);
      case '[':
        return readArray(depth);
      case '"':
        return readString();
      case 't':
        expectWord("true");
        return Boolean.TRUE;
      case 'f':
        expectWord("false");
        return Boolean.FALSE;
      case 'n':
        expectWord("null");
        return null;
      case 'N':
        expectWord("NaN");
        return Double.NaN;
      case 'I':
        expectWord("Infinity");
        return Double.POSITIVE_INFINITY;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          return readNumber();
        }
        throw error("unexpected character '" + c + "'");
    }
  }

  private Map<String, Object> readObject(int depth) {
    Map<String, Object> map = new LinkedHashMap<>();
    pos++; // '{'
    skipWhitespace();
    if (peek() == '}') {
      pos++;
      return map;
    }
    while (true) {
      skipWhitespace();
      if (peek() != '"') {
        throw error("expected a string key");
      }
      String key = readString();
      skipWhitespace();
      expectChar(':');
      skipWhitespace();
      map.put(key, readValue(depth + 1));
      skipWhitespace();
      char c = next();
      if (c == '}') {
        return map;
      }
      if (c != ',') {
        throw error("expected ',' or '}' in object");
      }
    }
  }

  private List<Object> readArray(int depth) {
    List<Object> list = new ArrayList<>();
    pos++; // '['
    skipWhitespace();
    if (peek() == ']') {
      pos++;
      return list;
    }
    while (true) {
      skipWhitespace();
      list.add(readValue(depth + 1));
      skipWhitespace();
      char c = next();
      if (c == ']') {
        return list;
      }
      if (c != ',') {
        throw error("expected ',' or ']' in array");
      }
    }
  }

  private String readString() {
    pos++; // opening quote
    StringBuilder sb = null;
    int start = pos;
    while (true) {
      if (pos >= text.length()) {
        throw error("unterminated string");
      }
      char c = text.charAt(pos);
      if (c == '"') {
        String s = sb == null ? text.substring(start, pos) : sb.append(text, start, pos).toString();
        pos++;
        return s;
      }
      if (c < 0x20) {
        throw error("unescaped control character in string");
      }
      if (c != '\\') {
        pos++;
        continue;
      }
      if (sb == null) {
        sb = new StringBuilder();
      }
      sb.append(text, start, pos);
      pos++;
      char e = next();
      switch (e) {
        case '"':
          sb.append('"');
          break;
        case '\\':
          sb.append('\\');
          break;
        case '/':
          sb.append('/');
          break;
        case 'b':
          sb.append('\b');
          break;
        case 'f':
          sb.append('\f');
          break;
        case 'n':
          sb.append('\n');
          break;
        case 'r':
          sb.append('\r');
          break;
        case 't':
          sb.append('\t');
          break;
        case 'u':
          // A surrogate pair arrives as two \\u escapes; appending both UTF-16 units rebuilds it.
          sb.append(readHex4());
          break;
        default:
          pos--;
          throw error("invalid escape '\\" + e + "'");
      }
      start = pos;
    }
  }

  private char readHex4() {
    if (pos + 4 > text.length()) {
      throw error("truncated \\u escape");
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int d = Character.digit(text.charAt(pos + i), 16);
      if (d < 0) {
        throw error("invalid hex digit in \\u escape");
      }
      v = v * 16 + d;
    }
    pos += 4;
    return (char) v;
  }

  private Double readNumber() {
    int start = pos;
    if (peek() == '-') {
      pos++;
      if (text.startsWith("Infinity", pos)) {
        pos += "Infinity".length();
        return Double.NEGATIVE_INFINITY;
      }
    }
    if (peek() == '0') {
      pos++;
    } else if (isDigit(peek())) {
      while (isDigit(peek())) {
        pos++;
      }
    } else {
      throw error("invalid number");
    }
    if (peek() == '.') {
      pos++;
      if (!isDigit(peek())) {
        throw error("expected digits after '.'");
      }
      while (isDigit(peek())) {
        pos++;
      }
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      if (!isDigit(peek())) {
        throw error("expected digits in exponent");
      }
      while (isDigit(peek())) {
        pos++;
      }
    }
    // Double.parseDouble rounds correctly, so a float32 score printed by Python round-trips.
    return Double.parseDouble(text.substring(start, pos));
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private void expectWord(String word) {
    if (!text.startsWith(word, pos)) {
      throw error("invalid literal, expected '" + word + "'");
    }
    pos += word.length();
  }

  private void expectChar(char c) {
    if (next() != c) {
      pos--;
      throw error("expected '" + c + "'");
    }
  }

  /** Returns the current character, or 0 at the end (0 never starts a valid token). */
  private char peek() {
    return pos < text.length() ? text.charAt(pos) : 0;
  }

  private char next() {
    if (pos >= text.length()) {
      throw error("unexpected end of input");
    }
    return text.charAt(pos++);
  }

  private void skipWhitespace() {
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private JsonException error(String what) {
    return new JsonException("invalid JSON at offset " + pos + ": " + what);
  }

  // ---------------------------------------------------------------- writing

  /**
   * Serialises Map/List/String/Number/Boolean/null. Double and Float print with a fraction
   * ("12.0"), other Numbers as integers; non-finite numbers become null.
   */
  public static String write(Object value) {
    StringBuilder sb = new StringBuilder();
    writeValue(sb, value, 0, -1);
    return sb.toString();
  }

  /** Like {@link #write} with one entry per line, indented by {@code indent} spaces. */
  public static String writePretty(Object value, int indent) {
    StringBuilder sb = new StringBuilder();
    writeValue(sb, value, 0, indent);
    return sb.append('\n').toString();
  }

  private static void writeValue(StringBuilder sb, Object value, int level, int indent) {
    if (value == null) {
      sb.append("null");
    } else if (value instanceof String) {
      writeString(sb, (String) value);
    } else if (value instanceof Boolean) {
      sb.append(value.toString());
    } else if (value instanceof Double || value instanceof Float) {
      double d = ((Number) value).doubleValue();
      // Double.toString always yields valid JSON ("12.0", "1.0E-5") and the shortest repr that
      // round-trips; JSON has no spelling for NaN/Infinity, so they become null.
      sb.append(Double.isNaN(d) || Double.isInfinite(d) ? "null" : Double.toString(d));
    } else if (value instanceof Number) {
      sb.append(((Number) value).longValue());
    } else if (value instanceof Map) {
      Map<?, ?> map = (Map<?, ?>) value;
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        newline(sb, level + 1, indent);
        writeString(sb, String.valueOf(e.getKey()));
        sb.append(indent >= 0 ? ": " : ":");
        writeValue(sb, e.getValue(), level + 1, indent);
      }
      if (!map.isEmpty()) {
        newline(sb, level, indent);
      }
      sb.append('}');
    } else if (value instanceof List) {
      List<?> list = (List<?>) value;
      sb.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        newline(sb, level + 1, indent);
        writeValue(sb, list.get(i), level + 1, indent);
      }
      if (!list.isEmpty()) {
        newline(sb, level, indent);
      }
      sb.append(']');
    } else {
      throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON");
    }
  }

  private static void newline(StringBuilder sb, int level, int indent) {
    if (indent < 0) {
      return;
    }
    sb.append('\n');
    for (int i = 0; i < level * indent; i++) {
      sb.append(' ');
    }
  }

  private static void writeString(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          sb.append("\\\"");
          break;
        case '\\':
          sb.append("\\\\");
          break;
        case '\n':
          sb.append("\\n");
          break;
        case '\r':
          sb.append("\\r");
          break;
        case '\t':
          sb.append("\\t");
          break;
        default:
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
      }
    }
    sb.append('"');
  }

  // ---------------------------------------------------------------- typed access

  /** Reads {@code map[key]} as an object; the message names the path for the user. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> object(Map<String, Object> map, String key, String where) {
    Object v = map.get(key);
    if (!(v instanceof Map)) {
      throw new IllegalArgumentException(where + "." + key + " must be an object, got " + typeName(v));
    }
    return (Map<String, Object>) v;
  }

  @SuppressWarnings("unchecked")
  static List<Object> array(Map<String, Object> map, String key, String where) {
    Object v = map.get(key);
    if (!(v instanceof List)) {
      throw new IllegalArgumentException(where + "." + key + " must be an array, got " + typeName(v));
    }
    return (List<Object>) v;
  }

  static String string(Map<String, Object> map, String key, String where) {
    Object v = map.get(key);
    if (!(v instanceof String)) {
      throw new IllegalArgumentException(where + "." + key + " must be a string, got " + typeName(v));
    }
    return (String) v;
  }

  static double number(Map<String, Object> map, String key, String where) {
    Object v = map.get(key);
    if (!(v instanceof Double)) {
      throw new IllegalArgumentException(where + "." + key + " must be a number, got " + typeName(v));
    }
    return (Double) v;
  }

  static long integer(Map<String, Object> map, String key, String where) {
    double d = number(map, key, where);
    if (d != Math.rint(d) || Math.abs(d) > (1L << 53)) {
      throw new IllegalArgumentException(where + "." + key + " must be an integer, got " + d);
    }
    return (long) d;
  }

  static boolean bool(Map<String, Object> map, String key, boolean fallback, String where) {
    Object v = map.get(key);
    if (v == null) {
      return fallback;
    }
    if (!(v instanceof Boolean)) {
      throw new IllegalArgumentException(where + "." + key + " must be true/false, got " + typeName(v));
    }
    return (Boolean) v;
  }

  static String typeName(Object v) {
    if (v == null) {
      return "null/missing";
    }
    if (v instanceof Map) {
      return "an object";
    }
    if (v instanceof List) {
      return "an array";
    }
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Double) {
      return "a number";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    return v.getClass().getSimpleName();
  }
}
