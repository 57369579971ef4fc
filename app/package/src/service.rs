//! The worker: answers [`ToWorker`] messages with [`FromWorker`] ones.
//!
//! [`Service`] is the message logic without the browser (tested in
//! `tests/worker.rs`); [`run`] wires it to the worker's `onmessage` and to
//! the [`loader`](crate::loader).

use crate::engine::Engine;
use crate::loader::ModelAt;
use crate::protocol::{FromWorker, ModelInfo, StyleChoice, ToWorker};
use skills::roles::RoleModel;
use std::cell::RefCell;
use std::rc::Rc;

/// Steps of the warm-up that follows the model's load ([`Service::warm_up_step`]).
pub const WARM_UP_STEPS: usize = 40;

/// What the warm-up types, a character a step, into an example job post.
const WARM_UP_TYPED: &str =
    " and draft shareholder agreements, leases and employment policies for teams";

/// The worker's state.
#[derive(Default)]
pub struct Service {
    engine: Option<Engine>,
    /// Requests that came before the model; answered when it is ready.
    waiting: Vec<(u64, String, StyleChoice)>,
    loading: bool,
    /// Sentences the warm-up put in the cache, dropped at its end.
    warm_up_sentences: Vec<String>,
    /// The role table, once loaded (after the model).
    roles: Option<RoleModel>,
}

impl Service {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_ready(&self) -> bool {
        self.engine.is_some()
    }

    /// Answers a highlight request now, or keeps it until the model is
    /// loaded (`None`).
    pub fn highlight(&mut self, id: u64, text: String, style: StyleChoice) -> Option<FromWorker> {
        // The page sends at most this much; a longer text is cut here too.
        let text = crate::into_limited(text);
        let Some(engine) = self.engine.as_mut() else {
            self.waiting.push((id, text, style));
            return None;
        };
        let start = now_ms();
        Some(match engine.highlight(&text, style) {
            Ok(h) => FromWorker::Spans {
                id,
                spans: h.spans,
                ms: now_ms() - start,
                tagged: h.tagged,
                sentences: h.sentences,
            },
            Err(e) => FromWorker::HighlightFailed {
                id,
                message: e.to_string(),
            },
        })
    }

    /// Answers a roles request; `None` until the model and the role data
    /// are loaded (the page asks again on [`FromWorker::RolesReady`]).
    pub fn roles(
        &mut self,
        id: u64,
        text: String,
        style: StyleChoice,
        top: usize,
        fit: Option<String>,
    ) -> Option<FromWorker> {
        let text = crate::into_limited(text);
        let (engine, model) = (self.engine.as_mut()?, self.roles.as_ref()?);
        let start = now_ms();
        Some(
            match engine.roles(&text, style, model, top.min(50), fit.as_deref()) {
                Ok((ranking, fit)) => FromWorker::Roles {
                    id,
                    ranking,
                    fit,
                    ms: now_ms() - start,
                },
                Err(e) => FromWorker::HighlightFailed {
                    id,
                    message: e.to_string(),
                },
            },
        )
    }

    /// Reads and indexes the role table (`RoleModel::from_gzip`):
    /// the message for the page.
    pub fn load_roles(&mut self, gz: &[u8], started: f64) -> FromWorker {
        match RoleModel::from_gzip(gz) {
            Ok(model) => {
                let table = model.table();
                let occupations = table.occupations.len();
                let credits = table.sources.iter().map(|s| s.credit.clone()).collect();
                self.roles = Some(model);
                FromWorker::RolesReady {
                    occupations,
                    credits,
                    ms: now_ms() - started,
                }
            }
            Err(e) => FromWorker::RolesFailed {
                message: format!("the role data cannot be read ({e})"),
            },
        }
    }

    pub fn has_roles(&self) -> bool {
        self.roles.is_some()
    }

    /// Installs the model; returns the answers to the requests that waited.
    pub fn ready(&mut self, engine: Engine) -> Vec<FromWorker> {
        self.engine = Some(engine);
        self.loading = false;
        std::mem::take(&mut self.waiting)
            .into_iter()
            .filter_map(|(id, text, style)| self.highlight(id, text, style))
            .collect()
    }

    /// One step of the warm-up, run after the model's load while the worker
    /// is otherwise idle: the path of a keystroke (a request read from
    /// JSON, one sentence of a longer text tagged among cached ones, the
    /// answer written as JSON, not posted) on an example job post being
    /// typed into, a character a step. The browser compiles a wasm
    /// function's optimised code only once it has run for a while, on a
    /// background thread: without this, that happens during the first
    /// keystrokes after a paste, on the same cores as their re-tags
    /// (measured: ≈ 0.5 s of optimising compiles over the first ten
    /// keystrokes). The warm-up's sentences leave the cache at its last
    /// step. `false` when there is nothing (more) to do.
    pub fn warm_up_step(&mut self, step: usize) -> bool {
        let Some(engine) = self.engine.as_ref() else {
            return false;
        };
        if step >= WARM_UP_STEPS {
            return false;
        }
        // A page-long text (the example six times: its sentences are
        // tagged once), typed into after "negotiate commercial contracts"
        // in its middle copy: the loops over the whole text run as they do
        // for a long CV, and one sentence is tagged.
        let example = crate::examples::EXAMPLES
            .iter()
            .find(|e| e.label == "Legal job")
            .map_or("", |e| e.text);
        let base = example.repeat(6);
        let at = 3 * example.len() + example.find(", NDAs").unwrap_or(example.len() / 2);
        let typed: String = WARM_UP_TYPED.chars().cycle().take(step + 1).collect();
        let text = format!("{}{typed}{}", &base[..at], &base[at..]);
        let style = StyleChoice::Job;
        let fresh = engine.uncached(&text, style);
        self.warm_up_sentences.extend(fresh);
        let msg = ToWorker::Highlight { id: 0, text, style }.to_json();
        if let Ok(ToWorker::Highlight { id, text, style }) = ToWorker::from_json(&msg) {
            if let Some(answer) = self.highlight(id, text, style) {
                std::hint::black_box(answer.to_json());
            }
        }
        if step + 1 == WARM_UP_STEPS {
            let done = std::mem::take(&mut self.warm_up_sentences);
            if let Some(engine) = self.engine.as_mut() {
                engine.forget(&done);
            }
        }
        true
    }

    /// Sentences in the engine's cache (none without a model).
    pub fn cached_sentences(&self) -> usize {
        self.engine.as_ref().map_or(0, Engine::cached_sentences)
    }

    /// Whether a load should start (none running, no model yet).
    pub fn begin_load(&mut self) -> bool {
        let start = !self.loading && self.engine.is_none();
        self.loading |= start;
        start
    }

    pub fn load_failed(&mut self) {
        self.loading = false;
    }
}

/// Milliseconds from an arbitrary origin (for durations).
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

fn post(msg: &FromWorker) {
    use wasm_bindgen::JsCast;
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // Posting a string cannot fail.
    let _ = scope.post_message(&msg.to_json().into());
}

/// Starts the worker: listens for messages and says it has started.
pub fn run() {
    use wasm_bindgen::prelude::*;
    let service = Rc::new(RefCell::new(Service::new()));
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // From the worker's creation to its wasm running (its scripts and wasm
    // fetched, compiled and instantiated): the first load's first step.
    let mut boot = scope.performance().map(|p| p.now());
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let Some(data) = ev.data().as_string() else {
                return;
            };
            let msg = match ToWorker::from_json(&data) {
                Ok(msg) => msg,
                Err(e) => {
                    // A request the worker cannot read (a lone surrogate, a
                    // bad field) is answered, so that no caller waits for ever.
                    if let Some(id) = request_id(&data) {
                        post(&FromWorker::HighlightFailed {
                            id,
                            message: format!("the request could not be read ({e})"),
                        });
                    }
                    return;
                }
            };
            match msg {
                ToWorker::Highlight { id, text, style } => {
                    let answer = service.borrow_mut().highlight(id, text, style);
                    if let Some(a) = answer {
                        post(&a);
                    }
                }
                ToWorker::Roles {
                    id,
                    text,
                    style,
                    top,
                    fit,
                } => {
                    let answer = service.borrow_mut().roles(id, text, style, top, fit);
                    if let Some(a) = answer {
                        post(&a);
                    }
                }
                ToWorker::Load { base, model } => {
                    let at = match model {
                        Some(url) => ModelAt::bundle(&url),
                        None => ModelAt::site(&base),
                    };
                    if service.borrow_mut().begin_load() {
                        let boot = boot.take();
                        wasm_bindgen_futures::spawn_local(load(service.clone(), at, boot));
                    }
                }
            }
        });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&FromWorker::Started);
}

/// The `id` of a request that does not parse as a [`ToWorker`].
fn request_id(json: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: u64,
    }
    serde_json::from_str::<Id>(json).ok().map(|r| r.id)
}

/// The directory part of a URL: up to and including the last `/` before any
/// query or fragment.
pub fn base_of(url: &str) -> &str {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    &url[..url.rfind('/').map_or(url.len(), |i| i + 1)]
}

/// Resolves in a later task (`setTimeout` 0), after the messages that are
/// already waiting.
async fn yield_to_messages() {
    use wasm_bindgen::JsCast;
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let _ = scope.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Loads the model; `boot` is [`run`]'s time since the worker's creation.
async fn load(service: Rc<RefCell<Service>>, at: ModelAt, boot: Option<f64>) {
    let start = now_ms();
    let progress = |p| post(&FromWorker::Progress(p));
    // A cached bundle is not hashed again (see `loader`): if it is damaged,
    // `Bundle::read`'s own checksum fails, the cache is emptied and the
    // bundle is downloaded once more.
    for attempt in 0..2 {
        let mut steps: Vec<(String, f64)> = boot
            .map(|ms| ("worker_boot".into(), ms))
            .into_iter()
            .collect();
        let mut loaded = match crate::loader::load(&at, &progress, &mut steps).await {
            Ok(l) => l,
            Err(message) => {
                service.borrow_mut().load_failed();
                post(&FromWorker::Failed { message });
                return;
            }
        };
        // Where the build has more than one way to the same int8 sums, the
        // fastest on this machine (15–30 ms), before the engine
        // packs its matrices for it. (`performance.now`: `Date.now` counts
        // whole milliseconds.)
        let kernel = {
            use wasm_bindgen::JsCast;
            let perf = js_sys::global()
                .unchecked_into::<web_sys::WorkerGlobalScope>()
                .performance();
            let clock = move || perf.as_ref().map_or_else(now_ms, |p| p.now());
            let t = now_ms();
            let kernel = skills::int8::choose_kernel(&clock);
            steps.push(("int8_kernel_choice".into(), now_ms() - t));
            kernel
        };
        // The checksum in WebCrypto (Chromium hashes at the call, on this
        // thread; a browser may also hash while the engine is built from the
        // unverified bytes); nothing is answered before it matches. Without
        // WebCrypto, `Bundle::highlighter_steps` checks it here.
        let t = now_ms();
        let digest = crate::loader::start_digest(&mut loaded.bytes);
        steps.push(("bundle_checksum_start".into(), now_ms() - t));
        let built = match digest {
            None => Engine::from_bundle_timed(&loaded.bytes, &mut steps),
            Some(digest) => {
                async {
                    let (engine, name, recorded) =
                        Engine::from_bundle_unverified_timed(&loaded.bytes, &mut steps)?;
                    let t = now_ms();
                    let computed = match crate::loader::finish_digest(digest).await {
                        Some(d) => d,
                        None => skills::bundle::checksum_of(&loaded.bytes)?,
                    };
                    steps.push(("bundle_checksum_wait".into(), now_ms() - t));
                    skills::bundle::verify_digest(&recorded, &computed)?;
                    Ok((engine, name))
                }
                .await
            }
        };
        match built {
            Ok((engine, name)) => {
                // The load's own time: `worker_boot` came before it.
                let load_ms = now_ms() - start;
                steps.push(("total".into(), load_ms));
                post(&FromWorker::Ready(ModelInfo {
                    name,
                    bytes: loaded.bytes.len() as u64,
                    sha256: loaded.manifest.sha256.clone(),
                    from_cache: loaded.from_cache,
                    load_ms,
                    steps,
                    kernel: kernel.into(),
                }));
                drop(loaded);
                let answers = service.borrow_mut().ready(engine);
                for a in answers {
                    post(&a);
                }
                // A step a task: the page's requests are answered between them.
                for step in 0.. {
                    yield_to_messages().await;
                    if !service.borrow_mut().warm_up_step(step) {
                        break;
                    }
                }
                // Then the role data: the first highlight never waits for it.
                if !service.borrow().has_roles() {
                    let started = now_ms();
                    let msg = match crate::loader::load_roles(&at.dir).await {
                        Ok(gz) => service.borrow_mut().load_roles(&gz, started),
                        Err(message) => FromWorker::RolesFailed { message },
                    };
                    post(&msg);
                }
                return;
            }
            Err(e) => {
                // A bundle that passed its checks but does not load is not
                // worth keeping: the next try downloads it again.
                crate::loader::forget_cached_model(&at.dir).await;
                if loaded.from_cache && attempt == 0 {
                    continue;
                }
                service.borrow_mut().load_failed();
                post(&FromWorker::Failed {
                    message: e.to_string(),
                });
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{base_of, request_id};

    #[test]
    fn unreadable_requests_still_name_their_id() {
        // JSON.stringify writes a lone surrogate as an escape, which serde
        // refuses in a String: the request is answered as failed.
        let lone = r#"{"type":"highlight","id":5,"text":"a\ud83d b"}"#;
        assert!(crate::protocol::ToWorker::from_json(lone).is_err());
        assert_eq!(request_id(lone), Some(5));
        let bad_top = r#"{"type":"roles","id":6,"text":"x","top":2.5}"#;
        assert!(crate::protocol::ToWorker::from_json(bad_top).is_err());
        assert_eq!(request_id(bad_top), Some(6));
        assert_eq!(request_id("not json"), None);
    }

    #[test]
    fn the_base_is_the_directory_of_the_url() {
        assert_eq!(base_of("http://h/a/worker.js"), "http://h/a/");
        assert_eq!(base_of("http://h/a/?embed&text=x/y"), "http://h/a/");
        assert_eq!(base_of("http://h/a/index.html#x/y"), "http://h/a/");
        assert_eq!(base_of("http://h/"), "http://h/");
    }
}
