"""Builds the fp32 ONNX graph of the converted all-MiniLM-L6-v2 encoder
(DistilBERT names, runs/minilm-distilbert/model.safetensors) with the onnx
helper API, and its dynamically quantized int8 twin.

    python make_onnx.py CHECKPOINT_DIR OUT_FP32 OUT_INT8 OUT_INT8_PER_CHANNEL

Graph: Gather (word embeddings) + Slice (position rows), LayerNormalization, per layer
MatMul+Add projections, Reshape/Transpose into 12 heads, q scaled by
1/sqrt(head_dim) before QK^T (as skills::model does), additive mask
(attention_mask - 1) * 1e9, Softmax, exact GELU 0.5·x·(1 + erf(x/√2)).
Inputs: input_ids [B,T] int64, attention_mask [B,T] int64; output:
last_hidden_state [B,T,dim].
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file


def build(checkpoint: Path) -> onnx.ModelProto:
    cfg = json.loads((checkpoint / "config.json").read_text())
    w = load_file(str(checkpoint / "model.safetensors"))
    w = {k.removeprefix("distilbert."): v for k, v in w.items()}
    dim, heads, n_layers = cfg["dim"], cfg["n_heads"], cfg["n_layers"]
    hd = dim // heads
    inits, nodes = [], []

    def init(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op, inputs, name, **attrs):
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def linear(x, prefix, out):
        # Checkpoint weights are [out, in]; MatMul wants [in, out].
        wt = init(f"{prefix}.weight_t", w[f"{prefix}.weight"].T.astype(np.float32))
        b = init(f"{prefix}.bias", w[f"{prefix}.bias"].astype(np.float32))
        return node("Add", [node("MatMul", [x, wt], f"{out}_mm"), b], out)

    def layer_norm(x, prefix, out):
        g = init(f"{prefix}.weight", w[f"{prefix}.weight"])
        b = init(f"{prefix}.bias", w[f"{prefix}.bias"])
        return node("LayerNormalization", [x, g, b], out, axis=-1, epsilon=1e-12)

    init("one_f", np.array(1.0, np.float32))
    init("big_f", np.array(1e9, np.float32))
    init("half_f", np.array(0.5, np.float32))
    init("sqrt2_f", np.array(np.sqrt(2.0), np.float32))
    init("scale_f", np.array(1.0 / np.sqrt(hd), np.float32))
    init("zero_1d", np.array([0], np.int64))
    init("axes_12", np.array([1, 2], np.int64))
    init("heads_shape", np.array([0, 0, heads, hd], np.int64))
    init("merge_shape", np.array([0, 0, dim], np.int64))

    # Embeddings: word + position, then LayerNorm.
    word = init("embeddings.word_embeddings.weight", w["embeddings.word_embeddings.weight"])
    pos = init("embeddings.position_embeddings.weight", w["embeddings.position_embeddings.weight"])
    # Position rows 0..T: a Slice of the table (onnxruntime's embedding
    # fusion mis-handles the Shape → Gather → Range → Gather form).
    t = node("Shape", ["input_ids"], "seq_len", start=1, end=2)
    pos_rows = node("Slice", [pos, "zero_1d", t, "zero_1d"], "pos_emb")
    xs = node("Add", [node("Gather", [word, "input_ids"], "word_emb"), pos_rows], "emb_sum")
    xs = layer_norm(xs, "embeddings.LayerNorm", "emb_out")

    # Additive attention bias [B, 1, 1, T]: 0 for tokens, -1e9 for padding.
    mask = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    bias = node("Mul", [node("Sub", [mask, "one_f"], "mask_m1"), "big_f"], "mask_bias")
    bias = node("Unsqueeze", [bias, "axes_12"], "mask_bias4")

    for i in range(n_layers):
        p = f"transformer.layer.{i}"
        a = f"{p}.attention"

        def split(x, name, perm):
            r = node("Reshape", [x, "heads_shape"], f"{name}_r")
            return node("Transpose", [r], f"{name}_t", perm=perm)

        q = linear(xs, f"{a}.q_lin", f"l{i}_q")
        q = node("Mul", [split(q, f"l{i}_qh", [0, 2, 1, 3]), "scale_f"], f"l{i}_qs")
        k = split(linear(xs, f"{a}.k_lin", f"l{i}_k"), f"l{i}_kh", [0, 2, 3, 1])
        v = split(linear(xs, f"{a}.v_lin", f"l{i}_v"), f"l{i}_vh", [0, 2, 1, 3])
        scores = node("Add", [node("MatMul", [q, k], f"l{i}_qk"), bias], f"l{i}_scores")
        probs = node("Softmax", [scores], f"l{i}_probs", axis=-1)
        ctx = node("MatMul", [probs, v], f"l{i}_ctx")
        ctx = node("Transpose", [ctx], f"l{i}_ctx_t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "merge_shape"], f"l{i}_ctx_m")
        sa = linear(ctx, f"{a}.out_lin", f"l{i}_sa")
        xs = layer_norm(node("Add", [sa, xs], f"l{i}_sa_res"), f"{p}.sa_layer_norm", f"l{i}_sa_out")
        h = linear(xs, f"{p}.ffn.lin1", f"l{i}_ff1")
        erf = node("Erf", [node("Div", [h, "sqrt2_f"], f"l{i}_gelu_div")], f"l{i}_gelu_erf")
        gelu = node(
            "Mul",
            [node("Mul", [h, node("Add", [erf, "one_f"], f"l{i}_gelu_1p")], f"l{i}_gelu_x"), "half_f"],
            f"l{i}_gelu",
        )
        ff = linear(gelu, f"{p}.ffn.lin2", f"l{i}_ff2")
        out = "last_hidden_state" if i == n_layers - 1 else f"l{i}_out"
        xs = layer_norm(node("Add", [ff, xs], f"l{i}_ff_res"), f"{p}.output_layer_norm", out)

    graph = helper.make_graph(
        nodes,
        "minilm_l6_distilbert_fp32",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "sequence"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", dim])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="rolemapper-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    checkpoint, out_fp32, out_int8, out_int8_pc = (Path(a) for a in sys.argv[1:5])
    from onnxruntime.quantization import QuantType, quantize_dynamic

    onnx.save(build(checkpoint), str(out_fp32))
    # Dynamic quantization as onnxruntime's README describes it: int8 weights,
    # activations quantized to uint8 at run time, MatMulInteger kernels.
    quantize_dynamic(str(out_fp32), str(out_int8), weight_type=QuantType.QInt8)
    # The same with one scale per output column: far smaller error on this
    # model (see BENCHMARKS.md), same kernels.
    quantize_dynamic(str(out_fp32), str(out_int8_pc), weight_type=QuantType.QInt8, per_channel=True)
    for path in (out_fp32, out_int8, out_int8_pc):
        m = onnx.load(str(path))
        ops = {}
        for n in m.graph.node:
            ops[n.op_type] = ops.get(n.op_type, 0) + 1
        print(f"{path}: {path.stat().st_size / 1e6:.1f} MB, ops {dict(sorted(ops.items()))}")


if __name__ == "__main__":
    main()
