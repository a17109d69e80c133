"""Training-side int8 quantization of ALBERT, one recipe per deployment runtime.

    quantize.xnnpack.XnnpackInt8Recipe  -> a quantized torch.export program for ExecuTorch/XNNPACK (.pte)
    quantize.onnx.OnnxInt8Recipe        -> a quantized .onnx for ONNX Runtime

Each module is layered the same way: primitives that do one transformation, a frozen recipe dataclass that names
the choices (and `describe()`s them for the export manifest), and `recipe.quantize(...)` that produces the artifact.
Both keep ALBERT's weight sharing: the shared layer and the embedding table are each stored once, in int8.
The heavy libraries (torchao, executorch, onnxruntime) are imported by the submodules, not here.
"""
