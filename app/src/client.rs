//! The page's side of the worker: starts it, loads the model, sends the
//! editors' texts and turns answers into signals.
//!
//! Flow control ([`Channel`]): each editor has at most one request in
//! flight; text that changes meanwhile waits in a one-slot queue (the
//! latest text wins), so a slow model never builds a backlog and typing
//! never waits. Answers are shown only if newer than what is shown.

use crate::protocol::{
    FromWorker, ModelInfo, Progress, Ranking, RoleMatch, Span, StyleChoice, ToWorker,
};
use leptos::prelude::*;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The most characters of one text that are highlighted (the worker reads
/// no more; see [`rolemapper_web::MAX_CHARS`]).
pub use rolemapper_web::{into_limited, limited, MAX_CHARS};

/// A paste cut to fit: the editor takes at most [`MAX_CHARS`] characters,
/// so a longer paste never reaches the textarea (Chromium needs about 3 s
/// to lay out 10 MB in a textarea, with the page frozen meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasteCut<'a> {
    /// The part of the paste that fits (cut on a character boundary).
    pub keep: &'a str,
    /// The whole paste's length in characters.
    pub pasted_chars: usize,
}

/// Whether pasting `pasted` over `selection` (UTF-16 units, as the
/// textarea reports it) of `text` would take the editor over
/// [`MAX_CHARS`] characters; if so, the part of the paste that fits.
pub fn fit_paste<'a>(
    text: &str,
    selection: std::ops::Range<usize>,
    pasted: &'a str,
) -> Option<PasteCut<'a>> {
    // Characters that stay: those outside the selection.
    let mut unit = 0;
    let mut staying = 0usize;
    for c in text.chars() {
        if !selection.contains(&unit) {
            staying += 1;
        }
        unit += c.len_utf16();
    }
    let room = MAX_CHARS.saturating_sub(staying);
    // A paste with at most `room` characters fits; count no further.
    match pasted.char_indices().nth(room) {
        None => None,
        Some((at, _)) => Some(PasteCut {
            keep: &pasted[..at],
            pasted_chars: pasted.chars().count(),
        }),
    }
}

/// `text` once the textarea replaces `selection` (UTF-16 units, as the
/// textarea reports it) with `data`: what a keystroke's `beforeinput` says
/// the text will be. `None` if the selection does not lie on character
/// boundaries of `text` (then the text is not what the textarea holds).
pub fn after_insert(text: &str, selection: std::ops::Range<usize>, data: &str) -> Option<String> {
    let bytes = skills::offsets::OffsetMap::new(text).utf16_to_bytes(selection)?;
    let mut out = String::with_capacity(text.len() - bytes.len() + data.len());
    out.push_str(&text[..bytes.start]);
    out.push_str(data);
    out.push_str(&text[bytes.end..]);
    Some(out)
}

/// The two texts the app highlights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Editor {
    /// The CV (or any text, in highlight mode).
    Cv,
    /// The job post (match mode).
    Job,
}

impl Editor {
    pub const ALL: [Editor; 2] = [Editor::Cv, Editor::Job];

    pub fn index(self) -> usize {
        self as usize
    }

    /// How the worker reads its text: the job post's editor holds a job
    /// post; the other one a CV or any text, which the worker tells apart.
    pub fn style(self) -> StyleChoice {
        match self {
            Editor::Cv => StyleChoice::Auto,
            Editor::Job => StyleChoice::Job,
        }
    }

    /// The DOM id of its textarea.
    pub fn textarea_id(self) -> &'static str {
        match self {
            Editor::Cv => "editor-cv",
            Editor::Job => "editor-job",
        }
    }
}

/// Where the model is.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelState {
    Starting,
    Loading(Progress),
    Ready(ModelInfo),
    Failed(String),
}

/// Spans and the text they were computed for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tagged {
    pub text: String,
    pub spans: Vec<Span>,
    /// Worker milliseconds, sentences in the text and how many were tagged
    /// afresh (the rest came from the sentence cache).
    pub ms: f64,
    pub sentences: usize,
    pub tagged: usize,
}

/// Roles asked for per text (the panel shows the first few).
pub const ROLES_TOP: usize = 10;

/// Where the role data is.
#[derive(Debug, Clone, PartialEq)]
pub enum RolesData {
    /// Loading after the model (or the model is not ready yet).
    Loading,
    /// Loaded: its sources' credit lines.
    Ready {
        credits: Vec<String>,
    },
    Failed(String),
}

/// The roles of an editor's text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Roles {
    /// The text they were ranked for.
    pub text: String,
    pub ranking: Ranking,
    /// The fit to the occupation asked for (the CV's to the job's role).
    pub fit: Option<RoleMatch>,
    /// Worker milliseconds.
    pub ms: f64,
}

/// One editor's flow control (see the module doc).
#[derive(Debug, Default)]
pub struct Channel {
    in_flight: Option<(u64, String)>,
    queued: Option<String>,
    /// Id of the answer shown (0: none).
    shown: u64,
    /// The text of the last answer.
    answered: Option<String>,
}

impl Channel {
    /// The text changed: the request to send now, if the channel is free.
    /// Text already asked for (in flight, or answered last) is not sent again.
    pub fn submit(&mut self, text: String, next_id: &mut u64) -> Option<(u64, String)> {
        if let Some((_, asked)) = &self.in_flight {
            self.queued = (*asked != text).then_some(text);
            return None;
        }
        if self.answered.as_ref() == Some(&text) {
            return None;
        }
        *next_id += 1;
        self.in_flight = Some((*next_id, text.clone()));
        Some((*next_id, text))
    }

    /// The text of the last answer shown, when no request is in flight
    /// (the worker is idle for this editor).
    pub fn idle_text(&self) -> Option<&str> {
        match self.in_flight {
            None => self.answered.as_deref(),
            Some(_) => None,
        }
    }

    /// Whether `id` is this channel's request in flight.
    pub fn owns(&self, id: u64) -> bool {
        self.in_flight.as_ref().is_some_and(|(i, _)| *i == id)
    }

    /// The answer to request `id` came: the text it was for (if it is to be
    /// shown), and the next request to send.
    pub fn answered(
        &mut self,
        id: u64,
        next_id: &mut u64,
    ) -> (Option<String>, Option<(u64, String)>) {
        let text = match self.in_flight.take() {
            Some((i, text)) if i == id && id > self.shown => {
                self.shown = id;
                self.answered = Some(text.clone());
                Some(text)
            }
            other => {
                self.in_flight = other;
                return (None, None);
            }
        };
        let next = self.queued.take().and_then(|t| self.submit(t, next_id));
        (text, next)
    }
}

/// The reactive face of the worker, shared by the components.
#[derive(Clone, Copy)]
pub struct Client {
    pub model: RwSignal<ModelState>,
    results: [RwSignal<Tagged>; 2],
    /// Last highlighting error, if the worker reported one.
    pub error: RwSignal<Option<String>>,
    pub roles_data: RwSignal<RolesData>,
    roles: [RwSignal<Roles>; 2],
    /// The occupation (ESCO URI) whose fit the CV's roles also report: the
    /// job post's role in match mode.
    fit: RwSignal<Option<String>>,
}

struct Inner {
    worker: web_sys::Worker,
    channels: [Channel; 2],
    /// Each editor's latest roles request and its text (only its answer
    /// is shown).
    roles_asked: [Option<(u64, String)>; 2],
    next_id: u64,
    base: String,
}

thread_local! {
    static INNER: RefCell<Option<Inner>> = const { RefCell::new(None) };
}

impl Client {
    /// A client without a worker: nothing is highlighted unless answers
    /// are set on [`Client::result`] (component tests do that).
    pub fn detached() -> Self {
        Client {
            model: RwSignal::new(ModelState::Starting),
            results: [
                RwSignal::new(Tagged::default()),
                RwSignal::new(Tagged::default()),
            ],
            error: RwSignal::new(None),
            roles_data: RwSignal::new(RolesData::Loading),
            roles: [
                RwSignal::new(Roles::default()),
                RwSignal::new(Roles::default()),
            ],
            fit: RwSignal::new(None),
        }
    }

    /// Adopts the worker that `boot.js` started and asked for the model (or
    /// starts one, the package's `pkg/worker.js`, and asks it).
    pub fn start() -> Self {
        let client = Self::detached();
        let base = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.base_uri().ok().flatten())
            .map(|b| crate::service::base_of(&b).to_owned())
            .unwrap_or_default();
        let (worker, early, early_failed, asked) = match early_worker() {
            Some((w, messages, failed)) => (w, messages, failed, true),
            None => match new_worker() {
                Ok(w) => (w, Vec::new(), false, false),
                Err(e) => {
                    client.model.set(ModelState::Failed(format!(
                        "this browser cannot start the highlighter's worker ({e:?})"
                    )));
                    return client;
                }
            },
        };
        let onmessage =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                if let Some(msg) = ev
                    .data()
                    .as_string()
                    .and_then(|s| FromWorker::from_json(&s).ok())
                {
                    client.receive(msg);
                }
            });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        onmessage.forget();
        let failed = move || {
            client.model.set(ModelState::Failed(
                "the highlighter's worker failed to start (its files did not load); reload the page".into(),
            ));
        };
        let onerror = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| failed());
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        onerror.forget();
        INNER.with_borrow_mut(|inner| {
            *inner = Some(Inner {
                worker,
                channels: Default::default(),
                roles_asked: Default::default(),
                next_id: 0,
                base: base.clone(),
            })
        });
        if !asked {
            send(ToWorker::Load { base, model: None });
        }
        // What the worker said before the app listened, in order.
        for msg in early.iter().filter_map(|s| FromWorker::from_json(s).ok()) {
            client.receive(msg);
        }
        if early_failed {
            failed();
        }
        client
    }

    /// The latest answer for `editor`.
    pub fn result(&self, editor: Editor) -> RwSignal<Tagged> {
        self.results[editor.index()]
    }

    /// The latest roles of `editor`'s text.
    pub fn roles(&self, editor: Editor) -> RwSignal<Roles> {
        self.roles[editor.index()]
    }

    /// Sets the occupation whose fit the CV's roles report (`None`: none)
    /// and asks for the CV's roles again if it changed.
    pub fn set_fit(&self, uri: Option<String>) {
        if self.fit.get_untracked() != uri {
            self.fit.set(uri);
            self.ask_roles(Editor::Cv);
        }
    }

    /// Asks for the roles of `editor`'s text when the role data is loaded
    /// and the worker has answered its latest text (roles never hold up a
    /// keystroke's highlights: while the user types, they are asked for
    /// when the typing pauses).
    fn ask_roles(&self, editor: Editor) {
        if !matches!(self.roles_data.get_untracked(), RolesData::Ready { .. }) {
            return;
        }
        let fit = match editor {
            Editor::Cv => self.fit.get_untracked(),
            Editor::Job => None,
        };
        let req = INNER.with_borrow_mut(|inner| {
            let inner = inner.as_mut()?;
            let text = inner.channels[editor.index()].idle_text()?.to_owned();
            inner.next_id += 1;
            inner.roles_asked[editor.index()] = Some((inner.next_id, text.clone()));
            Some((inner.next_id, text))
        });
        if let Some((id, text)) = req {
            send(ToWorker::Roles {
                id,
                text,
                style: editor.style(),
                top: ROLES_TOP,
                fit,
            });
        }
    }

    /// Asks again for the model (the Retry button). A worker whose wasm
    /// failed to start answers it with the reason again (`pkg/worker.js`).
    pub fn retry(&self) {
        self.model.set(ModelState::Starting);
        let base = INNER.with_borrow(|i| i.as_ref().map(|i| i.base.clone()));
        if let Some(base) = base {
            send(ToWorker::Load { base, model: None });
        }
    }

    /// The text of `editor` changed (already debounced by the editor).
    /// Only its first [`MAX_CHARS`] characters are sent.
    pub fn submit(&self, editor: Editor, text: String) {
        let text = into_limited(text);
        let req = INNER.with_borrow_mut(|inner| {
            let inner = inner.as_mut()?;
            inner.channels[editor.index()].submit(text, &mut inner.next_id)
        });
        if let Some((id, text)) = req {
            sent(editor, &text);
            send(ToWorker::Highlight {
                id,
                text,
                style: editor.style(),
            });
        }
    }

    fn receive(&self, msg: FromWorker) {
        match msg {
            // The worker script keeps what is posted before its wasm runs
            // (`pkg/worker.js`), so nothing waits for this.
            FromWorker::Started => {}
            FromWorker::Progress(p) => self.model.set(ModelState::Loading(p)),
            FromWorker::Ready(info) => {
                crate::dom::mark("rm-model-ready");
                // The worker's load steps, for the benchmarks (scripts/e2e-bench.sh).
                if let Some(root) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.document_element())
                {
                    let steps = serde_json::to_string(&info.steps).unwrap_or_default();
                    let _ = root.set_attribute("data-rm-load-steps", &steps);
                    let _ = root.set_attribute("data-rm-kernel", &info.kernel);
                }
                self.model.set(ModelState::Ready(info))
            }
            FromWorker::Failed { message } => self.model.set(ModelState::Failed(message)),
            FromWorker::Spans {
                id,
                spans,
                ms,
                tagged,
                sentences,
            } => {
                if let Some((editor, text)) = self.answered(id) {
                    // When the answer arrived (`rm-received:…`) and when these
                    // highlights are on screen (the frame after they are
                    // rendered): `rm-applied:<editor>:<UTF-16 length>`.
                    let key = format!("{}:{}", editor.textarea_id(), text.encode_utf16().count());
                    crate::dom::mark(&format!("rm-received:{key}"));
                    let name = format!("rm-applied:{key}");
                    request_animation_frame(move || crate::dom::mark(&name));
                    self.results[editor.index()].set(Tagged {
                        text,
                        spans,
                        ms,
                        sentences,
                        tagged,
                    });
                    self.error.set(None);
                    // The roles after the frame that shows these highlights:
                    // asked for now, their answer (and the role list's
                    // re-render) often came back before that frame and
                    // delayed it.
                    let client = *self;
                    request_animation_frame(move || {
                        set_timeout(move || client.ask_roles(editor), std::time::Duration::ZERO)
                    });
                }
            }
            FromWorker::RolesReady { credits, ms, .. } => {
                crate::dom::mark(&format!("rm-roles-ready:{ms:.0}"));
                self.roles_data.set(RolesData::Ready { credits });
                for editor in Editor::ALL {
                    self.ask_roles(editor);
                }
            }
            FromWorker::RolesFailed { message } => self.roles_data.set(RolesData::Failed(message)),
            FromWorker::Roles {
                id,
                ranking,
                fit,
                ms,
            } => {
                let asked = INNER.with_borrow(|inner| {
                    Editor::ALL.into_iter().find_map(|e| {
                        let (asked, text) = inner.as_ref()?.roles_asked[e.index()].as_ref()?;
                        (*asked == id).then(|| (e, text.clone()))
                    })
                });
                if let Some((editor, text)) = asked {
                    self.roles[editor.index()].set(Roles {
                        text,
                        ranking,
                        fit,
                        ms,
                    });
                }
            }
            FromWorker::HighlightFailed { id, message } => {
                self.answered(id);
                self.error.set(Some(message));
            }
        }
    }

    /// Books the answer to `id`; sends the editor's queued text, if any.
    fn answered(&self, id: u64) -> Option<(Editor, String)> {
        let (editor, shown, next) = INNER.with_borrow_mut(|inner| {
            let inner = inner.as_mut()?;
            let editor = Editor::ALL
                .into_iter()
                .find(|e| inner.channels[e.index()].owns(id))?;
            let (text, next) = inner.channels[editor.index()].answered(id, &mut inner.next_id);
            Some((editor, text, next))
        })?;
        if let Some((id, text)) = next {
            sent(editor, &text);
            send(ToWorker::Highlight {
                id,
                text,
                style: editor.style(),
            });
        }
        shown.map(|t| (editor, t))
    }
}

/// Marks when a text goes to the worker: `rm-send:<editor>:<UTF-16 length>`.
fn sent(editor: Editor, text: &str) {
    crate::dom::mark(&format!(
        "rm-send:{}:{}",
        editor.textarea_id(),
        text.encode_utf16().count()
    ));
}

fn send(msg: ToWorker) {
    INNER.with_borrow(|inner| {
        if let Some(inner) = inner.as_ref() {
            let _ = inner.worker.post_message(&msg.to_json().into());
        }
    });
}

/// The package's worker (`pkg/worker.js`, a module worker), for when
/// `boot.js` could not start it.
fn new_worker() -> Result<web_sys::Worker, JsValue> {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    web_sys::Worker::new_with_options("./pkg/worker.js", &options)
}

/// The worker `boot.js` started before the app's wasm loaded, with the
/// messages it has sent since and whether it failed to start; taken once.
fn early_worker() -> Option<(web_sys::Worker, Vec<String>, bool)> {
    let window = web_sys::window()?;
    let key = wasm_bindgen::JsValue::from_str("__rolemapperWorker");
    let early = js_sys::Reflect::get(&window, &key).ok()?;
    if !early.is_object() {
        return None;
    }
    let _ = js_sys::Reflect::delete_property(window.as_ref(), &key);
    let get =
        |name: &str| js_sys::Reflect::get(&early, &wasm_bindgen::JsValue::from_str(name)).ok();
    let worker: web_sys::Worker = get("worker")?.dyn_into().ok()?;
    let messages = get("messages")
        .and_then(|m| m.dyn_into::<js_sys::Array>().ok())
        .map(|a| a.iter().filter_map(|v| v.as_string()).collect())
        .unwrap_or_default();
    let failed = get("failed").is_some_and(|f| f.is_truthy());
    Some((worker, messages, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_request_in_flight_and_the_latest_text_wins() {
        let mut c = Channel::default();
        let mut id = 0;
        assert_eq!(c.submit("a".into(), &mut id), Some((1, "a".into())));
        assert_eq!(c.submit("ab".into(), &mut id), None);
        assert_eq!(c.submit("abc".into(), &mut id), None);
        // An answer to someone else's request changes nothing.
        assert_eq!(c.answered(7, &mut id), (None, None));
        let (shown, next) = c.answered(1, &mut id);
        assert_eq!(shown.as_deref(), Some("a"));
        assert_eq!(next, Some((2, "abc".into())));
        assert_eq!(c.answered(2, &mut id), (Some("abc".into()), None));
        assert_eq!(c.submit("abc".into(), &mut id), None, "already answered");
        assert_eq!(c.submit("x".into(), &mut id), Some((3, "x".into())));
        assert_eq!(c.submit("x".into(), &mut id), None, "already in flight");
    }

    #[test]
    fn long_texts_are_cut_at_the_limit_on_a_character_boundary() {
        assert_eq!(limited("short"), "short");
        let long = "é".repeat(MAX_CHARS + 10);
        assert_eq!(limited(&long).chars().count(), MAX_CHARS);
        let exact = "a".repeat(MAX_CHARS);
        assert_eq!(limited(&exact).len(), MAX_CHARS);
        assert_eq!(into_limited(long.clone()), limited(&long));
        assert_eq!(into_limited(exact.clone()), exact);
    }

    #[test]
    fn an_insertion_replaces_the_selection_in_utf16_units() {
        assert_eq!(after_insert("abc", 1..1, "x").as_deref(), Some("axbc"));
        assert_eq!(after_insert("abc", 0..0, "x").as_deref(), Some("xabc"));
        assert_eq!(after_insert("abc", 3..3, "x").as_deref(), Some("abcx"));
        assert_eq!(after_insert("", 0..0, "\n").as_deref(), Some("\n"));
        assert_eq!(after_insert("abc", 0..3, "é").as_deref(), Some("é"));
        assert_eq!(after_insert("abc", 1..2, "").as_deref(), Some("ac"));
        // "🦀" is two UTF-16 units, "é" one (two bytes).
        assert_eq!(after_insert("🦀é", 2..2, "a").as_deref(), Some("🦀aé"));
        assert_eq!(after_insert("🦀é", 3..3, "a").as_deref(), Some("🦀éa"));
        assert_eq!(after_insert("🦀é", 0..2, "x").as_deref(), Some("xé"));
        // Inside a surrogate pair, past the end, or reversed: not this text.
        assert_eq!(after_insert("🦀é", 1..1, "a"), None);
        assert_eq!(after_insert("abc", 4..4, "a"), None);
        assert_eq!(after_insert("abc", 2..1, "a"), None);
    }

    #[test]
    fn a_paste_is_cut_to_what_fits() {
        // Fits: nothing to do.
        assert_eq!(fit_paste("abc", 3..3, "def"), None);
        assert_eq!(fit_paste("", 0..0, &"x".repeat(MAX_CHARS)), None);
        // One character too many.
        let big = "é".repeat(MAX_CHARS + 1);
        let cut = fit_paste("", 0..0, &big).unwrap();
        assert_eq!(cut.keep.chars().count(), MAX_CHARS);
        assert_eq!(cut.pasted_chars, MAX_CHARS + 1);
        // The text already there takes room, except what the paste replaces
        // (the selection counts UTF-16 units: "🦀" is two).
        let text = format!("🦀{}", "a".repeat(9));
        let cut = fit_paste(&text, 0..0, &big).unwrap();
        assert_eq!(cut.keep.chars().count(), MAX_CHARS - 10);
        let cut = fit_paste(&text, 0..2, &big).unwrap();
        assert_eq!(cut.keep.chars().count(), MAX_CHARS - 9);
        let cut = fit_paste(&text, 0..11, &big).unwrap();
        assert_eq!(cut.keep.chars().count(), MAX_CHARS);
        // A full editor takes nothing.
        let full = "a".repeat(MAX_CHARS);
        let cut = fit_paste(&full, 5..5, "b").unwrap();
        assert_eq!(cut.keep, "");
        assert_eq!(cut.pasted_chars, 1);
        // Astral characters are never split.
        let emoji = "🦀".repeat(MAX_CHARS + 5);
        let cut = fit_paste("", 0..0, &emoji).unwrap();
        assert_eq!(cut.keep.chars().count(), MAX_CHARS);
        assert!(cut.keep.chars().all(|c| c == '🦀'));
    }
}
