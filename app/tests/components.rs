//! The components in headless Chromium: mount, set answers as the worker
//! would, and compare the DOM (`wasm-pack test --headless --chrome app`).
#![cfg(target_arch = "wasm32")]

use app::client::{Client, Editor, Roles, RolesData, Tagged};
use app::protocol::Span;
use app::{AppState, EditorPane, MatchPanel, Mode, RolesPanel, SkillsPanel};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Waits `ms` milliseconds.
async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

/// Lets effects and rendering run.
async fn tick() {
    sleep(20).await;
}

/// The UTF-16 span of the `nth` occurrence of `phrase`.
fn span(text: &str, phrase: &str, skill: Option<&str>) -> Span {
    let byte = text.find(phrase).unwrap();
    let start = text[..byte].encode_utf16().count();
    Span {
        start,
        end: start + phrase.encode_utf16().count(),
        skill: skill.map(str::to_owned),
        score: 0.9,
    }
}

/// Mounts `view` in a fresh container with a detached client (the
/// previous test's container is removed: element ids must stay unique).
fn mount<V: IntoView + 'static>(
    text: &str,
    view: impl FnOnce() -> V + 'static,
) -> (AppState, web_sys::Element) {
    if let Some(old) = document().get_element_by_id("test-root") {
        old.remove();
    }
    let container = document().create_element("div").unwrap();
    container.set_id("test-root");
    document().body().unwrap().append_child(&container).unwrap();
    let app = AppState::new(Client::detached(), text.to_owned(), false);
    let el: HtmlElement = container.clone().unchecked_into();
    let handle = leptos::mount::mount_to(el, move || {
        provide_context(app);
        view()
    });
    std::mem::forget(handle);
    (app, container)
}

/// The editor's textarea under `root`.
fn textarea(root: &web_sys::Element) -> HtmlTextAreaElement {
    root.query_selector("textarea")
        .unwrap()
        .unwrap()
        .unchecked_into()
}

/// Sets the textarea's value and fires its `input` event, as typing does.
fn type_text(ta: &HtmlTextAreaElement, value: &str) {
    ta.set_value(value);
    ta.dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// The text of each element under `root` that `selector` matches.
fn texts(root: &web_sys::Element, selector: &str) -> Vec<String> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .map(|i| list.get(i).unwrap().text_content().unwrap())
        .collect()
}

fn answer(app: &AppState, editor: Editor, text: &str, spans: Vec<Span>) {
    app.client.result(editor).set(Tagged {
        text: text.to_owned(),
        spans,
        ..Default::default()
    });
}

#[wasm_bindgen_test]
async fn highlights_mirror_the_text_and_html_stays_text() {
    let text = "<img src=x onerror=alert(1)> I write Python 😀 and SQL.\n";
    let (app, root) = mount(text, || view! { <EditorPane editor=Editor::Cv/> });
    answer(
        &app,
        Editor::Cv,
        text,
        vec![
            span(text, "Python", Some("Python")),
            span(text, "SQL", None),
        ],
    );
    tick().await;
    let backdrop = root.query_selector(".backdrop").unwrap().unwrap();
    let marks = backdrop.query_selector_all("mark").unwrap();
    assert_eq!(marks.length(), 2);
    let first: web_sys::Element = marks.get(0).unwrap().unchecked_into();
    assert_eq!(first.text_content().unwrap(), "Python");
    assert!(first.class_list().contains("linked"));
    // The backdrop holds the text itself, as text, a div per line (the
    // last one empty: the text ends with a line break).
    let lines = backdrop.children();
    assert_eq!(lines.length(), 2);
    assert_eq!(
        lines.item(0).unwrap().text_content().unwrap(),
        text.trim_end_matches('\n')
    );
    assert_eq!(lines.item(1).unwrap().text_content().unwrap(), "");
    // Each mark's offset counts from its line's start.
    let python = text[..text.find("Python").unwrap()].encode_utf16().count();
    assert_eq!(
        first.get_attribute("data-start").unwrap(),
        python.to_string()
    );
    assert!(root.query_selector("img").unwrap().is_none());
    let ta = textarea(&root);
    assert_eq!(ta.value(), text);
    assert!(root
        .text_content()
        .unwrap()
        .contains("2 skills, 2 highlights"));
}

#[wasm_bindgen_test]
async fn typing_keeps_highlights_that_the_edit_does_not_touch() {
    let text = "Python and SQL";
    let (app, root) = mount(text, || view! { <EditorPane editor=Editor::Cv/> });
    answer(
        &app,
        Editor::Cv,
        text,
        vec![span(text, "Python", None), span(text, "SQL", None)],
    );
    tick().await;
    // The user types in the middle; no answer yet.
    let ta = textarea(&root);
    type_text(&ta, "Python and also SQL");
    tick().await;
    assert_eq!(
        app.editor(Editor::Cv).text.get_untracked(),
        "Python and also SQL"
    );
    let marks = texts(&root, "mark");
    assert_eq!(marks, ["Python", "SQL"]);
    assert!(root.text_content().unwrap().contains("highlighting…"));
}

/// An editor and its skills panel, answered: "Python, SQL and python
/// again" with both Pythons linked to one skill.
async fn skills_panel_with_python_twice() -> (AppState, web_sys::Element) {
    let text = "Python, SQL and python again";
    let (app, root) = mount(text, || {
        view! {
            <EditorPane editor=Editor::Cv/>
            <SkillsPanel editor=Editor::Cv/>
        }
    });
    let second = Span {
        start: 16,
        end: 22,
        skill: Some("Python".into()),
        score: 0.8,
    };
    answer(
        &app,
        Editor::Cv,
        text,
        vec![
            span(text, "Python", Some("Python")),
            span(text, "SQL", None),
            second,
        ],
    );
    tick().await;
    (app, root)
}

#[wasm_bindgen_test]
async fn the_skills_panel_counts_and_selects_occurrences() {
    let (_app, root) = skills_panel_with_python_twice().await;
    let buttons = root.query_selector_all(".skill-list .skill").unwrap();
    assert_eq!(buttons.length(), 2);
    let python: HtmlElement = buttons.get(0).unwrap().unchecked_into();
    assert_eq!(python.text_content().unwrap(), "Python×2");
    assert!(python
        .get_attribute("aria-label")
        .unwrap()
        .starts_with("Python, 2 times, canonical skill"));
    let ta = textarea(&root);
    python.click();
    assert_eq!(
        (ta.selection_start().unwrap(), ta.selection_end().unwrap()),
        (Some(0), Some(6))
    );
    python.click();
    assert_eq!(
        (ta.selection_start().unwrap(), ta.selection_end().unwrap()),
        (Some(16), Some(22))
    );
    assert_eq!(
        document().active_element().unwrap(),
        ta.unchecked_into::<web_sys::Element>()
    );
}

#[wasm_bindgen_test]
async fn the_skills_list_follows_answers_and_selects_in_the_current_text() {
    let (app, root) = skills_panel_with_python_twice().await;
    let first = || -> HtmlElement {
        root.query_selector(".skill-list .skill")
            .unwrap()
            .unwrap()
            .unchecked_into()
    };
    let python = first();
    assert_eq!(python.text_content().unwrap(), "Python×2");
    // An edit that joins a word to the first "Python": its highlight goes
    // at once (carried over), the skills list stays the answer's (the same
    // buttons, not rebuilt) until the next answer.
    let ta = textarea(&root);
    let edited = "I use Pythonic, SQL and python again";
    type_text(&ta, edited);
    tick().await;
    assert_eq!(root.query_selector_all("mark").unwrap().length(), 2);
    assert!(first().is_same_node(Some(&python)));
    assert_eq!(python.text_content().unwrap(), "Python×2");
    assert!(root
        .text_content()
        .unwrap()
        .contains("2 skills, 3 highlights"));
    // Selecting goes to the occurrences in the text as it is now: the
    // "python" that is still highlighted, 8 units further on.
    python.click();
    assert_eq!(
        (ta.selection_start().unwrap(), ta.selection_end().unwrap()),
        (Some(24), Some(30))
    );
    // The answer to the edit updates the list.
    answer(
        &app,
        Editor::Cv,
        edited,
        vec![span(edited, "SQL", None), span(edited, "python", None)],
    );
    tick().await;
    let names = texts(&root, ".skill-list .skill");
    assert_eq!(names, ["SQL", "python"]);
    assert!(root
        .text_content()
        .unwrap()
        .contains("2 skills, 2 highlights"));
}

#[wasm_bindgen_test]
async fn the_match_panel_scores_job_skills_covered() {
    let cv = "Rust, SQL, Docker";
    let (app, root) = mount(cv, || view! { <MatchPanel/> });
    app.mode.set(Mode::Match);
    let job = "SQL, Kubernetes, Rust, Go";
    app.editor(Editor::Job).text.set(job.to_owned());
    answer(
        &app,
        Editor::Cv,
        cv,
        vec![
            span(cv, "Rust", Some("Rust")),
            span(cv, "SQL", Some("SQL")),
            span(cv, "Docker", None),
        ],
    );
    answer(
        &app,
        Editor::Job,
        job,
        vec![
            span(job, "SQL", Some("SQL")),
            span(job, "Kubernetes", None),
            span(job, "Rust", Some("Rust")),
            span(job, "Go", None),
        ],
    );
    tick().await;
    let score = root.query_selector(".score-value").unwrap().unwrap();
    assert_eq!(score.text_content().unwrap(), "50%");
    let missing = root
        .query_selector(".match-list.missing")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap();
    assert_eq!(missing, "Missing from the CV (2)KubernetesGo");
    assert!(root
        .text_content()
        .unwrap()
        .contains("Your CV covers 2 of the 4 skills"));
}

#[wasm_bindgen_test]
async fn skill_names_with_html_render_as_text() {
    let evil = "<img src=x onerror=alert(1)>";
    let cv = "Rust and SQL";
    let (app, root) = mount(cv, || {
        view! {
            <EditorPane editor=Editor::Cv/>
            <SkillsPanel editor=Editor::Cv/>
            <MatchPanel/>
        }
    });
    let job = "SQL and Rust";
    app.editor(Editor::Job).text.set(job.to_owned());
    answer(
        &app,
        Editor::Cv,
        cv,
        vec![span(cv, "Rust", Some(evil)), span(cv, "SQL", Some("SQL"))],
    );
    answer(
        &app,
        Editor::Job,
        job,
        vec![span(job, "SQL", Some("SQL")), span(job, "Rust", Some(evil))],
    );
    tick().await;
    assert_eq!(
        root.query_selector_all("img").unwrap().length(),
        0,
        "no element from a skill name"
    );
    let pills = root.query_selector(".skill-list").unwrap().unwrap();
    assert!(pills.text_content().unwrap().contains(evil));
    let shared = root.query_selector(".match-list.shared").unwrap().unwrap();
    assert!(shared.text_content().unwrap().contains(evil));
}

#[wasm_bindgen_test]
async fn a_text_over_the_limit_is_highlighted_up_to_it_and_says_so() {
    let (app, root) = mount("", || view! { <EditorPane editor=Editor::Cv/> });
    let text = "Rust. ".repeat(app::MAX_CHARS / 6 + 100);
    app.editor(Editor::Cv).text.set(text.clone());
    tick().await;
    let notice = root.query_selector(".limit-notice").unwrap().unwrap();
    assert_eq!(
        notice.text_content().unwrap(),
        format!(
            "This text has {} characters; RoleMapper highlights the first {}.",
            app::thousands(text.len()),
            app::thousands(app::MAX_CHARS)
        )
    );
    let backdrop = root.query_selector(".backdrop").unwrap().unwrap();
    assert!(backdrop.text_content().unwrap().chars().count() <= app::MAX_CHARS + 1);
}

#[wasm_bindgen_test]
async fn stale_roles_are_busy_at_once_and_dimmed_only_after_a_while() {
    let text = "Python and SQL";
    let (app, root) = mount(text, || {
        view! {
            <EditorPane editor=Editor::Cv/>
            <RolesPanel editor=Editor::Cv/>
        }
    });
    app.client
        .roles_data
        .set(RolesData::Ready { credits: vec![] });
    let ranking: skills::roles::Ranking = serde_json::from_value(serde_json::json!({
        "field": null,
        "fields": [],
        "roles": [{"uri": "http://data.europa.eu/esco/occupation/x", "title": "Data engineer",
                   "isco": "2511", "score": 0.5, "matched": ["Python"], "missing": ["SQL"]}],
    }))
    .unwrap();
    let roles_for = |text: &str| Roles {
        text: text.to_owned(),
        ranking: ranking.clone(),
        fit: None,
        ms: 1.0,
    };
    app.client.roles(Editor::Cv).set(roles_for(text));
    tick().await;
    let list = || root.query_selector(".role-list").unwrap().unwrap();
    assert_eq!(list().get_attribute("aria-busy").as_deref(), Some("false"));
    assert!(!list().class_list().contains("stale"));
    // A keystroke: busy at once, not dimmed (its roles are usually back
    // within a few frames) ...
    let ta = textarea(&root);
    type_text(&ta, "Python and SQL.");
    tick().await;
    assert_eq!(list().get_attribute("aria-busy").as_deref(), Some("true"));
    assert!(!list().class_list().contains("stale"));
    // ... dimmed once they stay stale ...
    sleep(500).await;
    assert!(list().class_list().contains("stale"));
    // ... and back at once with the roles of the text.
    app.client
        .roles(Editor::Cv)
        .set(roles_for("Python and SQL."));
    tick().await;
    assert_eq!(list().get_attribute("aria-busy").as_deref(), Some("false"));
    assert!(!list().class_list().contains("stale"));
    // Roles that come back before the delay never dim the list.
    type_text(&ta, "Python and SQL!");
    tick().await;
    app.client
        .roles(Editor::Cv)
        .set(roles_for("Python and SQL!"));
    sleep(500).await;
    assert!(!list().class_list().contains("stale"));
}
