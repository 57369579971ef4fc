// RoleMapper end to end, in Debian's headless Chromium driven by
// playwright-core: the built site (dist/) with the real model.
//
//   node tests/e2e/run.mjs            (scripts/e2e.sh builds dist/ first)
//
// Serves dist/ on a free local port with its own server (so that the test
// can stop it: the offline visit must work with no server at all), runs the
// scenarios in order (they share one browser profile: the second visit
// relies on the first's caches), saves screenshots and metrics.json under
// target/e2e-artifacts/, and exits non-zero on the first failure.
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync, statSync, readdirSync, readFileSync, rmSync, copyFileSync, cpSync, symlinkSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT, DIST, OUT, CHROMIUM, ARGS, freePort, serve, stop } from './harness.mjs';

const MODEL_TIMEOUT = 120_000;
// The page highlights at most this many characters (app/src/client.rs MAX_CHARS).
const MAX_CHARS = 100_000;
// How long the no-network check types (seconds).
const TYPING_S = Number(process.env.E2E_TYPING_S || 60);

const CV = `Jamie Lee, data engineer.
Skills: Python, SQL, Docker and Kubernetes.
I built ETL pipelines with Apache Spark and taught machine learning.`;
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> I know Python.`;

// A valid PDF of about `bytes` bytes, made here (text only, uncompressed, 60 lines a page), for
// the responsiveness check of a large file.
function bigPdf(bytes) {
  const line = '(Built data pipelines with Python, SQL, Docker and Kubernetes for the logistics team.) Tj T*\n';
  const perPage = 60;
  const pageStream = 'BT /F1 9 Tf 11 TL 40 800 Td\n' + line.repeat(perPage) + 'ET\n';
  const pages = Math.max(1, Math.ceil(bytes / (pageStream.length + 200)));
  const objs = [];
  // 1: catalog, 2: pages, 3: font, then page + content pairs.
  const kids = [];
  for (let i = 0; i < pages; i++) kids.push(`${4 + 2 * i} 0 R`);
  objs.push('<< /Type /Catalog /Pages 2 0 R >>');
  objs.push(`<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages} >>`);
  objs.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  for (let i = 0; i < pages; i++) {
    objs.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + 2 * i} 0 R >>`);
    objs.push(`<< /Length ${pageStream.length} >>\nstream\n${pageStream}endstream`);
  }
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n` + offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return out;
}

mkdirSync(OUT, { recursive: true });
const metrics = {};

// `rolemapper roles` on a text, with the shipped model and role table: the
// page must rank as the CLI does (the same Rust, native here, wasm there).
// scripts/e2e.sh builds the binary (debug, as scripts/test.sh's tests do).
const ROLEMAPPER = process.env.ROLEMAPPER || path.join(ROOT, 'target/debug/rolemapper');
function rolesCli(text, top = 10) {
  const file = path.join(OUT, 'roles-input.txt');
  writeFileSync(file, text);
  const out = execFileSync(ROLEMAPPER, ['roles', '--top', String(top), file], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n')[0]);
}
// The page shows a score as a whole percent (Rust's `{:.0}` of score × 100);
// the CLI prints it to four decimals.
const samePercent = (shown, score) => Math.abs(Number(shown.replace('%', '')) - score * 100) <= 0.51;
const step = (s) => console.log(`\n== ${s}`);

/** Marks in an editor's backdrop, with the textarea's text at their offsets. */
async function marks(page, id = 'editor-cv') {
  return page.evaluate((id) => {
    const value = document.getElementById(id).value;
    const units = (s) => s.length; // JS strings are UTF-16
    // A div per line; a mark's data-start counts from its line's start.
    const lineStarts = [0];
    for (let i = 0; i < value.length; i++) if (value[i] === '\n') lineStarts.push(i + 1);
    const lines = [...document.getElementById(`${id}-backdrop`).children];
    return [...document.querySelectorAll(`#${id}-backdrop mark`)].map((m) => {
      const start = lineStarts[lines.indexOf(m.parentElement)] + Number(m.dataset.start);
      return { text: m.textContent, at: value.slice(start, start + units(m.textContent)), linked: m.classList.contains('linked') };
    });
  }, id);
}

// A CV long enough to scroll in the editor (written for these tests), with
// comma lists of tools whose highlights are easy to misplace by a few
// characters when the backdrop wraps differently from the textarea.
const LONG_CV = [
  'Priya Raman — Senior Software Engineer', 'Pune, India · priya@example.org', '',
  'Summary', 'Backend engineer with nine years of Java and Go services, SQL tuning and cloud migrations.', '',
  'Languages: Core Java, Go Lang, Python, Data Structures & Algorithms, Oracle PL/SQL',
  'Tools: RADTool, Jdeveloper, NetBeans, Eclipse, SQL developer, IntelliJ IDEA, Git, Jenkins',
  'Cloud: AWS (EC2, S3, Lambda), Docker, Kubernetes, Terraform', '',
  ...Array.from({ length: 14 }, (_, i) => `• Project ${i + 1}: built REST APIs in Java with Spring Boot and PostgreSQL; wrote unit tests with JUnit; reviewed code and mentored two engineers in Agile teams.`),
  '', 'Education', 'B.E. Computer Engineering, 2015', '',
  'Certifications: Oracle Certified Professional Java SE, AWS Solutions Architect Associate',
  ...Array.from({ length: 10 }, (_, i) => `• Release ${i + 1}: version control system migration to Git, Proficiency in JavaScript and TypeScript for internal dashboards, SAP and Blue Prism integrations.`),
  '', 'Interests: chess, running, teaching Python to students',
].join('\n');

/**
 * How the backdrop of editor `id` lines up with its textarea now: scroll
 * positions and text widths of the two, and for each mark in view the gap
 * (px) between the mark's box and where the textarea draws the same
 * characters, measured on a mirror of the textarea (its computed font,
 * padding and wrapping, its content width) through a DOM Range, so the
 * check does not trust the backdrop's own layout.
 */
async function alignment(page, id = 'editor-cv') {
  return page.evaluate(async (id) => {
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const ta = document.getElementById(id);
    const bd = document.getElementById(`${id}-backdrop`);
    const cs = getComputedStyle(ta);
    const px = (v) => parseFloat(v) || 0;
    const textWidth = (el) => el.clientWidth - px(getComputedStyle(el).paddingLeft) - px(getComputedStyle(el).paddingRight);
    const mirror = document.createElement('div');
    for (const p of ['font-family', 'font-size', 'font-weight', 'font-style', 'line-height', 'letter-spacing',
      'word-spacing', 'tab-size', 'white-space', 'overflow-wrap', 'word-break', 'text-transform',
      'font-variant-ligatures', 'font-feature-settings', 'text-rendering']) {
      mirror.style.setProperty(p, cs.getPropertyValue(p));
    }
    Object.assign(mirror.style, {
      position: 'absolute', left: '0', top: '0', visibility: 'hidden', boxSizing: 'content-box',
      padding: '0', border: '0', margin: '0', width: `${textWidth(ta)}px`,
    });
    mirror.textContent = ta.value;
    document.body.append(mirror);
    const origin = mirror.getBoundingClientRect();
    const box = ta.getBoundingClientRect();
    // Where the textarea's text starts on screen.
    const x0 = box.left + ta.clientLeft + px(cs.paddingLeft) - ta.scrollLeft;
    const y0 = box.top + ta.clientTop + px(cs.paddingTop) - ta.scrollTop;
    const lineStarts = [0];
    for (let i = 0; i < ta.value.length; i++) if (ta.value[i] === '\n') lineStarts.push(i + 1);
    const lines = [...bd.children];
    const worst = { gap: 0, text: '' };
    let checked = 0;
    for (const m of bd.querySelectorAll('mark')) {
      const r = m.getClientRects()[0];
      if (!r || r.top < box.top + ta.clientTop || r.bottom > box.top + ta.clientTop + ta.clientHeight) continue;
      const start = lineStarts[lines.indexOf(m.parentElement)] + Number(m.dataset.start);
      const range = document.createRange();
      range.setStart(mirror.firstChild, start);
      range.setEnd(mirror.firstChild, start + m.textContent.length);
      const g = range.getClientRects()[0];
      const gap = Math.max(Math.abs(g.left - origin.left + x0 - r.left), Math.abs(g.top - origin.top + y0 - r.top),
        Math.abs(g.width - r.width));
      checked++;
      if (gap > worst.gap) Object.assign(worst, { gap, text: m.textContent });
    }
    mirror.remove();
    return {
      scroll: [ta.scrollTop, bd.scrollTop], width: [textWidth(ta), textWidth(bd)],
      height: [ta.clientHeight, bd.clientHeight], checked, worst,
    };
  }, id);
}

function assertAligned(a, what) {
  console.log(`   ${what}: scroll ${a.scroll.join('/')}, text width ${a.width.join('/')}, ${a.checked} marks in view, worst ${a.worst.gap.toFixed(1)} px (${a.worst.text})`);
  assert.equal(a.scroll[1], a.scroll[0], `${what}: the backdrop scrolls with the textarea`);
  assert.ok(Math.abs(a.width[1] - a.width[0]) < 0.5, `${what}: the backdrop's text is as wide as the textarea's`);
  assert.equal(a.height[1], a.height[0], `${what}: the backdrop is as tall as the textarea`);
  assert.ok(a.checked >= 3, `${what}: marks in view to check`);
  assert.ok(a.worst.gap <= 1.5, `${what}: "${a.worst.text}" is ${a.worst.gap.toFixed(1)} px off its glyphs`);
}

async function firstHighlightMs(page) {
  await page.waitForSelector('#editor-cv-backdrop mark', { timeout: MODEL_TIMEOUT });
  return page.evaluate(() => Math.round(performance.now()));
}

async function shot(page, name) {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`   screenshot ${path.relative(ROOT, file)}`);
}

function wasmSizes() {
  const out = {};
  // The page's and the file reader's (trunk), the model worker's two (the package's, in pkg/).
  for (const dir of ['', 'pkg', 'pkg/relaxed']) {
    for (const f of readdirSync(path.join(DIST, dir)).filter((f) => f.endsWith('.wasm'))) {
      const raw = statSync(path.join(DIST, dir, f)).size;
      const gz = gzipSync(readFileSync(path.join(DIST, dir, f)), { level: 9 }).length;
      const name = dir === 'pkg' ? 'worker' : dir === 'pkg/relaxed' ? 'worker_relaxed' : f.startsWith('extractor') ? 'extractor' : 'app';
      out[name] = { file: path.join(dir, f), raw, gzip: gz };
    }
  }
  return out;
}

const port = await freePort();
const base = `http://127.0.0.1:${port}/`;
let server = await serve(port);
const userDataDir = path.join(OUT, 'profile');
rmSync(userDataDir, { recursive: true, force: true });
// A persistent profile: the second visit must find the first's caches.
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 },
});
// Every text the page posts to the worker: the longest one is checked.
await context.addInitScript(() => {
  const post = Worker.prototype.postMessage;
  window.__maxToWorker = 0;
  Worker.prototype.postMessage = function (m, ...rest) {
    try {
      const t = JSON.parse(m).text;
      if (typeof t === 'string') window.__maxToWorker = Math.max(window.__maxToWorker, [...t].length);
    } catch { }
    return post.call(this, m, ...rest);
  };
});
const problems = [];
context.on('weberror', (e) => problems.push(`page error: ${e.error().message}`));
let page = context.pages()[0] ?? await context.newPage();
const watch = (p) => p.on('console', (m) => {
  if (m.type() === 'error') problems.push(`console: ${m.text()}`);
});
watch(page);

try {
  metrics.wasm = wasmSizes();

  step('first visit: the model downloads, typing a CV highlights skills');
  await page.goto(base);
  await page.locator('#editor-cv').pressSequentially(CV.slice(0, 40), { delay: 10 });
  await page.locator('#editor-cv').fill(CV);
  metrics.first_visit_load_to_first_highlight_ms = await firstHighlightMs(page);
  await page.waitForFunction(() => !document.querySelector('.editor-summary').textContent.includes('highlighting'));
  const found = await marks(page);
  console.log('   marks:', found.map((m) => m.text).join(' | '));
  assert.ok(found.length >= 3, 'several skills are highlighted');
  for (const m of found) assert.equal(m.at, m.text, 'each mark covers exactly its text in the textarea');
  assert.ok(found.some((m) => m.text === 'Python'), 'Python is highlighted');
  // The backdrop (a div per line) lays the text out as the textarea does:
  // the same height with blank lines, wrapped lines and a final line break.
  for (const text of [CV, `${CV}\n\n${'Built Python and SQL pipelines; '.repeat(12)}\n\n`]) {
    await page.locator('#editor-cv').fill(text);
    await page.waitForFunction((n) => document.getElementById('editor-cv-backdrop').children.length === n, text.split('\n').length);
    const [ta, bd] = await page.evaluate(() => ['editor-cv', 'editor-cv-backdrop'].map((id) => document.getElementById(id).scrollHeight));
    assert.equal(bd, ta, `backdrop height ${bd} = textarea height ${ta}`);
  }
  await page.locator('#editor-cv').fill(CV);
  await page.waitForFunction(() => !document.querySelector('.editor-summary').textContent.includes('highlighting'));
  const status = await page.locator('.status').textContent();
  assert.match(status, /Model ready .*downloaded/);
  // Chromium has relaxed SIMD: the package's worker.js picks the wasm built with it.
  const kernel = await page.evaluate(() => document.documentElement.dataset.rmKernel);
  console.log('   int8 kernel:', kernel);
  assert.match(kernel, /^relaxed-simd|^simd128-in-relaxed-build$/, 'the worker built with relaxed SIMD runs (its fused or split dot products, or SIMD128\'s where faster: chosen by timing)');
  metrics.marked_characters = found.reduce((n, m) => n + m.text.length, 0);
  // The role data loads after the model (one more verified, cached file).
  await page.waitForSelector('.role-list .role', { timeout: 30_000 });
  metrics.roles_ready_ms = await page.evaluate(() => Number(performance.getEntriesByType('mark')
    .find((m) => m.name.startsWith('rm-roles-ready:')).name.split(':')[1]));
  console.log(`   role data ready (${metrics.roles_ready_ms} ms in the worker)`);
  await shot(page, '01-first-highlight');

  step('the CSP is enforced: an injected inline script does not run');
  const inlineRan = await page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1';
    document.body.append(s);
    await new Promise((r) => setTimeout(r, 50));
    return window.__inline === 1;
  });
  assert.equal(inlineRan, false, 'inline script is blocked');
  problems.length = 0; // the CSP report of that attempt is expected

  step('no request leaves the page after the model and the role data have loaded');
  const after = [];
  const onRequest = (r) => after.push(r.url());
  context.on('request', onRequest);
  const served = server.requests.length;
  await page.locator('#editor-cv').pressSequentially(' Also Rust and TypeScript.', { delay: 20 });
  await page.waitForFunction(() => [...document.querySelectorAll('#editor-cv-backdrop mark')].some((m) => m.textContent === 'Rust'), null, { timeout: 20_000 });
  await page.waitForTimeout(1500);
  // Then type continuously for TYPING_S seconds.
  const words = ' Python SQL Docker Kubernetes Rust teamwork Excel'.split('');
  const typingEnd = Date.now() + TYPING_S * 1000;
  let typed = 0;
  while (Date.now() < typingEnd) {
    await page.keyboard.type(words[typed % words.length], { delay: 0 });
    typed++;
    await page.waitForTimeout(30);
  }
  await page.waitForFunction(() => !document.querySelector('.editor-summary').textContent.includes('highlighting'), null, { timeout: 30_000 });
  context.off('request', onRequest);
  console.log(`   typed ${typed} characters over ${TYPING_S} s; browser requests ${after.length}, server requests ${server.requests.length - served}`);
  // The browser itself may check the service worker's script for an update
  // (a GET of /sw.js with no page data, not made by the page): allowed, counted.
  const seen = server.requests.slice(served);
  metrics.no_network_typing = { seconds: TYPING_S, characters: typed, browser_requests: after.length, server_requests: seen };
  assert.deepEqual(after, [], 'no browser request after load');
  assert.deepEqual(seen.filter((r) => r !== '/sw.js'), [], 'the server saw nothing after load but a service worker update check');

  step('a typed character goes to the worker once, before the input event');
  // beforeinput sends the text the keystroke will make (app/src/lib.rs);
  // input then finds it already asked for. A wrong guess would send the
  // real text as well: two sends, or a send after the input event.
  await page.evaluate(() => {
    const t = document.getElementById('editor-cv');
    t.focus();
    t.setSelectionRange(t.value.length - 3, t.value.length); // typing replaces a selection too
    window.__inputAt = [];
    t.addEventListener('input', () => window.__inputAt.push(performance.now()), true);
    performance.clearMarks();
  });
  for (const ch of ['x', 'é', '🦀', ' ']) {
    await page.keyboard.type(ch);
    await page.waitForFunction(() => !document.querySelector('#editor-cv-summary').textContent.includes('highlighting'));
  }
  const sends = await page.evaluate(() => ({
    lengths: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('rm-send:editor-cv:')).map((m) => [Number(m.name.split(':')[2]), m.startTime]),
    inputs: window.__inputAt,
    length: document.getElementById('editor-cv').value.length,
  }));
  assert.equal(sends.inputs.length, 4, 'four input events');
  assert.equal(sends.lengths.length, 4, `one send per keystroke: ${JSON.stringify(sends.lengths)}`);
  sends.lengths.forEach(([, at], i) => assert.ok(at < sends.inputs[i], 'sent before the input event'));
  assert.equal(sends.lengths.at(-1)[0], sends.length, 'the last text sent is the editor\'s');
  const typedMarks = await marks(page);
  for (const m of typedMarks) assert.equal(m.at, m.text, 'each mark covers exactly its text after the edits');

  step('the skills panel: counts, select an occurrence, exports');
  const skills = await page.locator('.skill-list .skill').allTextContents();
  console.log('   skills:', skills.join(' | '));
  assert.ok(skills.length >= 3);
  await page.locator('.skill-list .skill', { hasText: 'Python' }).first().click();
  const selected = await page.evaluate(() => {
    const t = document.getElementById('editor-cv');
    return { text: t.value.slice(t.selectionStart, t.selectionEnd), focused: document.activeElement === t };
  });
  assert.equal(selected.text, 'Python');
  assert.ok(selected.focused, 'the editor has the focus after a skill is picked');
  // After an edit before them the occurrences have moved: a skill picked
  // again selects where it is now (the list item itself is kept).
  const idle = () => page.waitForFunction(() => !document.querySelector('#editor-cv-summary').textContent.includes('highlighting'));
  const before = await page.locator('#editor-cv').inputValue();
  await page.keyboard.press('Control+Home');
  await page.keyboard.type('Note. ');
  await idle();
  await page.locator('.skill-list .skill', { hasText: 'Python' }).first().click();
  assert.equal(await page.evaluate(() => {
    const t = document.getElementById('editor-cv');
    return t.value.slice(t.selectionStart, t.selectionEnd);
  }), 'Python', 'a skill picked after an edit selects its current place');
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < 6; i++) await page.keyboard.press('Delete');
  await idle();
  assert.equal(await page.locator('#editor-cv').inputValue(), before);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSV' }).click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv, /^skill,linked,count,score,phrases\r\n/);
  assert.match(csv, /Python/);
  const [jdl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'JSON' }).click()]);
  const json = JSON.parse(readFileSync(await jdl.path(), 'utf8'));
  assert.ok(json.skills.some((s) => s.skill === 'Python'));
  // Hovering a highlight shows its canonical skill and confidence.
  const box = await page.locator('#editor-cv-backdrop mark', { hasText: 'Python' }).first().boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector('.tooltip');
  const tip = await page.locator('.tooltip').textContent();
  console.log('   tooltip:', tip);
  assert.match(tip, /Python.*% confidence/);
  await shot(page, '02-skills-panel-tooltip');

  step('the roles panel: the CLI\'s ranking, a chosen role\'s skills');
  await page.getByRole('button', { name: 'Sample CV' }).click();
  await page.waitForFunction(() => document.getElementById('editor-cv').value.startsWith('Alex Morgan'));
  await idle();
  await page.waitForSelector('.role-list[aria-busy="false"] .role', { timeout: 20_000 });
  {
    const text = await page.locator('#editor-cv').inputValue();
    const cli = rolesCli(text);
    const titles = await page.locator('.role-list .role-title').allTextContents();
    const scores = await page.locator('.role-list .role-score').allTextContents();
    const field = await page.locator('.roles .field strong').textContent();
    console.log(`   field: ${field}; roles: ${titles.slice(0, 5).map((t, i) => `${t} ${scores[i]}`).join(', ')}`);
    assert.deepEqual(titles, cli.roles.map((r) => r.title), 'the page ranks the roles as rolemapper roles does');
    cli.roles.forEach((r, i) => assert.ok(samePercent(scores[i], r.score), `${r.title}: ${scores[i]} vs ${r.score}`));
    assert.equal(field, cli.field.sector);
    // The first role is shown; picking the second shows its skills.
    assert.equal(await page.locator('.role[aria-pressed="true"] .role-title').textContent(), cli.roles[0].title);
    await page.locator('.role-list .role').nth(1).click();
    assert.equal(await page.locator('.role[aria-pressed="true"] .role-title').textContent(), cli.roles[1].title);
    assert.match(await page.locator('.role-detail h3').textContent(), new RegExp(`^${cli.roles[1].title}`));
    assert.deepEqual(await page.locator('.role-skills.matched li').allTextContents(), cli.roles[1].matched);
    assert.deepEqual(await page.locator('.role-skills.missing li').allTextContents(), cli.roles[1].missing);
    assert.ok(cli.roles[1].missing.length > 0, 'the role has essential skills the CV lacks');
    await page.locator('.role-skills.missing button', { hasText: 'Copy' }).click();
    await page.waitForFunction(() => document.querySelector('.role-detail .notice').textContent.length > 0);
    metrics.roles_panel = { field, roles: titles.length, first: titles[0] };
    await shot(page, '02b-roles-panel');
  }

  step('pasted HTML is plain text');
  await page.locator('#editor-cv').fill(XSS);
  await page.waitForFunction(() => document.querySelector('#editor-cv-backdrop').textContent.includes('<script>'));
  await page.waitForTimeout(500);
  const xss = await page.evaluate(() => ({
    ran: window.__xss,
    elements: document.querySelectorAll('#editor-cv-backdrop img, #editor-cv-backdrop script, .panel img').length,
  }));
  assert.equal(xss.ran, undefined);
  assert.equal(xss.elements, 0);
  await shot(page, '03-xss-as-text');

  step('CV files: a dropped two-column PDF and an opened DOCX are read in the page and highlighted; bad files say why and change nothing');
  {
    const FIX = path.join(ROOT, 'tests/fixtures/cv-files');
    const fileRequests = [];
    const onFileRequest = (r) => fileRequests.push(`${r.method()} ${new URL(r.url()).pathname}`);
    context.on('request', onFileRequest);
    const cvSection = page.locator('section.editor', { has: page.locator('#editor-cv') });
    const notice = cvSection.locator('.file-notice');
    // A drop as the browser makes it: a DataTransfer holding the file.
    const drop = (name, b64, size = 0) => page.evaluate(([name, b64, size]) => {
      const bytes = b64 === null ? new Uint8Array(size) : Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name));
      const wrap = document.getElementById('editor-cv').closest('.editor-wrap');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        wrap.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }
    }, [name, b64, size]);
    const dropFile = (name) => drop(name, readFileSync(path.join(FIX, name)).toString('base64'));
    const idle = () => page.waitForFunction(() => !document.querySelector('.editor-summary').textContent.includes('highlighting'), null, { timeout: 30_000 });
    metrics.cv_files = {};
    for (const [file, how] of [['two-column.pdf', 'drop'], ['cv.docx', 'button']]) {
      if (how === 'drop') await dropFile(file);
      else {
        const chooser = page.waitForEvent('filechooser');
        await cvSection.getByRole('button', { name: 'Open a file…' }).click();
        await (await chooser).setFiles(path.join(FIX, file));
      }
      await page.waitForFunction((f) => document.querySelector('.file-notice')?.textContent.includes(`Opened ${f}`), file, { timeout: 30_000 });
      // The same Rust as `rolemapper tag --print-text`: the same text, the same spans.
      const cli = JSON.parse(execFileSync(ROLEMAPPER, ['tag', '--print-text', path.join(FIX, file)], { cwd: ROOT, encoding: 'utf8' }).trim());
      await page.waitForFunction((t) => document.getElementById('editor-cv').value === t, cli.text, { timeout: 10_000 });
      await idle();
      const got = await marks(page);
      for (const m of got) assert.equal(m.at, m.text, `${file}: each mark covers its text`);
      assert.deepEqual(got.map((m) => m.text), cli.spans.map((s) => s.text), `${file}: the page highlights what the CLI tags`);
      for (const skill of ['Python', 'SQL', 'Kubernetes', 'Snowflake']) assert.ok(got.some((m) => m.text === skill), `${file}: ${skill} is highlighted`);
      const said = await notice.textContent();
      console.log(`   ${file} (${how}): ${got.length} marks; "${said}"`);
      metrics.cv_files[file] = { marks: got.length, notice: said };
      if (file === 'two-column.pdf') await shot(page, '03b-dropped-pdf');
    }
    // Bad files: each says why, and the editor keeps its text.
    const kept = await page.locator('#editor-cv').inputValue();
    const bad = [
      ['bad-scan.pdf', /no text layer: it is probably a scan/],
      ['bad-encrypted.pdf', /password-protected/],
      ['bad-truncated.docx', /damaged or truncated/],
      ['bad-image.png', /PNG image/],
      ['bad-bomb.docx', /zip bomb/],
    ];
    for (const [file, says] of bad) {
      // The page keeps drawing frames while the reader works (bomb: 64 MB unpacked).
      await page.evaluate(() => {
        window.__gaps = { last: performance.now(), max: 0, run: true };
        const tick = (t) => { const g = window.__gaps; g.max = Math.max(g.max, t - g.last); g.last = t; if (g.run) requestAnimationFrame(tick); };
        requestAnimationFrame(tick);
      });
      await dropFile(file);
      await page.waitForFunction((f) => document.querySelector('.file-notice.error')?.textContent.includes(f), file, { timeout: 60_000 });
      const gap = await page.evaluate(() => { window.__gaps.run = false; return Math.round(window.__gaps.max); });
      const said = await notice.textContent();
      console.log(`   ${file}: "${said}" (longest frame gap ${gap} ms)`);
      assert.match(said, says);
      assert.equal(await notice.getAttribute('role'), 'alert');
      assert.equal(await page.locator('#editor-cv').inputValue(), kept, `${file}: the editor is unchanged`);
      assert.ok(gap < 200, `${file}: the page kept drawing (longest frame gap ${gap} ms)`);
      metrics.cv_files[file] = { notice: said, frame_gap_ms: gap };
    }
    // The report of the opened CV: printed (the print stylesheet: the text with
    // its highlights, the skills, the roles, no controls) and as JSON.
    await dropFile('cv.docx');
    await page.waitForFunction(() => document.querySelector('.file-notice')?.textContent.includes('Opened cv.docx'));
    await idle();
    await page.waitForSelector('.role-list .role', { timeout: 30_000 });
    const [rdl] = await Promise.all([page.waitForEvent('download'), cvSection.page().getByRole('button', { name: 'Save report' }).click()]);
    const report = JSON.parse(readFileSync(await rdl.path(), 'utf8'));
    const shownText = await page.locator('#editor-cv').inputValue();
    assert.equal(report.text, shownText, 'the report holds the editor\'s text');
    const chars = [...report.text];
    for (const h of report.highlights) assert.equal(chars.slice(h.start, h.end).join(''), h.text, 'report offsets are code points');
    assert.deepEqual(report.highlights.map((h) => h.text), (await marks(page)).map((m) => m.text));
    assert.ok(report.skills.length > 0 && report.roles.length > 0 && report.field, 'skills, field and roles are in the report');
    assert.ok(report.roles[0].missing.length + report.roles[0].matched.length > 0);
    await page.emulateMedia({ media: 'print' });
    const printed = await page.evaluate(() => ({
      textarea: getComputedStyle(document.getElementById('editor-cv')).display,
      backdrop: getComputedStyle(document.getElementById('editor-cv-backdrop')).color,
      mark: getComputedStyle(document.querySelector('#editor-cv-backdrop mark')).color,
      buttons: [...document.querySelectorAll('.actions button, .file-button')].filter((b) => b.offsetParent !== null).length,
      roles: document.querySelectorAll('.role-list .role').length,
    }));
    await shot(page, '03d-report-print');
    await page.emulateMedia({ media: 'screen' });
    console.log(`   report: ${report.highlights.length} highlights, ${report.skills.length} skills, ${report.roles.length} roles; printed: ${JSON.stringify(printed)}`);
    assert.equal(printed.textarea, 'none', 'the printed page shows the text through its highlighted backdrop');
    assert.equal(printed.backdrop, 'rgb(0, 0, 0)');
    assert.equal(printed.mark, 'rgb(0, 0, 0)', 'highlighted words print in black on their colour');
    assert.equal(printed.buttons, 0, 'no controls on paper');
    assert.ok(printed.roles > 0);
    const kept2 = await page.locator('#editor-cv').inputValue();
    await drop('huge.pdf', null, 50_000_000);
    await page.waitForFunction(() => document.querySelector('.file-notice.error')?.textContent.includes('huge.pdf'));
    assert.match(await notice.textContent(), /50\.0 MB; files up to 20\.0 MB are read/);
    assert.equal(await page.locator('#editor-cv').inputValue(), kept2);
    await shot(page, '03c-bad-file');
    // A 5 MB PDF: read off the main thread, the page keeps drawing frames
    // until its text arrives (the task that puts the text in the editor
    // comes after, and is the paste path's, measured below).
    const big = Buffer.from(bigPdf(5_000_000), 'latin1');
    // The file is made before the clock starts: decoding 5 MB of base64 in
    // the page is this test's own main-thread work.
    await page.evaluate((b64) => {
      window.__bigFile = new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'big.pdf');
    }, big.toString('base64'));
    await page.evaluate(() => {
      window.__frames = [];
      window.__noticeAt = null;
      const tick = (t) => { window.__frames.push(t); if (window.__noticeAt === null) requestAnimationFrame(tick); };
      requestAnimationFrame(tick);
      new MutationObserver((_, o) => {
        if (document.querySelector('.file-notice')?.textContent.includes('Opened big.pdf')) { window.__noticeAt = performance.now(); o.disconnect(); }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const bigStart = Date.now();
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(window.__bigFile);
      const wrap = document.getElementById('editor-cv').closest('.editor-wrap');
      for (const type of ['dragenter', 'dragover', 'drop']) {
        wrap.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      }
    });
    await page.waitForFunction(() => window.__noticeAt !== null, null, { timeout: 120_000 });
    const bigRead = await page.evaluate(() => {
      const f = window.__frames.filter((t) => t <= window.__noticeAt);
      let max = 0;
      for (let i = 1; i < f.length; i++) max = Math.max(max, f[i] - f[i - 1]);
      return { frames: f.length, max_gap_ms: Math.round(max), chars: document.getElementById('editor-cv').value.length, notice: document.querySelector('.file-notice').textContent };
    });
    console.log(`   big.pdf (${big.length} bytes): ${bigRead.frames} frames while reading, longest gap ${bigRead.max_gap_ms} ms, ${Date.now() - bigStart} ms in all; "${bigRead.notice}"`);
    metrics.cv_files['big.pdf'] = { bytes: big.length, ...bigRead, wall_ms: Date.now() - bigStart };
    assert.ok(bigRead.frames > 5 && bigRead.max_gap_ms < 200, `the page kept drawing while a 5 MB PDF was read (longest gap ${bigRead.max_gap_ms} ms)`);
    assert.match(bigRead.notice, /RoleMapper highlights the first 100,000/);
    await idle();
    context.off('request', onFileRequest);
    // The files never left the page: the only requests were the reader's own files.
    console.log(`   requests while reading files: ${[...new Set(fileRequests)].join(', ')}`);
    assert.ok(fileRequests.every((r) => /^GET \/extractor[-_]/.test(r)), `only the file reader's files were fetched: ${fileRequests}`);
  }

  step('examples and match mode');
  await page.getByRole('button', { name: 'Sample CV' }).click();
  await page.waitForFunction(() => document.getElementById('editor-cv').value.startsWith('Alex Morgan'));
  await page.getByRole('button', { name: 'Data science job' }).click();
  await page.waitForSelector('#editor-job-backdrop mark', { timeout: 20_000 });
  await page.waitForSelector('.score-value');
  await page.waitForFunction(() => !document.querySelector('.workspace').textContent.includes('highlighting'));
  const score = await page.locator('.score-value').textContent();
  const shared = await page.locator('.match-list.shared li').allTextContents();
  const missing = await page.locator('.match-list.missing li').allTextContents();
  console.log(`   match ${score}; shared: ${shared.join(', ')}; missing: ${missing.join(', ')}`);
  assert.match(score, /^\d+%$/);
  assert.ok(shared.length > 0 && missing.length > 0);
  metrics.example_match = { score, shared: shared.length, missing: missing.length };
  // The job post's own role (the CLI's first for its text) and the CV's fit to it.
  await page.waitForFunction(() => document.querySelector('.role-fit'), null, { timeout: 20_000 });
  {
    const cli = rolesCli(await page.locator('#editor-job').inputValue(), 1);
    const jobRole = await page.locator('.job-role strong').textContent();
    const fit = await page.locator('.role-fit').textContent();
    console.log(`   the job's role: ${jobRole}; ${fit}`);
    assert.equal(jobRole, cli.roles[0].title);
    assert.match(fit, /fit to this role: \d+%/);
    assert.ok(await page.locator('.match-role .role-skills.missing h4').count() === 1);
    metrics.example_match.job_role = jobRole;
  }
  // Undo brings back the previous text (examples are typed in, not set).
  await shot(page, '04-match-mode');
  for (const label of ['Digital marketing job', 'Frontend job', 'Legal job', 'Warehouse job']) {
    // The example is put in on the next animation frame: wait for the new
    // text, then for its highlights (the old text's marks must not count).
    const before = await page.locator('#editor-job').inputValue();
    await page.getByRole('button', { name: label }).click();
    await page.waitForFunction((before) => document.getElementById('editor-job').value !== before, before);
    await page.waitForFunction(() => document.querySelector('#editor-job-backdrop mark') && !document.querySelector('.workspace').textContent.includes('highlighting'), null, { timeout: 20_000 });
    const n = (await marks(page, 'editor-job')).length;
    console.log(`   ${label}: ${n} highlights`);
    assert.ok(n >= 2, `${label} has skills`);
  }

  step('dark theme and phone layout');
  await page.getByRole('button', { name: /Switch to the dark theme/ }).click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await shot(page, '05-dark-match');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole('button', { name: 'Highlight a text' }).click();
  await shot(page, '06-phone-dark');
  await page.getByRole('button', { name: /Switch to the light theme/ }).click();
  await page.setViewportSize({ width: 1280, height: 900 });

  step('marks stay on their words when the layout changes (mode, window, resize handle, theme, zoom)');
  {
    await page.getByRole('button', { name: 'Highlight a text' }).click();
    await page.locator('#editor-cv').fill(LONG_CV);
    await page.waitForFunction(() => document.querySelectorAll('#editor-cv-backdrop mark').length > 20
      && !document.querySelector('.editor-summary').textContent.includes('highlighting'), null, { timeout: 20_000 });
    const toBottom = () => page.evaluate(() => {
      const ta = document.getElementById('editor-cv');
      ta.scrollTop = ta.scrollHeight;
    });
    await toBottom();
    assertAligned(await alignment(page), 'scrolled to the bottom');
    await page.getByRole('button', { name: 'Match a CV to a job' }).click();
    assertAligned(await alignment(page), 'switched to match mode');
    await page.getByRole('button', { name: 'Highlight a text' }).click();
    assertAligned(await alignment(page), 'switched back');
    await toBottom();
    await page.setViewportSize({ width: 1000, height: 800 });
    assertAligned(await alignment(page), 'window resized');
    // The textarea's own resize handle, dragged up by 150 px.
    const box = await page.locator('#editor-cv').boundingBox();
    await page.mouse.move(box.x + box.width - 4, box.y + box.height - 4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 4, box.y + box.height - 154, { steps: 5 });
    await page.mouse.up();
    const dragged = await page.locator('#editor-cv').boundingBox();
    assert.ok(dragged.height < box.height - 100, `the resize handle made the editor shorter (${box.height} -> ${dragged.height})`);
    assertAligned(await alignment(page), 'resize handle');
    await toBottom();
    await page.getByRole('button', { name: /Switch to the dark theme/ }).click();
    assertAligned(await alignment(page), 'theme switch');
    await page.getByRole('button', { name: /Switch to the light theme/ }).click();
    // Browser zoom 150 %: the layout viewport shrinks by 1.5 and each CSS
    // pixel takes 1.5 device pixels (what Chromium's zoom does to a page).
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setDeviceMetricsOverride', { width: 853, height: 533, deviceScaleFactor: 1.5, mobile: false });
    assertAligned(await alignment(page), 'zoom 150 %');
    await shot(page, '05b-zoom-aligned');
    await cdp.send('Emulation.clearDeviceMetricsOverride');
    await cdp.detach();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator('#editor-cv').evaluate((ta) => { ta.style.height = ''; });
  }

  step('embed page');
  const embed = await context.newPage();
  watch(embed);
  await embed.setViewportSize({ width: 560, height: 420 });
  const t0 = Date.now();
  await embed.goto(`${base}?embed&text=${encodeURIComponent('Looking for a nurse with patient care, Excel and German skills.')}`);
  await embed.waitForSelector('#editor-cv-backdrop mark', { timeout: MODEL_TIMEOUT });
  console.log(`   embed: first highlight ${Date.now() - t0} ms, marks:`, (await marks(embed)).map((m) => m.text).join(' | '));
  assert.equal(await embed.locator('header').count(), 0, 'no page header when embedded');
  await embed.screenshot({ path: path.join(OUT, '07-embed.png') });
  console.log('   screenshot target/e2e-artifacts/07-embed.png');
  await embed.close();

  step('the package\'s example page (dist/examples/portfolio): the custom element on a block of text and on a textarea, themed, accessible');
  {
    const ex = await context.newPage();
    watch(ex);
    const exRequests = [];
    ex.on('request', (r) => exRequests.push(new URL(r.url()).pathname));
    await ex.goto(`${base}examples/portfolio/`);
    // The block: its skill phrases wrapped in place.
    await ex.waitForSelector('#about-me mark.rolemapper-skill', { timeout: MODEL_TIMEOUT });
    const about = await ex.locator('#about-me mark.rolemapper-skill').allTextContents();
    console.log('   block marks:', about.join(' | '));
    assert.ok(about.includes('Python') && about.includes('SQL'), `Python and SQL are marked in the block (got ${about.join(', ')})`);
    assert.equal(await ex.locator('#about-me').textContent().then((t) => t.replace(/\s+/g, ' ').trim()),
      'I build data pipelines in Python and SQL, schedule them with Airflow and keep them on AWS. Before that I ran the reporting for a retail chain in Power BI and Excel, and taught statistics to first-year students.',
      'wrapping changed no text');
    // The textarea: typed text is highlighted on the backdrop, on the same characters.
    const ta = ex.locator('#job-text');
    await ta.fill('');
    await ta.pressSequentially('Python and SQL', { delay: 20 });
    const backdropMarks = () => ex.locator('#job').evaluate((el) => [...el.shadowRoot.querySelectorAll('mark')].map((m) => m.textContent));
    await ex.waitForFunction(() => {
      const el = document.getElementById('job');
      const ms = [...el.shadowRoot.querySelectorAll('mark')].map((m) => m.textContent);
      return el.shadowRoot.querySelector('.backdrop').textContent === 'Python and SQL\n' && ms.includes('Python') && ms.includes('SQL');
    }, null, { timeout: 20_000 });
    console.log('   textarea marks:', (await backdropMarks()).join(' | '));
    const spans = await ex.locator('#job').evaluate((el) => el.spans);
    for (const s of spans) assert.equal('Python and SQL'.slice(s.start, s.end), s.text, 'span offsets are UTF-16 string indices');
    // The marks lie on the textarea's words: the backdrop box equals the textarea's.
    const boxes = await ex.locator('#job').evaluate((el) => {
      const r = (e) => { const b = e.getBoundingClientRect(); return [b.x, b.y, b.width, b.height].map(Math.round); };
      return { ta: r(el.querySelector('textarea')), backdrop: r(el.shadowRoot.querySelector('.backdrop')) };
    });
    assert.deepEqual(boxes.backdrop, boxes.ta, 'the backdrop covers the textarea exactly');
    // Themed through the page's custom property and ::part.
    const look = await ex.locator('#job').evaluate((el) => {
      const cs = getComputedStyle(el.shadowRoot.querySelector('mark'));
      return { background: cs.backgroundColor, shadow: cs.boxShadow };
    });
    assert.equal(look.background, 'rgba(16, 185, 129, 0.35)', 'the custom property colours the marks');
    assert.match(look.shadow, /rgb\(16, 185, 129\)/, '::part(mark) styles reach the marks');
    // Accessible: the textarea keeps its label, a status line names the skills.
    const status = await ex.locator('#job').evaluate((el) => {
      const s = el.shadowRoot.querySelector('[role=status]');
      return s.textContent;
    });
    assert.match(status, /skills? highlighted: .*Python/, 'the status line names the skills');
    assert.equal(await ex.getByLabel('Job post').count(), 1, 'the textarea keeps its label');
    // The accessibility tree: the labelled text box, the status line; the backdrop's marks left out.
    const tree = await ex.locator('#job').ariaSnapshot();
    console.log(`   accessibility tree: ${tree.replace(/\n\s*/g, ' · ')}`);
    assert.match(tree, /textbox "Job post"/, 'the text box keeps its accessible name');
    assert.match(tree, /status:.*Python/, 'the status line is in the tree');
    assert.doesNotMatch(tree, /mark/, 'the backdrop (aria-hidden) is not');
    // The typed text over a mark keeps a contrast of at least 4.5:1 (WCAG AA), in both themes.
    for (const scheme of ['light', 'dark']) {
      await ex.emulateMedia({ colorScheme: scheme });
      await ex.waitForTimeout(100);
      const ratio = await ex.locator('#job').evaluate((el) => {
        const rgba = (c) => (c.match(/[\d.]+/g) || []).map(Number);
        const ta = el.querySelector('textarea');
        const [tr, tg, tb] = rgba(getComputedStyle(ta).color);
        const [br, bg, bb] = rgba(getComputedStyle(el.shadowRoot.querySelector('.backdrop')).backgroundColor);
        const [mr, mg, mb, ma = 1] = rgba(getComputedStyle(el.shadowRoot.querySelector('mark')).backgroundColor);
        const mix = [mr * ma + br * (1 - ma), mg * ma + bg * (1 - ma), mb * ma + bb * (1 - ma)];
        const lum = (rgb) => {
          const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const [a, b] = [lum([tr, tg, tb]), lum(mix)].sort((x, y) => y - x);
        return (a + 0.05) / (b + 0.05);
      });
      console.log(`   contrast of the text over a mark (${scheme}): ${ratio.toFixed(2)}:1`);
      assert.ok(ratio >= 4.5, `text over a mark keeps 4.5:1 in the ${scheme} theme (got ${ratio.toFixed(2)})`);
    }
    await ex.emulateMedia({ colorScheme: null });
    const list = await ex.locator('#found li').allTextContents();
    console.log('   list:', list.join(' | '));
    assert.ok(list.some((l) => l.startsWith('Python') && l.includes('I have this')), 'the page built its list from the element\'s events');
    // One worker for both elements, the package's own files, the site's model.
    const workerFiles = exRequests.filter((p) => p.includes('/pkg/'));
    console.log('   package files:', [...new Set(workerFiles)].join(', '));
    assert.ok(workerFiles.every((p) => /\/pkg\/(element|rolemapper|worker)[^/]*\.js$|\/pkg\/rolemapper_worker-[0-9a-f]{16}\.js$|\/pkg\/relaxed\/rolemapper_worker-[0-9a-f]{16}(_bg\.wasm|\.js)$/.test(p)), 'only the package\'s files, its relaxed build');
    assert.equal(exRequests.filter((p) => p.endsWith('/pkg/worker.js')).length, 1, 'one worker for the two elements');
    await ex.screenshot({ path: path.join(OUT, '07c-package-example.png') });
    console.log('   screenshot target/e2e-artifacts/07c-package-example.png');
    await ex.close();
  }

  step('embed page: HTML in the text parameter is text');
  const xssEmbed = await context.newPage();
  watch(xssEmbed);
  let dialogs = 0;
  xssEmbed.on('dialog', (d) => { dialogs++; d.dismiss().catch(() => { }); });
  const payload = '<img src=x onerror="alert(1);window.__xss=1"><script>alert(2);window.__xss=2</script><svg onload="alert(3)"></svg> Python';
  await xssEmbed.goto(`${base}?embed&text=${encodeURIComponent(payload)}`);
  // Highlighted (the answer for the text came), whatever it found.
  await xssEmbed.waitForFunction(() => document.querySelector('.editor-summary')?.textContent.includes('updated in'), null, { timeout: MODEL_TIMEOUT });
  await xssEmbed.waitForTimeout(300);
  console.log('   embed with HTML:', await xssEmbed.locator('.editor-summary').textContent());
  const embedXss = await xssEmbed.evaluate(() => ({
    ran: window.__xss,
    elements: document.querySelectorAll('body img, body svg, main script').length,
    value: document.getElementById('editor-cv').value,
  }));
  assert.equal(embedXss.ran, undefined, 'no payload ran');
  assert.equal(embedXss.elements, 0, 'no element from the payload');
  assert.equal(dialogs, 0, 'no dialog');
  assert.equal(embedXss.value, payload, 'the payload is the text');
  problems.length = 0; // a CSP report of the blocked attempt would be expected
  await xssEmbed.close();

  step('a 10 MB paste: the page stays responsive and says what it keeps');
  {
    const big = await context.newPage();
    watch(big);
    await big.goto(base);
    await big.waitForSelector('.status .ready', { timeout: MODEL_TIMEOUT });
    const cdp = await context.newCDPSession(big);
    await cdp.send('Performance.enable');
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage').catch(() => { });
      const { metrics: m } = await cdp.send('Performance.getMetrics');
      return m.find((x) => x.name === 'JSHeapUsedSize').value;
    };
    // Resident memory of this browser's renderer processes (page, worker
    // and wasm memory included), from /proc.
    const rendererRss = () => {
      let kb = 0;
      for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
        try {
          const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          if (!cmd.includes('--type=renderer') || !cmd.includes(userDataDir)) continue;
          const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
          if (m) kb += Number(m[1]);
        } catch { }
      }
      return kb * 1024;
    };
    const before = { page_js_heap: await heap(), renderer_rss: rendererRss() };
    await big.evaluate(() => {
      window.__longTasks = [];
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push(e.duration); })
        .observe({ type: 'longtask', buffered: true });
    });
    const sample = readFileSync(path.join(ROOT, 'app/examples/cv.txt'), 'utf8');
    // A real paste: 10 MB on the clipboard, Ctrl+V in the editor.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const chars = await big.evaluate(async (sample) => {
      let text = '';
      while (text.length < 10_000_000) text += sample + '\n';
      await navigator.clipboard.writeText(text);
      return [...text].length;
    }, sample);
    await big.locator('#editor-cv').focus();
    const t0 = Date.now();
    await big.keyboard.press('Control+V');
    const inputMs = Date.now() - t0;
    // Frames keep coming while the worker highlights.
    const rafs = [];
    let done = false;
    const finished = big.waitForFunction(() => document.querySelector('#editor-cv-backdrop mark')
      && !document.querySelector('.editor-summary').textContent.includes('highlighting'), null, { timeout: 120_000, polling: 100 })
      .then(() => { done = true; });
    while (!done && rafs.length < 200) {
      const r0 = Date.now();
      await big.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
      rafs.push(Date.now() - r0);
      await new Promise((r) => setTimeout(r, 50));
    }
    await finished;
    const totalMs = Date.now() - t0;
    const notice = await big.locator('.paste-notice').textContent();
    console.log(`   notice: ${notice}`);
    assert.match(notice, new RegExp(`The pasted text has ${chars.toLocaleString('en-US')} characters; the editor holds at most ${MAX_CHARS.toLocaleString('en-US')}, so its first ${MAX_CHARS.toLocaleString('en-US')} were pasted`));
    const scrolled = await big.evaluate(() => {
      const ta = document.getElementById('editor-cv');
      return ta.scrollTop > 0 && ta.selectionEnd === ta.value.length;
    });
    assert.ok(scrolled, 'as after a paste, the caret (at the end) is in view');
    const value = await big.evaluate(() => document.getElementById('editor-cv').value);
    assert.equal([...value].length, MAX_CHARS, 'the editor holds the part that fits');
    assert.ok(value.startsWith((sample + '\n').repeat(2)), 'the paste starts the editor');
    const backdropChars = await big.evaluate(() => document.getElementById('editor-cv-backdrop').textContent.length);
    assert.ok(backdropChars <= MAX_CHARS + 1, 'the backdrop mirrors only the highlighted part');
    const maxToWorker = await big.evaluate(() => window.__maxToWorker);
    assert.ok(maxToWorker <= MAX_CHARS, `the worker got at most ${MAX_CHARS} characters (got ${maxToWorker})`);
    const longTasks = await big.evaluate(() => window.__longTasks);
    const maxRaf = Math.max(...rafs);
    await shot(big, '10-huge-paste');
    // Typing on: the notice goes, the text stays.
    await big.keyboard.press('End');
    await big.keyboard.type(' Rust');
    await big.waitForFunction(() => !document.querySelector('.paste-notice'), null, { timeout: 5_000 })
      .catch(() => assert.fail('the paste notice goes once the user types'));
    // A text over the limit that did not come from a paste (a script, an
    // embed's URL): the rest stays unhighlighted, and the page says so.
    const over = await big.evaluate((n) => {
      const ta = document.getElementById('editor-cv');
      ta.value = ta.value + ' Kotlin'.repeat(n);
      ta.dispatchEvent(new InputEvent('input', { bubbles: true }));
      return [...ta.value].length;
    }, 2000);
    const overNotice = await big.locator('.limit-notice:not(.paste-notice)').textContent();
    assert.match(overNotice, new RegExp(`This text has ${over.toLocaleString('en-US')} characters; RoleMapper highlights the first ${MAX_CHARS.toLocaleString('en-US')}`));
    const afterHeap = { page_js_heap: await heap(), renderer_rss: rendererRss() };
    metrics.huge_paste = {
      characters: chars, highlighted: MAX_CHARS, input_event_ms: inputMs, to_highlights_ms: totalMs,
      marks: (await marks(big)).length, raf_round_trips: rafs.length, raf_round_trip_max_ms: maxRaf,
      long_tasks: longTasks.length, long_task_max_ms: Math.round(Math.max(0, ...longTasks)),
      max_chars_sent_to_worker: maxToWorker, memory_before: before, memory_after: afterHeap,
    };
    console.log('   huge paste:', JSON.stringify(metrics.huge_paste));
    await shot(big, '11-over-limit');
    await cdp.detach();
    await big.close();
  }

  step('second visit, online: model from the cache');
  await page.goto(base);
  await page.locator('#editor-cv').fill(CV);
  metrics.cached_visit_load_to_first_highlight_ms = await firstHighlightMs(page);
  assert.match(await page.locator('.status').textContent(), /from this browser's cache/);

  step('third visit, offline and with the server stopped');
  await stop(server);
  await context.setOffline(true);
  await page.reload();
  await page.locator('#editor-cv').fill(CV);
  metrics.offline_visit_load_to_first_highlight_ms = await firstHighlightMs(page);
  assert.match(await page.locator('.status').textContent(), /from this browser's cache/);
  assert.ok((await marks(page)).some((m) => m.text === 'Python'));
  // The role data comes from the worker's cache too.
  await page.waitForSelector('.role-list .role', { timeout: 30_000 });
  await shot(page, '08-offline');
  await context.setOffline(false);
  server = await serve(port);

  step('a damaged model download shows the error and Retry');
  const broken = await context.newPage();
  // A fresh origin path has no cache entry for this file name... so route it.
  await broken.route('**/model/manifest.json', (r) => r.fulfill({
    contentType: 'application/json',
    body: JSON.stringify({ file: 'missing.gguf', bytes: 10, sha256: '00', name: 'x' }),
  }));
  await broken.goto(base);
  await broken.waitForSelector('.error[role=alert]', { timeout: MODEL_TIMEOUT });
  const err = await broken.locator('.error[role=alert]').textContent();
  console.log('   error:', err.trim());
  assert.match(err, /could not be loaded/);
  assert.equal(await broken.getByRole('button', { name: 'Retry' }).count(), 1);
  await broken.screenshot({ path: path.join(OUT, '09-error-retry.png') });
  await broken.unroute('**/model/manifest.json');
  await broken.getByRole('button', { name: 'Retry' }).click();
  await broken.waitForSelector('.status .ready', { timeout: MODEL_TIMEOUT });
  await broken.close();

  step('a new build replaces the old one in the offline copy');
  // The same site as a new build would differ: boot.js under a new name
  // (and so a new index.html and sw.js). The service worker must cache the
  // new file, drop the old one, and the next offline visit must run it.
  const next = path.join(ROOT, 'target/e2e-next-build');
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  const oldBoot = readdirSync(DIST).find((f) => /^boot-[0-9a-f]{16}\.js$/.test(f));
  assert.ok(oldBoot, 'dist/ has a content-named boot script');
  const newBoot = 'boot-0123456789abcdef.js';
  for (const f of readdirSync(DIST)) {
    if (f === 'model') symlinkSync(path.join(DIST, 'model'), path.join(next, 'model'));
    else if (f === oldBoot) writeFileSync(path.join(next, newBoot), readFileSync(path.join(DIST, f), 'utf8') + '\n// the next build\n');
    else if (f === 'index.html') writeFileSync(path.join(next, f), readFileSync(path.join(DIST, f), 'utf8').replaceAll(oldBoot, newBoot));
    else if (f === 'sw.js') writeFileSync(path.join(next, f), readFileSync(path.join(DIST, f), 'utf8') + '\n// the next build\n');
    else cpSync(path.join(DIST, f), path.join(next, f), { recursive: true }); // pkg/, examples/ are folders
  }
  await stop(server);
  server = await serve(port, next);
  await page.goto(base);
  await page.locator('#editor-cv').fill(CV);
  await firstHighlightMs(page);
  // The offline copy: its file names, and the boot script its page names.
  const shell = () => page.evaluate(async () => {
    const cache = await caches.open('rolemapper-shell-v1');
    const page = await cache.match('./');
    return {
      files: (await cache.keys()).map((r) => new URL(r.url).pathname),
      boot: page ? ((await page.text()).match(/boot-[0-9a-f]+\.js/) || [])[0] : null,
    };
  });
  const renewed = (c) => c.boot === newBoot && c.files.some((f) => f.endsWith(newBoot)) && !c.files.some((f) => f.endsWith(oldBoot));
  let copy = await shell();
  for (const deadline = Date.now() + 30_000; !renewed(copy) && Date.now() < deadline; copy = await shell()) {
    await page.waitForTimeout(250);
  }
  assert.ok(renewed(copy), `the offline copy should name and hold ${newBoot}, not ${oldBoot}: ${JSON.stringify(copy)}`);
  await stop(server);
  await context.setOffline(true);
  await page.reload();
  await page.locator('#editor-cv').fill(CV);
  await firstHighlightMs(page);
  assert.ok((await marks(page)).some((m) => m.text === 'Python'));
  const scripts = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
  assert.ok(scripts.some((p) => p.endsWith(newBoot)) && !scripts.some((p) => p.endsWith(oldBoot)), `offline, the new build's boot script runs: ${JSON.stringify(scripts)}`);
  await context.setOffline(false);
  server = await serve(port);
  rmSync(next, { recursive: true, force: true });

  const unexpected = problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource|ERR_CONNECTION_REFUSED/.test(p));
  assert.deepEqual(unexpected, [], 'no errors in the console');
  console.log('\nall end-to-end checks passed');
} catch (e) {
  await shot(page, 'failure').catch(() => { });
  console.error(e);
  console.error('console/page problems:', problems);
  process.exitCode = 1;
} finally {
  writeFileSync(path.join(OUT, 'metrics.json'), JSON.stringify(metrics, null, 2));
  console.log('metrics:', JSON.stringify(metrics, null, 2));
  await context.close();
  await stop(server).catch(() => { });
}
