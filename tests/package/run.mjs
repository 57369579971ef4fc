// The npm package as a web developer meets it (issue 19):
//   1. `npm pack` of app/package/pkg (scripts/build-package.sh): the tarball holds exactly the
//      files package.json lists, and its types compile (`tsc --noEmit` on src/main.ts, strict);
//   2. a web project (this folder, copied to target/package-consumer) installs the tarball;
//      `vite build` bundles it with no configuration, and webpack 5 with only an entry and output;
//   3. both bundles run in headless Chromium: the API tags "Python and SQL" and the custom element
//      highlights it typed into a textarea.
// Run by scripts/test.sh after scripts/e2e.sh (which builds the package); alone:
//   scripts/build-package.sh && node tests/package/run.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { ARGS, CHROMIUM, OUT, ROOT, freePort, serve, stop } from '../e2e/harness.mjs';

const PKG = path.join(ROOT, 'app/package/pkg');
const WORK = path.join(ROOT, 'target/package-consumer');
const HERE = path.join(ROOT, 'tests/package');
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
const step = (s) => console.log(`\n== ${s}`);

assert.ok(existsSync(path.join(PKG, 'package.json')), 'app/package/pkg is built (scripts/build-package.sh)');
const manifest = JSON.parse(readFileSync(path.join(PKG, 'package.json'), 'utf8'));

step('npm pack: the tarball\'s files');
rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });
const [packed] = JSON.parse(run('npm', ['pack', PKG, '--json', '--pack-destination', WORK], ROOT));
const files = packed.files.map((f) => f.path).sort();
console.log(`   ${packed.filename}: ${files.length} files, ${packed.size} B packed, ${packed.unpackedSize} B unpacked`);
assert.deepEqual(files, [...manifest.files, 'package.json'].sort(), 'the tarball holds package.json\'s files and nothing else');
for (const f of ['rolemapper.js', 'element.js', 'worker.js', 'rolemapper_worker_bg.wasm', 'relaxed/rolemapper_worker_bg.wasm']) {
  const bytes = readFileSync(path.join(PKG, f));
  console.log(`   ${f}: ${bytes.length} B, ${gzipSync(bytes, { level: 9 }).length} B gzip`);
}

step('a web project installs the tarball (Vite, webpack and TypeScript as its lock file pins them)');
for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'index.html', 'webpack.html', 'src']) cpSync(path.join(HERE, f), path.join(WORK, f), { recursive: true });
// Vite and TypeScript as the lock file pins them, kept between runs under .cache.
const cacheDir = path.join(ROOT, '.cache/package-consumer');
mkdirSync(cacheDir, { recursive: true });
run('npm', ['ci', '--silent', '--no-audit', '--no-fund', '--cache', path.join(cacheDir, 'npm')], WORK);
run('npm', ['install', '--silent', '--no-audit', '--no-fund', '--no-save', '--cache', path.join(cacheDir, 'npm'), path.join(WORK, packed.filename)], WORK);

step('tsc --noEmit: the package\'s types, strict');
run(path.join(WORK, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'], WORK);
console.log('   types compile');

step('vite build, no configuration');
// The model from the installed package, served as the page's static files.
cpSync(path.join(WORK, 'node_modules/rolemapper/model'), path.join(WORK, 'public/model'), { recursive: true });
console.log(run(path.join(WORK, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], WORK).trim());
const dist = path.join(WORK, 'dist');
for (const f of readdirSync(path.join(dist, 'assets'))) console.log(`   dist/assets/${f}: ${statSync(path.join(dist, 'assets', f)).size} B`);
assert.ok(statSync(path.join(dist, 'model/rolemapper.gguf')).size > 1e6, 'the model was copied');

step('webpack 5: entry and output only');
const webpackDist = path.join(WORK, 'dist-webpack');
{
  const { default: webpack } = await import(path.join(WORK, 'node_modules/webpack/lib/index.js'));
  const stats = await new Promise((resolve, reject) => webpack({
    mode: 'production', context: WORK, entry: './src/webpack.js',
    output: { path: webpackDist, filename: 'main.js', clean: true },
    performance: { hints: false },
  }, (err, st) => (err ? reject(err) : resolve(st))));
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  for (const f of readdirSync(webpackDist)) console.log(`   dist-webpack/${f}: ${statSync(path.join(webpackDist, f)).size} B`);
  cpSync(path.join(WORK, 'webpack.html'), path.join(webpackDist, 'index.html'));
  cpSync(path.join(WORK, 'public/model'), path.join(webpackDist, 'model'), { recursive: true });
}

step('the bundles in headless Chromium');
mkdirSync(OUT, { recursive: true });
const port = await freePort();
const server = await serve(port, dist);
const webpackPort = await freePort();
const webpackServer = await serve(webpackPort, webpackDist);
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
const problems = [];
try {
  // webpack's bundle: the API and the element.
  {
    const page = await browser.newPage();
    page.on('pageerror', (e) => problems.push(`webpack page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`webpack console: ${m.text()}`); });
    await page.goto(`http://127.0.0.1:${webpackPort}/`);
    await page.waitForFunction(() => window.__api, null, { timeout: 120_000 });
    const api = await page.evaluate(() => window.__api);
    console.log('   webpack API:', JSON.stringify(api));
    assert.equal(api.error, undefined, `the API works under webpack (${api.error})`);
    const texts = api.spans.map((s) => s.text);
    assert.ok(texts.includes('Python') && texts.includes('SQL'), `webpack: Python and SQL are tagged (got ${texts.join(', ')})`);
    await page.locator('#post').pressSequentially('Python and SQL', { delay: 20 });
    await page.waitForFunction(() => {
      const marks = [...document.getElementById('hl').shadowRoot.querySelectorAll('mark')].map((m) => m.textContent);
      return marks.includes('Python') && marks.includes('SQL');
    }, null, { timeout: 60_000 });
    console.log('   webpack element: Python and SQL highlighted');
    await page.close();
  }
  const page = await browser.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => window.__api, null, { timeout: 120_000 });
  const api = await page.evaluate(() => window.__api);
  console.log('   API:', JSON.stringify({ ...api, stages: [...new Set(api.stages)] }));
  assert.equal(api.error, undefined, `the API works (${api.error})`);
  const texts = api.spans.map((s) => 'Python and SQL'.slice(s.start, s.end));
  assert.deepEqual(api.spans.map((s) => s.text), texts, 'span offsets are string indices');
  assert.ok(texts.includes('Python') && texts.includes('SQL'), `Python and SQL are tagged (got ${texts.join(', ')})`);
  assert.ok(api.stages.includes('manifest') && api.stages.includes('loading'), 'progress was reported');
  assert.ok(api.roles.length === 3 && api.credits > 0, 'roles and their credits');
  assert.ok(api.lone.some(([slice]) => slice === 'Python'), `a text with a lone surrogate is answered (${JSON.stringify(api.lone)})`);
  for (const [slice, text] of api.lone) assert.equal(slice, text.replace('\ufffd', '\ud800'), 'offsets unchanged by the replacement');
  // A block: list items are separate words, each wrapped in place.
  await page.waitForSelector('#list mark.rolemapper-skill', { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelectorAll('#list mark.rolemapper-skill').length >= 2, null, { timeout: 20_000 });
  const listMarks = await page.locator('#list mark.rolemapper-skill').allTextContents();
  console.log('   block marks:', listMarks.join(' | '));
  // Without a line between the items, "SQLDocker" would be one word.
  assert.ok(listMarks.includes('SQL') && listMarks.includes('Docker'), 'the items\' last and first words are marked apart');
  assert.equal(await page.locator('#list li').count(), 2, 'the list is unchanged');

  await page.locator('#post').pressSequentially('Python and SQL', { delay: 20 });
  await page.waitForFunction(() => {
    const el = document.getElementById('hl');
    const marks = [...el.shadowRoot.querySelectorAll('mark')].map((m) => m.textContent);
    return el.shadowRoot.querySelector('.backdrop').textContent === 'Python and SQL\n' && marks.includes('Python') && marks.includes('SQL');
  }, null, { timeout: 60_000 });
  const marks = await page.locator('#hl').evaluate((el) => [...el.shadowRoot.querySelectorAll('mark')].map((m) => m.textContent));
  console.log('   element marks:', marks.join(' | '));
  await page.screenshot({ path: path.join(OUT, 'package-vite.png') });
  assert.deepEqual(problems, [], 'no page errors');
  console.log('\npackage: all checks passed');
} finally {
  await browser.close();
  await stop(server);
  await stop(webpackServer);
}
