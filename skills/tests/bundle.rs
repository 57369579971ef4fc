//! The bundle format: round trips, quantized inference, and refusal of
//! every kind of damaged file with a clear error (never a panic).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use candle_core::quantized::{gguf_file, GgmlDType};
use candle_core::Device;
use common::*;
use skills::bundle::{Bundle, BundleError, FORMAT_VERSION};
use skills::encode::WordPieces;
use skills::model::Compute;
use skills::model::{Head, Mode, Tagger};

fn emissions(t: &Tagger) -> Vec<f32> {
    let pieces = WordPieces::from_json(TOKENIZER.as_bytes(), 32).unwrap();
    let a = pieces
        .encode(&["strong", "python", "and", "machine", "learning", "skills"])
        .unwrap();
    let b = pieces.encode(&["we", "use", "docker"]).unwrap();
    emissions_of(t, &pieces.batch(&[&a, &b], &Device::Cpu).unwrap())
}

/// Word emissions of `batch`, flattened.
fn emissions_of(t: &Tagger, batch: &skills::model::Batch) -> Vec<f32> {
    t.word_emissions(batch, Mode::Infer)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn f32_bundle_round_trips_exactly() {
    for head in [Head::Linear, Head::Crf] {
        let (varmap, tagger) = tagger(head, None);
        let bytes = bundle_bytes(&varmap, &tagger, GgmlDType::F32);
        let b = Bundle::read(&bytes).unwrap();
        assert_eq!(b.name, "tiny");
        assert_eq!(b.config, tagger.config);
        assert_eq!(b.tokenizer_json, TOKENIZER);
        assert_eq!(b.lexicon, lexicon());
        assert_eq!(b.metadata, serde_json::json!({"test": true}));
        let loaded = b.tagger(&Device::Cpu, Compute::Quantized).unwrap();
        assert_eq!(emissions(&loaded), emissions(&tagger), "{head:?}");
    }
}

/// Word emissions `[words × 3]` of each sentence, tagged in one padded batch.
fn batch_emissions(t: &Tagger, sentences: &[&[&str]]) -> Vec<Vec<f32>> {
    let pieces = WordPieces::from_json(TOKENIZER.as_bytes(), 32).unwrap();
    let enc: Vec<_> = sentences
        .iter()
        .map(|s| pieces.encode(s).unwrap())
        .collect();
    let batch = pieces
        .batch(&enc.iter().collect::<Vec<_>>(), &Device::Cpu)
        .unwrap();
    let e: Vec<Vec<Vec<f32>>> = t
        .word_emissions(&batch, Mode::Infer)
        .unwrap()
        .to_vec3()
        .unwrap();
    e.into_iter()
        .zip(sentences)
        .map(|(rows, s)| rows.into_iter().take(s.len()).flatten().collect())
        .collect()
}

#[test]
fn a_sentence_tags_the_same_alone_and_in_a_padded_batch() {
    // Inference packs a padded batch's real tokens for every per-token
    // operation (`model::Packed`): a short sentence among long ones, mostly
    // padding, must get what it gets alone, for every way of computing.
    let long: &[&str] = &[
        "strong", "python", "and", "machine", "learning", "skills", "for", "data",
    ];
    let short: &[&str] = &["we", "use", "docker"];
    let (varmap, tagger) = tagger(Head::Crf, None);
    for (dtype, compute) in [
        (GgmlDType::F32, Compute::F32),
        (GgmlDType::Q8_0, Compute::Quantized),
        (GgmlDType::Q8_0, Compute::F32),
        (GgmlDType::Q8_0, Compute::Int8),
    ] {
        let t = Bundle::read(&bundle_bytes(&varmap, &tagger, dtype))
            .unwrap()
            .tagger(&Device::Cpu, compute)
            .unwrap();
        let together = batch_emissions(&t, &[long, short, long]);
        let alone = [
            batch_emissions(&t, &[long]).remove(0),
            batch_emissions(&t, &[short]).remove(0),
        ];
        let d = max_diff(&together[1], &alone[1])
            .max(max_diff(&together[0], &alone[0]))
            .max(max_diff(&together[2], &alone[0]));
        eprintln!("{dtype:?} {compute:?}: max |Δ emission| batch vs alone = {d:e}");
        // Int8's integer products are exact per row: nothing may move.
        let tol = if compute == Compute::Int8 { 0.0 } else { 1e-5 };
        assert!(d <= tol, "{dtype:?} {compute:?}: {d}");
    }
}

#[test]
fn the_last_layer_computed_for_the_rows_read_gives_every_rows_emissions() {
    // Inference computes the last layer's output projection, feed-forward
    // and norms only for the rows the tagger reads (each word's first
    // sub-word; `DistilBert::forward_rows`): a padded batch (packed rows)
    // and a sentence alone, words of several pieces among them, with
    // candle's attention and the browser's.
    let long: &[&str] = &[
        "strong",
        "coding",
        "and",
        "machine",
        "learning",
        "skills",
        "for",
        "designers",
    ];
    let short: &[&str] = &["we", "built", "clouds"];
    let pieces = WordPieces::from_json(TOKENIZER.as_bytes(), 32).unwrap();
    let split = pieces.encode(long).unwrap();
    assert!(
        split.ids.len() > long.len() + 2,
        "some word has several pieces"
    );
    // A batch built by hand whose masked word slots point at padding (the
    // short sentence's last slots, at the long one's length): those rows
    // are 0 either way.
    let enc = [split, pieces.encode(short).unwrap()];
    let mut odd = pieces.batch(&[&enc[0], &enc[1]], &Device::Cpu).unwrap();
    let (b, w) = odd.word_pos.dims2().unwrap();
    let last = odd.ids.dim(1).unwrap() as u32 - 1;
    let mut pos = odd.word_pos.to_vec2::<u32>().unwrap();
    pos[1][short.len()..].fill(last);
    odd.word_pos = candle_core::Tensor::from_vec(pos.concat(), (b, w), &Device::Cpu).unwrap();
    let (varmap, tagger) = tagger(Head::Crf, None);
    for (dtype, compute) in [
        (GgmlDType::F32, Compute::F32),
        (GgmlDType::Q8_0, Compute::Quantized),
        (GgmlDType::Q8_0, Compute::Int8),
    ] {
        let t = Bundle::read(&bundle_bytes(&varmap, &tagger, dtype))
            .unwrap()
            .tagger(&Device::Cpu, compute)
            .unwrap();
        // Int8's products are exact row by row: bit for bit.
        let tol = if compute == Compute::Int8 { 0.0 } else { 1e-5 };
        for browser in [false, true] {
            skills::model::use_browser_attention(browser);
            for sentences in [&[long, short, long][..], &[short][..]] {
                let read = batch_emissions(&t, sentences);
                skills::model::use_every_row(true);
                let every = batch_emissions(&t, sentences);
                skills::model::use_every_row(false);
                for (a, b) in read.iter().zip(&every) {
                    let d = max_diff(a, b);
                    assert!(d <= tol, "{compute:?}, browser attention {browser}: {d}");
                }
            }
            skills::model::use_browser_attention(false);
        }
        let read = emissions_of(&t, &odd);
        skills::model::use_every_row(true);
        let every = emissions_of(&t, &odd);
        skills::model::use_every_row(false);
        let d = max_diff(&read, &every);
        assert!(d <= tol, "{compute:?}, masked slots at padding: {d}");
    }
}

#[test]
fn quantized_bundles_stay_close_to_f32() {
    let (varmap, tagger) = tagger(Head::Crf, None);
    let reference = emissions(&tagger);
    let scale = reference.iter().fold(0f32, |m, x| m.max(x.abs()));
    // Relative to the largest emission; the tiny model's random weights are
    // harder to quantize than trained ones (see the README's table).
    for (dtype, tol) in [
        (GgmlDType::F16, 0.005f32),
        (GgmlDType::Q8_0, 0.05),
        (GgmlDType::Q4_0, 0.3),
    ] {
        let b = Bundle::read(&bundle_bytes(&varmap, &tagger, dtype)).unwrap();
        assert!(b
            .storage_summary()
            .iter()
            .any(|(d, _, _)| *d == skills::bundle::dtype_name(dtype)));
        for compute in [Compute::Quantized, Compute::F32, Compute::Int8] {
            let got = emissions(&b.tagger(&Device::Cpu, compute).unwrap());
            let d = max_diff(&got, &reference) / scale;
            eprintln!("{dtype:?} {compute:?}: max |Δ emission| / max |emission| = {d}");
            // Int8 requantizes weights to 7 bits and inputs to 8 bits per
            // row: at least the error of Q8_0 storage.
            let tol = if compute == Compute::Int8 {
                tol.max(0.05)
            } else {
                tol
            };
            assert!(
                d < tol,
                "{dtype:?} {compute:?}: max |Δ emission| / max |emission| = {d}"
            );
        }
        let d = max_diff(
            &emissions(&b.tagger(&Device::Cpu, Compute::Quantized).unwrap()),
            &reference,
        ) / scale;
        assert!(
            d > 0.0 || dtype == GgmlDType::F16,
            "{dtype:?} should not be lossless"
        );
    }
}

#[test]
fn the_highlighter_from_a_bundle_links_spans_to_the_lexicon() {
    let bytes = tiny_bundle();
    let h = Bundle::read(&bytes)
        .unwrap()
        .into_highlighter(32, Compute::Quantized)
        .unwrap();
    let text = "We use Docker and ML daily.";
    let spans = h.highlight(text).unwrap();
    for s in &spans {
        let phrase = &text[s.bytes.clone()];
        assert!((0.0..=1.0).contains(&s.score));
        let expected = match phrase {
            "Docker" => Some("Docker"),
            "ML" => Some("machine learning"),
            _ => None,
        };
        assert_eq!(s.skill.as_deref(), expected, "{phrase}");
    }
    // The browser worker's way (the lexicon read straight into the linker),
    // verified or not: the same highlighter, name and checksum.
    let read = Bundle::read(&bytes).unwrap();
    for verify in [true, false] {
        let mut steps = Vec::new();
        let (h2, name, sha) =
            Bundle::highlighter_steps(&bytes, verify, 32, Compute::Quantized, &mut |s| {
                steps.push(s.to_owned())
            })
            .unwrap();
        assert_eq!(
            (name.as_str(), sha.as_str()),
            (read.name.as_str(), read.sha256.as_str())
        );
        assert_eq!(h2.highlight(text).unwrap(), spans);
        for word in ["Docker", "ML", "machine learning", "python", "Java"] {
            assert_eq!(
                h2.linker.as_ref().unwrap().link(word),
                h.linker.as_ref().unwrap().link(word)
            );
        }
        assert!(steps.contains(&"lexicon_linker".to_owned()), "{steps:?}");
        assert_eq!(steps.contains(&"checksum".to_owned()), verify, "{steps:?}");
    }
}

#[test]
fn every_truncation_is_refused_as_truncated() {
    let bytes = tiny_bundle();
    assert!(Bundle::read(&bytes).is_ok());
    for len in 0..bytes.len() {
        match Bundle::read(&bytes[..len]) {
            Err(BundleError::Truncated(_)) => {}
            Err(e) => panic!("cut at {len} of {}: wrong error {e}", bytes.len()),
            Ok(_) => panic!("cut at {len} of {} was accepted", bytes.len()),
        }
    }
}

#[test]
fn flipped_bits_are_refused() {
    let bytes = tiny_bundle();
    // Every byte of the header and metadata, then every 7th byte of tensor data.
    let data_start = bytes.len() - 30_000.min(bytes.len() / 2);
    let mut tried = 0;
    for pos in (0..bytes.len()).filter(|&p| p < data_start || p % 7 == 0) {
        for bit in [0, 4, 7] {
            let mut b = bytes.clone();
            b[pos] ^= 1 << bit;
            let err = Bundle::read(&b)
                .err()
                .unwrap_or_else(|| panic!("bit {bit} of byte {pos} flipped was accepted"));
            assert!(!err.to_string().is_empty());
            tried += 1;
        }
    }
    assert!(tried > 1000, "{tried}");
}

/// The checksum as a caller computes it outside (the browser's WebCrypto):
/// SHA-256 over the file with the recorded digits read as the placeholder.
fn outside_digest(bytes: &[u8]) -> Option<String> {
    use sha2::{Digest, Sha256};
    let (range, _) = skills::bundle::checksum_range(bytes).ok()?;
    let mut message = bytes.to_vec();
    message[range].copy_from_slice(&skills::bundle::SHA_PLACEHOLDER);
    Some(
        Sha256::digest(&message)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

#[test]
fn a_checksum_computed_outside_accepts_and_refuses_what_read_does() {
    let bytes = tiny_bundle();
    let read = Bundle::read(&bytes).unwrap();
    let unverified = Bundle::read_unverified_steps(&bytes, &mut |_| {}).unwrap();
    assert_eq!(unverified.sha256, read.sha256);
    assert_eq!(
        outside_digest(&bytes).as_deref(),
        Some(read.sha256.as_str())
    );
    skills::bundle::verify_digest(&unverified.sha256, &outside_digest(&bytes).unwrap()).unwrap();
    // Every 97th byte flipped: refused by `read`, and then either by the
    // unverified read's other checks or by the digest.
    let mut tried = 0;
    for pos in (0..bytes.len()).step_by(97) {
        let mut b = bytes.clone();
        b[pos] ^= 0x10;
        let refused_by_read = Bundle::read(&b).is_err();
        let refused_outside = match Bundle::read_unverified_steps(&b, &mut |_| {}) {
            Err(_) => true,
            Ok(u) => match outside_digest(&b) {
                Some(d) => skills::bundle::verify_digest(&u.sha256, &d).is_err(),
                None => true,
            },
        };
        // The browser worker's read: verified, or split as above.
        let highlighter = |verify| {
            Bundle::highlighter_steps(&b, verify, 32, Compute::Int8, &mut |_| {})
                .map(|(_, _, sha)| sha)
        };
        let refused_by_highlighter = highlighter(true).is_err();
        let refused_split = match highlighter(false) {
            Err(_) => true,
            Ok(sha) => match outside_digest(&b) {
                Some(d) => skills::bundle::verify_digest(&sha, &d).is_err(),
                None => true,
            },
        };
        assert!(refused_by_read, "byte {pos}");
        assert!(refused_outside, "byte {pos} flipped passed the split check");
        assert!(refused_by_highlighter, "byte {pos}: highlighter_steps");
        assert!(refused_split, "byte {pos}: highlighter_steps, split");
        tried += 1;
    }
    assert!(tried > 100, "{tried}");
}

#[test]
fn random_files_and_wrong_magic_are_not_bundles() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for len in [0usize, 3, 4, 100, 10_000, 1_000_000] {
        let random: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        let err = Bundle::read(&random).err().expect("random bytes refused");
        assert!(
            len < 4 || matches!(err, BundleError::NotABundle(_)),
            "{len}: {err}"
        );
        // Random bytes behind a valid magic: refused too, never a panic or a huge allocation.
        let mut gguf = b"GGUF\x03\x00\x00\x00".to_vec();
        gguf.extend(&random);
        assert!(Bundle::read(&gguf).is_err());
    }
    let mut bytes = tiny_bundle();
    bytes[..4].copy_from_slice(b"PK\x03\x04");
    let err = Bundle::read(&bytes).err().unwrap();
    assert!(matches!(err, BundleError::NotABundle(_)), "{err}");
    assert!(err.to_string().contains("GGUF"), "{err}");
}

#[test]
fn an_unknown_format_version_is_refused_by_number() {
    let mut bytes = tiny_bundle();
    let at = value_offset(&bytes, "rolemapper.format_version");
    assert_eq!(bytes[at..at + 4], FORMAT_VERSION.to_le_bytes());
    bytes[at..at + 4].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    match Bundle::read(&bytes) {
        Err(e @ BundleError::UnsupportedVersion { found, supported }) => {
            assert_eq!((found, supported), (FORMAT_VERSION + 1, FORMAT_VERSION));
            assert!(e.to_string().contains("version 2"), "{e}");
        }
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn a_tokenizer_that_does_not_fit_the_model_is_refused() {
    // The tiny tokenizer has 72 tokens; this model's embedding table 80 rows.
    let (varmap, tagger) = tagger(Head::Linear, Some(80));
    match Bundle::read(&bundle_bytes(&varmap, &tagger, GgmlDType::Q8_0)) {
        Err(e @ BundleError::TokenizerMismatch(_)) => {
            assert!(
                e.to_string().contains("72") && e.to_string().contains("80"),
                "{e}"
            )
        }
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn a_missing_tensor_is_named() {
    let bytes = tiny_bundle();
    let mut cursor = std::io::Cursor::new(&bytes);
    let content = gguf_file::Content::read(&mut cursor).unwrap();
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let dropped = "transformer.layer.1.ffn.lin2.weight";
    let tensors: Vec<(String, candle_core::quantized::QTensor)> = names
        .into_iter()
        .filter(|n| *n != dropped)
        .map(|n| {
            (
                n.clone(),
                content.tensor(&mut cursor, n, &Device::Cpu).unwrap(),
            )
        })
        .collect();
    let metadata: Vec<(&str, &gguf_file::Value)> = content
        .metadata
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    let mut out = std::io::Cursor::new(Vec::new());
    let refs: Vec<(&str, &candle_core::quantized::QTensor)> =
        tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    gguf_file::write(&mut out, &metadata, &refs).unwrap();
    match Bundle::read(&out.into_inner()) {
        Err(e @ BundleError::Missing(_)) => assert!(e.to_string().contains(dropped), "{e}"),
        other => panic!("{:?}", other.err()),
    }
}

/// Writes the tiny bundle where `ROLEMAPPER_FUZZ_SEED` says (the bundle
/// fuzzer's seed corpus; `scripts/fuzz.sh` runs this).
#[test]
#[ignore]
fn write_fuzz_seed() {
    let path = std::env::var("ROLEMAPPER_FUZZ_SEED").expect("ROLEMAPPER_FUZZ_SEED names the file");
    std::fs::write(path, tiny_bundle()).unwrap();
}

/// Found by the bundle fuzzer: a bundle whose checksum is right (libFuzzer
/// learns the expected digits from the comparison) but whose tokenizer JSON
/// has a syntax error inside its decoder section, where tokenizers 0.23.2
/// panics instead of returning an error.
#[test]
fn a_tokenizer_with_broken_json_is_an_error_not_a_panic() {
    let bytes = include_bytes!("fixtures/fuzz-crash-tokenizer-decoder.gguf");
    match Bundle::read(bytes) {
        Err(e @ BundleError::TokenizerMismatch(_)) => {
            assert!(e.to_string().contains("tokenizer"), "{e}")
        }
        other => panic!("{:?}", other.err()),
    }
}
