//! The file reader's wasm: extracts a CV file's text off the page's main
//! thread (see `files.rs`). It links the `extract` crate and none of the
//! model code; the page starts it only when a file is opened.

fn main() {
    console_error_panic_hook::set_once();
    app::files::run();
}
