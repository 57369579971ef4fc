//! Small browser chores for the components: URL parameters, selecting text
//! in an editor, copying, downloading, the theme, the service worker.

use crate::client::Editor;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlTextAreaElement};

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("the app runs in a page")
}

/// The page's query parameter `name` (`Some("")` for a bare `?embed`).
pub fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// The textarea of `editor`, if it is in the page.
pub fn textarea(editor: Editor) -> Option<HtmlTextAreaElement> {
    document()
        .get_element_by_id(editor.textarea_id())?
        .dyn_into()
        .ok()
}

/// Selects UTF-16 range `start..end` in `editor`, focuses it and scrolls it
/// into view, as if the user had selected it.
pub fn select(editor: Editor, start: usize, end: usize) {
    let Some(ta) = textarea(editor) else { return };
    let _ = ta.focus();
    let _ = ta.set_selection_range(start as u32, end as u32);
    // The backdrop has the textarea's layout: its mark says where the
    // selection is, whatever the browser does about scrolling.
    let (line, at) = crate::marks::line_of(&ta.value(), start).unwrap_or_default();
    let selector = format!(
        "#{}-backdrop > div:nth-child({}) > mark[data-start=\"{at}\"]",
        editor.textarea_id(),
        line + 1
    );
    if let Some(mark) = document()
        .query_selector(&selector)
        .ok()
        .flatten()
        .and_then(|m| m.dyn_into::<HtmlElement>().ok())
    {
        ta.set_scroll_top((mark.offset_top() - ta.client_height() / 3).max(0));
    }
    let opts = web_sys::ScrollIntoViewOptions::new();
    opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
    ta.scroll_into_view_with_scroll_into_view_options(&opts);
}

/// Texts longer than this (in bytes) are not put in through the browser's
/// editing (see [`replace_text`]).
const LONG_TEXT_BYTES: usize = 50_000;

/// Replaces the whole text of `editor` the way typing would, so that the
/// browser's undo brings the old text back; a text over
/// [`LONG_TEXT_BYTES`] is set directly. Returns false if the text was set
/// directly or the browser refused (the caller then updates the state).
pub fn replace_text(editor: Editor, text: &str) -> bool {
    let Some(ta) = textarea(editor) else {
        return false;
    };
    if text.len() > LONG_TEXT_BYTES {
        // Chromium's editing takes seconds over some 100,000 characters:
        // set directly (no undo step).
        ta.set_value(text);
        ta.set_scroll_top(0);
        return false;
    }
    let _ = ta.focus();
    ta.select();
    let doc: web_sys::HtmlDocument = document().unchecked_into();
    let done = if text.is_empty() {
        doc.exec_command("delete").unwrap_or(false)
    } else {
        doc.exec_command_with_show_ui_and_value("insertText", false, text)
            .unwrap_or(false)
    };
    if done {
        let _ = ta.set_selection_range(0, 0);
        ta.set_scroll_top(0);
    } else {
        ta.set_value(text);
    }
    done
}

/// Copies `text` to the clipboard; the answer says how it went, for the
/// user.
pub async fn copy(text: &str) -> Result<(), String> {
    let clipboard = web_sys::window().map(|w| w.navigator().clipboard());
    if let Some(c) = clipboard {
        if wasm_bindgen_futures::JsFuture::from(c.write_text(text))
            .await
            .is_ok()
        {
            return Ok(());
        }
    }
    // Without the async clipboard (insecure context, denied permission):
    // the old way, through a selected textarea.
    let doc = document();
    let ta: HtmlTextAreaElement = doc
        .create_element("textarea")
        .map_err(|_| "cannot copy here")?
        .unchecked_into();
    ta.set_value(text);
    let _ = ta.set_attribute("readonly", "");
    let _ = ta.set_attribute("class", "offscreen");
    let body = doc.body().ok_or("cannot copy here")?;
    let _ = body.append_child(&ta);
    ta.select();
    let ok = doc
        .unchecked_ref::<web_sys::HtmlDocument>()
        .exec_command("copy")
        .unwrap_or(false);
    ta.remove();
    ok.then_some(()).ok_or_else(|| {
        "this browser did not allow copying; select the list and copy it by hand".into()
    })
}

/// Offers `contents` as a file download named `name`.
pub fn download(name: &str, mime: &str, contents: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(contents));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let a: web_sys::HtmlAnchorElement = document().create_element("a")?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    web_sys::Url::revoke_object_url(&url)
}

/// The theme shown now: the saved choice, else the system's.
pub fn current_theme() -> &'static str {
    let saved = document()
        .document_element()
        .and_then(|e| e.get_attribute("data-theme"));
    match saved.as_deref() {
        Some("dark") => "dark",
        Some("light") => "light",
        _ => {
            let dark = web_sys::window()
                .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
                .is_some_and(|m| m.matches());
            if dark {
                "dark"
            } else {
                "light"
            }
        }
    }
}

/// Shows `theme` and remembers it (`boot.js` applies it on the next visit
/// before the app starts, so the page does not flash).
pub fn set_theme(theme: &str) {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", theme);
    }
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item("rolemapper-theme", theme);
    }
}

/// Registers `sw.js`, which keeps the page's own files for offline visits
/// (the model is cached by the worker). Browsers without service workers,
/// or insecure origins, just go without.
pub fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    let has = js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false);
    if !has || !window.is_secure_context() {
        return;
    }
    let promise = navigator.service_worker().register("./sw.js");
    wasm_bindgen_futures::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    });
}

/// Records a named moment in the page's performance timeline (read by the
/// end-to-end tests and visible in the browser's performance tools).
pub fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// The backdrop's lines as DOM nodes (what `marks::backdrop_lines` writes as
/// HTML): for texts the HTML parser would change (it drops NUL characters).
pub fn fill_backdrop(
    backdrop: &web_sys::Element,
    text: &str,
    spans: &[crate::protocol::Span],
    active: Option<usize>,
) {
    backdrop.set_text_content(None);
    let doc = document();
    for line in crate::marks::lines(text, spans) {
        let Ok(div) = doc.create_element("div") else {
            continue;
        };
        for p in line {
            let node: web_sys::Node = match p.mark {
                None => doc.create_text_node(&p.text).into(),
                Some(i) => {
                    let Ok(mark) = doc.create_element("mark") else {
                        continue;
                    };
                    let class = crate::marks::mark_class(&spans[i], active == Some(i));
                    if !class.is_empty() {
                        let _ = mark.set_attribute("class", class);
                    }
                    let _ = mark.set_attribute("data-start", &p.start.to_string());
                    mark.set_text_content(Some(&p.text));
                    mark.into()
                }
            };
            let _ = div.append_child(&node);
        }
        let _ = backdrop.append_child(&div);
    }
}

/// Gives `backdrop` the text width of `area`. Both boxes are the editor's,
/// but a platform that draws classic scrollbars narrows the textarea's text
/// by its scrollbar while the backdrop hides its own, so the backdrop's
/// right padding takes the scrollbar's width too (0 with overlay
/// scrollbars). Called on every change of the textarea's size (a
/// `ResizeObserver`: mode switch, window resize, zoom, the resize handle),
/// after layout and before paint.
pub fn match_text_width(area: &HtmlTextAreaElement, backdrop: &HtmlElement) {
    if let Some(style) = web_sys::window().and_then(|w| w.get_computed_style(area).ok().flatten()) {
        let px = |name: &str| {
            style
                .get_property_value(name)
                .ok()
                .and_then(|v| v.trim_end_matches("px").parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let scrollbar = (f64::from(area.offset_width() - area.client_width())
            - px("border-left-width")
            - px("border-right-width"))
        .max(0.0);
        let padding = format!("{}px", px("padding-right") + scrollbar);
        let b = backdrop.style();
        if b.get_property_value("padding-right").ok().as_deref() != Some(padding.as_str()) {
            let _ = b.set_property("padding-right", &padding);
        }
    }
}

/// Calls `f` whenever `target` changes size (and once when observed), until
/// the returned guard is dropped. Browsers without `ResizeObserver` get
/// `None`.
pub fn on_resize(target: &web_sys::Element, f: impl FnMut() + 'static) -> Option<ResizeGuard> {
    let mut f = f;
    let callback = Closure::<dyn FnMut()>::new(move || f());
    let observer = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()).ok()?;
    observer.observe(target);
    Some(ResizeGuard {
        observer,
        _callback: callback,
    })
}

/// A live `ResizeObserver`; dropping it disconnects the observer before its
/// callback is freed.
pub struct ResizeGuard {
    observer: web_sys::ResizeObserver,
    _callback: Closure<dyn FnMut()>,
}

impl Drop for ResizeGuard {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// Lines rewritten one by one at most; past that the whole backdrop is set
/// at once (a paste, a new answer for much of the text).
const PATCH_MAX_LINES: usize = 32;

/// Brings the backdrop from the lines `old` (as `marks::backdrop_lines`
/// drew them; empty when it holds something else) to `new`: only the lines
/// between their common first and last lines are rewritten, added or
/// removed, so the browser lays out, shapes and paints those alone.
pub fn patch_backdrop(backdrop: &web_sys::Element, old: &[String], new: &[String]) {
    let children = backdrop.children();
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let (old_mid, new_mid) = (old.len() - prefix - suffix, new.len() - prefix - suffix);
    if old.is_empty()
        || children.length() as usize != old.len()
        || old_mid.max(new_mid) > PATCH_MAX_LINES
    {
        backdrop.set_inner_html(&crate::marks::wrap_lines(new));
        return;
    }
    for k in prefix..prefix + old_mid.min(new_mid) {
        if let Some(line) = children.item(k as u32) {
            line.set_inner_html(&new[k]);
        }
    }
    if new_mid > old_mid {
        let doc = document();
        let before = children.item((prefix + old_mid) as u32);
        for html in &new[prefix + old_mid..prefix + new_mid] {
            if let Ok(div) = doc.create_element("div") {
                div.set_inner_html(html);
                let _ = backdrop.insert_before(&div, before.as_ref().map(|e| e.as_ref()));
            }
        }
    } else {
        for _ in new_mid..old_mid {
            if let Some(line) = children.item((prefix + new_mid) as u32) {
                line.remove();
            }
        }
    }
}
