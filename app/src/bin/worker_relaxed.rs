//! The worker's wasm built with relaxed SIMD (the `relaxed-simd` feature):
//! the same as `worker.rs`, for browsers that validate relaxed SIMD.

fn main() {
    console_error_panic_hook::set_once();
    app::service::run();
}
