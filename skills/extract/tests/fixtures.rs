//! The generated CV files (scripts/make-cv-fixtures.sh): each good file's
//! text against the text it was made from, and each bad file's refusal.

use extract::{extract, ExtractError, Format};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/cv-files")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Word-sequence similarity: `2 · LCS / (|a| + |b|)` over the texts'
/// white-space separated words (so line wrapping does not count, but order,
/// lost and merged words do); 1 is identical.
fn similarity(a: &str, b: &str) -> f64 {
    let a: Vec<&str> = a.split_whitespace().collect();
    let b: Vec<&str> = b.split_whitespace().collect();
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let mut row = vec![0usize; b.len() + 1];
    for x in &a {
        let mut diag = 0;
        for (j, y) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
            diag = up;
        }
    }
    2.0 * row[b.len()] as f64 / (a.len() + b.len()) as f64
}

#[test]
fn similarity_counts_order_and_loss() {
    assert_eq!(similarity("a b\nc", "a  b c"), 1.0);
    assert_eq!(similarity("a b c d", "c d a b"), 0.5);
    assert_eq!(similarity("a b", ""), 0.0);
}

/// (file, format, the least similarity it must keep).
const GOOD: &[(&str, Format, f64)] = &[
    ("one-column.pdf", Format::Pdf, 0.98),
    ("two-column.pdf", Format::Pdf, 0.98),
    ("table.pdf", Format::Pdf, 0.95),
    ("ligatures.pdf", Format::Pdf, 0.98),
    ("non-latin.pdf", Format::Pdf, 0.98),
    ("cv.docx", Format::Docx, 0.99),
    ("cv.odt", Format::Odt, 0.99),
    ("cv.rtf", Format::Rtf, 0.99),
    ("cv.html", Format::Html, 0.99),
    ("cv.txt", Format::Text, 1.0),
];

#[test]
fn good_files_keep_their_text() {
    let mut failed = Vec::new();
    println!("| file | format | words | similarity |\n|---|---|---:|---:|");
    for &(name, format, least) in GOOD {
        let got = extract(name, &read(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let want = String::from_utf8(read(&format!("{name}.expected.txt"))).unwrap();
        let s = similarity(&got.text, &want);
        println!(
            "| {name} | {format} | {} | {s:.3} |",
            want.split_whitespace().count()
        );
        assert_eq!(got.format, format, "{name}");
        if s < least {
            failed.push(format!(
                "{name}: {s:.3} < {least}\n--- got\n{}\n---",
                got.text
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn bullets_and_lines_survive() {
    let docx = extract("cv.docx", &read("cv.docx")).unwrap().text;
    assert!(docx.contains("\n• Python, SQL, Scala, Bash\n"), "{docx}");
    assert!(
        docx.contains("\nAWS Certified Data Engineer\t2024"),
        "{docx}"
    );
    let odt = extract("cv.odt", &read("cv.odt")).unwrap().text;
    assert!(
        odt.starts_with("Νίκος Παπαδόπουλος / Анна Петрова-Ši\n"),
        "{odt}"
    );
    assert!(
        odt.contains("\n• Wound care, medication administration, patient assessment\n"),
        "{odt}"
    );
    let lig = extract("ligatures.pdf", &read("ligatures.pdf"))
        .unwrap()
        .text;
    assert!(
        lig.contains("Financial reporting") && !lig.contains('\u{fb01}'),
        "{lig}"
    );
    let two = extract("two-column.pdf", &read("two-column.pdf")).unwrap();
    assert_eq!(two.pages, Some(1));
    let skills = two.text.find("Apache Spark").unwrap();
    let experience = two.text.find("NordFreight").unwrap();
    assert!(
        skills < experience,
        "the sidebar is read before the main column"
    );
}

#[test]
fn bad_files_are_refused_with_their_reason() {
    type Case = (
        &'static str,
        Vec<u8>,
        fn(&ExtractError) -> bool,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "bad-encrypted.pdf",
            read("bad-encrypted.pdf"),
            |e| *e == ExtractError::Encrypted,
            "password",
        ),
        (
            "bad-scan.pdf",
            read("bad-scan.pdf"),
            |e| *e == ExtractError::NoTextLayer,
            "probably a scan",
        ),
        (
            "bad-truncated.pdf",
            read("bad-truncated.pdf"),
            |e| {
                matches!(
                    e,
                    ExtractError::Corrupt {
                        format: Format::Pdf,
                        ..
                    }
                )
            },
            "damaged or truncated",
        ),
        (
            "bad-truncated.docx",
            read("bad-truncated.docx"),
            |e| {
                matches!(
                    e,
                    ExtractError::UnknownFormat(_) | ExtractError::Corrupt { .. }
                )
            },
            "",
        ),
        (
            "bad-bomb.docx",
            read("bad-bomb.docx"),
            |e| matches!(e, ExtractError::ZipBomb { .. }),
            "zip bomb",
        ),
        (
            "bad-image.png",
            read("bad-image.png"),
            |e| matches!(e, ExtractError::UnknownFormat(_)),
            "PNG image",
        ),
        (
            "huge.pdf",
            vec![b'%'; 50_000_000],
            |e| matches!(e, ExtractError::TooLarge { .. }),
            "50.0 MB",
        ),
        (
            "cv.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0\0".to_vec(),
            |e| matches!(e, ExtractError::UnknownFormat(_)),
            "DOCX",
        ),
    ];
    for (name, bytes, ok, says) in cases {
        let e = extract(name, &bytes).expect_err(name);
        assert!(ok(&e), "{name}: {e:?}");
        assert!(e.to_string().contains(says), "{name}: {e}");
    }
}

#[test]
fn every_prefix_of_a_file_is_refused_or_read_without_panic() {
    // Truncated at many points: never a panic, never an empty success.
    for name in ["one-column.pdf", "cv.docx", "cv.odt", "cv.rtf"] {
        let bytes = read(name);
        for cut in (0..bytes.len()).step_by(bytes.len() / 23 + 1) {
            if let Ok(e) = extract(name, &bytes[..cut]) {
                assert!(!e.text.is_empty(), "{name}[..{cut}]");
            }
        }
    }
}

#[test]
fn pdf_paragraphs_are_reflowed() {
    let two = extract("two-column.pdf", &read("two-column.pdf"))
        .unwrap()
        .text;
    println!("{two}");
    assert!(
        two.contains("\n• Apache Spark, Apache Kafka, Airflow, dbt\n"),
        "{two}"
    );
    assert!(
        two.contains("\nData engineer with six years of experience building batch and streaming pipelines for logistics and retail companies. I like clean schemas, reproducible builds and teaching colleagues how to test their SQL.\n"),
        "{two}"
    );
    let table = extract("table.pdf", &read("table.pdf")).unwrap().text;
    assert!(
        table.contains("\nProcessing\tApache Spark, Apache Kafka, Airflow, dbt\n"),
        "{table}"
    );
}

/// A PDF of `objects` (numbered from 1; 1 is the catalog), with its xref.
fn pdf(objects: &[&str]) -> Vec<u8> {
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out += &format!("{} 0 obj\n{o}\nendobj\n", i + 1);
    }
    let xref = out.len();
    out += &format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for o in offsets {
        out += &format!("{o:010} 00000 n \n");
    }
    out += &format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.into_bytes()
}

#[test]
fn a_pdf_whose_drawing_draws_itself_is_refused() {
    let form = "<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X 5 0 R >> >> /Length 8 >>\nstream\n/X Do   \nendstream";
    let bytes = pdf(&[
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /X 5 0 R >> >> /Contents 4 0 R >>",
        "<< /Length 8 >>\nstream\n/X Do   \nendstream",
        form,
    ]);
    let e = extract("loop.pdf", &bytes).unwrap_err();
    assert!(e.to_string().contains("nest without end"), "{e}");
}

/// 70 MB of spaces after `head` in one Flate stream of about 70 kB.
fn packed_spaces(head: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(head).unwrap();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..70 {
        z.write_all(&chunk).unwrap();
    }
    let packed = z.finish().unwrap();
    assert!(packed.len() < 200_000);
    packed
}

/// A one-page PDF whose page's contents are object 4: a stream of `packed`
/// with `/Filter /FlateDecode` and `dict`'s other entries.
fn pdf_with_stream(dict: &str, packed: &[u8]) -> Vec<u8> {
    let head = pdf(&[
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
    ]);
    // The same PDF with a fourth object, the stream (bytes, so built here).
    let cut = head.windows(4).position(|w| w == b"xref").unwrap();
    let mut bytes = head[..cut].to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    for (i, _) in bytes
        .windows(6)
        .enumerate()
        .filter(|(_, w)| w.ends_with(b" 0 obj"))
    {
        let start = bytes[..i]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        offsets.push(start);
    }
    offsets.push(bytes.len());
    bytes.extend_from_slice(
        format!(
            "4 0 obj\n<< /Length {} /Filter /FlateDecode {dict} >>\nstream\n",
            packed.len()
        )
        .as_bytes(),
    );
    bytes.extend_from_slice(packed);
    bytes.extend_from_slice(b"\nendstream\nendobj\n");
    let xref = bytes.len();
    bytes.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
    for o in &offsets {
        bytes.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    bytes.extend_from_slice(
        format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
    );
    bytes
}

fn assert_pdf_bomb(e: ExtractError) {
    assert!(
        matches!(
            e,
            ExtractError::ZipBomb {
                format: Format::Pdf,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("unpacks to more than 64.0 MB"),
        "{e}"
    );
}

#[test]
fn a_pdf_stream_that_unpacks_to_gigabytes_is_refused() {
    // 70 MB of spaces in a 70 kB Flate stream, as a page's content.
    let bytes = pdf_with_stream("", &packed_spaces(b""));
    assert_pdf_bomb(extract("bomb.pdf", &bytes).unwrap_err());
}

#[test]
fn a_pdf_object_stream_that_unpacks_to_gigabytes_is_refused_before_loading() {
    // The same in an object stream (one object, `5 0`, then the spaces),
    // which the PDF reader unpacks whole while it loads the file, before
    // the loaded file's streams can be measured.
    let packed = packed_spaces(b"5 0 << /Type /Font >>");
    let bytes = pdf_with_stream("/Type /ObjStm /N 1 /First 4", &packed);
    assert_pdf_bomb(extract("objstm-bomb.pdf", &bytes).unwrap_err());
}

#[test]
fn a_pdf_stream_of_raw_deflate_that_unpacks_to_gigabytes_is_refused() {
    // The PDF reader reads a Flate stream that is not zlib (here a damaged
    // two-byte header) again as raw deflate, whole: 70 MB of spaces.
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..70 {
        z.write_all(&chunk).unwrap();
    }
    let packed = [b"\xff\xff".as_slice(), &z.finish().unwrap()].concat();
    let bytes = pdf_with_stream("", &packed);
    assert_pdf_bomb(extract("raw-bomb.pdf", &bytes).unwrap_err());
}
