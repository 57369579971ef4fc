// Starts the file reader (a classic worker: wasm-bindgen's no-modules
// output, built by trunk from src/bin/extractor.rs). The page creates one
// per opened file (src/files.rs); it says "ready" once it can take the file.
importScripts('./extractor.js');
wasm_bindgen({ module_or_path: './extractor_bg.wasm' });
