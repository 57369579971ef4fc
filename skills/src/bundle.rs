//! The model bundle: one GGUF file that holds everything the highlighter
//! needs — the tagger's weights (f32, f16 or quantized, tensor by tensor),
//! its config and label set, the tokenizer, the skill lexicon that links
//! spans to canonical names, and metadata (training data, metrics,
//! licences) — so that the browser downloads one file and the CLI reads the
//! same one.
//!
//! Layout (GGUF v2 as candle's [`gguf_file`] writes it; tensor names and
//! shapes are the tagger's own, see [`expected_tensors`]):
//!
//! | key | type | what |
//! |---|---|---|
//! | `general.architecture` | string | [`ARCHITECTURE`] |
//! | `general.name` | string | the model's name |
//! | `rolemapper.format_version` | u32 | [`FORMAT_VERSION`] |
//! | `rolemapper.tagger_config` | string | [`TaggerConfig`] as JSON (encoder config, head, labels) |
//! | `rolemapper.labels` | string array | the label set, in output order |
//! | `rolemapper.tokenizer_json` | string | the `tokenizers` tokenizer.json |
//! | `rolemapper.lexicon.sources_json` | string | the lexicon's sources, licences and attribution |
//! | `rolemapper.lexicon.concepts_jsonl_gz` | string | concepts.jsonl, gzip, then base64 (GGUF has no byte-string type, and an array of u8 would be read as a million values) |
//! | `rolemapper.metadata` | string | JSON: training data, metrics, licences, quantization… |
//! | `rolemapper.sha256` | string | SHA-256 of the whole file, computed with these 64 hex digits read as `0`s |
//!
//! Reading never trusts the file: candle's parser bounds every length by the
//! bytes present, every tensor's shape is checked against the config before
//! its data is read, the tensor data must tile the file's end exactly, and the
//! checksum catches a changed byte anywhere. Every
//! failure is a [`BundleError`] that names the problem, never a panic.

use crate::bio::Tag;
use crate::encode::WordPieces;
use crate::highlight::{Highlighter, Linker};
use crate::lexicon::Lexicon;
use crate::model::{Compute, Head, QuantizedTensors, Tagger, TaggerConfig, Weights};
use base64::Engine as _;
use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::sync::Arc;

/// The bundle layout this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// `general.architecture` of a RoleMapper bundle.
pub const ARCHITECTURE: &str = "rolemapper-distilbert-tagger";

const KEY_ARCH: &str = "general.architecture";
const KEY_NAME: &str = "general.name";
const KEY_VERSION: &str = "rolemapper.format_version";
const KEY_CONFIG: &str = "rolemapper.tagger_config";
const KEY_LABELS: &str = "rolemapper.labels";
const KEY_TOKENIZER: &str = "rolemapper.tokenizer_json";
const KEY_SOURCES: &str = "rolemapper.lexicon.sources_json";
const KEY_CONCEPTS: &str = "rolemapper.lexicon.concepts_jsonl_gz";
const KEY_METADATA: &str = "rolemapper.metadata";
const KEY_SHA256: &str = "rolemapper.sha256";

/// Why a bundle cannot be read or written. Each message says what is wrong
/// and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("not a RoleMapper model bundle: {0}")]
    NotABundle(String),
    #[error("the model bundle is truncated ({0}); download or copy it again")]
    Truncated(String),
    #[error("the model bundle is corrupt ({0}); download or copy it again")]
    Corrupt(String),
    #[error("model bundle format version {found} is not supported: this build reads version {supported}; use the RoleMapper release that made the bundle, or re-export it")]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error("the model bundle lacks {0}")]
    Missing(String),
    #[error("tensor {name} in the model bundle has shape {found:?}, but the bundle's config needs {expected:?}")]
    Shape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("the model bundle's tokenizer and model disagree: {0}")]
    TokenizerMismatch(String),
    #[error("cannot write the model bundle: {0}")]
    Write(String),
    #[error("cannot build the tagger from the bundle: {0}")]
    Model(#[from] candle_core::Error),
}

/// What goes into a bundle.
pub struct BundleParts<'a> {
    pub name: &'a str,
    pub config: &'a TaggerConfig,
    pub tokenizer_json: &'a str,
    pub lexicon: &'a Lexicon,
    /// Free-form JSON: training data, metrics, licences, quantization.
    pub metadata: &'a serde_json::Value,
    /// The tagger's tensors, each in the storage type chosen for it.
    pub tensors: Vec<(String, QTensor)>,
}

/// A bundle read and verified.
pub struct Bundle {
    pub name: String,
    pub config: TaggerConfig,
    pub tokenizer_json: String,
    /// The tokenizer, parsed from `tokenizer_json` and checked against the
    /// model (sentences of up to 128 sub-words: see
    /// [`WordPieces::with_max_len`]).
    pub pieces: WordPieces,
    pub lexicon: Lexicon,
    pub metadata: serde_json::Value,
    /// Tensors in name order.
    pub tensors: Vec<(String, Arc<QTensor>)>,
    /// The bundle's own checksum (hex SHA-256 of the file, see [`write`]).
    pub sha256: String,
}

/// The tensors a tagger with this config has: names and shapes.
pub fn expected_tensors(config: &TaggerConfig) -> Vec<(String, Vec<usize>)> {
    let c = &config.encoder;
    let k = config.labels.len();
    let mut out = vec![
        (
            "embeddings.word_embeddings.weight".into(),
            vec![c.vocab_size, c.dim],
        ),
        (
            "embeddings.position_embeddings.weight".into(),
            vec![c.max_position_embeddings, c.dim],
        ),
        ("embeddings.LayerNorm.weight".into(), vec![c.dim]),
        ("embeddings.LayerNorm.bias".into(), vec![c.dim]),
    ];
    for i in 0..c.n_layers {
        let p = format!("transformer.layer.{i}");
        for lin in ["q_lin", "k_lin", "v_lin", "out_lin"] {
            out.push((format!("{p}.attention.{lin}.weight"), vec![c.dim, c.dim]));
            out.push((format!("{p}.attention.{lin}.bias"), vec![c.dim]));
        }
        for norm in ["sa_layer_norm", "output_layer_norm"] {
            out.push((format!("{p}.{norm}.weight"), vec![c.dim]));
            out.push((format!("{p}.{norm}.bias"), vec![c.dim]));
        }
        out.push((format!("{p}.ffn.lin1.weight"), vec![c.hidden_dim, c.dim]));
        out.push((format!("{p}.ffn.lin1.bias"), vec![c.hidden_dim]));
        out.push((format!("{p}.ffn.lin2.weight"), vec![c.dim, c.hidden_dim]));
        out.push((format!("{p}.ffn.lin2.bias"), vec![c.dim]));
    }
    out.push(("classifier.weight".into(), vec![k, c.dim]));
    out.push(("classifier.bias".into(), vec![k]));
    if config.head == Head::Crf {
        out.push(("crf.transitions".into(), vec![k, k]));
        out.push(("crf.start".into(), vec![k]));
        out.push(("crf.end".into(), vec![k]));
    }
    out
}

/// The checksum placeholder the writer hashes over, then overwrites.
pub const SHA_PLACEHOLDER: [u8; 64] = [b'0'; 64];

/// Where the checksum's 64 hex digits sit: right after its key, its type
/// (string) and its length, which the writer puts first among the strings.
fn sha_value_range(bytes: &[u8]) -> Option<std::ops::Range<usize>> {
    let mut needle = (KEY_SHA256.len() as u64).to_le_bytes().to_vec();
    needle.extend(KEY_SHA256.as_bytes());
    needle.extend(8u32.to_le_bytes()); // GGUF value type: string
    needle.extend(64u64.to_le_bytes());
    let at = bytes.windows(needle.len()).position(|w| w == needle)? + needle.len();
    (at + 64 <= bytes.len()).then_some(at..at + 64)
}

/// Where a bundle's recorded checksum (64 hex digits) lies, and what it
/// says. The checksum is the SHA-256 of the whole file with those digits
/// read as [`SHA_PLACEHOLDER`]: a caller with a faster hash (the browser's
/// WebCrypto) computes it over that message, reads the bundle without it
/// ([`Bundle::read_unverified_steps`], or [`Bundle::highlighter_steps`] with
/// `verify` false), then checks it with [`verify_digest`].
pub fn checksum_range(bytes: &[u8]) -> Result<(std::ops::Range<usize>, &str), BundleError> {
    sha_value_range(bytes)
        .and_then(|r| Some((r.clone(), std::str::from_utf8(&bytes[r]).ok()?)))
        .ok_or_else(checksum_misplaced)
}

fn checksum_misplaced() -> BundleError {
    BundleError::Corrupt(format!("{KEY_SHA256} is not where the format puts it"))
}

/// Whether `digest`, the checksum computed over the file (see
/// [`checksum_range`]), is the one it records.
pub fn verify_digest(recorded: &str, digest: &str) -> Result<(), BundleError> {
    if digest == recorded {
        Ok(())
    } else {
        Err(BundleError::Corrupt(format!(
            "the file's checksum is {digest}, but it records {recorded}: bytes were changed"
        )))
    }
}

/// The checksum of a bundle file, computed here (what [`Bundle::read`]
/// compares with the recorded one).
pub fn checksum_of(bytes: &[u8]) -> Result<String, BundleError> {
    let (range, _) = checksum_range(bytes)?;
    Ok(file_checksum(bytes, range))
}

/// SHA-256 of the whole file with the checksum's own digits read as zeros.
fn file_checksum(bytes: &[u8], sha: std::ops::Range<usize>) -> String {
    let mut h = Sha256::new();
    sha256_update(&mut h, &bytes[..sha.start]);
    h.update(SHA_PLACEHOLDER);
    sha256_update(&mut h, &bytes[sha.end..]);
    hex(&h.finalize())
}

/// Feeds `bytes` to `h` 64 KiB at a time. In the browser this is ten times
/// faster than one call: V8 first runs wasm in baseline code, compiles a
/// hot function optimised in the background and uses that from the next
/// call on, so one call over a 20 MB bundle never leaves the baseline code
/// (Chromium 156, shipped bundle: 479 ms in one call, 43 ms once optimised).
pub fn sha256_update(h: &mut Sha256, bytes: &[u8]) {
    for chunk in bytes.chunks(64 << 10) {
        h.update(chunk);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn gzip_base64(text: &str) -> Result<String, BundleError> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(text.as_bytes())
        .and_then(|_| gz.finish())
        .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
        .map_err(|e| BundleError::Write(e.to_string()))
}

fn unbase64_gunzip(text: &str) -> Result<String, BundleError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| BundleError::Corrupt(format!("{KEY_CONCEPTS} is not base64: {e}")))?;
    let mut out = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut out)
        .map_err(|e| BundleError::Corrupt(format!("{KEY_CONCEPTS} does not decompress: {e}")))?;
    Ok(out)
}

/// Writes a bundle (tensors in name order) and returns its checksum: the
/// SHA-256 of the whole file, computed with the checksum's own digits as
/// zeros, so that any changed byte anywhere is detected.
pub fn write<W: Write>(w: &mut W, parts: BundleParts) -> Result<String, BundleError> {
    let mut tensors = parts.tensors;
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    check_tensors(
        parts.config,
        &tensors
            .iter()
            .map(|(n, t)| (n.as_str(), t.shape().dims()))
            .collect(),
    )?;
    let config =
        serde_json::to_string(parts.config).map_err(|e| BundleError::Write(e.to_string()))?;
    let metadata = serde_json::to_string_pretty(parts.metadata)
        .map_err(|e| BundleError::Write(e.to_string()))?;
    use gguf_file::Value;
    let text = |s: &str| Value::String(s.to_owned());
    let values: Vec<(&str, Value)> = vec![
        (KEY_ARCH, text(ARCHITECTURE)),
        (KEY_VERSION, Value::U32(FORMAT_VERSION)),
        (
            KEY_SHA256,
            text(std::str::from_utf8(&SHA_PLACEHOLDER).expect("ASCII")),
        ),
        (KEY_NAME, text(parts.name)),
        (KEY_CONFIG, text(&config)),
        (
            KEY_LABELS,
            Value::Array(parts.config.labels.iter().map(|l| text(l)).collect()),
        ),
        (KEY_TOKENIZER, text(parts.tokenizer_json)),
        (KEY_SOURCES, text(&parts.lexicon.sources_json())),
        (
            KEY_CONCEPTS,
            text(&gzip_base64(&parts.lexicon.concepts_jsonl())?),
        ),
        (KEY_METADATA, text(&metadata)),
    ];
    let metadata: Vec<(&str, &Value)> = values.iter().map(|(k, v)| (*k, v)).collect();
    let tensor_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let mut buf = Cursor::new(Vec::new());
    gguf_file::write(&mut buf, &metadata, &tensor_refs)
        .map_err(|e| BundleError::Write(e.to_string()))?;
    let mut bytes = buf.into_inner();
    let range = sha_value_range(&bytes)
        .ok_or_else(|| BundleError::Write("the checksum entry was not written".into()))?;
    let sha = file_checksum(&bytes, range.clone());
    bytes[range].copy_from_slice(sha.as_bytes());
    w.write_all(&bytes)
        .map_err(|e| BundleError::Write(e.to_string()))?;
    Ok(sha)
}

/// Every tensor the config needs is there with its shape, and nothing else
/// is (checked on the writer's tensors and, before any data is read, on a
/// file's tensor infos). Returns the expected names and shapes.
fn check_tensors(
    config: &TaggerConfig,
    have: &HashMap<&str, &[usize]>,
) -> Result<Vec<(String, Vec<usize>)>, BundleError> {
    let expected = expected_tensors(config);
    for (name, shape) in &expected {
        let found = have
            .get(name.as_str())
            .ok_or_else(|| BundleError::Missing(format!("tensor {name}")))?;
        if *found != shape.as_slice() {
            return Err(BundleError::Shape {
                name: name.clone(),
                expected: shape.clone(),
                found: found.to_vec(),
            });
        }
    }
    if let Some(extra) = have.keys().find(|n| !expected.iter().any(|(e, _)| e == *n)) {
        return Err(BundleError::Corrupt(format!(
            "unexpected tensor {extra} for a {:?}-head tagger",
            config.head
        )));
    }
    Ok(expected)
}

/// The tensor data must tile the rest of the file exactly: tensors in
/// order, apart, separated only by zero padding, the last one ending at the
/// file's aligned end. So a cut anywhere, even in trailing padding, and a
/// flipped bit anywhere, even where no reader looks, is caught.
/// Shapes must have been checked against the config (sizes cannot overflow).
fn check_layout(
    bytes: &[u8],
    header_end: u64,
    content: &gguf_file::Content,
) -> Result<(), BundleError> {
    const ALIGN: u64 = gguf_file::DEFAULT_ALIGNMENT;
    if content.metadata.contains_key("general.alignment") {
        return Err(BundleError::Corrupt(
            "unexpected general.alignment entry".into(),
        ));
    }
    let len = bytes.len() as u64;
    let zero = |from: u64, to: u64| bytes[from as usize..to as usize].iter().all(|&b| b == 0);
    let mut regions: Vec<(u64, u64, &str)> = content
        .tensor_infos
        .iter()
        .map(|(name, info)| {
            let size = (info.shape.elem_count() / info.ggml_dtype.block_size()
                * info.ggml_dtype.type_size()) as u64;
            let start = content.tensor_data_offset.saturating_add(info.offset);
            (start, start.saturating_add(size), name.as_str())
        })
        .collect();
    regions.sort();
    let mut pos = header_end;
    for (start, end, name) in regions {
        if start < pos {
            return Err(BundleError::Corrupt(format!(
                "tensor {name} overlaps what precedes it"
            )));
        }
        if end > len {
            return Err(BundleError::Truncated(format!(
                "tensor {name} needs bytes up to {end}, the file has {len}"
            )));
        }
        if !zero(pos, start) {
            return Err(BundleError::Corrupt(format!(
                "non-zero padding before tensor {name}"
            )));
        }
        pos = end;
    }
    let end = pos.div_ceil(ALIGN) * ALIGN;
    if len < end {
        return Err(BundleError::Truncated(format!(
            "the file has {len} bytes, its tensors end at {end}"
        )));
    }
    if len > end {
        return Err(BundleError::Corrupt(format!(
            "{} unexpected bytes after the last tensor",
            len - end
        )));
    }
    if !zero(pos, end) {
        return Err(BundleError::Corrupt(
            "non-zero padding after the last tensor".into(),
        ));
    }
    Ok(())
}

/// Classifies a parse failure: running out of bytes is truncation.
fn parse_error(e: candle_core::Error) -> BundleError {
    let msg = e.to_string();
    if msg.contains("remaining")
        || msg.contains("fill whole buffer")
        || msg.contains("UnexpectedEof")
    {
        BundleError::Truncated(msg)
    } else {
        BundleError::Corrupt(msg)
    }
}

impl Bundle {
    /// Reads and verifies a bundle held in memory.
    pub fn read(bytes: &[u8]) -> Result<Self, BundleError> {
        Self::read_steps(bytes, &mut |_| {})
    }

    /// [`Bundle::read`], calling `step` with each step's name as it ends
    /// (`header`, `tensors`, `checksum`, `tokenizer`, `lexicon`,
    /// `metadata`): the browser times its load with it.
    pub fn read_steps(bytes: &[u8], step: &mut dyn FnMut(&str)) -> Result<Self, BundleError> {
        Self::read_inner(bytes, step, true, false).map(|(b, _)| b)
    }

    /// [`Bundle::read_steps`] without the checksum (no `checksum` step;
    /// `sha256` is the recorded value): for a caller that computes it at the
    /// same time elsewhere (over the message [`checksum_range`] describes)
    /// and checks it with [`verify_digest`] before it uses anything read
    /// here. Every other check is made.
    pub fn read_unverified_steps(
        bytes: &[u8],
        step: &mut dyn FnMut(&str),
    ) -> Result<Self, BundleError> {
        Self::read_inner(bytes, step, false, false).map(|(b, _)| b)
    }

    /// The highlighter a bundle file describes (sentences up to `max_len`
    /// sub-words), its name and its recorded checksum: [`Bundle::read_steps`]
    /// (without the checksum when `verify` is false, as
    /// [`Bundle::read_unverified_steps`]), then
    /// [`Bundle::into_highlighter_steps`], except that the lexicon is read
    /// straight into the linker ([`Linker::from_files`]: the same checks and
    /// errors) without being built as a [`Lexicon`], which the highlighter
    /// does not keep. Steps: those of both, with `lexicon_linker` for
    /// `lexicon` and `linker_build`. The browser's worker starts with it.
    pub fn highlighter_steps(
        bytes: &[u8],
        verify: bool,
        max_len: usize,
        compute: Compute,
        step: &mut dyn FnMut(&str),
    ) -> Result<(Highlighter, String, String), BundleError> {
        let (bundle, linker) = Self::read_inner(bytes, step, verify, true)?;
        let (name, sha256) = (bundle.name.clone(), bundle.sha256.clone());
        let highlighter = bundle.highlighter_with(max_len, compute, linker, step)?;
        Ok((highlighter, name, sha256))
    }

    /// The bundle and, with `linker_only`, its linker, the bundle's
    /// `lexicon` left empty.
    fn read_inner(
        bytes: &[u8],
        step: &mut dyn FnMut(&str),
        verify: bool,
        linker_only: bool,
    ) -> Result<(Self, Option<Linker>), BundleError> {
        if bytes.len() < 4 {
            return Err(if b"GGUF".starts_with(bytes) {
                BundleError::Truncated(format!("only {} bytes", bytes.len()))
            } else {
                BundleError::NotABundle("the file does not start with the GGUF magic".into())
            });
        }
        if &bytes[..4] != b"GGUF" {
            return Err(BundleError::NotABundle(format!(
                "the file starts with {:02x?}, not the GGUF magic \"GGUF\"",
                &bytes[..4]
            )));
        }
        let mut cursor = Cursor::new(bytes);
        let content = gguf_file::Content::read(&mut cursor).map_err(parse_error)?;
        let header_end = cursor.position();
        if content.magic != gguf_file::VersionedMagic::GgufV2 {
            return Err(BundleError::Corrupt(format!(
                "GGUF container version {:?}; RoleMapper bundles are GGUF v2",
                content.magic
            )));
        }
        let md = &content.metadata;
        let string = |key: &str| -> Result<&str, BundleError> {
            match md.get(key) {
                Some(gguf_file::Value::String(s)) => Ok(s.as_str()),
                Some(_) => Err(BundleError::Corrupt(format!("{key} is not a string"))),
                None => Err(BundleError::Missing(format!("the metadata entry {key}"))),
            }
        };
        match md.get(KEY_ARCH) {
            Some(gguf_file::Value::String(a)) if a == ARCHITECTURE => {}
            Some(gguf_file::Value::String(a)) => {
                return Err(BundleError::NotABundle(format!(
                    "a GGUF file for architecture {a:?}, not {ARCHITECTURE:?}"
                )))
            }
            _ => {
                return Err(BundleError::NotABundle(
                    "a GGUF file without RoleMapper's architecture tag".into(),
                ))
            }
        }
        let version = match md.get(KEY_VERSION) {
            Some(gguf_file::Value::U32(v)) => *v,
            _ => {
                return Err(BundleError::Missing(format!(
                    "the metadata entry {KEY_VERSION}"
                )))
            }
        };
        if version != FORMAT_VERSION {
            return Err(BundleError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let config_json = string(KEY_CONFIG)?;
        let config: TaggerConfig = serde_json::from_str(config_json).map_err(|e| {
            BundleError::Corrupt(format!("{KEY_CONFIG} is not a tagger config: {e}"))
        })?;
        let labels: Vec<String> = match md.get(KEY_LABELS) {
            Some(gguf_file::Value::Array(vs)) => vs
                .iter()
                .map(|v| match v {
                    gguf_file::Value::String(s) => Ok(s.clone()),
                    _ => Err(BundleError::Corrupt(format!(
                        "{KEY_LABELS} holds a non-string"
                    ))),
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(BundleError::Missing(format!(
                    "the metadata entry {KEY_LABELS}"
                )))
            }
        };
        let known: Vec<String> = Tag::ALL.iter().map(|t| t.as_str().to_owned()).collect();
        if labels != config.labels || labels != known {
            return Err(BundleError::Corrupt(format!(
                "label set {labels:?} (config: {:?}); this build tags with {known:?}",
                config.labels
            )));
        }

        // Shapes are checked before any tensor data is read, so that a
        // damaged shape can neither overflow a size computation nor make a
        // huge allocation.
        let expected = check_tensors(
            &config,
            &content
                .tensor_infos
                .iter()
                .map(|(n, info)| (n.as_str(), info.shape.dims()))
                .collect(),
        )?;
        check_layout(bytes, header_end, &content)?;
        step("header");
        let mut tensors = Vec::with_capacity(expected.len());
        for (name, _) in &expected {
            let t = content
                .tensor(&mut cursor, name, &Device::Cpu)
                .map_err(parse_error)?;
            tensors.push((name.clone(), Arc::new(t)));
        }
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        step("tensors");

        let stored = string(KEY_SHA256)?;
        let (range, recorded) = checksum_range(bytes)?;
        if recorded != stored {
            return Err(checksum_misplaced());
        }
        if verify {
            verify_digest(stored, &file_checksum(bytes, range))?;
            step("checksum");
        }
        let tokenizer_json = string(KEY_TOKENIZER)?.to_owned();
        let pieces = WordPieces::from_json(tokenizer_json.as_bytes(), 128)
            .map_err(|e| BundleError::TokenizerMismatch(e.to_string()))?;
        if pieces.vocab_size() != config.encoder.vocab_size {
            return Err(BundleError::TokenizerMismatch(format!(
                "the tokenizer has {} tokens, the model's embedding table {}",
                pieces.vocab_size(),
                config.encoder.vocab_size
            )));
        }
        if let Some((style, token)) = config
            .styles
            .iter()
            .find(|(_, t)| pieces.token_id(t).is_none())
        {
            return Err(BundleError::TokenizerMismatch(format!(
                "the model's {style} style marker {token:?} is not in the tokenizer's vocabulary"
            )));
        }
        step("tokenizer");
        let lexicon_error = |e| BundleError::Corrupt(format!("the lexicon does not parse: {e}"));
        let (sources, concepts) = (
            string(KEY_SOURCES)?,
            unbase64_gunzip(string(KEY_CONCEPTS)?)?,
        );
        let (lexicon, linker) = if linker_only {
            let linker = Linker::from_files(sources, &concepts).map_err(lexicon_error)?;
            step("lexicon_linker");
            (Lexicon::default(), Some(linker))
        } else {
            let lexicon = Lexicon::parse(sources, &concepts).map_err(lexicon_error)?;
            step("lexicon");
            (lexicon, None)
        };
        let metadata = serde_json::from_str(string(KEY_METADATA)?)
            .map_err(|e| BundleError::Corrupt(format!("{KEY_METADATA} is not JSON: {e}")))?;
        step("metadata");
        let bundle = Self {
            name: string(KEY_NAME)?.to_owned(),
            config,
            tokenizer_json,
            pieces,
            lexicon,
            metadata,
            tensors,
            sha256: stored.to_owned(),
        };
        Ok((bundle, linker))
    }

    /// Reads and verifies a bundle file.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_file(path: &std::path::Path) -> Result<Self, BundleError> {
        let bytes = std::fs::read(path).map_err(|e| {
            BundleError::Missing(format!("a readable file at {}: {e}", path.display()))
        })?;
        Self::read(&bytes)
    }

    /// Bytes of tensor data, by storage type name (`f32`, `q8_0`, …).
    pub fn storage_summary(&self) -> Vec<(String, usize, usize)> {
        let mut by: Vec<(String, usize, usize)> = Vec::new();
        for (_, t) in &self.tensors {
            let name = dtype_name(t.dtype());
            match by.iter_mut().find(|(n, _, _)| *n == name) {
                Some(e) => {
                    e.1 += 1;
                    e.2 += t.storage_size_in_bytes();
                }
                None => by.push((name, 1, t.storage_size_in_bytes())),
            }
        }
        by
    }

    /// The tagger on `device` (CPU: quantized matrices run on the CPU).
    /// Embedding tables stored quantized stay quantized in memory; matrices
    /// compute as `compute` says; f32 and f16 tensors become f32.
    pub fn tagger(&self, device: &Device, compute: Compute) -> Result<Tagger, BundleError> {
        let mut float: HashMap<String, Tensor> = HashMap::new();
        let mut quantized: QuantizedTensors = HashMap::new();
        for (name, t) in &self.tensors {
            match t.dtype() {
                GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16 => {
                    float.insert(
                        name.clone(),
                        crate::model::as_dtype(&t.dequantize(device)?, DType::F32)?,
                    );
                }
                _ => {
                    quantized.insert(name.clone(), t.clone());
                }
            }
        }
        let vb =
            VarBuilder::from_backend(Box::new(FloatTensors(float)), DType::F32, device.clone());
        Ok(Tagger::load_weights(
            Weights::with_quantized(vb, quantized, compute),
            &self.config,
        )?)
    }

    /// The highlighter this bundle describes: tagger, tokenizer (sentences
    /// up to `max_len` sub-words) and lexicon linker, on the CPU.
    pub fn into_highlighter(
        self,
        max_len: usize,
        compute: Compute,
    ) -> Result<Highlighter, BundleError> {
        self.into_highlighter_steps(max_len, compute, &mut |_| {})
    }

    /// [`Bundle::into_highlighter`], calling `step` as each part is built
    /// (`tagger_build`, `linker_build`; the tokenizer was parsed by
    /// [`Bundle::read`]): the browser times its load with it.
    pub fn into_highlighter_steps(
        self,
        max_len: usize,
        compute: Compute,
        step: &mut dyn FnMut(&str),
    ) -> Result<Highlighter, BundleError> {
        self.highlighter_with(max_len, compute, None, step)
    }

    /// [`Bundle::into_highlighter_steps`] with the linker built already.
    fn highlighter_with(
        self,
        max_len: usize,
        compute: Compute,
        linker: Option<Linker>,
        step: &mut dyn FnMut(&str),
    ) -> Result<Highlighter, BundleError> {
        let device = Device::Cpu;
        let tagger = self.tagger(&device, compute)?;
        step("tagger_build");
        let pieces = self.pieces.with_max_len(max_len);
        let linker = match linker {
            Some(linker) => linker,
            None => {
                let linker = Linker::new(&self.lexicon).map_err(|e| {
                    BundleError::Corrupt(format!("the lexicon cannot be indexed: {e}"))
                })?;
                step("linker_build");
                linker
            }
        };
        Ok(Highlighter::new(tagger, pieces, Some(linker), device))
    }
}

/// The short name of a storage type (`f32`, `q8_0`, `q4k`, …).
pub fn dtype_name(d: GgmlDType) -> String {
    format!("{d:?}").to_lowercase()
}

/// A bundle's f32 tensors by name, for a `VarBuilder`: candle's own
/// `HashMap` backend passes every tensor through `to_dtype` and `to_device`
/// even when nothing changes, and `to_dtype` is among the largest functions
/// of the browser's wasm, which the engine compiles (on the page's cores,
/// while the model loads) once it has been called a few dozen times.
struct FloatTensors(HashMap<String, Tensor>);

impl FloatTensors {
    fn fetch(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let t = self.0.get(name).ok_or_else(|| {
            candle_core::Error::CannotFindTensor {
                path: name.to_string(),
            }
            .bt()
        })?;
        let t = if t.device().same_device(dev) {
            t.clone()
        } else {
            t.to_device(dev)?
        };
        crate::model::as_dtype(&t, dtype)
    }
}

impl candle_nn::var_builder::SimpleBackend for FloatTensors {
    fn get(
        &self,
        s: candle_core::Shape,
        name: &str,
        _: candle_nn::Init,
        dtype: DType,
        dev: &Device,
    ) -> candle_core::Result<Tensor> {
        let t = self.fetch(name, dtype, dev)?;
        if t.shape() != &s {
            return Err(candle_core::Error::UnexpectedShape {
                msg: format!("shape mismatch for {name}"),
                expected: s,
                got: t.shape().clone(),
            }
            .bt());
        }
        Ok(t)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        self.fetch(name, dtype, dev)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}
