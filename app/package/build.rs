//! Records the SHA-256 and size of the role table the site ships
//! (`skills/roles/roles.json.gz`, copied to `model/` by trunk): the worker
//! uses the table only when the bytes it fetched, or finds in its cache,
//! are these (app/package/src/loader.rs, `load_roles`).
use sha2::{Digest, Sha256};
use std::path::Path;

fn main() {
    let table = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../skills/roles/roles.json.gz");
    println!("cargo:rerun-if-changed={}", table.display());
    let bytes = std::fs::read(&table)
        .unwrap_or_else(|e| panic!("reading the role table {}: {e}", table.display()));
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("roles_table.rs");
    std::fs::write(
        out,
        format!(
            "/// SHA-256 of the role table this build ships.\npub const ROLES_SHA256: &str = \"{sha}\";\n/// Its size in bytes.\npub const ROLES_BYTES: u64 = {};\n",
            bytes.len()
        ),
    )
    .expect("writing OUT_DIR/roles_table.rs");
}
