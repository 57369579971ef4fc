// pdf.js (npm `pdfjs-dist`, pinned in package.json) as a PDF text extractor,
// measured on the generated CV fixtures so the README can set it beside the
// project's Rust extractor (skills/extract, built on the `pdf-extract` crate).
//
// For every tests/fixtures/cv-files/*.pdf (made by scripts/make-cv-fixtures.py):
//   - the text: pdf.js's legacy build in Node, no worker thread (the worker
//     code runs in this thread), no font loading; each page's
//     getTextContent() items' `str` joined, "\n" where `hasEOL`, a blank line
//     between pages; then tidied as skills/extract/src/text.rs `tidy(_, pdf)`
//     does (runs of spaces to one, line ends trimmed, at most one blank line,
//     `manage-`+`ment` joined, ligatures U+FB00–FB06 to their NFKC form);
//   - good files (with NAME.expected.txt): the word-sequence similarity
//     2·LCS/(|a|+|b|) of skills/extract/tests/fixtures.rs `similarity`;
//   - time: each file's first extraction (the first file's right after the
//     import; the import is reported apart, and import + that first call as
//     the cold start), then the median of 5 more, run round-robin over the
//     files, in ms;
//   - bad-*.pdf: what pdf.js does (exception class and message, or the text);
//   - the bytes a web page adds for pdf.js: build/pdf.min.mjs and
//     build/pdf.worker.min.mjs (the non-legacy builds a browser loads), raw
//     and gzipped (level 9).
//
// Run from the repository root after `npm install`:
//   node tests/bench/pdf-extractors.mjs [--json OUT]
// Prints markdown tables; --json OUT also writes the figures (and each
// file's extracted text) as JSON.

import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const DIR = join(ROOT, 'tests/fixtures/cv-files');
const PKG = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
const RUNS = 5;

const args = process.argv.slice(2);
const jsonOut = args.includes('--json') ? args[args.indexOf('--json') + 1] : null;
if (args.includes('--json') && !jsonOut) throw new Error('usage: node tests/bench/pdf-extractors.mjs [--json OUT]');

// --- skills/extract/src/text.rs tidy(raw, pdf = true) ---------------------
const BULLETS = new Set(['\uf0b7', '\uf0a7', '\uf076', '\uf0d8', '\uf0fc', '\u25cf']);
const ALPHA = /\p{Alphabetic}/u;
const LOWER = /\p{Lowercase}/u;
const CONTROL = /\p{Cc}/u;

function tidy(raw) {
  const lines = [];
  let blank = true;
  for (const line of raw.split(/[\n\r\u2028\u2029\f\v]/)) {
    let l = '';
    let space = false;
    for (const c of line) {
      if (c === '\u00ad' || c === '\u200b' || c === '\ufeff') continue;
      if (c === ' ' || c === '\u00a0') {
        if (!space) l += ' ';
        space = true;
        continue;
      }
      if (c >= '\ufb00' && c <= '\ufb06') l += c.normalize('NFKC');
      else if (BULLETS.has(c)) l += '•';
      else if (CONTROL.test(c) && c !== '\t') continue;
      else l += c;
      space = false;
    }
    l = l.trim();
    if (!l) {
      if (!blank) lines.push('');
      blank = true;
      continue;
    }
    const prev = lines.at(-1);
    if (prev !== undefined && joinsHyphenated(prev, l)) {
      lines[lines.length - 1] = prev.slice(0, -1) + l;
    } else {
      lines.push(l);
    }
    blank = false;
  }
  while (lines.length && !lines.at(-1)) lines.pop();
  return lines.join('\n');
}

function joinsHyphenated(prev, next) {
  const [before, last] = [...prev].slice(-2); // code points, as Rust's chars()
  return last === '-' && before !== undefined && ALPHA.test(before) && LOWER.test([...next][0] ?? '');
}

// --- skills/extract/tests/fixtures.rs similarity --------------------------
const words = (s) => s.split(/\s+/u).filter(Boolean);

function similarity(a, b) {
  [a, b] = [words(a), words(b)];
  if (!a.length && !b.length) return 1;
  const row = new Array(b.length + 1).fill(0);
  for (const x of a) {
    let diag = 0;
    for (let j = 0; j < b.length; j++) {
      const up = row[j + 1];
      row[j + 1] = x === b[j] ? diag + 1 : Math.max(up, row[j]);
      diag = up;
    }
  }
  return (2 * row[b.length]) / (a.length + b.length);
}

// --- pdf.js -----------------------------------------------------------------
let pdfjs;

async function load() {
  pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  // With the worker module on globalThis, pdf.js runs it in this thread
  // instead of starting a worker.
  globalThis.pdfjsWorker = await import('pdfjs-dist/legacy/build/pdf.worker.mjs');
}

/** { text, pages } of one PDF's bytes; throws what pdf.js throws. */
async function extract(bytes) {
  const task = pdfjs.getDocument({
    data: new Uint8Array(bytes), // a copy: pdf.js may take the buffer over
    disableFontFace: true,
    useSystemFonts: false,
    isEvalSupported: false,
    cMapUrl: join(PKG, 'cmaps/'),
    cMapPacked: true,
    standardFontDataUrl: join(PKG, 'standard_fonts/'),
    verbosity: 0, // errors only
  });
  try {
    const doc = await task.promise;
    const pages = [];
    for (let i = 1; i <= doc.numPages; i++) {
      const page = await doc.getPage(i);
      const { items } = await page.getTextContent();
      pages.push(items.map((it) => (it.str ?? '') + (it.hasEOL ? '\n' : '')).join(''));
      page.cleanup();
    }
    return { text: tidy(pages.join('\n\n')), pages: doc.numPages };
  } finally {
    await task.destroy();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => x.toFixed(1);
const md = (s) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ');

// --- run ----------------------------------------------------------------------
const t0 = performance.now();
await load();
const importMs = performance.now() - t0;

const files = readdirSync(DIR).filter((f) => f.endsWith('.pdf')).sort((a, b) =>
  // good files first, in name order
  Number(a.startsWith('bad-')) - Number(b.startsWith('bad-')) || a.localeCompare(b));
const bytesOf = Object.fromEntries(files.map((f) => [f, readFileSync(join(DIR, f))]));
async function run(name) {
  const s = performance.now();
  try {
    return { ...(await extract(bytesOf[name])), ms: performance.now() - s };
  } catch (e) {
    const error = { class: e?.constructor?.name ?? typeof e, name: e?.name, message: e?.message ?? String(e) };
    return { error, ms: performance.now() - s };
  }
}
// First calls in file order (the first one right after the import), then
// RUNS rounds over all files, so no file's median carries the JIT warm-up.
const firsts = {};
for (const f of files) firsts[f] = await run(f);
const times = Object.fromEntries(files.map((f) => [f, []]));
for (let i = 0; i < RUNS; i++) for (const f of files) times[f].push((await run(f)).ms);

const good = [];
const bad = [];
for (const name of files) {
  const first = firsts[name];
  const row = {
    file: name, bytes: bytesOf[name].length, first_ms: first.ms, median_ms: median(times[name]), runs: RUNS,
    pages: first.pages ?? null, text: first.text ?? null, error: first.error ?? null,
  };
  const expected = join(DIR, `${name}.expected.txt`);
  if (existsSync(expected)) {
    const want = readFileSync(expected, 'utf8');
    row.expected_words = words(want).length;
    row.words = first.text == null ? 0 : words(first.text).length;
    row.similarity = first.text == null ? 0 : similarity(first.text, want);
    good.push(row);
  } else {
    bad.push(row);
  }
}
const coldMs = importMs + (good[0] ?? bad[0])?.first_ms;

const sizes = ['build/pdf.min.mjs', 'build/pdf.worker.min.mjs'].map((f) => {
  const b = readFileSync(join(PKG, f));
  return { file: f, bytes: b.length, gzip_bytes: gzipSync(b, { level: 9 }).length };
});
sizes.push({ file: 'sum', bytes: sizes[0].bytes + sizes[1].bytes, gzip_bytes: sizes[0].gzip_bytes + sizes[1].gzip_bytes });

// --- report ---------------------------------------------------------------
const out = [];
out.push(`pdf.js ${pdfjs.version} (legacy build, Node ${process.versions.node}, no worker thread)`, '');
out.push(`Import ${ms(importMs)} ms; cold start (import + first extraction of ${(good[0] ?? bad[0]).file}) ${ms(coldMs)} ms.`, '');
out.push('### Good files', '', '| file | KB | pages | words (expected) | words (pdf.js) | similarity | first ms | median ms (5) |', '|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of good) {
  out.push(`| ${r.file} | ${(r.bytes / 1024).toFixed(1)} | ${r.pages ?? '–'} | ${r.expected_words} | ${r.words} | ${r.similarity.toFixed(3)} | ${ms(r.first_ms)} | ${ms(r.median_ms)} |`);
}
out.push('', '### Bad files', '', '| file | KB | pdf.js does | first ms | median ms (5) |', '|---|---:|---|---:|---:|');
for (const r of bad) {
  const does = r.error
    ? `throws ${r.error.class}${r.error.name && r.error.name !== r.error.class ? ` (${r.error.name})` : ''}: "${md(r.error.message)}"`
    : `returns ${r.pages} page(s), ${r.text.length} chars${r.text ? `: "${md(r.text.slice(0, 60))}${r.text.length > 60 ? '…' : ''}"` : ' (empty text)'}`;
  out.push(`| ${r.file} | ${(r.bytes / 1024).toFixed(1)} | ${does} | ${ms(r.first_ms)} | ${ms(r.median_ms)} |`);
}
out.push('', '### What pdf.js adds to a web page (pdfjs-dist/build, non-legacy)', '', '| file | bytes | gzip -9 bytes |', '|---|---:|---:|');
for (const s of sizes) out.push(`| ${s.file} | ${s.bytes} | ${s.gzip_bytes} |`);
console.log(out.join('\n'));

if (jsonOut) {
  const json = { pdfjs_version: pdfjs.version, node: process.versions.node, import_ms: importMs, cold_start_ms: coldMs, good, bad, sizes };
  writeFileSync(jsonOut, JSON.stringify(json, null, 2) + '\n');
}
