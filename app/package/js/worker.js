// RoleMapper's model worker (a module worker). The page creates it with
// `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })`
// (rolemapper.js; the app: boot.js) and speaks to it in JSON strings
// (src/protocol.rs).
//
// Two builds of the wasm: with relaxed SIMD (int8 products with
// `i32x4.relaxed_dot_i8x16_i7x16_add_s`, about twice as fast) where the
// browser validates it, else SIMD128 only. Both give the same answers (the
// integer sums are exact either way). The app's sw.js makes the same choice.

import * as simd128Build from './rolemapper_worker.js';
import * as relaxedBuild from './relaxed/rolemapper_worker.js';

// Messages that arrive while the wasm loads are kept and handed to it.
const early = [];
self.onmessage = (e) => early.push(e);

const relaxed = (() => {
  try {
    // (func (result v128) (i32x4.relaxed_dot_i8x16_i7x16_add_s
    //   (i8x16.splat 1) (i8x16.splat 2) (i8x16.splat 3)))
    return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19,
      1, 17, 0, 65, 1, 253, 15, 65, 2, 253, 15, 65, 3, 253, 15, 253, 147, 2, 11]));
  } catch {
    return false;
  }
})();

// Both glues are imported statically (they are small; only one wasm is
// fetched): bundlers then emit a single worker script with no code
// splitting, which Vite's default worker format needs.
const wasm = relaxed ? relaxedBuild : simd128Build;
wasm.default().then(() => {
  wasm.start_worker();
  for (const e of early.splice(0)) self.onmessage(e);
}, (err) => {
  // No WebAssembly SIMD (a browser from before 2021), a blocked or missing
  // file: the page shows this instead of waiting for ever, and each later
  // request (a Retry) gets the same answer.
  const message = `RoleMapper's WebAssembly could not start in this browser (${err}); it needs WebAssembly SIMD (Chrome 91, Firefox 89, Safari 16.4 or newer), and its files must load (reload the page)`;
  const answer = (e) => {
    let id;
    try { ({ id } = JSON.parse(e.data)); } catch { /* not a request */ }
    self.postMessage(JSON.stringify(id === undefined ? { type: 'failed', message } : { type: 'highlight_failed', id, message }));
  };
  self.onmessage = answer;
  if (early.length === 0) self.postMessage(JSON.stringify({ type: 'failed', message }));
  for (const e of early.splice(0)) answer(e);
});
