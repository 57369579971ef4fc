"""Native onnxruntime (CPU) encoder throughput on the same token ids as the
candle bench (tests/bench/native `bench`): sentences in file order, batches
padded to their longest sentence, tokens/s counting real tokens.

    python ort_native.py MODEL.onnx IDS.json BATCH THREADS REPEAT
"""

import json
import sys
import time

import numpy as np
import onnxruntime as ort


def main() -> None:
    model, ids_path, batch, threads, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    sentences = json.load(open(ids_path))
    tokens = sum(len(s) for s in sentences)
    feeds = []
    for i in range(0, len(sentences), batch):
        chunk = sentences[i : i + batch]
        t = max(len(s) for s in chunk)
        ids = np.zeros((len(chunk), t), np.int64)
        mask = np.zeros((len(chunk), t), np.int64)
        for j, s in enumerate(chunk):
            ids[j, : len(s)] = s
            mask[j, : len(s)] = 1
        f = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in names:
            f["token_type_ids"] = np.zeros_like(ids)
        feeds.append(f)

    def one_pass() -> float:
        start = time.perf_counter()
        for f in feeds:
            session.run(["last_hidden_state"], f)
        return time.perf_counter() - start

    one_pass()  # warm-up
    best = min(one_pass() for _ in range(max(1, repeat)))
    print(json.dumps({
        "engine": "onnxruntime", "version": ort.__version__, "model": model, "sentences": len(sentences),
        "tokens": tokens, "batch": batch, "threads": threads, "seconds": best, "tokens_per_s": tokens / best,
    }))


if __name__ == "__main__":
    main()
