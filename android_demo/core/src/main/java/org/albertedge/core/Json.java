package org.albertedge.core;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;
import org.json.JSONTokener;

/**
 * JSON through {@code org.json}, which Android ships (on a plain JVM: Debian's
 * {@code libandroid-json-java}, or Gradle's {@code com.vaadin.external.google:android-json}, the
 * same classes). This class only converts: parsed values become plain Java values, and typed
 * accessors say which manifest or vocabulary field is wrong.
 *
 * <p>Values map to Java as: object → {@code LinkedHashMap<String, Object>} (key order kept),
 * array → {@code List<Object>}, string → String, number → Double, true/false → Boolean,
 * null → null. A number is a Double because every number the exporter writes (scores, byte
 * counts, sequence lengths) fits a double exactly below 2^53. The exporter writes strict JSON
 * (non-finite numbers as null), so nothing here needs {@code NaN} or {@code Infinity}.
 */
public final class Json {
  /**
   * Nesting deeper than this is refused before org.json sees the text: its parser recurses once
   * per level with no limit, so 10,000 brackets would end the app with a StackOverflowError.
   */
  private static final int MAX_DEPTH = 256;

  private Json() {}

  /** Thrown for malformed JSON, or a value that JSON cannot hold. */
  public static final class JsonException extends IllegalArgumentException {
    public JsonException(String message) {
      super(message);
    }
  }

  /** Parses one JSON value; anything but whitespace after it is an error. */
  public static Object parse(String text) {
    checkDepth(text);
    try {
      JSONTokener tokener = new JSONTokener(text);
      Object value = tokener.nextValue();
      if (tokener.nextClean() != 0) {
        throw new JsonException("invalid JSON: unexpected trailing content");
      }
      return plain(value);
    } catch (JSONException e) {
      throw new JsonException("invalid JSON: " + e.getMessage());
    }
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

  /** Compact JSON of plain values (Map, List, String, Number, Boolean, null); NaN/Infinity → null. */
  public static String write(Object value) {
    return toJson(value).toString();
  }

  /** Indented JSON, {@code indent} spaces per level. */
  public static String writePretty(Object value, int indent) {
    Object json = toJson(value);
    try {
      if (json instanceof JSONObject) {
        return ((JSONObject) json).toString(indent) + "\n";
      }
      if (json instanceof JSONArray) {
        return ((JSONArray) json).toString(indent) + "\n";
      }
      return json + "\n";
    } catch (JSONException e) {
      throw new JsonException("cannot write JSON: " + e.getMessage());
    }
  }

  /** The one check written here: bracket depth outside strings (see {@link #MAX_DEPTH}). */
  private static void checkDepth(String text) {
    int depth = 0;
    boolean inString = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (inString) {
        if (c == '\\') {
          i++; // the escaped character cannot end the string
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
      } else if (c == '[' || c == '{') {
        if (++depth > MAX_DEPTH) {
          throw new JsonException("invalid JSON: nesting deeper than " + MAX_DEPTH + " levels");
        }
      } else if (c == ']' || c == '}') {
        depth--;
      }
    }
  }

  private static Object plain(Object value) throws JSONException {
    if (value == null || value == JSONObject.NULL) {
      return null;
    }
    if (value instanceof JSONObject) {
      JSONObject object = (JSONObject) value;
      Map<String, Object> map = new LinkedHashMap<>();
      for (Iterator<String> keys = object.keys(); keys.hasNext(); ) {
        String key = keys.next();
        map.put(key, plain(object.get(key)));
      }
      return map;
    }
    if (value instanceof JSONArray) {
      JSONArray array = (JSONArray) value;
      List<Object> list = new ArrayList<>(array.length());
      for (int i = 0; i < array.length(); i++) {
        list.add(plain(array.get(i)));
      }
      return list;
    }
    if (value instanceof Number) {
      double d = ((Number) value).doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) { // org.json takes them in arrays, not in objects
        throw new JsonException("invalid JSON: non-finite number " + value);
      }
      return d;
    }
    if (value instanceof String || value instanceof Boolean) {
      return value;
    }
    throw new JsonException("invalid JSON: unexpected " + value.getClass().getSimpleName());
  }

  private static Object toJson(Object value) {
    try {
      if (value == null) {
        return JSONObject.NULL;
      }
      if (value instanceof Map) {
        JSONObject object = new JSONObject();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
          object.put(String.valueOf(e.getKey()), toJson(e.getValue()));
        }
        return object;
      }
      if (value instanceof List) {
        JSONArray array = new JSONArray();
        for (Object item : (List<?>) value) {
          array.put(toJson(item));
        }
        return array;
      }
      if (value instanceof Double || value instanceof Float) {
        double d = ((Number) value).doubleValue();
        return Double.isNaN(d) || Double.isInfinite(d) ? JSONObject.NULL : (Object) d;
      }
      if (value instanceof Number || value instanceof String || value instanceof Boolean) {
        return value;
      }
    } catch (JSONException e) {
      throw new JsonException("cannot write JSON: " + e.getMessage());
    }
    throw new JsonException("cannot write " + value.getClass().getSimpleName() + " as JSON");
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
