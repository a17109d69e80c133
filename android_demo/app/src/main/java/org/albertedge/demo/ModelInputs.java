package org.albertedge.demo;

import java.util.List;
import org.albertedge.core.InputBuilder.EncodedInput;
import org.albertedge.core.Manifest;
import org.pytorch.executorch.EValue;
import org.pytorch.executorch.Tensor;

/** Encoded text as ExecuTorch arguments, in the order the manifest lists the model's inputs. */
final class ModelInputs {
  private ModelInputs() {}

  static boolean supports(String name) {
    return "input_ids".equals(name) || "attention_mask".equals(name) || "token_type_ids".equals(name);
  }

  static EValue[] of(List<Manifest.InputSpec> specs, EncodedInput in) {
    long[] shape = {1, in.inputIds.length};
    EValue[] args = new EValue[specs.size()];
    for (int i = 0; i < args.length; i++) {
      String name = specs.get(i).name;
      long[] data;
      if ("input_ids".equals(name)) {
        data = in.inputIds;
      } else if ("attention_mask".equals(name)) {
        data = in.attentionMask;
      } else if ("token_type_ids".equals(name)) {
        data = in.tokenTypeIds;
      } else {
        throw new IllegalArgumentException("unsupported model input " + name);
      }
      args[i] = EValue.from(Tensor.fromBlob(data, shape));
    }
    return args;
  }
}
