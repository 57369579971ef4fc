"""PyTorch (CPU) peers for scripts/bench.sh: the same fp32 encoder
(runs/minilm-distilbert, the DistilBERT-layout checkpoint the shipped model
was fine-tuned from) as plain torch modules, on the same token ids as the
candle and onnxruntime benchmarks.

    python torch_native.py infer MODEL_DIR IDS.json BATCH THREADS REPEAT
        encoder throughput: sentences in file order, batches padded to their
        longest sentence, tokens/s counting real tokens (as ort_native.py).
    python torch_native.py train MODEL_DIR IDS.json THREADS STEPS
        training steps as `rolemapper train --head crf` takes them: batches of
        16 sentences drawn at random, encoder + linear emissions + CRF loss on
        each word's first sub-word, word embeddings frozen, dropout 0.1,
        AdamW with gradient clipping; tokens/s over STEPS timed steps after 3
        warm-up steps. Tags are random (the cost does not depend on them).
    python torch_native.py check MODEL_DIR HIDDEN.json
        the encoder's hidden states against candle's (tests/bench/native
        `hidden --checkpoint`): worst cosine and largest difference, so the
        two compute the same function.

torch is CPU-only here (the wheel is the CUDA build; no GPU is used).
"""

import json
import math
import random
import sys
import time

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn


class Layer(nn.Module):
    def __init__(self, dim: int, hidden: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.q_lin, self.k_lin, self.v_lin, self.out_lin = (nn.Linear(dim, dim) for _ in range(4))
        self.sa_layer_norm = nn.LayerNorm(dim, eps=1e-12)
        self.lin1, self.lin2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        self.output_layer_norm = nn.LayerNorm(dim, eps=1e-12)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        ctx = F.scaled_dot_product_attention(
            split(self.q_lin(x)), split(self.k_lin(x)), split(self.v_lin(x)),
            attn_mask=keep[:, None, None, :], dropout_p=self.dropout if self.training else 0.0)
        x = self.sa_layer_norm(x + F.dropout(self.out_lin(ctx.transpose(1, 2).reshape(b, t, d)), self.dropout, self.training))
        h = self.lin2(F.gelu(self.lin1(x)))
        return self.output_layer_norm(x + F.dropout(h, self.dropout, self.training))


class DistilBert(nn.Module):
    def __init__(self, model_dir: str):
        super().__init__()
        c = json.load(open(f"{model_dir}/config.json"))
        self.dropout = c.get("dropout", 0.1)
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["dim"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["dim"])
        self.embed_norm = nn.LayerNorm(c["dim"], eps=1e-12)
        self.layers = nn.ModuleList(Layer(c["dim"], c["hidden_dim"], c["n_heads"], c.get("attention_dropout", 0.1))
                                    for _ in range(c["n_layers"]))
        w = load_file(f"{model_dir}/model.safetensors")
        rename = {"embeddings.word_embeddings.weight": "word_embeddings.weight",
                  "embeddings.position_embeddings.weight": "position_embeddings.weight",
                  "embeddings.LayerNorm.weight": "embed_norm.weight", "embeddings.LayerNorm.bias": "embed_norm.bias"}
        state = {}
        for k, v in w.items():
            k = k.removeprefix("distilbert.")
            state[rename.get(k, k.replace("transformer.layer.", "layers.").replace(".attention.", ".").replace(".ffn.", "."))] = v
        self.load_state_dict(state)

    def forward(self, ids: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1])
        x = self.embed_norm(self.word_embeddings(ids) + self.position_embeddings(pos)[None])
        x = F.dropout(x, self.dropout, self.training)
        for layer in self.layers:
            x = layer(x, keep)
        return x


def padded(chunk):
    t = max(len(s) for s in chunk)
    ids = torch.zeros((len(chunk), t), dtype=torch.long)
    keep = torch.zeros((len(chunk), t), dtype=torch.bool)
    for j, s in enumerate(chunk):
        ids[j, : len(s)] = torch.tensor(s)
        keep[j, : len(s)] = True
    return ids, keep


def infer(model_dir, ids_path, batch, threads, repeat):
    torch.set_num_threads(threads)
    model = DistilBert(model_dir).eval()
    sentences = json.load(open(ids_path))
    tokens = sum(len(s) for s in sentences)
    feeds = [padded(sentences[i : i + batch]) for i in range(0, len(sentences), batch)]

    def one_pass():
        start = time.perf_counter()
        with torch.inference_mode():
            for ids, keep in feeds:
                model(ids, keep)
        return time.perf_counter() - start

    one_pass()  # warm-up
    best = min(one_pass() for _ in range(max(1, repeat)))
    print(json.dumps({"engine": "pytorch", "version": torch.__version__, "model": model_dir, "sentences": len(sentences),
                      "tokens": tokens, "batch": batch, "threads": threads, "seconds": best, "tokens_per_s": tokens / best}))


def crf_nll(emissions, tags, mask, start, end, trans):
    """Mean negative log-likelihood of `tags` under a linear-chain CRF ([B, W, K], mask [B, W])."""
    b, w, k = emissions.shape
    ar = torch.arange(b)
    score = start[tags[:, 0]] + emissions[ar, 0, tags[:, 0]]
    alpha = start[None] + emissions[:, 0]
    for i in range(1, w):
        m = mask[:, i]
        score = score + (trans[tags[:, i - 1], tags[:, i]] + emissions[ar, i, tags[:, i]]) * m
        nxt = torch.logsumexp(alpha[:, :, None] + trans[None] + emissions[:, i, None, :], dim=1)
        alpha = torch.where(m[:, None] > 0, nxt, alpha)
    last = tags[ar, mask.sum(1).long() - 1]
    score = score + end[last]
    return (torch.logsumexp(alpha + end[None], dim=1) - score).mean()


def train(model_dir, ids_path, threads, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(13)
    rng = random.Random(13)
    vocab = json.load(open(f"{model_dir}/tokenizer.json"))["model"]["vocab"]
    pieces = {i: p for p, i in vocab.items()}
    sentences = [s for s in json.load(open(ids_path)) if len(s) > 2]
    encoder = DistilBert(model_dir).train()
    encoder.word_embeddings.weight.requires_grad_(False)
    labels = 3  # O, B-SKILL, I-SKILL
    classifier = nn.Linear(encoder.word_embeddings.embedding_dim, labels)
    start, end = nn.Parameter(torch.zeros(labels)), nn.Parameter(torch.zeros(labels))
    trans = nn.Parameter(torch.zeros(labels, labels))
    params = [p for p in encoder.parameters() if p.requires_grad] + list(classifier.parameters()) + [start, end, trans]
    opt = torch.optim.AdamW(params, lr=5e-5, weight_decay=0.01)

    def step():
        chunk = rng.sample(sentences, 16)
        ids, keep = padded(chunk)
        # Words: sub-words that do not continue one (`##…`), [CLS] and [SEP] left out.
        starts = [[j for j in range(1, len(s) - 1) if not pieces[s[j]].startswith("##")] for s in chunk]
        w = max(len(x) for x in starts)
        word_pos = torch.zeros((16, w), dtype=torch.long)
        word_mask = torch.zeros((16, w))
        for i, x in enumerate(starts):
            word_pos[i, : len(x)] = torch.tensor(x)
            word_mask[i, : len(x)] = 1
        tags = torch.randint(0, labels, (16, w))
        hidden = F.dropout(encoder(ids, keep), encoder.dropout, True)
        emissions = classifier(hidden).gather(1, word_pos[:, :, None].expand(-1, -1, labels))
        loss = crf_nll(emissions, tags, word_mask, start, end, trans)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return int(keep.sum())

    for _ in range(3):
        step()
    began, tokens = time.perf_counter(), 0
    for _ in range(steps):
        tokens += step()
    seconds = time.perf_counter() - began
    print(json.dumps({"engine": "pytorch", "version": torch.__version__, "mode": "train", "batch": 16, "threads": threads,
                      "steps": steps, "tokens": tokens, "seconds": seconds, "tokens_per_s": tokens / seconds}))


def check(model_dir, hidden_path):
    model = DistilBert(model_dir).eval()
    worst_cos, worst_diff = 1.0, 0.0
    for row in json.load(open(hidden_path)):
        ids = torch.tensor([row["ids"]])
        with torch.inference_mode():
            h = model(ids, torch.ones_like(ids, dtype=torch.bool))[0]
        want = torch.tensor(row["hidden"]).reshape(h.shape)
        worst_cos = min(worst_cos, F.cosine_similarity(h, want, dim=-1).min().item())
        worst_diff = max(worst_diff, (h - want).abs().max().item())
    print(json.dumps({"engine": "pytorch", "check": hidden_path, "worst_cosine": worst_cos, "max_abs_diff": worst_diff}))
    if not (worst_cos > 0.9999 and math.isfinite(worst_diff) and worst_diff < 1e-3):
        sys.exit("the PyTorch encoder does not compute what candle does")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "infer":
        infer(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
    elif cmd == "train":
        train(args[0], args[1], int(args[2]), int(args[3]))
    elif cmd == "check":
        check(args[0], args[1])
    else:
        sys.exit(__doc__)
