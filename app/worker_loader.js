// Starts the model worker (a classic worker: wasm-bindgen's no-modules
// output, built by trunk from src/bin/worker.rs and src/bin/worker_relaxed.rs). The page creates it with
// `new Worker("./worker_loader.js")` (src/client.rs).
//
// Two builds of the worker: with relaxed SIMD (int8 products with
// `i32x4.relaxed_dot_i8x16_i7x16_add_s`, twice as fast) where the browser
// validates it, else SIMD128 only. Both give the same answers (the integer
// sums are exact either way). app/sw.js makes the same choice.
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
if (relaxed) {
  importScripts('./worker_relaxed.js');
  wasm_bindgen({ module_or_path: './worker_relaxed_bg.wasm' });
} else {
  importScripts('./worker.js');
  wasm_bindgen({ module_or_path: './worker_bg.wasm' });
}
