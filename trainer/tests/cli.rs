//! `rolemapper tag` as users run it: the shipped bundle by default, the
//! JSON contract, and clear errors for bad model files.

use std::path::Path;
use std::process::Command;

/// `rolemapper ARGS` from the repository root, all three streams piped.
fn spawn(args: &[&str]) -> std::process::Child {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    Command::new(env!("CARGO_BIN_EXE_rolemapper"))
        .args(args)
        .current_dir(root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn rolemapper(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = spawn(args);
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

#[test]
fn cv_files_are_tagged_with_offsets_into_their_text() {
    let dir = "tests/fixtures/cv-files";
    let (pdf, docx) = (format!("{dir}/two-column.pdf"), format!("{dir}/cv.docx"));
    let (code, out, err) = rolemapper(&["tag", "--print-text", &pdf, &docx], "");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let text: Vec<char> = line["text"].as_str().unwrap().chars().collect();
        assert!(text
            .iter()
            .collect::<String>()
            .starts_with("Maya Okonkwo-Lindqvist\n"));
        let mut found = Vec::new();
        for s in line["spans"].as_array().unwrap() {
            let (a, b) = (
                s["start"].as_u64().unwrap() as usize,
                s["end"].as_u64().unwrap() as usize,
            );
            let slice: String = text[a..b].iter().collect();
            assert_eq!(slice, s["text"].as_str().unwrap(), "{}", line["file"]);
            found.push(slice);
        }
        for skill in ["Python", "SQL", "Kubernetes", "Snowflake"] {
            assert!(
                found.iter().any(|f| f == skill),
                "{}: {found:?}",
                line["file"]
            );
        }
    }
    let (code, out, err) = rolemapper(&["roles", "--top", "3", &pdf], "");
    assert_eq!(code, 0, "{err}");
    let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(line["roles"].as_array().unwrap().len(), 3, "{line}");
}

#[test]
fn bad_cv_files_are_refused_and_the_others_still_tagged() {
    let dir = "tests/fixtures/cv-files";
    let cases = [
        ("bad-encrypted.pdf", "password-protected"),
        ("bad-scan.pdf", "no text layer: it is probably a scan"),
        ("bad-truncated.pdf", "damaged or truncated"),
        ("bad-bomb.docx", "zip bomb"),
        ("bad-image.png", "PNG image"),
    ];
    let mut args = vec!["tag".to_string()];
    args.extend(cases.iter().map(|(f, _)| format!("{dir}/{f}")));
    args.push(format!("{dir}/cv.odt"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = rolemapper(&args, "");
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for (file, says) in cases {
        let line = err
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file}: {err}"));
        assert!(line.starts_with("error: ") && line.contains(says), "{line}");
    }
    assert!(err.contains("5 of 6 files could not be read"), "{err}");
    // The good file after the bad ones was still tagged.
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("cv.odt") && out.contains("infection control"),
        "{out}"
    );
}

#[test]
fn a_reader_that_stops_ends_the_run_quietly() {
    // `rolemapper tag … | head`: the reader is gone before the first line.
    use std::io::Write;
    let mut child = spawn(&["tag", "-"]);
    drop(child.stdout.take());
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Python and SQL.")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "no panic exit: {stderr}");
}
