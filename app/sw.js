// RoleMapper's service worker: keeps the page's own files so that the next
// visit starts without the network. The page itself is network first (a new
// build is seen at once), the cache when the network fails. The page's other
// files are left to the browser while the page came from the network: its
// HTTP cache keeps V8's compiled code of the wasm files, which a response
// passed through here loses (measured: the cached visit's first highlight
// ≈ 110 ms later with every file passing through; see also `isHashed`). When the page had to come
// from the cache (offline), they come from the cache too. The model is not
// handled here: the app's worker caches and verifies it itself
// (app/src/loader.rs).
const SHELL = 'rolemapper-shell-v1';
// The build names these by their contents (scripts/name-worker-files.sh).
const WORKER_FILES = ['worker_loader.js', 'worker.js', 'worker_bg.wasm'];

const isModel = (url) => new URL(url).pathname.includes('/model/');
// trunk names the page's files with a hash of their contents (hex, not
// zero-padded), the build the worker's and boot.js's: such a file never
// changes, so a cached copy is always current. Only other files are checked
// with a HEAD request, never these: revalidating a wasm file makes Chromium
// drop V8's cached optimised code of it (measured: the next visit's worker
// then starts in baseline code, ≈ 250 ms later).
const isHashed = (url) => /-[0-9a-f]{8,16}(_bg)?\.[a-z]+$/.test(new URL(url, self.location).pathname);

// Whether the last navigation was answered from the cache.
let offline = false;

// The files a page's HTML names (the model excepted), and the worker's.
const filesOf = (html) => [...new Set([
  ...[...html.matchAll(/(?:href|src|data-js|data-wasm)="([^"]+)"/g)]
    .map((m) => m[1])
    .filter((u) => !u.includes(':') && !isModel(new URL(u, self.location))),
  ...WORKER_FILES,
])];

// The same file, as far as the headers say.
const same = (a, b) => {
  const h = (r, k) => r.headers.get(k);
  if (h(a, 'etag') && h(b, 'etag')) return h(a, 'etag') === h(b, 'etag');
  return h(a, 'last-modified') === h(b, 'last-modified') && h(a, 'content-length') === h(b, 'content-length');
};

// Caches the files `html` names: those missing, and those whose copy the
// server has since changed (a HEAD request each, for the unhashed ones);
// then drops the files of older builds.
async function keep(cache, html) {
  const files = filesOf(html);
  await Promise.all(files.map(async (file) => {
    const have = await cache.match(file);
    if (have && isHashed(file)) return;
    if (have) {
      const head = await fetch(file, { method: 'HEAD', cache: 'no-store' });
      if (head.ok && same(head, have)) return;
    }
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
