// Starts the model worker (a classic worker: wasm-bindgen's no-modules
// output, built by trunk from src/bin/worker.rs). The page creates it with
// `new Worker("./worker_loader.js")` (src/client.rs).
importScripts('./worker.js');
wasm_bindgen({ module_or_path: './worker_bg.wasm' });
