//! Shared helpers for RoleMapper's cross-crate tests (in `tests/tests/`).

use std::path::PathBuf;

/// The fixture folder shaped like `../shared/data` (hand-written text, not
/// copied from the reference data).
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A fresh empty folder under the system temp dir, unique to this process and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rolemapper-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir
}
