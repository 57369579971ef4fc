// Starts RoleMapper's app without inline script, so that the page's
// Content-Security-Policy can forbid inline code. trunk writes the hashed
// names of the app's JS and wasm into this script tag (Trunk.toml,
// `pattern_script`).
try {
  // The saved theme, before the first paint (dom.rs saves it).
  const theme = localStorage.getItem('rolemapper-theme');
  if (theme === 'dark' || theme === 'light') document.documentElement.dataset.theme = theme;
} catch (_) { /* storage blocked (sandboxed frame): the system theme applies */ }

// The model worker (the npm package's, app/package, copied as pkg/) starts
// now and is asked for the site's model at once, while the app's own wasm
// loads; the app adopts it with the messages it sent meanwhile
// (src/client.rs, `Client::start`).
try {
  const worker = new Worker('./pkg/worker.js', { type: 'module' });
  const early = { worker, messages: [], failed: false };
  worker.onmessage = (e) => early.messages.push(e.data);
  worker.onerror = () => { early.failed = true; };
  worker.postMessage(JSON.stringify({ type: 'load', base: new URL('./', document.baseURI).href }));
  self.__rolemapperWorker = early;
} catch (_) { /* the app starts it, or reports that it cannot */ }

// The file reader's loader, started when a file is opened (src/files.rs);
// the build names it by its contents (scripts/name-worker-files.sh).
self.__rolemapperExtractor = './extractor_loader.js';

const tag = document.querySelector('script[data-js][data-wasm]');
const { default: init } = await import(tag.dataset.js);
await init({ module_or_path: tag.dataset.wasm });
