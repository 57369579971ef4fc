//! The messages between the page and the worker that owns the model.
//!
//! Both directions are JSON strings (`postMessage` of a string), so the two
//! sides share nothing but these types (the package's `js/rolemapper.js`
//! speaks them from JavaScript). The worker says [`FromWorker::Started`]
//! when its wasm runs; messages posted before are kept by `js/worker.js`
//! and handed over then, so a page may send [`ToWorker::Load`] at once.
//!
//! Every highlight request carries an id that its answer repeats; the page
//! keeps at most one request per editor in flight and drops an answer whose
//! id is older than one it has already shown (see [`crate::client`]).

use serde::{Deserialize, Serialize};
pub use skills::roles::{Field, Ranking, RoleMatch};
pub use skills::style::StyleChoice;

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// Fetch (or take from the cache), verify and load the model: the
    /// bundle at `model` (an absolute URL: the package's `model` option),
    /// else `model/` under `base`, the absolute URL of the app's folder
    /// (`document.baseURI`: the site works under any sub-path). The first
    /// message a page sends; again for a retry.
    Load {
        base: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    },
    /// Highlight `text`, read as `style` says (a CV, a job post, or `auto`:
    /// the worker tells; models without style markers ignore it).
    Highlight {
        id: u64,
        text: String,
        #[serde(default)]
        style: StyleChoice,
    },
    /// The roles `text` fits, from the skills of its last highlight (no
    /// model run when it was highlighted just before): the first `top`, and
    /// with `fit` (an ESCO occupation URI) that occupation's fit too.
    /// Answered once the role data has loaded ([`FromWorker::RolesReady`]).
    Roles {
        id: u64,
        text: String,
        #[serde(default)]
        style: StyleChoice,
        top: usize,
        #[serde(default)]
        fit: Option<String>,
    },
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's wasm runs and listens.
    Started,
    /// Loading progress.
    Progress(Progress),
    /// The model is loaded; highlight requests are answered from now on.
    Ready(ModelInfo),
    /// Loading failed; `message` says why and what to do. The page offers
    /// Retry, which sends [`ToWorker::Load`] again.
    Failed { message: String },
    /// The skills of the text of request `id`.
    Spans {
        id: u64,
        spans: Vec<Span>,
        /// Worker time for this request, in milliseconds.
        ms: f64,
        /// Sentences tagged by the model (the others came from the cache).
        tagged: usize,
        sentences: usize,
    },
    /// Request `id` could not be highlighted.
    HighlightFailed { id: u64, message: String },
    /// The role data has loaded (after the model); `credits` are its
    /// sources' attribution lines, which the page shows.
    RolesReady {
        occupations: usize,
        credits: Vec<String>,
        /// Milliseconds to fetch (or read from the cache), check and index it.
        ms: f64,
    },
    /// The role data could not be loaded: highlighting goes on without roles.
    RolesFailed { message: String },
    /// The answer to [`ToWorker::Roles`] `id`.
    Roles {
        id: u64,
        ranking: Ranking,
        fit: Option<RoleMatch>,
        /// Worker milliseconds.
        ms: f64,
    },
}

/// Where loading is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum Progress {
    /// Asking the site which model is current.
    Manifest,
    /// Downloading the bundle: `loaded` of `total` bytes.
    Download { loaded: u64, total: u64 },
    /// Checking and loading the weights.
    Loading { from_cache: bool },
}

/// A loaded model, as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
    /// Whether the bundle came from the browser's cache (no download).
    pub from_cache: bool,
    /// Milliseconds from the load request to a usable model.
    pub load_ms: f64,
    /// Where those milliseconds went: each loading step and its duration.
    #[serde(default)]
    pub steps: Vec<(String, f64)>,
    /// The int8 kernel the worker computes with (`skills::int8::kernel_name`).
    #[serde(default)]
    pub kernel: String,
}

/// One highlighted skill, in the units the page needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// UTF-16 code unit offsets (JavaScript string indices), half-open.
    pub start: usize,
    pub end: usize,
    /// Canonical skill name, when the lexicon links the phrase.
    pub skill: Option<String>,
    /// Model confidence in `0..=1`.
    pub score: f32,
}

impl ToWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialize")
    }

    pub fn from_json(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s)
    }
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("messages serialize")
    }

    pub fn from_json(s: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_json() {
        let to = [
            ToWorker::Load {
                base: "https://example.org/demo/".into(),
                model: None,
            },
            ToWorker::Load {
                base: "https://example.org/".into(),
                model: Some("https://example.org/m/rolemapper.gguf".into()),
            },
            ToWorker::Highlight {
                id: 7,
                text: "Rust, <b>SQL</b> 😀".into(),
                style: StyleChoice::Cv,
            },
        ];
        for m in to {
            assert_eq!(ToWorker::from_json(&m.to_json()).unwrap(), m);
        }
        let from = [
            FromWorker::Started,
            FromWorker::Progress(Progress::Download {
                loaded: 10,
                total: 20,
            }),
            FromWorker::Spans {
                id: 3,
                spans: vec![Span {
                    start: 0,
                    end: 4,
                    skill: Some("Rust".into()),
                    score: 0.5,
                }],
                ms: 1.5,
                tagged: 1,
                sentences: 2,
            },
            FromWorker::Roles {
                id: 4,
                ranking: Ranking {
                    field: Some(Field {
                        sector: "ict workers".into(),
                        sub_sector: "software".into(),
                        score: 0.75,
                    }),
                    fields: Vec::new(),
                    roles: vec![RoleMatch {
                        uri: "http://data.europa.eu/esco/occupation/x".into(),
                        title: "data analyst".into(),
                        isco: "2511".into(),
                        score: 0.25,
                        matched: vec!["SQL".into()],
                        missing: vec!["statistics".into()],
                        occupation: 0,
                    }],
                },
                fit: None,
                ms: 0.5,
            },
            FromWorker::RolesReady {
                occupations: 3,
                credits: vec!["ESCO".into()],
                ms: 12.0,
            },
        ];
        for m in from {
            assert_eq!(FromWorker::from_json(&m.to_json()).unwrap(), m);
        }
        assert_eq!(
            ToWorker::Highlight {
                id: 1,
                text: "x".into(),
                style: StyleChoice::Job,
            }
            .to_json(),
            r#"{"type":"highlight","id":1,"text":"x","style":"job"}"#
        );
        // Pages built before style markers send no style: read as auto.
        assert_eq!(
            ToWorker::from_json(r#"{"type":"highlight","id":1,"text":"x"}"#).unwrap(),
            ToWorker::Highlight {
                id: 1,
                text: "x".into(),
                style: StyleChoice::Auto,
            }
        );
    }
}
