//! Text in, skill spans out: the code path shared by `rolemapper tag` and
//! the browser.
//!
//! The text is split into sentences ([`SentenceSplitter`]), each sentence
//! into words ([`words`]); words are cut into windows that fit the model's
//! length limit, tagged in batches, and the `B`/`I` runs become spans. Each
//! span gets a confidence (the mean probability of its words' tags) and,
//! when the lexicon knows the phrase, its canonical skill name.

use crate::bio::{tags_to_spans, Tag};
use crate::encode::{EncodeError, Encoded, WordPieces};
use crate::lexicon::{phrase_key, phrase_keys, ConceptId, ConceptRef, Lexicon, LexiconError};
use crate::model::{Mode, Tagger};
use crate::offsets::OffsetMap;
use crate::style::{Style, StyleChoice};
use crate::text::SentenceSplitter;
use crate::words::{join, words};
use candle_core::{Device, Tensor};
use serde::Serialize;
use std::borrow::Cow;
use std::ops::Range;

/// One highlighted skill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillSpan {
    /// Byte range in the text.
    pub bytes: Range<usize>,
    /// Canonical skill name, when the lexicon knows the phrase.
    pub skill: Option<String>,
    /// Mean probability of the span's word tags, in `0..=1`.
    pub score: f32,
}

/// Failure to highlight.
#[derive(Debug, thiserror::Error)]
pub enum HighlightError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("model error: {0}")]
    Model(#[from] candle_core::Error),
}

/// Links phrases to canonical names: a phrase that is, as a whole, one
/// lexicon surface form (compared as [`phrase_key`]s, so case, Unicode
/// compatibility forms and spacing do not matter). A hash table rather than
/// the matcher's automaton: the browser builds it at every start, so its
/// keys and names lie in two strings, not in 180,000 allocations.
pub struct Linker {
    /// The kept keys, one after another (only compared: bytes).
    keys: Vec<u8>,
    /// Per kept key: where it ends in `keys` (it starts where the one
    /// before ends) and its concept.
    entries: Vec<(u32, ConceptId)>,
    /// Indices into `entries`, by their key's hash.
    table: hashbrown::HashTable<u32>,
    /// The concepts' canonical names, one after another, and where each ends.
    names: String,
    name_ends: Vec<u32>,
}

impl Linker {
    /// The linker of `lexicon`; an error only for a lexicon whose keys or
    /// names pass 4 GiB.
    pub fn new(lexicon: &Lexicon) -> Result<Self, LexiconError> {
        let forms: Vec<(&str, ConceptId)> = lexicon.surface_forms().collect();
        Self::build(lexicon.concepts.iter().map(|c| c.name.as_str()), &forms)
    }

    /// The linker of the lexicon in these two files, read with the checks
    /// and errors of [`Lexicon::parse`], without building the [`Lexicon`]
    /// (the highlighter needs only this).
    pub fn from_files(sources_json: &str, concepts_jsonl: &str) -> Result<Self, LexiconError> {
        let mut names: Vec<Cow<str>> = Vec::new();
        let mut aliases: Vec<(Cow<str>, ConceptId)> = Vec::new();
        crate::lexicon::each_concept(sources_json, concepts_jsonl, |c: ConceptRef| {
            let id = names.len() as ConceptId;
            aliases.extend(c.aliases.into_iter().map(|a| (a.0, id)));
            names.push(c.name);
        })?;
        // As `Lexicon::surface_forms`: every name, then every alias.
        let forms: Vec<(&str, ConceptId)> = (names.iter().enumerate())
            .map(|(i, n)| (n.as_ref(), i as ConceptId))
            .chain(aliases.iter().map(|(a, id)| (a.as_ref(), *id)))
            .collect();
        Self::build(names.iter().map(|n| n.as_ref()), &forms)
    }

    /// The first surface form with a key keeps it, as in the matcher.
    fn build<'a>(
        names: impl Iterator<Item = &'a str>,
        forms: &[(&str, ConceptId)],
    ) -> Result<Self, LexiconError> {
        let mut linker = Self {
            keys: Vec::with_capacity(forms.iter().map(|(f, _)| f.len() + 4).sum()),
            entries: Vec::with_capacity(forms.len()),
            table: hashbrown::HashTable::with_capacity(forms.len()),
            names: String::new(),
            name_ends: Vec::new(),
        };
        for name in names {
            linker.names.push_str(name);
            linker.name_ends.push(offset(linker.names.len())?);
        }
        // Forms of other characters than ASCII letters, digits, spaces and
        // punctuation (a few hundred) are keyed together, as `phrase_keys`
        // does, then taken in their turn.
        let (others, other_at): (Vec<&str>, Vec<usize>) = forms
            .iter()
            .enumerate()
            .filter(|(_, (f, _))| !crate::lexicon::is_ascii_phrase(f))
            .map(|(i, (f, _))| (*f, i))
            .unzip();
        let other_keys = phrase_keys(&others);
        let mut other = other_at.iter().zip(other_keys).peekable();
        for (i, &(form, concept)) in forms.iter().enumerate() {
            let start = linker.keys.len();
            let keyed = match other.next_if(|(&at, _)| at == i) {
                Some((_, key)) => key
                    .map(|k| linker.keys.extend_from_slice(k.as_bytes()))
                    .is_some(),
                // Every other form is ASCII (`is_ascii_phrase` chose them).
                None => crate::lexicon::push_ascii_phrase_key(form, &mut linker.keys) == Some(true),
            };
            if keyed {
                linker.keep(start, concept)?;
            }
        }
        Ok(linker)
    }

    /// Keeps the key at `keys[start..]` for `concept` unless an earlier
    /// form has it (then it is dropped).
    fn keep(&mut self, start: usize, concept: ConceptId) -> Result<(), LexiconError> {
        let Self {
            keys,
            entries,
            table,
            ..
        } = self;
        let key = &keys[start..];
        let hash = hash_key(key);
        if table
            .find(hash, |&i| entry_key(keys, entries, i) == key)
            .is_some()
        {
            keys.truncate(start);
            return Ok(());
        }
        let at = offset(entries.len())?;
        entries.push((offset(keys.len())?, concept));
        table.insert_unique(hash, at, |&i| hash_key(entry_key(keys, entries, i)));
        Ok(())
    }

    /// The canonical name of `phrase`, if the whole phrase is a surface form.
    pub fn link(&self, phrase: &str) -> Option<&str> {
        self.link_key(&phrase_key(phrase)?)
    }

    /// The canonical name of the surface form whose [`phrase_key`] is `key`.
    pub fn link_key(&self, key: &str) -> Option<&str> {
        let key = key.as_bytes();
        let i = *self.table.find(hash_key(key), |&i| {
            entry_key(&self.keys, &self.entries, i) == key
        })?;
        let concept = self.entries[i as usize].1 as usize;
        let end = *self.name_ends.get(concept)? as usize;
        let start = match concept {
            0 => 0,
            c => self.name_ends[c - 1] as usize,
        };
        Some(&self.names[start..end])
    }
}

/// An offset or index as the linker stores it.
fn offset(n: usize) -> Result<u32, LexiconError> {
    u32::try_from(n).map_err(|_| LexiconError::TooLarge)
}

/// The key of entry `i`: it starts where the one before ends.
fn entry_key<'k>(keys: &'k [u8], entries: &[(u32, ConceptId)], i: u32) -> &'k [u8] {
    let i = i as usize;
    let from = if i == 0 { 0 } else { entries[i - 1].0 as usize };
    &keys[from..entries[i].0 as usize]
}

fn hash_key(key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(key)
}

/// The tagger, its tokenizer and the linker.
pub struct Highlighter {
    pub tagger: Tagger,
    pub pieces: WordPieces,
    pub linker: Option<Linker>,
    pub device: Device,
    pub splitter: SentenceSplitter,
    /// Sentences (windows) tagged per forward pass.
    pub batch_size: usize,
    /// Complete skill lists with the lexicon's skills ([`crate::lists`];
    /// needs the linker). On by default.
    pub complete_lists: bool,
    /// Added to each word's `O` score before decoding (positive: fewer and
    /// shorter spans); 0 by default. For tuning a decoding bias on dev data.
    pub o_bias: f32,
}

/// A window of words to tag: (sentence's word byte ranges, range of words).
struct Window {
    words: Vec<Range<usize>>,
    enc: Encoded,
}

impl Highlighter {
    pub fn new(tagger: Tagger, pieces: WordPieces, linker: Option<Linker>, device: Device) -> Self {
        Self {
            tagger,
            pieces,
            linker,
            device,
            splitter: SentenceSplitter::new(),
            batch_size: 16,
            complete_lists: true,
            o_bias: 0.0,
        }
    }

    fn engine(&self, style: Option<Style>) -> Engine<'_> {
        Engine {
            tagger: &self.tagger,
            pieces: &self.pieces,
            device: &self.device,
            batch_size: self.batch_size,
            marker: style_marker(&self.tagger, &self.pieces, style),
            o_bias: self.o_bias,
        }
    }

    /// The style `text` is read in: the one asked for, else the detector's
    /// answer (a job post where the model has no detector); `None` when the
    /// model was trained without style markers.
    pub fn style_of(&self, text: &str, choice: StyleChoice) -> Option<Style> {
        let config = &self.tagger.config;
        if config.styles.is_empty() {
            return None;
        }
        choice.fixed().or_else(|| {
            Some(
                config
                    .style_detector
                    .as_ref()
                    .map_or(Style::Job, |d| d.detect(text)),
            )
        })
    }

    /// Skill spans of `text`, sorted and disjoint, on character boundaries,
    /// read in the style the detector finds (see [`Highlighter::highlight_as`]).
    pub fn highlight(&self, text: &str) -> Result<Vec<SkillSpan>, HighlightError> {
        self.highlight_as(text, StyleChoice::Auto)
    }

    /// Skill spans of `text` read as `choice` says (for a model with style
    /// markers; others read every text the same way).
    pub fn highlight_as(
        &self,
        text: &str,
        choice: StyleChoice,
    ) -> Result<Vec<SkillSpan>, HighlightError> {
        let sentences = self.splitter.split(text);
        let style = self.style_of(text, choice);
        Ok(self
            .highlight_sentences(text, &sentences, style)?
            .into_iter()
            .flatten()
            .collect())
    }

    /// Skill spans of each of `sentences` (byte ranges of `text`, normally
    /// from [`SentenceSplitter::split`]), tagged in one batch; spans are byte
    /// ranges of `text`, one list per sentence. The concatenated lists are
    /// what [`Highlighter::highlight`] gives for the same sentences, so a
    /// caller that caches results by sentence (the browser app, as the user
    /// types) tags only the sentences that changed, as long as the style
    /// (from [`Highlighter::style_of`]) stays the same.
    pub fn highlight_sentences(
        &self,
        text: &str,
        sentences: &[Range<usize>],
        style: Option<Style>,
    ) -> Result<Vec<Vec<SkillSpan>>, HighlightError> {
        let engine = self.engine(style);
        let mut windows = Vec::new();
        let mut owner = Vec::new();
        for (i, sentence) in sentences.iter().enumerate() {
            let ws: Vec<Range<usize>> = words(&text[sentence.clone()])
                .into_iter()
                .map(|w| w.start + sentence.start..w.end + sentence.start)
                .collect();
            let before = windows.len();
            engine.windows(text, &ws, &mut windows)?;
            owner.extend(std::iter::repeat_n(i, windows.len() - before));
        }
        crate::profile::lap("tokenize");
        let tagged = engine.tag_windows(&windows)?;
        let mut out = vec![Vec::new(); sentences.len()];
        for ((win, (model_tags, probs)), i) in windows.iter().zip(tagged).zip(owner) {
            let ws: Vec<&str> = win.words.iter().map(|r| &text[r.clone()]).collect();
            let tags = self.completed(&ws, model_tags.clone());
            for span in tags_to_spans(&tags) {
                let bytes = win.words[span.start].start..win.words[span.end - 1].end;
                let mean = probs[span.clone()].iter().sum::<f32>() / span.len() as f32;
                // A span added by list completion: the model's own
                // probability that its words are not `O`.
                let score = if model_tags[span.start] == Tag::O {
                    1.0 - mean
                } else {
                    mean
                };
                let skill = self
                    .linker
                    .as_ref()
                    .and_then(|l| l.link(&text[bytes.clone()]))
                    .map(str::to_owned);
                out[i].push(SkillSpan {
                    bytes,
                    skill,
                    score,
                });
            }
        }
        crate::profile::lap("link");
        Ok(out)
    }

    /// Tags a sentence given as words (CoNLL input), read in `style`.
    pub fn tag_words(&self, ws: &[&str], style: Option<Style>) -> Result<Vec<Tag>, HighlightError> {
        let tags = self
            .engine(style)
            .tag_word_lists(&[ws.to_vec()])?
            .pop()
            .unwrap_or_default();
        Ok(self.completed(ws, tags))
    }

    /// `tags` of `ws` after list completion and the joining of split
    /// skills, when it is on.
    fn completed(&self, ws: &[&str], mut tags: Vec<Tag>) -> Vec<Tag> {
        if let (true, Some(linker)) = (self.complete_lists, &self.linker) {
            crate::lists::join_split(ws, &mut tags, linker);
            crate::lists::complete(ws, &mut tags, linker);
        }
        tags
    }
}

/// Windowed, batched tagging with a borrowed tagger: what [`Highlighter`]
/// runs, and what evaluation runs so that scores measure the same thing.
pub struct Engine<'a> {
    pub tagger: &'a Tagger,
    pub pieces: &'a WordPieces,
    pub device: &'a Device,
    /// Windows tagged per forward pass.
    pub batch_size: usize,
    /// The style marker put after `[CLS]` (see [`style_marker`]).
    pub marker: Option<u32>,
    /// Added to each word's `O` score before decoding (see
    /// [`Highlighter::o_bias`]); the probabilities stay the model's.
    pub o_bias: f32,
}

/// The vocabulary id of `tagger`'s marker for `style`: `None` for no style,
/// or a model without markers (whose bundle reader checked that each
/// marker is in the vocabulary).
pub fn style_marker(tagger: &Tagger, pieces: &WordPieces, style: Option<Style>) -> Option<u32> {
    let token = tagger.config.styles.get(&style?)?;
    pieces.token_id(token)
}

impl Engine<'_> {
    /// Tags many sentences given as words; long ones are cut into windows
    /// that fit the model. Words the tokenizer cannot see are `O`.
    pub fn tag_word_lists(&self, sentences: &[Vec<&str>]) -> Result<Vec<Vec<Tag>>, HighlightError> {
        let mut windows = Vec::new();
        let mut owner = Vec::new();
        let texts: Vec<(String, Vec<Range<usize>>)> = sentences.iter().map(|ws| join(ws)).collect();
        for (i, (text, ranges)) in texts.iter().enumerate() {
            let before = windows.len();
            self.windows(text, ranges, &mut windows)?;
            owner.extend(std::iter::repeat(i).take(windows.len() - before));
        }
        let mut out = vec![Vec::new(); sentences.len()];
        for (i, (tags, _)) in owner.into_iter().zip(self.tag_windows(&windows)?) {
            out[i].extend(tags);
        }
        Ok(out)
    }

    /// Cuts a sentence's words into windows whose sub-words fit the model.
    fn windows(
        &self,
        text: &str,
        ws: &[Range<usize>],
        out: &mut Vec<Window>,
    ) -> Result<(), HighlightError> {
        let mut start = 0;
        while start < ws.len() {
            // Every word that gets a sub-word takes at least one of the
            // max_len slots, so no window can hold more words than that:
            // looking further would re-tokenize the rest of a long sentence
            // for every window.
            let end = ws.len().min(start + self.pieces.max_len());
            let strs: Vec<&str> = ws[start..end].iter().map(|w| &text[w.clone()]).collect();
            let enc = self.pieces.encode_marked(&strs, self.marker)?;
            // When the sub-words hit the limit, the window ends before the
            // word they were cut in (which starts the next window whole). A
            // single word too long for the model still makes progress: it is
            // tagged by its first sub-word.
            let fit = if enc.ids.len() < self.pieces.max_len() {
                strs.len()
            } else {
                match enc.first.iter().rposition(Option::is_some) {
                    Some(0) | None => 1,
                    Some(last) => last,
                }
            };
            let enc = if fit == strs.len() {
                enc
            } else {
                self.pieces.encode_marked(&strs[..fit], self.marker)?
            };
            out.push(Window {
                words: ws[start..start + fit].to_vec(),
                enc,
            });
            start += fit;
        }
        Ok(())
    }

    /// Tags and per-word probabilities of the chosen tags.
    fn tag_windows(&self, windows: &[Window]) -> Result<Vec<(Vec<Tag>, Vec<f32>)>, HighlightError> {
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| windows[i].enc.ids.len());
        let mut out = vec![(Vec::new(), Vec::new()); windows.len()];
        for chunk in order.chunks(self.batch_size.max(1)) {
            let compact: Vec<Encoded> = chunk
                .iter()
                .map(|&i| Encoded {
                    ids: windows[i].enc.ids.clone(),
                    first: windows[i]
                        .enc
                        .first
                        .iter()
                        .flatten()
                        .map(|&f| Some(f))
                        .collect(),
                })
                .collect();
            let refs: Vec<&Encoded> = compact.iter().collect();
            let batch = self.pieces.batch(&refs, &self.device)?;
            crate::profile::lap("batch");
            let emissions = self.tagger.word_emissions(&batch, Mode::Infer)?;
            crate::profile::lap("word_emissions");
            let lengths: Vec<usize> = compact.iter().map(|e| e.first.len()).collect();
            let decoded = if self.o_bias == 0.0 {
                self.tagger.decode(&emissions, &lengths)?
            } else {
                let mut bias = vec![0f32; emissions.dim(candle_core::D::Minus1)?];
                bias[Tag::O.index()] = self.o_bias;
                let bias = Tensor::new(bias.as_slice(), emissions.device())?;
                self.tagger
                    .decode(&emissions.broadcast_add(&bias)?, &lengths)?
            };
            crate::profile::lap("decode");
            let probs: Vec<Vec<Vec<f32>>> = Tagger::probabilities(&emissions)?.to_vec3()?;
            crate::profile::lap("probabilities");
            for (k, (&i, tags)) in chunk.iter().zip(decoded).enumerate() {
                let mut it = tags.into_iter().zip(probs[k].iter());
                let (mut t, mut p) = (Vec::new(), Vec::new());
                for f in &windows[i].enc.first {
                    match f.and_then(|_| it.next()) {
                        Some((tag, row)) => {
                            t.push(tag);
                            p.push(row[tag.index()]);
                        }
                        None => {
                            t.push(Tag::O);
                            p.push(1.0);
                        }
                    }
                }
                out[i] = (t, p);
            }
        }
        Ok(out)
    }
}

/// Code-point offsets of byte-range spans, for the JSON contract.
pub fn char_ranges(text: &str, spans: &[SkillSpan]) -> Vec<Range<usize>> {
    let map = OffsetMap::new(text);
    spans
        .iter()
        .map(|s| {
            map.bytes_to_chars(s.bytes.clone())
                .expect("spans lie on word boundaries")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, Head, TaggerConfig};
    use crate::style::StyleDetector;
    use candle_core::DType;
    use candle_nn::{VarBuilder, VarMap};

    const TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tiny-model/tokenizer.json");

    /// The linker as it was defined before its keys moved into one string:
    /// a map from each surface form's key to its concept, the first form
    /// (names, then aliases) keeping a key.
    fn reference_links(lexicon: &Lexicon) -> rustc_hash::FxHashMap<String, ConceptId> {
        let (forms, ids): (Vec<&str>, Vec<ConceptId>) = lexicon.surface_forms().unzip();
        let mut map = rustc_hash::FxHashMap::default();
        for (key, id) in phrase_keys(&forms).into_iter().zip(ids) {
            if let Some(key) = key {
                map.entry(key).or_insert(id);
            }
        }
        map
    }

    fn assert_links_as_reference(linker: &Linker, lexicon: &Lexicon) {
        let reference = reference_links(lexicon);
        assert_eq!(linker.entries.len(), reference.len());
        for (key, &id) in &reference {
            let name = lexicon.concepts[id as usize].name.as_str();
            assert_eq!(linker.link_key(key), Some(name), "{key:?}");
            // Keys that are not there: a prefix, a longer one.
            let shorter = &key[..key.len() - 1];
            let expected = reference
                .get(shorter)
                .map(|&i| lexicon.concepts[i as usize].name.as_str());
            assert_eq!(linker.link_key(shorter), expected, "{shorter:?}");
            assert_eq!(linker.link_key(&format!("{key}x ")), None);
        }
    }

    #[test]
    fn the_shipped_lexicon_links_as_a_map_of_every_forms_key() {
        let sources = include_str!("../lexicon/sources.json");
        let concepts = include_str!("../lexicon/concepts.jsonl");
        let lexicon = Lexicon::parse(sources, concepts).unwrap();
        assert_links_as_reference(&Linker::new(&lexicon).unwrap(), &lexicon);
        assert_links_as_reference(&Linker::from_files(sources, concepts).unwrap(), &lexicon);
    }

    #[test]
    fn the_first_form_keeps_its_key_names_before_aliases_whatever_their_characters() {
        let sources = r#"[{"id":"a","title":"","package":"","sha256":"","path":"","licence":"","attribution":""}]"#;
        // "ﬁle system" (a ligature: keyed with the word splitter) is a name,
        // so it keeps its key from the earlier concept's ASCII alias; the
        // escaped name and alias read as "Python" and "C++" (unescaped, not
        // borrowed); "Python" is a name once and an alias once; "Ｐｙｔｈｏｎ"
        // (full width) keys as "python" too.
        let concepts = concat!(
            r#"{"name":"\u0050ython","source":"a","aliases":["file system","C\u002b+"]}"#,
            "\n\n",
            r#"{"name":"ﬁle system","source":"a","aliases":["Python","Ｐｙｔｈｏｎ 3"]}"#,
            "\n",
            r#"{"name":"Ｐｙｔｈｏｎ","source":"a","aliases":["  ","python 3"]}"#,
            "\n",
        );
        let lexicon = Lexicon::parse(sources, concepts).unwrap();
        for linker in [
            Linker::new(&lexicon).unwrap(),
            Linker::from_files(sources, concepts).unwrap(),
        ] {
            assert_links_as_reference(&linker, &lexicon);
            assert_eq!(linker.link("file  System"), Some("ﬁle system"));
            assert_eq!(linker.link("c++"), Some("Python"));
            assert_eq!(linker.link("PYTHON"), Some("Python"));
            assert_eq!(linker.link("python 3"), Some("ﬁle system"));
            assert_eq!(linker.link("java"), None);
        }
    }

    #[test]
    fn the_linker_from_files_refuses_what_the_lexicon_refuses_with_its_words() {
        let sources = r#"[{"id":"a","title":"","package":"","sha256":"","path":"","licence":"","attribution":""}]"#;
        for (sources, concepts) in [
            (sources, "{\"name\":\"x\",\"source\":\"a\"}\n{oops"),
            (sources, "{\"name\":\"x\",\"source\":\"zz\"}"),
            (
                sources,
                "{\"name\":\"x\",\"source\":\"a\",\"aliases\":null}",
            ),
            (sources, "{\"name\":3,\"source\":\"a\"}"),
            (sources, "3"),
            (sources, "[]"),
            (sources, "{\"name\":\"x\",\"source\":\"a\",\"aliases\":[3]}"),
            (sources, "{\"name\":\"x\",\"source\":\"a\",\"name\":\"y\"}"),
            ("{}", ""),
        ] {
            let expected = Lexicon::parse(sources, concepts).unwrap_err().to_string();
            let got = Linker::from_files(sources, concepts)
                .err()
                .expect("refused")
                .to_string();
            assert_eq!(got, expected);
        }
    }

    fn highlighter(styles: bool) -> Highlighter {
        let pieces = WordPieces::from_json(TOKENIZER, 32).unwrap();
        let mut cfg = TaggerConfig::new(Config::tiny(pieces.vocab_size()), Head::Crf);
        if styles {
            // The tiny vocabulary has no `[unused*]` tokens; any token serves.
            cfg.styles = [(Style::Job, "we".into()), (Style::Cv, "use".into())].into();
            cfg.style_detector = Some(StyleDetector::fit(
                [
                    (Style::Cv, "my python"),
                    (Style::Cv, "my docker"),
                    (Style::Job, "you python"),
                    (Style::Job, "you docker"),
                ],
                10,
                2,
            ));
        }
        let varmap = VarMap::new();
        let tagger = Tagger::load(
            VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
            &cfg,
        )
        .unwrap();
        Highlighter::new(tagger, pieces, None, Device::Cpu)
    }

    #[test]
    fn the_o_bias_moves_the_decoding() {
        let mut h = highlighter(false);
        let ws = ["we", "use", "python", "and", "docker"];
        let plain = h.tag_words(&ws, None).unwrap();
        h.o_bias = 1e4;
        assert_eq!(h.tag_words(&ws, None).unwrap(), [Tag::O; 5]);
        h.o_bias = -1e4;
        assert!(h.tag_words(&ws, None).unwrap().iter().all(|&t| t != Tag::O));
        h.o_bias = 0.0;
        assert_eq!(h.tag_words(&ws, None).unwrap(), plain);
    }

    #[test]
    fn a_model_without_markers_reads_every_text_alike() {
        let h = highlighter(false);
        for choice in [StyleChoice::Auto, StyleChoice::Job, StyleChoice::Cv] {
            assert_eq!(h.style_of("my python", choice), None);
        }
        assert_eq!(style_marker(&h.tagger, &h.pieces, Some(Style::Cv)), None);
    }

    #[test]
    fn markers_follow_the_choice_or_the_detector() {
        let h = highlighter(true);
        assert_eq!(h.style_of("you python", StyleChoice::Cv), Some(Style::Cv));
        assert_eq!(h.style_of("my python", StyleChoice::Job), Some(Style::Job));
        assert_eq!(h.style_of("my python", StyleChoice::Auto), Some(Style::Cv));
        assert_eq!(
            h.style_of("you python", StyleChoice::Auto),
            Some(Style::Job)
        );
        assert_eq!(
            style_marker(&h.tagger, &h.pieces, Some(Style::Cv)),
            h.pieces.token_id("use")
        );
        assert_eq!(style_marker(&h.tagger, &h.pieces, None), None);
        // The marker reaches the encoder: after `[CLS]`, and the word
        // probabilities differ between the two styles.
        let text = "python and docker";
        let ws = words(text);
        let read = |style| {
            let engine = h.engine(style);
            let mut windows = Vec::new();
            engine.windows(text, &ws, &mut windows).unwrap();
            let probs = engine.tag_windows(&windows).unwrap().remove(0).1;
            (windows.remove(0).enc.ids, probs)
        };
        let (job_ids, job) = read(Some(Style::Job));
        let (cv_ids, cv) = read(Some(Style::Cv));
        let (plain_ids, _) = read(None);
        assert_eq!(job_ids[1], h.pieces.token_id("we").unwrap());
        assert_eq!(cv_ids[1], h.pieces.token_id("use").unwrap());
        assert_eq!(&cv_ids[2..], &plain_ids[1..]);
        assert_eq!(job.len(), 3);
        assert_ne!(job, cv);
    }
}
