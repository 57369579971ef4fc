//! The worker's wasm: owns the model and answers the page (see `service.rs`).

fn main() {
    console_error_panic_hook::set_once();
    app::service::run();
}
