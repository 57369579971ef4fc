// RoleMapper's service worker: keeps the page's own files so that the next
// visit starts without the network. Network first (a new build is seen at
// once), the cache when the network fails. The model is not handled here:
// the app's worker caches and verifies it itself (app/src/loader.rs).
const SHELL = 'rolemapper-shell-v1';
const WORKER_FILES = ['worker_loader.js', 'worker.js', 'worker_bg.wasm'];

const isModel = (url) => new URL(url).pathname.includes('/model/');

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    // The page's files have hashed names: read them from the page itself.
    const page = await fetch('./', { cache: 'no-store' });
    const html = await page.clone().text();
    await cache.put('./', page.clone());
    await cache.put('./index.html', page);
    const refs = [...html.matchAll(/(?:href|src|data-js|data-wasm)="([^"]+)"/g)]
      .map((m) => m[1])
      .filter((u) => !u.includes(':') && !isModel(new URL(u, self.location)));
    await cache.addAll([...new Set([...refs, ...WORKER_FILES])]);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || isModel(request.url)) return;
  event.respondWith((async () => {
    try {
      const response = await fetch(request);
      if (response.ok) {
        // One copy of the page, whatever its query (?embed&text=…).
        const key = request.mode === 'navigate' ? url.origin + url.pathname : request;
        const copy = response.clone();
        event.waitUntil(caches.open(SHELL).then((c) => c.put(key, copy)));
      }
      return response;
    } catch (err) {
      const cached = await caches.match(request, { ignoreSearch: true });
      if (cached) return cached;
      throw err;
    }
  })());
});
