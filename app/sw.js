// RoleMapper's service worker: keeps the page's own files so that the next
// visit starts without the network. The page itself is network first (a new
// build is seen at once), the cache when the network fails. The page's other
// files are left to the browser while the page came from the network: its
// HTTP cache keeps V8's compiled code of the wasm files, which a response
// passed through here loses (measured: the cached visit's first highlight
// ≈ 110 ms later with every file passing through; see also `keep`). When
// the page had to come from the cache (offline), they come from the cache
// too. The model is not
// handled here: the app's worker caches and verifies it itself
// (app/package/src/loader.rs).
const SHELL = 'rolemapper-shell-v1';
// The worker's files (the npm package's, copied as pkg/), of the build
// pkg/worker.js picks for this browser
// (the same test: whether it validates relaxed SIMD). The build names them
// by their contents (scripts/name-worker-files.sh).
const relaxedSimd = (() => {
  try {
    return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19,
      1, 17, 0, 65, 1, 253, 15, 65, 2, 253, 15, 65, 3, 253, 15, 253, 147, 2, 11]));
  } catch {
    return false;
  }
})();
// The file reader's too (src/files.rs), so that files open offline; the
// page itself fetches them only when a file is opened.
// (worker.js imports both builds' small JS glue, and fetches one wasm.)
const WORKER_FILES = ['pkg/worker.js', 'pkg/rolemapper_worker.js', 'pkg/relaxed/rolemapper_worker.js',
  relaxedSimd ? 'pkg/relaxed/rolemapper_worker_bg.wasm' : 'pkg/rolemapper_worker_bg.wasm',
'extractor_loader.js', 'extractor.js', 'extractor_bg.wasm'];

const isModel = (url) => new URL(url).pathname.includes('/model/');
// Whether the last navigation was answered from the cache.
let offline = false;

// The files a page's HTML names (the model excepted), and the worker's.
const filesOf = (html) => [...new Set([
  ...[...html.matchAll(/(?:href|src|data-js|data-wasm)="([^"]+)"/g)]
    .map((m) => m[1])
    .filter((u) => !u.includes(':') && !isModel(new URL(u, self.location))),
  ...WORKER_FILES,
])];

// Caches the files `html` names that are missing, then drops the files of
// older builds. The build names every one of them by its contents (trunk,
// and scripts/name-worker-files.sh, which checks it), so a cached copy is
// always current and none is revalidated: revalidating a wasm file made
// Chromium drop V8's cached optimised code of it (measured: the next visit's
// worker then started in baseline code, ≈ 250 ms later).
async function keep(cache, html) {
  const files = filesOf(html);
  await Promise.all(files.map(async (file) => {
    if (await cache.match(file)) return;
    const response = await fetch(file, { cache: 'no-store' });
    if (response.ok) await cache.put(file, response);
  }));
  const current = new Set(files.map((f) => new URL(f, self.location).href));
  for (const request of await cache.keys()) {
    const { pathname, href } = new URL(request.url);
    const page = pathname.endsWith('/') || pathname.endsWith('.html');
    if (!page && !current.has(href)) await cache.delete(request);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    const page = await fetch('./', { cache: 'no-store' });
    const html = await page.clone().text();
    await cache.put('./', page.clone());
    await cache.put('./index.html', page);
    await keep(cache, html);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => event.waitUntil((async () => {
  // The page's request starts while this worker starts, not after.
  if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
  await self.clients.claim();
})()));

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || isModel(request.url)) return;
  const navigation = request.mode === 'navigate';
  // Only the app's page is kept: other pages of the site (examples/) name
  // other files, and keeping theirs would drop the app's.
  if (navigation && url.pathname !== new URL('./', self.registration.scope).pathname
    && url.pathname !== new URL('./index.html', self.registration.scope).pathname) return;
  if (!navigation && !offline) return;
  event.respondWith((async () => {
    try {
      const response = (navigation && await event.preloadResponse) || await fetch(request);
      if (navigation) {
        offline = false;
        if (response.ok) {
          // One copy of the page, whatever its query (?embed&text=…), and
          // the files it names, for the next offline visit.
          const copy = response.clone();
          event.waitUntil((async () => {
            const cache = await caches.open(SHELL);
            const html = await copy.clone().text();
            await cache.put(url.origin + url.pathname, copy);
            await keep(cache, html);
          })().catch(() => { }));
        }
      }
      return response;
    } catch (err) {
      if (navigation) offline = true;
      // A page whatever its query (?embed&text=…); a file by its exact name.
      const cached = await caches.match(request, { ignoreSearch: navigation });
      if (cached) return cached;
      throw err;
    }
  })());
});
