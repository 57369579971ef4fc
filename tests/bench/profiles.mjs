// The CPU profiles that scripts/bench.sh runs the browser part
// (tests/bench/browser.mjs) and the app part (tests/e2e/bench.mjs) under, in
// the same run (issue 22). Each script takes one: `--profile NAME` (or
// BENCH_PROFILE=NAME; default as-is). Not to be confused with the op
// profiles (`profile_*_128`, BENCH_PROFILE_REPS) of browser.mjs.
//
//   node tests/bench/profiles.mjs v8-cpu-features [NAME]   V8's "CPU features" line under NAME's flags
//   node tests/bench/profiles.mjs list [browser|app]       the profiles of a part
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const PROFILES = {
  'as-is': {
    parts: ['browser', 'app'], jsFlags: [], throttle: 1,
    about: 'the machine as it is',
  },
  'no-avx-vnni': {
    parts: ['browser', 'app'], jsFlags: ['--no-enable-avx-vnni'], throttle: 1,
    about: 'Chromium with `--js-flags=--no-enable-avx-vnni`: V8 does not use AVX-VNNI (its CPU features line shows AVX_VNNI=0)',
  },
  'throttle-4x': {
    parts: ['app'], jsFlags: [], throttle: 4,
    about: 'DevTools CPU throttling at rate 4 (`Emulation.setCPUThrottlingRate`) on every page the app bench opens, '
      + "set before it navigates: it slows the page's main thread (rendering, message handling), not the Web Worker's "
      + "own compute (a busy loop: 4× slower on the page, unchanged in a worker; the worker's `updated in` time stays the same)",
  },
};

/** Chromium's extra arguments for a profile. */
export function chromiumArgs(name) {
  const p = PROFILES[name];
  return p.jsFlags.length ? [`--js-flags=${p.jsFlags.join(' ')}`] : [];
}

/** The profile named by `--profile NAME` in argv or BENCH_PROFILE (default as-is), checked
 *  against `part`; returns { name, profile, rest } (rest: argv without the option). */
export function profileFromArgv(argv, part) {
  let name = process.env.BENCH_PROFILE || 'as-is';
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--profile') name = argv[++i];
    else if (argv[i].startsWith('--profile=')) name = argv[i].slice('--profile='.length);
    else rest.push(argv[i]);
  }
  const profile = PROFILES[name];
  if (!profile || !profile.parts.includes(part)) {
    const known = Object.keys(PROFILES).filter((n) => PROFILES[n].parts.includes(part));
    console.error(`unknown CPU profile for the ${part} part: ${name} (known: ${known.join(', ')})`);
    process.exit(2);
  }
  return { name, profile, rest };
}

/** V8's own "CPU features" line (without the prefix) in this Chromium under the
 *  profile's V8 flags (`--js-flags="FLAGS --help"`), or null when Chromium printed
 *  none within `timeoutMs`. Chromium stays up after printing it, so it is stopped
 *  at the first line (its own process group, a fresh user data dir). */
export function v8CpuFeatures(name = 'as-is', timeoutMs = 20_000) {
  const flags = [...PROFILES[name].jsFlags, '--help'].join(' ');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rm-v8-flags-'));
  return new Promise((resolve) => {
    let buf = '';
    let done = false;
    const child = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${dir}`,
      `--js-flags=${flags}`, 'about:blank'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const finish = (line) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { }
      // Removed once the processes have gone (they write into it until then).
      setTimeout(() => rmSync(dir, { recursive: true, force: true }), 500);
      resolve(line);
    };
    const seen = (d) => {
      buf += d;
      const m = buf.match(/CPU features: ([^\n]*)\n/);
      if (m) finish(m[1].trim());
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('error', () => finish(null));
    child.on('exit', () => finish(null));
    const timer = setTimeout(() => finish(null), timeoutMs);
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [cmd, arg] = process.argv.slice(2);
  if (cmd === 'v8-cpu-features' && (!arg || PROFILES[arg])) {
    const line = await v8CpuFeatures(arg || 'as-is');
    console.log(line ?? `unknown (${CHROMIUM} printed no V8 CPU features line)`);
  } else if (cmd === 'list') {
    console.log(Object.keys(PROFILES).filter((n) => !arg || PROFILES[n].parts.includes(arg)).join(' '));
  } else {
    console.error('usage: node tests/bench/profiles.mjs v8-cpu-features [PROFILE] | list [browser|app]');
    process.exit(2);
  }
}
