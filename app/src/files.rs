//! CV files opened in the page (button or drag and drop): their text is
//! extracted by the `extract` crate in a worker of its own, started for
//! each file and ended after it, so that
//! - the page's first load carries none of the extractor (its wasm is
//!   fetched the first time a file is opened),
//! - a large or hostile file never holds the page's main thread or the
//!   model's worker, and
//! - a reader that fails (a panic in wasm ends the instance), or runs past
//!   [`TIMEOUT_MS`], costs that one worker and gives a message.
//!
//! The page checks the size before reading the file ([`read`]), the worker
//! everything else ([`run`]). The text is the same as the CLI's (`rolemapper
//! tag cv.pdf`): the same Rust.

use serde::{Deserialize, Serialize};

/// How long one file may take before its worker is ended.
pub const TIMEOUT_MS: i32 = 60_000;

/// The extractor worker's loader, next to the page; the build names it by
/// its contents and `boot.js` says the name (`__rolemapperExtractor`).
const LOADER: &str = "./extractor_loader.js";

/// A file's text, as the worker answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileText {
    /// The part the editor takes (the first [`crate::client::MAX_CHARS`]
    /// characters): a longer text never crosses to the page's thread.
    pub text: String,
    /// Characters in the whole text.
    pub chars: usize,
    /// `PDF`, `DOCX`, …
    pub format: String,
    pub pages: Option<u32>,
    /// Time in the worker, ms.
    pub ms: f64,
}

/// The worker's answer: the text, or why the file was not read (for the user).
pub type Reply = Result<FileText, String>;

/// The extractor worker: says `"ready"`, then answers each `{name, bytes}`
/// message with a [`Reply`] as JSON.
pub fn run() {
    use wasm_bindgen::prelude::*;
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let own = scope.clone();
    let onmessage =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let data = ev.data();
            let get = |k: &str| js_sys::Reflect::get(&data, &JsValue::from_str(k)).ok();
            let name = get("name").and_then(|n| n.as_string()).unwrap_or_default();
            let bytes = get("bytes")
                .map(|b| js_sys::Uint8Array::new(&b).to_vec())
                .unwrap_or_default();
            let start = crate::service::now_ms();
            let reply: Reply = extract::extract(&name, &bytes)
                .map(|e| FileText {
                    chars: e.text.chars().count(),
                    text: crate::client::into_limited(e.text),
                    format: e.format.name().to_string(),
                    pages: e.pages,
                    ms: crate::service::now_ms() - start,
                })
                .map_err(|e| e.to_string());
            let json = serde_json::to_string(&reply).unwrap_or_default();
            let _ = own.post_message(&JsValue::from_str(&json));
        });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    let _ = scope.post_message(&JsValue::from_str("ready"));
}

/// Refuses a file by its size alone, before reading it (the same limit and
/// message as the extractor's).
pub fn check_size(bytes: f64) -> Result<(), String> {
    if bytes > extract::MAX_FILE_BYTES as f64 {
        return Err(extract::ExtractError::TooLarge {
            bytes: bytes as usize,
            limit: extract::MAX_FILE_BYTES,
        }
        .to_string());
    }
    Ok(())
}

/// Reads `file`'s text in a new extractor worker (see the module's doc).
pub async fn read(file: web_sys::File) -> Reply {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;

    check_size(file.size())?;
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|e| format!("the browser could not read the file ({e:?})"))?;
    let loader = js_sys::Reflect::get(&js_sys::global(), &"__rolemapperExtractor".into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_else(|| LOADER.to_string());
    let worker = web_sys::Worker::new(&loader)
        .map_err(|e| format!("this browser cannot start the file reader ({e:?})"))?;
    let (tx, rx) = futures::channel::oneshot::channel::<Reply>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let send = {
        let tx = tx.clone();
        move |r: Reply| {
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(r);
            }
        }
    };
    let message = JsValue::from(js_sys::Object::new());
    let _ = js_sys::Reflect::set(&message, &"name".into(), &file.name().into());
    let _ = js_sys::Reflect::set(&message, &"bytes".into(), &buffer);
    let onmessage = {
        let send = send.clone();
        let worker = worker.clone();
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            match ev.data().as_string().as_deref() {
                Some("ready") => {
                    // The bytes move to the worker (no copy).
                    let transfer = js_sys::Array::of1(&buffer);
                    if let Err(e) = worker.post_message_with_transfer(&message, &transfer) {
                        send(Err(format!(
                            "the file could not be sent to the reader ({e:?})"
                        )));
                    }
                }
                Some(json) => send(serde_json::from_str(json).unwrap_or_else(|e| {
                    Err(format!("the file reader's answer was not understood ({e})"))
                })),
                None => {}
            }
        })
    };
    let onerror = {
        let send = send.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            send(Err(
                "the file reader stopped on this file: it is damaged, or not the kind its name says"
                    .into(),
            ))
        })
    };
    let ontimeout = {
        let send = send.clone();
        Closure::<dyn FnMut()>::new(move || {
            send(Err(format!(
                "reading it took over {} s, so it was stopped",
                TIMEOUT_MS / 1000
            )))
        })
    };
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    let window = web_sys::window();
    let timer = window.as_ref().and_then(|w| {
        w.set_timeout_with_callback_and_timeout_and_arguments_0(
            ontimeout.as_ref().unchecked_ref(),
            TIMEOUT_MS,
        )
        .ok()
    });
    let reply = rx
        .await
        .unwrap_or_else(|_| Err("the file reader stopped".into()));
    worker.terminate();
    if let (Some(w), Some(t)) = (window, timer) {
        w.clear_timeout_with_handle(t);
    }
    // The closures lived until here: the worker is gone, so none runs again.
    drop((onmessage, onerror, ontimeout));
    reply
}
