package org.albertedge.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The cases of golden_exits.tsv (scripts/make_exit_golden.py): a policy, logits by depth, Python's exit depth. */
final class GoldenExits {
  final String line;
  final ExitPolicy policy;
  final List<double[]> logits;
  final int depth;

  private GoldenExits(String line, ExitPolicy policy, List<double[]> logits, int depth) {
    this.line = line;
    this.policy = policy;
    this.logits = logits;
    this.depth = depth;
  }

  static List<GoldenExits> read() throws IOException {
    InputStream in = GoldenExits.class.getClassLoader().getResourceAsStream("golden_exits.tsv");
    if (in == null) {
      throw new IOException("golden_exits.tsv missing from test resources");
    }
    List<GoldenExits> cases = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith("#") || line.isEmpty()) {
          continue;
        }
        String[] f = line.split("\t");
        List<double[]> logits = new ArrayList<>();
        for (String depth : f[3].split(";")) {
          logits.add(Arrays.stream(depth.split(",")).mapToDouble(Double::parseDouble).toArray());
        }
        cases.add(new GoldenExits(line,
            new ExitPolicy(f[0], Double.parseDouble(f[1]), Integer.parseInt(f[2])), logits,
            Integer.parseInt(f[4])));
      }
    }
    return cases;
  }
}
