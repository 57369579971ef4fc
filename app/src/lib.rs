//! RoleMapper's web app: paste a CV or a job post and every skill lights
//! up as you type, linked to its canonical name; compare a CV with a job
//! post. The model runs in a Web Worker; nothing the user types leaves the
//! page.
//!
//! Where a feature lives:
//! - this file: the Leptos components (page, editors, panels).
//! - [`client`]: the page's side of the worker (requests, flow control).
//! - [`service`], [`engine`], [`loader`]: the worker (messages, the model
//!   with its sentence cache, download and Cache API).
//! - [`protocol`]: the messages between the two.
//! - [`marks`]: spans on a changing text, cut into marked pieces.
//! - [`skillset`]: distinct skills, the CV ↔ job match, exports.
//! - [`examples`]: the example texts; [`dom`]: browser chores.

pub mod client;
// The model's worker and its messages: the npm package's crate (app/package).
pub use rolemapper_web::{engine, examples, loader, protocol, service};
pub mod dom;
pub mod files;
pub mod marks;
pub mod skillset;

pub use client::{fit_paste, limited, PasteCut, MAX_CHARS};
use client::{Client, Editor, ModelState, RolesData};
use examples::{Kind, EXAMPLES};
use leptos::prelude::*;
use protocol::{Progress, Span};
use skillset::{Match, Skill};
use std::time::Duration;

/// Milliseconds of quiet typing before the text is sent to the worker: none.
/// The client's flow control is the adaptive debounce: a keystroke is sent
/// at once when the worker is idle, and while it works the latest text waits
/// in a one-slot queue. Measured on a 600-word CV (scripts/e2e-bench.sh),
/// keystroke → highlights p50 went from 197 ms (150 ms debounce) to 57 ms.
pub const DEBOUNCE_MS: u64 = 0;

/// What the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One text and its skills.
    Highlight,
    /// A CV and a job post side by side, and how well they match.
    Match,
}

/// One editor's state: its text, the highlights that fit it, its skills.
#[derive(Clone, Copy)]
pub struct EditorState {
    pub editor: Editor,
    pub text: RwSignal<String>,
    /// The part of the text that is highlighted (its first [`MAX_CHARS`]
    /// characters); the backdrop, spans and skills cover only this.
    pub limited: Memo<String>,
    /// The text's length in characters, when it is over [`MAX_CHARS`].
    pub over_limit: Memo<Option<usize>>,
    /// The latest answer carried over to the current text.
    pub spans: Memo<Vec<Span>>,
    /// The skills of the latest answer, in that answer's text (what the
    /// panels show; [`EditorState::current_skills`] has them in the current
    /// text).
    pub skills: Memo<Vec<Skill>>,
    /// Whether the highlights are for an older text (an answer is due).
    pub pending: Memo<bool>,
}

impl EditorState {
    /// The skills of the highlights as they are on screen now, with their
    /// occurrences in the current text (selecting and exporting: the
    /// answer to the latest edit may still be due).
    pub fn current_skills(&self) -> Vec<Skill> {
        self.limited
            .with_untracked(|t| self.spans.with_untracked(|s| skillset::collect(t, s)))
    }

    fn new(editor: Editor, client: Client, initial: String) -> Self {
        let text = RwSignal::new(initial);
        let limited = Memo::new(move |_| text.with(|t| client::limited(t).to_owned()));
        let over_limit = Memo::new(move |_| {
            text.with(|t| {
                (t.len() > MAX_CHARS)
                    .then(|| t.chars().count())
                    .filter(|&n| n > MAX_CHARS)
            })
        });
        let result = client.result(editor);
        let spans = Memo::new(move |_| {
            let r = result.get();
            limited.with(|t| marks::carry_over(&r.text, &r.spans, t))
        });
        // From the answer, not from the highlights carried over to each
        // keystroke's text: those drop the span an edit touches and shift
        // the offsets after it, so the skills list (and the match) would be
        // rebuilt twice per keystroke, once for the carried-over spans and
        // again for the answer a few milliseconds later, flickering a skill
        // out and back in while the main thread's work slows the worker.
        let skills = Memo::new(move |_| result.with(|r| skillset::collect(&r.text, &r.spans)));
        let pending = Memo::new(move |_| result.with(|r| limited.with(|t| r.text != *t)));
        Self {
            editor,
            text,
            limited,
            over_limit,
            spans,
            skills,
            pending,
        }
    }
}

/// Everything the components share.
#[derive(Clone, Copy)]
pub struct AppState {
    pub client: Client,
    pub mode: RwSignal<Mode>,
    pub editors: [EditorState; 2],
    /// Whether this is the embedded page (`?embed`).
    pub embed: bool,
    /// Milliseconds of quiet typing before a text is sent ([`DEBOUNCE_MS`];
    /// `?debounce=N` sets it, for the benchmarks: 0 sends every keystroke,
    /// the client still keeping one request in flight, the latest text next).
    pub debounce_ms: u64,
}

impl AppState {
    /// The state for a page whose CV editor starts with `initial`.
    pub fn new(client: Client, initial: String, embed: bool) -> Self {
        Self {
            client,
            mode: RwSignal::new(Mode::Highlight),
            editors: [
                EditorState::new(Editor::Cv, client, initial),
                EditorState::new(Editor::Job, client, String::new()),
            ],
            embed,
            debounce_ms: DEBOUNCE_MS,
        }
    }

    pub fn editor(&self, e: Editor) -> EditorState {
        self.editors[e.index()]
    }

    /// Puts `text` into `editor` (examples, URL text, opened files) and
    /// highlights it.
    pub fn load_text(&self, editor: Editor, text: &str) {
        // Through the browser's editing, so that undo brings the old text
        // back; the input event that follows updates the state.
        if !dom::replace_text(editor, text) {
            self.editor(editor).text.set(text.to_owned());
        }
        self.client.submit(editor, text.to_owned());
    }
}

fn state() -> AppState {
    expect_context::<AppState>()
}

/// The whole page: the full app, or the embedded one with `?embed`.
#[component]
pub fn App() -> impl IntoView {
    let embed = dom::query_param("embed").is_some();
    let initial = dom::query_param("text").unwrap_or_default();
    let client = Client::start();
    let mut app = AppState::new(client, initial.clone(), embed);
    if let Some(ms) = dom::query_param("debounce").and_then(|d| d.parse().ok()) {
        app.debounce_ms = ms;
    }
    provide_context(app);
    if !initial.is_empty() {
        client.submit(Editor::Cv, initial);
    }
    dom::register_service_worker();
    if embed {
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.class_list().add_1("embed");
        }
        view! { <EmbedPage/> }.into_any()
    } else {
        view! { <FullPage/> }.into_any()
    }
}

#[component]
pub fn FullPage() -> impl IntoView {
    let app = state();
    let matching = move || app.mode.get() == Mode::Match;
    view! {
        <a class="skip" href="#editor-cv">"Skip to the editor"</a>
        <header class="top">
            <div class="brand">
                <h1>"RoleMapper"</h1>
                <p class="tagline">"Skills in CVs and job posts, highlighted as you type — in your browser."</p>
            </div>
            <ThemeToggle/>
        </header>
        <main>
            <ModelStatus/>
            <div class="toolbar">
                <div class="modes" role="group" aria-label="What to do">
                    <button
                        type="button"
                        class="mode"
                        aria-pressed=move || (!matching()).to_string()
                        on:click=move |_| app.mode.set(Mode::Highlight)
                    >
                        "Highlight a text"
                    </button>
                    <button
                        type="button"
                        class="mode"
                        aria-pressed=move || matching().to_string()
                        on:click=move |_| app.mode.set(Mode::Match)
                    >
                        "Match a CV to a job"
                    </button>
                </div>
                <Examples/>
            </div>
            <div class="workspace" class:matching=matching>
                <EditorPane editor=Editor::Cv/>
                <Show when=matching>
                    <EditorPane editor=Editor::Job/>
                </Show>
                <aside class="panel" aria-label=move || if matching() { "Match" } else { "Skills found" }>
                    {move || {
                        if matching() {
                            view! { <MatchPanel/> }.into_any()
                        } else {
                            view! {
                                <SkillsPanel editor=Editor::Cv/>
                                <RolesPanel editor=Editor::Cv/>
                            }
                                .into_any()
                        }
                    }}
                </aside>
            </div>
        </main>
        <footer class="foot">
            <p>
                <strong>"Private by design: "</strong>
                "the model runs in this page (WebAssembly, in a worker). After it and its role data have loaded, the page makes no network requests: your text never leaves your device, and the next visit works offline."
            </p>
            <ModelDetails/>
        </footer>
    }
}

/// The embeddable page: one editor and its skills, nothing else.
#[component]
pub fn EmbedPage() -> impl IntoView {
    view! {
        <main class="embed-main">
            <ModelStatus/>
            <EditorPane editor=Editor::Cv/>
            <SkillsPanel editor=Editor::Cv/>
            <p class="embed-foot">
                "Skills highlighted by "
                <a href="./" target="_blank" rel="noopener">"RoleMapper"</a>
                " — runs in your browser; your text is not sent anywhere."
            </p>
        </main>
    }
}

#[component]
fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(dom::current_theme());
    let next = move || {
        if theme.get() == "dark" {
            "light"
        } else {
            "dark"
        }
    };
    view! {
        <button
            type="button"
            class="theme"
            aria-label=move || format!("Switch to the {} theme", next())
            title=move || format!("Switch to the {} theme", next())
            on:click=move |_| {
                let t = next();
                dom::set_theme(t);
                theme.set(t);
            }
        >
            {move || if theme.get() == "dark" { "☀ Light" } else { "☾ Dark" }}
        </button>
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Loading progress, errors with Retry, and the ready line.
#[component]
fn ModelStatus() -> impl IntoView {
    let app = state();
    let model = app.client.model;
    view! {
        <section class="status" aria-live="polite">
            {move || match model.get() {
                ModelState::Starting => {
                    view! { <p class="loading">"Starting the skill highlighter…"</p> }.into_any()
                }
                ModelState::Loading(Progress::Manifest) => {
                    view! { <p class="loading">"Looking for the model…"</p> }.into_any()
                }
                ModelState::Loading(Progress::Download { loaded, total }) => {
                    let percent = (loaded * 100).checked_div(total).unwrap_or(0).min(100);
                    view! {
                        <label class="loading" for="model-progress">
                            {format!(
                                "Downloading the model (once): {} of {} ({percent}%)",
                                megabytes(loaded),
                                megabytes(total),
                            )}
                        </label>
                        <progress id="model-progress" max=total.to_string() value=loaded.to_string()></progress>
                    }
                        .into_any()
                }
                ModelState::Loading(Progress::Loading { from_cache }) => {
                    let from = if from_cache { " from this browser's cache" } else { "" };
                    view! {
                        <label class="loading" for="model-progress">
                            {format!("Checking and loading the model{from}…")}
                        </label>
                        <progress id="model-progress"></progress>
                    }
                        .into_any()
                }
                ModelState::Ready(info) => {
                    let how = if info.from_cache { "from this browser's cache" } else { "downloaded" };
                    view! {
                        <p class="ready">
                            {format!(
                                "Model ready ({}, {how}, {:.1} s). Type or paste below.",
                                megabytes(info.bytes),
                                info.load_ms / 1000.0,
                            )}
                        </p>
                    }
                        .into_any()
                }
                ModelState::Failed(message) => {
                    let mut chars = message.chars();
                    let message: String = chars
                        .next()
                        .map(|c| c.to_uppercase().chain(chars).collect())
                        .unwrap_or_default();
                    view! {
                        <div class="error" role="alert">
                            <p>
                                <strong>"The skill model could not be loaded. "</strong>
                                {message}
                            </p>
                            <button type="button" on:click=move |_| app.client.retry()>
                                "Retry"
                            </button>
                        </div>
                    }
                        .into_any()
                }
            }}
            {move || {
                app.client
                    .error
                    .get()
                    .map(|e| view! { <p class="error" role="alert">{format!("Highlighting failed: {e}")}</p> })
            }}
        </section>
    }
}

#[component]
fn ModelDetails() -> impl IntoView {
    let app = state();
    move || match app.client.model.get() {
        ModelState::Ready(info) => Some(view! {
            <p class="model-details">
                {format!("Model: {} · SHA-256 {}…", info.name, &info.sha256[..info.sha256.len().min(12)])}
            </p>
        }),
        _ => None,
    }
}

#[component]
fn Examples() -> impl IntoView {
    let app = state();
    view! {
        <div class="examples" role="group" aria-label="Examples">
            <span class="examples-label">"Try:"</span>
            {EXAMPLES
                .iter()
                .map(|ex| {
                    let ex = *ex;
                    view! {
                        <button
                            type="button"
                            class="example"
                            on:click=move |_| {
                                let editor = match ex.kind {
                                    Kind::Cv => Editor::Cv,
                                    Kind::Job => {
                                        app.mode.set(Mode::Match);
                                        Editor::Job
                                    }
                                };
                                // The job editor appears with match mode: wait a frame.
                                request_animation_frame(move || app.load_text(editor, ex.text));
                            }
                        >
                            {ex.label}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// What the page says about the last file opened in an editor.
#[derive(Debug, Clone, PartialEq)]
struct FileNotice {
    error: bool,
    text: String,
}

/// Where the pointer or caret is in a highlight.
#[derive(Debug, Clone, PartialEq)]
struct Hover {
    span: usize,
    x: f64,
    y: f64,
}

fn describe(text: &str, span: &Span) -> String {
    let phrase = marks::span_text(text, span).unwrap_or_default();
    let percent = (span.score * 100.0).round();
    match &span.skill {
        Some(skill) if *skill != phrase => format!("“{phrase}” → {skill} · {percent}% confidence"),
        Some(skill) => format!("{skill} · {percent}% confidence"),
        None => format!("“{phrase}” · not in the skill list · {percent}% confidence"),
    }
}

/// A textarea over a backdrop that mirrors its text with `<mark>`s: the
/// browser keeps all native editing (undo, IME, spell check, mobile), and
/// the highlights line up because both have the same font, padding,
/// wrapping and scroll position.
#[component]
pub fn EditorPane(editor: Editor) -> impl IntoView {
    let app = state();
    let st = app.editor(editor);
    let id = editor.textarea_id();
    let backdrop_id = format!("{id}-backdrop");
    let backdrop: NodeRef<leptos::html::Div> = NodeRef::new();
    let area: NodeRef<leptos::html::Textarea> = NodeRef::new();
    let hover = RwSignal::new(None::<Hover>);
    let caret = RwSignal::new(None::<usize>);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    // (characters pasted, characters kept) of the last paste that was cut.
    let paste_notice = RwSignal::new(None::<(usize, usize)>);
    // The last opened file: what was read, or why not (an error).
    let file_notice = RwSignal::new(None::<FileNotice>);
    let reading = RwSignal::new(false);
    let dragging = RwSignal::new(false);
    let file_input: NodeRef<leptos::html::Input> = NodeRef::new();
    let (label, placeholder) = match editor {
        Editor::Cv if app.embed => ("Text to highlight", "Paste a CV or a job post…"),
        Editor::Cv => (
            "Your CV (or any text)",
            "Paste a CV or a job post here, drop a PDF or Word file on it, or pick an example above…",
        ),
        Editor::Job => (
            "The job post",
            "Paste a job post here, drop its file on it, or pick a job example above…",
        ),
    };
    // A CV file (button or drop): its text, read off the main thread
    // (`files::read`), replaces the editor's, and is highlighted as typed
    // text is. A file that cannot be read changes nothing and says why.
    let open_file = move |file: web_sys::File| {
        if reading.get_untracked() {
            return;
        }
        reading.set(true);
        paste_notice.set(None);
        file_notice.set(None);
        let name = file.name();
        leptos::task::spawn_local(async move {
            let notice = match files::read(file).await {
                Ok(read) => {
                    let chars = read.chars;
                    app.load_text(editor, &read.text);
                    let pages = match read.pages {
                        Some(1) => ", 1 page".to_string(),
                        Some(n) => format!(", {n} pages"),
                        None => String::new(),
                    };
                    let cut = if chars > MAX_CHARS {
                        format!(
                            " It has {} characters; RoleMapper highlights the first {}.",
                            thousands(chars),
                            thousands(MAX_CHARS)
                        )
                    } else {
                        String::new()
                    };
                    FileNotice {
                        error: false,
                        text: format!(
                            "Opened {name} ({}{pages}, {} characters, read in {:.0} ms): its text is in the editor; check it against the file.{cut}",
                            read.format,
                            thousands(chars),
                            read.ms
                        ),
                    }
                }
                Err(why) => FileNotice {
                    error: true,
                    text: format!("{name} was not opened: {why}. The editor is unchanged."),
                },
            };
            file_notice.set(Some(notice));
            reading.set(false);
        });
    };
    let on_file_chosen = move |_| {
        let Some(input) = file_input.get_untracked() else {
            return;
        };
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            open_file(file);
        }
        // The same file again must fire `change` again.
        input.set_value("");
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        dragging.set(false);
        let file = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0));
        if let Some(file) = file {
            // Not the browser's default (opening the file in the tab).
            ev.prevent_default();
            open_file(file);
        }
    };
    let on_drag_over = move |ev: leptos::ev::DragEvent| {
        let files = ev
            .data_transfer()
            .is_some_and(|d| d.types().includes(&"Files".into(), 0));
        if files {
            ev.prevent_default();
            if !dragging.get_untracked() {
                dragging.set(true);
            }
        }
    };

    let sync_scroll = move || {
        if let (Some(a), Some(b)) = (area.get_untracked(), backdrop.get_untracked()) {
            b.set_scroll_top(a.scroll_top());
            b.set_scroll_left(a.scroll_left());
        }
    };
    // Whatever changes the textarea's size (the mode switch, a window
    // resize, zoom, its resize handle) rewraps its text and may move its
    // scroll position without a scroll event: the backdrop takes its text
    // width and scroll position before the next paint. The guard lives as
    // long as the component.
    let resize = StoredValue::new_local(None::<dom::ResizeGuard>);
    Effect::new(move |_| {
        let Some(a) = area.get() else { return };
        let guard = dom::on_resize(&a, move || {
            if let (Some(a), Some(b)) = (area.get_untracked(), backdrop.get_untracked()) {
                dom::match_text_width(&a, &b);
            }
            sync_scroll();
        });
        resize.set_value(guard);
    });
    on_cleanup(move || {
        // Disconnect now: the callback must not outlive the component.
        let _ = resize.try_update_value(|g| *g = None);
    });
    let update_caret = move || {
        if let Some(a) = area.get_untracked() {
            caret.set(a.selection_start().ok().flatten().map(|c| c as usize));
        }
    };
    // Signals notify even when set to the value they hold, and each
    // notification redraws what reads them (the backdrop reads `hover`).
    let clear_hover = move || {
        if hover.with_untracked(Option::is_some) {
            hover.set(None);
        }
    };
    // The backdrop: one `<div>` per line of HTML (see
    // `marks::backdrop_lines`), of which only the lines that changed are
    // rewritten (`dom::patch_backdrop`), or, for a text with a NUL
    // character (which the HTML parser drops, shifting the marks after it),
    // the same lines as DOM nodes. A render effect: it runs as soon as what
    // it reads changes (the answer's message handler, the input event),
    // where a plain `Effect` waits for a later task (measured: keystroke
    // p50 ≈ 3 ms later). The lines last drawn are kept.
    let drawn = StoredValue::new(Vec::<String>::new());
    let draw = RenderEffect::new(move |_| {
        let active = hover.with(|h| h.as_ref().map(|h| h.span));
        let Some(b) = backdrop.get() else { return };
        st.spans.with(|spans| {
            st.limited.with(|t| {
                if !t.contains('\0') {
                    let lines = marks::backdrop_lines(t, spans, active);
                    drawn.with_value(|old| dom::patch_backdrop(&b, old, &lines));
                    drawn.set_value(lines);
                } else {
                    dom::fill_backdrop(&b, t, spans, active);
                    drawn.set_value(Vec::new());
                }
            })
        });
    });
    // Owned by the component: dropped, and so stopped, when it unmounts.
    StoredValue::new_local(draw);
    // A typed character goes to the worker as soon as the browser says what
    // it will insert (`beforeinput`), before the textarea has laid out the
    // edit and fired `input` (≈ 1.5 ms later on a 600-word CV): the worker
    // starts sooner. `input` then submits the text the textarea holds,
    // which the channel does not send again when it is the same (typing,
    // Enter); anything else (a cancelled edit, IME composition, paste,
    // deletion) is sent from `input` as before.
    let on_before_input = move |ev: web_sys::InputEvent| {
        if app.debounce_ms != 0 || ev.is_composing() {
            return;
        }
        let data = match ev.input_type().as_str() {
            "insertText" => ev.data(),
            "insertLineBreak" => Some("\n".to_owned()),
            _ => None,
        };
        let (Some(data), Some(a)) = (data, area.get_untracked()) else {
            return;
        };
        let (Ok(Some(start)), Ok(Some(end))) = (a.selection_start(), a.selection_end()) else {
            return;
        };
        let next = st.text.with_untracked(|t| {
            // Only when the state holds the textarea's text.
            (t.encode_utf16().count() == a.text_length() as usize)
                .then(|| client::after_insert(t, start as usize..end as usize, &data))
                .flatten()
        });
        // `submit` cuts it to the highlighted part.
        if let Some(next) = next {
            app.client.submit(editor, next);
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if let Some(h) = timer.get_value() {
            h.clear();
        }
        // Only the highlighted part is sent (no copy of a huge paste).
        if app.debounce_ms == 0 {
            // To the worker first (unless `beforeinput` sent this very
            // text): it tags while this thread redraws the highlights
            // carried over to the new text.
            app.client
                .submit(editor, client::limited(&value).to_owned());
        } else {
            let submit = move || app.client.submit(editor, st.limited.get_untracked());
            let h = set_timeout_with_handle(submit, Duration::from_millis(app.debounce_ms)).ok();
            timer.set_value(h);
        }
        // Only what changes: each notification re-renders what reads it.
        if paste_notice.with_untracked(Option::is_some) {
            paste_notice.set(None);
        }
        st.text.set(value);
        clear_hover();
        update_caret();
    };
    // A paste that would take the editor over the limit is cut to what
    // fits, and the page says so (the clipboard keeps all of it).
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        let Some(pasted) = ev
            .clipboard_data()
            .and_then(|d| d.get_data("text/plain").ok())
        else {
            return;
        };
        let Some(a) = area.get_untracked() else {
            return;
        };
        let start = a.selection_start().ok().flatten().unwrap_or(0);
        let end = a.selection_end().ok().flatten().unwrap_or(start);
        let Some(cut) = st
            .text
            .with_untracked(|t| client::fit_paste(t, start as usize..end as usize, &pasted))
        else {
            return;
        };
        ev.prevent_default();
        let kept = cut.keep.chars().count();
        // Not execCommand("insertText"): Chromium takes seconds over 100,000
        // characters and fires an input event per line.
        let inserted = a
            .set_range_text_with_start_and_end_and_mode(cut.keep, start, end, "end")
            .is_ok();
        if inserted {
            // As a paste does: the caret in view (setRangeText does not
            // scroll); a cut paste nearly always lands at the end.
            if a.selection_end().ok().flatten() == Some(a.text_length()) {
                a.set_scroll_top(a.scroll_height());
            }
            if let Ok(input) = web_sys::Event::new_with_event_init_dict("input", &{
                let init = web_sys::EventInit::new();
                init.set_bubbles(true);
                init
            }) {
                let _ = a.dispatch_event(&input);
            }
        }
        paste_notice.set(Some((cut.pasted_chars, if inserted { kept } else { 0 })));
    };
    let on_pointer = move |ev: leptos::ev::MouseEvent| {
        // The marks lie under the textarea: ask what is at the pointer
        // through every layer.
        let doc = document();
        let found = doc
            .elements_from_point(ev.client_x() as f32, ev.client_y() as f32)
            .iter()
            .filter_map(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(e).ok())
            .find(|e| {
                e.tag_name() == "MARK"
                    && e.closest(&format!("#{id}-backdrop"))
                        .ok()
                        .flatten()
                        .is_some()
            });
        let next = found.and_then(|m| {
            // The mark's line (its div's place in the backdrop) and its
            // offset in that line lead to its span.
            let div = m.parent_element()?;
            let lines = div.parent_element()?.children();
            let line = (0..lines.length()).find(|&k| lines.item(k).as_ref() == Some(&div))?;
            let start: usize = m.get_attribute("data-start")?.parse().ok()?;
            let span = st.limited.with_untracked(|t| {
                st.spans
                    .with_untracked(|s| marks::span_at(t, s, line as usize, start))
            })?;
            let wrap = m
                .closest(".editor-wrap")
                .ok()
                .flatten()?
                .get_bounding_client_rect();
            let r = m.get_bounding_client_rect();
            Some(Hover {
                span,
                x: r.left() - wrap.left(),
                y: r.bottom() - wrap.top() + 4.0,
            })
        });
        if hover.get_untracked() != next {
            hover.set(next);
        }
    };
    // After new highlights, the backdrop may have grown: keep it in step.
    Effect::new(move |_| {
        st.spans.track();
        request_animation_frame(sync_scroll);
    });

    let caret_info = move || {
        let c = caret.get()?;
        st.spans.with(|spans| {
            let span = spans.iter().find(|s| s.start <= c && c <= s.end)?;
            Some(st.limited.with(|t| describe(t, span)))
        })
    };
    // The counts are the latest answer's, as the skills list's are.
    let summary = move || {
        let skills = st.skills.with(Vec::len);
        let (marks, timing) = app.client.result(editor).with(|r| {
            let timing = if r.sentences > 0 {
                format!(
                    " · updated in {:.0} ms ({} of {} sentences re-tagged)",
                    r.ms, r.tagged, r.sentences
                )
            } else {
                String::new()
            };
            (r.spans.len(), timing)
        });
        let pending = if st.pending.get() && !st.limited.with(String::is_empty) {
            " · highlighting…"
        } else {
            ""
        };
        format!(
            "{} skill{}, {} highlight{}{timing}{pending}",
            skills,
            if skills == 1 { "" } else { "s" },
            marks,
            if marks == 1 { "" } else { "s" },
        )
    };

    view! {
        <section class="editor">
            <div class="editor-head">
                <label class="editor-label" for=id>{label}</label>
                {(!app.embed).then(|| view! {
                    <button
                        type="button"
                        class="file-button"
                        aria-describedby=format!("{id}-file-help")
                        disabled=move || reading.get()
                        on:click=move |_| {
                            if let Some(input) = file_input.get_untracked() {
                                input.click();
                            }
                        }
                    >
                        {move || if reading.get() { "Reading the file…" } else { "Open a file…" }}
                    </button>
                    <span class="visually-hidden" id=format!("{id}-file-help")>
                        "PDF, Word (DOCX), OpenDocument (ODT), RTF, HTML or text; read in this browser, never uploaded"
                    </span>
                })}
                <input
                    type="file"
                    class="file-input"
                    id=format!("{id}-file")
                    node_ref=file_input
                    tabindex="-1"
                    aria-hidden="true"
                    accept=".pdf,.docx,.odt,.rtf,.html,.htm,.txt,.md,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.oasis.opendocument.text,application/rtf,text/html,text/plain"
                    on:change=on_file_chosen
                />
            </div>
            <div
                class="editor-wrap"
                class:dragging=move || dragging.get()
                on:mouseleave=move |_| clear_hover()
                on:dragover=on_drag_over
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                // Only the highlighted part: the backdrop's text is
                // transparent, the textarea shows all of it.
                <div
                    class="backdrop"
                    id=backdrop_id
                    node_ref=backdrop
                    aria-hidden="true"
                ></div>
                <textarea
                    id=id
                    node_ref=area
                    class="input"
                    spellcheck="false"
                    placeholder=placeholder
                    aria-describedby=format!("{id}-summary {id}-caret")
                    prop:value=st.text.get_untracked()
                    on:beforeinput=on_before_input
                    on:input=on_input
                    on:paste=on_paste
                    on:scroll=move |_| {
                        sync_scroll();
                        clear_hover();
                    }
                    on:mousemove=on_pointer
                    on:keyup=move |_| update_caret()
                    on:click=move |_| update_caret()
                    on:select=move |_| update_caret()
                    on:blur=move |_| caret.set(None)
                ></textarea>
                {move || {
                    let h = hover.get()?;
                    let spans = st.spans.get();
                    let span = spans.get(h.span)?;
                    let text = st.limited.with(|t| describe(t, span));
                    Some(view! {
                        <div
                            class="tooltip"
                            role="tooltip"
                            style:left=format!("{:.0}px", h.x.max(0.0))
                            style:top=format!("{:.0}px", h.y)
                        >
                            {text}
                        </div>
                    })
                }}
            </div>
            <p class="editor-summary" id=format!("{id}-summary")>{summary}</p>
            {move || {
                file_notice.get().map(|n| {
                    view! {
                        <p
                            class="limit-notice file-notice"
                            class:error=n.error
                            role=if n.error { "alert" } else { "status" }
                        >
                            {n.text}
                        </p>
                    }
                })
            }}
            {move || {
                st.over_limit.get().map(|n| {
                    view! {
                        <p class="limit-notice" role="status">
                            {format!(
                                "This text has {} characters; RoleMapper highlights the first {}.",
                                thousands(n),
                                thousands(MAX_CHARS),
                            )}
                        </p>
                    }
                })
            }}
            {move || {
                paste_notice
                    .get()
                    .map(|(pasted, kept)| {
                        let text = if kept == 0 {
                            format!(
                                "Nothing was pasted: the editor is full ({} characters, the most RoleMapper highlights).",
                                thousands(MAX_CHARS),
                            )
                        } else {
                            format!(
                                "The pasted text has {} characters; the editor holds at most {}, so its first {} were pasted. Your clipboard still has all of it.",
                                thousands(pasted),
                                thousands(MAX_CHARS),
                                thousands(kept),
                            )
                        };
                        view! {
                            <p class="limit-notice paste-notice" role="status">
                                {text}
                            </p>
                        }
                    })
            }}
            <p class="caret-info" id=format!("{id}-caret") aria-live="polite">
                {move || caret_info().unwrap_or_default()}
            </p>
        </section>
    }
}

/// The distinct skills of one editor, each a button that selects its next
/// occurrence; copy and download.
#[component]
pub fn SkillsPanel(editor: Editor) -> impl IntoView {
    let app = state();
    let st = app.editor(editor);
    // Which occurrence each skill's button selects next.
    let cursor = StoredValue::new(std::collections::HashMap::<String, usize>::new());
    let notice = RwSignal::new(String::new());
    let copy = move |_| {
        let text = skillset::to_text(&st.current_skills());
        leptos::task::spawn_local(async move {
            notice.set(match dom::copy(&text).await {
                Ok(()) => "Copied the list of skills.".into(),
                Err(e) => e,
            });
        });
    };
    let save = move |kind: &'static str| {
        let skills = st.current_skills();
        let (name, mime, body) = match kind {
            "json" => (
                "skills.json",
                "application/json",
                skillset::to_json(&skills),
            ),
            _ => ("skills.csv", "text/csv", skillset::to_csv(&skills)),
        };
        notice.set(match dom::download(name, mime, &body) {
            Ok(()) => format!("Saved {name}."),
            Err(_) => "This browser did not allow the download.".into(),
        });
    };
    let empty = move || st.skills.with(Vec::is_empty);
    // The report: the page itself printed (public/style.css's print rules:
    // the highlighted text, the skills, the roles), and the same as JSON.
    let print_report = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    let save_report = move |_| {
        let roles = app.client.roles(editor);
        let body = st.limited.with_untracked(|text| {
            roles.with_untracked(|r| {
                let ranking = (r.text == *text).then_some(&r.ranking);
                let skills = st.current_skills();
                st.spans
                    .with_untracked(|spans| skillset::report_json(text, spans, &skills, ranking))
            })
        });
        notice.set(
            match dom::download("rolemapper-report.json", "application/json", &body) {
                Ok(()) => "Saved rolemapper-report.json.".into(),
                Err(_) => "This browser did not allow the download.".into(),
            },
        );
    };
    view! {
        <section class="skills" aria-labelledby=format!("{}-skills", editor.textarea_id())>
            <div class="skills-head">
                <h2 id=format!("{}-skills", editor.textarea_id())>"Skills"</h2>
                <div class="actions">
                    <button type="button" on:click=copy disabled=empty>"Copy"</button>
                    <button type="button" on:click=move |_| save("json") disabled=empty>"JSON"</button>
                    <button type="button" on:click=move |_| save("csv") disabled=empty>"CSV"</button>
                </div>
            </div>
            <div class="actions report-actions" role="group" aria-label="Report">
                <button type="button" on:click=print_report disabled=empty>"Print report"</button>
                <button type="button" on:click=save_report disabled=empty>"Save report"</button>
            </div>
            <p class="notice" aria-live="polite">{move || notice.get()}</p>
            <Show
                when=move || !empty()
                fallback=|| view! { <p class="hint">"Skills appear here as they are found."</p> }
            >
                <ul class="skill-list">
                    <For
                        each=move || st.skills.get()
                        key=|k| (k.key.clone(), k.count(), k.label.clone())
                        let:skill
                    >
                        {
                            let key = skill.key.clone();
                            let count = skill.count();
                            let percent = (skill.score() * 100.0).round();
                            let kind = if skill.linked { "canonical skill" } else { "phrase not in the skill list" };
                            let aria = format!(
                                "{}, {count} time{}, {kind}, {percent}% confidence: select the next occurrence",
                                skill.label,
                                if count == 1 { "" } else { "s" },
                            );
                            let title = format!("{kind} · {percent}% confidence · click to select it in the text");
                            view! {
                                <li>
                                    <button
                                        type="button"
                                        class="skill"
                                        class:linked=skill.linked
                                        aria-label=aria
                                        title=title
                                        on:click=move |_| {
                                            // The occurrences as they are now: this item is
                                            // kept (keyed) while edits elsewhere move them.
                                            let Some(occurrences) = st
                                                .current_skills()
                                                .into_iter()
                                                .find(|k| k.key == key)
                                                .map(|k| k.occurrences)
                                            else {
                                                return;
                                            };
                                            if occurrences.is_empty() {
                                                return;
                                            }
                                            let n = cursor
                                                .try_update_value(|c| {
                                                    let n = c.entry(key.clone()).or_insert(0);
                                                    let at = *n % occurrences.len();
                                                    *n += 1;
                                                    at
                                                })
                                                .unwrap_or(0);
                                            let o = &occurrences[n];
                                            dom::select(editor, o.start, o.end);
                                        }
                                    >
                                        <span class="skill-name">{skill.label.clone()}</span>
                                        {(count > 1).then(|| view! { <span class="count">{format!("×{count}")}</span> })}
                                    </button>
                                </li>
                            }
                        }
                    </For>
                </ul>
            </Show>
        </section>
    }
}

/// `0.2876` as `29%`.
fn percent(score: f32) -> String {
    format!("{:.0}%", (score * 100.0).clamp(0.0, 100.0))
}

/// A list of skill names with a heading and a Copy button (the role
/// panels' matched and missing skills).
fn named_list(
    title: String,
    class: &'static str,
    names: Vec<String>,
    notice: RwSignal<String>,
) -> impl IntoView {
    let empty = names.is_empty();
    let text = names.join("\n");
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            notice.set(match dom::copy(&text).await {
                Ok(()) => "Copied.".into(),
                Err(e) => e,
            });
        });
    };
    view! {
        <div class=format!("role-skills {class}")>
            <div class="role-skills-head">
                <h4>{title}</h4>
                <button type="button" class="small" on:click=copy disabled=empty>"Copy"</button>
            </div>
            {if empty {
                view! { <p class="hint">"None."</p> }.into_any()
            } else {
                view! {
                    <ul>{names.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                }
                    .into_any()
            }}
        </div>
    }
}

/// Where the role data is, when it is not ready; and its credits once it is.
fn roles_status(data: RolesData) -> impl IntoView {
    match data {
        RolesData::Loading => {
            view! { <p class="hint">"The role data loads after the model…"</p> }.into_any()
        }
        RolesData::Failed(message) => view! {
            <p class="error" role="alert">{format!("Roles are not available: {message}.")}</p>
        }
        .into_any(),
        RolesData::Ready { .. } => ().into_any(),
    }
}

#[component]
fn RoleCredits() -> impl IntoView {
    let app = state();
    move || match app.client.roles_data.get() {
        RolesData::Ready { credits } => Some(view! {
            <details class="credits">
                <summary>"Occupations: ESCO v1.1.1 · fields: Nesta · titles and technologies: O*NET 29.2"</summary>
                <ul>{credits.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}</ul>
            </details>
        }),
        _ => None,
    }
}

/// The roles the text fits (ESCO occupations, best first, each with a bar
/// for its score) and their field; for the chosen role (the first unless
/// another is picked) the text's skills that support it and its essential
/// skills the text does not show. Read from the spans already found: no
/// extra model run (`ToWorker::Roles`).
#[component]
pub fn RolesPanel(editor: Editor) -> impl IntoView {
    let app = state();
    let roles = app.client.roles(editor);
    let st = app.editor(editor);
    let chosen = RwSignal::new(None::<String>);
    let notice = RwSignal::new(String::new());
    let id = format!("{}-roles", editor.textarea_id());
    let heading = id.clone();
    let detail = Memo::new(move |_| {
        roles.with(|r| {
            let list = &r.ranking.roles;
            chosen
                .get()
                .and_then(|u| list.iter().find(|x| x.uri == u))
                .or_else(|| list.first())
                .cloned()
        })
    });
    // Roles for an older text: `aria-busy` at once; dimmed only once they
    // have stayed stale for a while (typing pauses ask for them again, and
    // dimming at every keystroke flickered the list and repainted it twice
    // per keystroke).
    let stale = Memo::new(move |_| roles.with(|r| st.limited.with(|t| r.text != *t)));
    let dim = after_a_while(stale, Duration::from_millis(STALE_DIM_MS));
    view! {
        <section class="roles" aria-labelledby=heading>
            <h2 id=id>"Roles"</h2>
            {move || roles_status(app.client.roles_data.get())}
            {move || {
                let ready = matches!(app.client.roles_data.get(), RolesData::Ready { .. });
                let r = roles.get();
                if !ready {
                    return ().into_any();
                }
                if r.ranking.roles.is_empty() {
                    let hint = if st.limited.with(|t| t.trim().is_empty()) {
                        "The roles this text fits appear here."
                    } else {
                        "No occupation matches these skills yet."
                    };
                    return view! { <p class="hint">{hint}</p> }.into_any();
                }
                let best = r.ranking.roles[0].score.max(1e-6);
                let field = r.ranking.field.clone().map(|f| {
                    view! {
                        <p class="field">
                            "Field: " <strong>{f.sector}</strong> {format!(" — {} ({} of the votes)", f.sub_sector, percent(f.score))}
                        </p>
                    }
                });
                view! {
                    {field}
                    <ol class="role-list" class:stale=move || dim.get() aria-busy=move || stale.get().to_string()>
                        {r
                            .ranking
                            .roles
                            .into_iter()
                            .map(|role| {
                                let uri = role.uri.clone();
                                let pressed = {
                                    let uri = uri.clone();
                                    move || detail.with(|d| d.as_ref().is_some_and(|d| d.uri == uri)).to_string()
                                };
                                let width = format!("{:.0}%", (role.score / best * 100.0).clamp(2.0, 100.0));
                                let label = format!(
                                    "{}, ISCO {}, score {}: show its skills",
                                    role.title,
                                    role.isco,
                                    percent(role.score),
                                );
                                view! {
                                    <li>
                                        <button
                                            type="button"
                                            class="role"
                                            aria-pressed=pressed
                                            aria-label=label
                                            on:click=move |_| chosen.set(Some(uri.clone()))
                                        >
                                            <span class="role-title">{role.title.clone()}</span>
                                            <span class="role-score">{percent(role.score)}</span>
                                            <span class="role-bar" aria-hidden="true">
                                                <span class="role-bar-fill" style:width=width></span>
                                            </span>
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ol>
                }
                    .into_any()
            }}
            {move || {
                detail.get().map(|role| {
                    view! {
                        <div class="role-detail">
                            <h3>
                                {role.title.clone()}
                                <span class="isco">{format!(" · ISCO-08 {}", role.isco)}</span>
                            </h3>
                            <p class="notice" aria-live="polite">{move || notice.get()}</p>
                            {named_list("In the text".into(), "matched", role.matched.clone(), notice)}
                            {named_list("Essential, not found".into(), "missing", role.missing.clone(), notice)}
                            <a class="esco-link" href=role.uri.clone() target="_blank" rel="noopener noreferrer">
                                "The occupation in ESCO"
                            </a>
                        </div>
                    }
                })
            }}
            <RoleCredits/>
        </section>
    }
}

/// How long roles may be stale before the list is dimmed.
const STALE_DIM_MS: u64 = 400;

/// `condition`, but true only once it has held for `delay` (false at once).
fn after_a_while(condition: Memo<bool>, delay: Duration) -> ReadSignal<bool> {
    let (out, set_out) = signal(false);
    let timer = StoredValue::new(None::<TimeoutHandle>);
    Effect::new(move |_| {
        if let Some(h) = timer.get_value() {
            h.clear();
        }
        timer.set_value(None);
        if condition.get() {
            let fire = move || {
                if condition.get_untracked() {
                    set_out.set(true);
                }
            };
            timer.set_value(set_timeout_with_handle(fire, delay).ok());
        } else if out.get_untracked() {
            set_out.set(false);
        }
    });
    out
}

/// Match mode: the job post's own role, and the CV's fit to it.
#[component]
fn MatchRole() -> impl IntoView {
    let app = state();
    let job = app.client.roles(Editor::Job);
    let cv = app.client.roles(Editor::Cv);
    let notice = RwSignal::new(String::new());
    let job_role = Memo::new(move |_| job.with(|r| r.ranking.roles.first().cloned()));
    // The CV's roles report their fit to the job's role.
    Effect::new(move |_| app.client.set_fit(job_role.get().map(|r| r.uri)));
    on_cleanup(move || app.client.set_fit(None));
    view! {
        <div class="match-role">
            {move || roles_status(app.client.roles_data.get())}
            {move || {
                let role = job_role.get()?;
                let field = job.with(|r| r.ranking.field.clone());
                let fit = cv.with(|r| r.fit.clone()).filter(|f| f.uri == role.uri);
                Some(view! {
                    <h3>"The job's role"</h3>
                    <p class="job-role">
                        <strong>{role.title.clone()}</strong>
                        {format!(" · ISCO-08 {}", role.isco)}
                        {field.map(|f| format!(" · {}", f.sector))}
                    </p>
                    {match fit {
                        None => view! { <p class="hint">"Paste a CV to see its fit to this role."</p> }.into_any(),
                        Some(fit) => view! {
                            <p class="role-fit">
                                {format!("Your CV's fit to this role: {}", percent(fit.score))}
                                <meter min="0" max="1" value=fit.score.to_string() aria-label="The CV's fit to the job's role"></meter>
                            </p>
                            <p class="notice" aria-live="polite">{move || notice.get()}</p>
                            {named_list("Role skills in your CV".into(), "matched", fit.matched, notice)}
                            {named_list("Essential for the role, not in your CV".into(), "missing", fit.missing, notice)}
                        }
                            .into_any(),
                    }}
                })
            }}
        </div>
    }
}

/// The CV against the job post: score, shared, missing and extra skills.
#[component]
pub fn MatchPanel() -> impl IntoView {
    let app = state();
    let cv = app.editor(Editor::Cv);
    let job = app.editor(Editor::Job);
    let result = Memo::new(move |_| Match::new(&cv.skills.get(), &job.skills.get()));
    let list = move |title: &'static str,
                     class: &'static str,
                     pick: fn(&Match) -> &Vec<skillset::Entry>,
                     from: EditorState| {
        view! {
            <div class=format!("match-list {class}")>
                <h3>{move || format!("{title} ({})", pick(&result.get()).len())}</h3>
                <ul>
                    {move || {
                        pick(&result.get())
                            .iter()
                            .map(|e| {
                                let key = e.key.clone();
                                view! {
                                    <li>
                                        <button
                                            type="button"
                                            class="skill"
                                            title="Select it in the text"
                                            on:click=move |_| {
                                                let skills = from.skills.get_untracked();
                                                if let Some(o) = skills
                                                    .iter()
                                                    .find(|k| k.key == key)
                                                    .and_then(|k| k.occurrences.first())
                                                {
                                                    dom::select(from.editor, o.start, o.end);
                                                }
                                            }
                                        >
                                            {e.label.clone()}
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </div>
        }
    };
    view! {
        <section class="match" aria-labelledby="match-title">
            <h2 id="match-title">"Match"</h2>
            {move || match result.get().score() {
                None => view! { <p class="hint">"Paste a job post (or pick a job example) to see how your CV matches it."</p> }.into_any(),
                Some(score) => {
                    let m = result.get();
                    let total = m.shared.len() + m.missing.len();
                    view! {
                        <div class="score">
                            <span class="score-value">{format!("{score}%")}</span>
                            <meter min="0" max="100" value=score.to_string() aria-label="Share of the job's skills in the CV"></meter>
                            <p>{format!("Your CV covers {} of the {total} skills the job asks for.", m.shared.len())}</p>
                        </div>
                    }
                        .into_any()
                }
            }}
            {list("Missing from the CV", "missing", |m| &m.missing, job)}
            {list("Shared", "shared", |m| &m.shared, cv)}
            {list("Also in the CV", "extra", |m| &m.extra, cv)}
            <MatchRole/>
            <RoleCredits/>
        </section>
    }
}
