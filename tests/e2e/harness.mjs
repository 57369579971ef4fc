// What tests/e2e/run.mjs (the end-to-end tests) and tests/e2e/bench.mjs (the
// app's latency figures) share: paths, Debian's Chromium and its flags, and
// a python3 http.server on dist/ at a free local port.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
// RM_DIST: serve another build of the site (e.g. to compare two builds).
export const DIST = process.env.RM_DIST ? path.resolve(process.env.RM_DIST) : path.join(ROOT, 'dist');
export const OUT = path.join(ROOT, 'target/e2e-artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Without the network flags Chromium keeps trying hosts it cannot reach.
export const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** python3 http.server on `dir` (dist/) once it answers; `requests` collects the paths it logs. */
export async function serve(port, dir = DIST) {
  const server = { requests: [], proc: null };
  server.proc = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  server.proc.stderr.on('data', (d) => {
    for (const line of d.toString().split('\n')) {
      const m = line.match(/"(GET|POST|HEAD) ([^ ]+)/);
      if (m) server.requests.push(m[2]);
    }
  });
  for (let i = 0; i < 100; i++) {
    try { await fetch(`http://127.0.0.1:${port}/`); server.requests.length = 0; return server; } catch { }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the test server did not start');
}

export const stop = (server) => new Promise((r) => { server.proc.on('exit', r); server.proc.kill(); });
