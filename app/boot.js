// Starts RoleMapper's app without inline script, so that the page's
// Content-Security-Policy can forbid inline code. trunk writes the hashed
// names of the app's JS and wasm into this script tag (Trunk.toml,
// `pattern_script`).
try {
  // The saved theme, before the first paint (dom.rs saves it).
  const theme = localStorage.getItem('rolemapper-theme');
  if (theme === 'dark' || theme === 'light') document.documentElement.dataset.theme = theme;
} catch (_) { /* storage blocked (sandboxed frame): the system theme applies */ }

const tag = document.querySelector('script[data-js][data-wasm]');
const { default: init } = await import(tag.dataset.js);
await init({ module_or_path: tag.dataset.wasm });
