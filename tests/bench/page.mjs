// In-page side of tests/bench/browser.mjs: loads one engine, times
// forwards at batch 1 with performance.now(), returns plain numbers.

/** The benchmark's token ids (same as token_ids() in wasm/src/lib.rs). */
export function tokenIds(t) {
  return Array.from({ length: t }, (_, i) => (i === 0 ? 101 : i === t - 1 ? 102 : 2000 + ((i * 37) % 20000)));
}

function stats(times, t) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { runs: s.length, p50_ms: q(0.5), p95_ms: q(0.95), mean_ms: mean, tokens_per_s: (t * 1000) / q(0.5) };
}

/** Warm-up runs, then timed runs until `minRuns` and `budgetMs` are both reached (or maxRuns). */
async function time(run, t, { warmup = 2, minRuns = 10, maxRuns = 200, budgetMs = 3000 } = {}) {
  for (let i = 0; i < warmup; i++) await run(t);
  const times = [];
  const start = performance.now();
  while (times.length < maxRuns && (times.length < minRuns || performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    await run(t);
    times.push(performance.now() - t0);
  }
  return stats(times, t);
}

window.benchCandle = async function (compute, lengths, opts, pkg = '/pkg/') {
  const wasm = await import(`${pkg}rolemapper_bench_wasm.js`);
  await wasm.default();
  const bytes = new Uint8Array(await (await fetch('/bundle/rolemapper.gguf')).arrayBuffer());
  const t0 = performance.now();
  const enc = new wasm.Encoder(bytes, compute);
  const load_ms = performance.now() - t0;
  // The int8 kernel the encoder's build chose at load on this CPU (skills::int8::choose_kernel).
  const int8_kernel = compute === 'int8' ? wasm.int8_kernel() : null;
  const results = {};
  for (const t of lengths) results[t] = await time((n) => enc.forward(n), t, opts);
  return { load_ms, int8_kernel, results };
};

window.profileCandle = async function (compute, t, reps, pkg = '/pkg/') {
  const wasm = await import(`${pkg}rolemapper_bench_wasm.js`);
  await wasm.default();
  const bytes = new Uint8Array(await (await fetch('/bundle/rolemapper.gguf')).arrayBuffer());
  return JSON.parse(wasm.profile(bytes, t, reps, compute));
};

window.simdPeak = async function (iters = 2e7) {
  const wasm = await import('/pkg/rolemapper_bench_wasm.js');
  await wasm.default();
  wasm.simd_peak_gflops(Math.min(1e6, iters));
  const runs = [1, 2, 3].map(() => wasm.simd_peak_gflops(iters));
  return Math.max(...runs);
};

window.benchOrt = async function (model, lengths, opts) {
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = '/ort/';
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(`/models/${model}`, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  const load_ms = performance.now() - t0;
  const feeds = (t) => {
    const ids = BigInt64Array.from(tokenIds(t), BigInt);
    const f = {
      input_ids: new ort.Tensor('int64', ids, [1, t]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(t).fill(1n), [1, t]),
    };
    if (session.inputNames.includes('token_type_ids')) f.token_type_ids = new ort.Tensor('int64', new BigInt64Array(t), [1, t]);
    return f;
  };
  const results = {};
  for (const t of lengths) {
    const f = feeds(t);
    results[t] = await time(async () => {
      const out = await session.run(f);
      out.last_hidden_state.dispose?.();
    }, t, opts);
  }
  return { load_ms, version: ort.env.versions?.web ?? null, results };
};

/** The keystroke re-tag of tests/e2e/bench.mjs (600-word CV, typing in its
 *  middle), in wasm without the app: per length of the typed text (`steps`
 *  lengths), ms of `hot` back-to-back calls and of `gap` calls `gapMs` apart
 *  (p50 of each), and one op profile. */
window.benchKeystroke = async function (cv, typed, gapMs, pkg = '/pkg/', { steps = 8, hot: hotRuns = 20, gap: gapRuns = 5 } = {}) {
  const wasm = await import(`${pkg}rolemapper_bench_wasm.js`);
  await wasm.default();
  const bytes = new Uint8Array(await (await fetch('/bundle/rolemapper.gguf')).arrayBuffer());
  const k = new wasm.Keystroke(bytes);
  let mid = Math.floor(cv.length / 2);
  while (mid < cv.length && cv[mid] !== ' ') mid++;
  const enc = new TextEncoder();
  const out = [];
  const p50 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (let i = 1; i <= typed.length; i += Math.max(1, Math.floor(typed.length / steps))) {
    const text = cv.slice(0, mid) + typed.slice(0, i) + cv.slice(mid);
    const at = enc.encode(cv.slice(0, mid)).length;
    for (let w = 0; w < Math.min(5, hotRuns); w++) k.tag(text, at);
    const hot = [];
    for (let r = 0; r < hotRuns; r++) hot.push(k.tag(text, at));
    const gap = [];
    for (let r = 0; r < gapRuns; r++) { await new Promise((res) => setTimeout(res, gapMs)); gap.push(k.tag(text, at)); }
    out.push({ typed: i, sub_words: k.sub_words(text, at), hot_p50_ms: p50(hot), gap_p50_ms: p50(gap), profile: JSON.parse(k.profile(text, at)) });
  }
  return out;
};
