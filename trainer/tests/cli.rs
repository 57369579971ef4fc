//! `rolemapper tag` as users run it: the shipped bundle by default, the
//! JSON contract, and clear errors for bad model files.

use std::path::Path;
use std::process::Command;

fn rolemapper(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolemapper"))
        .args(args)
        .current_dir(root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A run that refuses its model exits without reading its input: a
    // broken pipe then is expected, not a failure.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn tag_uses_the_shipped_bundle_by_default() {
    let text = "Über uns 😀 —\nExperience with Python, SQL and machine learning is required.";
    let (code, out, err) = rolemapper(&["tag", "-"], text);
    assert_eq!(code, 0, "{err}");
    let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for s in line["spans"].as_array().unwrap() {
        let (a, b) = (
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        );
        let slice: String = chars[a..b].iter().collect();
        assert_eq!(slice, s["text"].as_str().unwrap());
        found.push((slice, s["skill"].as_str().map(str::to_owned)));
    }
    assert!(
        found.contains(&("Python".into(), Some("Python".into()))),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(t, _)| t == "machine learning"),
        "{found:?}"
    );
}

#[test]
fn bad_model_files_get_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("rolemapper-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shipped = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/model/rolemapper.gguf"),
    )
    .unwrap();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "random.gguf",
            (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect(),
            "not a RoleMapper model bundle",
        ),
        (
            "cut.gguf",
            shipped[..shipped.len() / 3].to_vec(),
            "truncated",
        ),
        (
            "flipped.gguf",
            {
                let mut b = shipped.clone();
                let n = b.len() - 1000;
                b[n] ^= 4;
                b
            },
            "corrupt",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let (code, out, err) =
            rolemapper(&["tag", "--model", path.to_str().unwrap(), "-"], "Python");
        assert_eq!(code, 1, "{name}: {out}");
        assert!(out.is_empty());
        assert!(
            err.starts_with("error: ") && err.contains(expected),
            "{name}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
