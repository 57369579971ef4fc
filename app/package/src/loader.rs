//! Getting the model bundle into the worker: the site's manifest says
//! which file is current and its SHA-256; the bundle is streamed with
//! progress, checked against the manifest, and kept in the Cache API so
//! that the next visit starts without the network.
//!
//! Trust: a download is used only when its SHA-256 (computed as it streams)
//! equals the manifest's. A cached bundle is used when the manifest stored
//! with it names the same SHA-256 and size as the site's manifest (or,
//! offline, as is); it is not hashed again here, because
//! [`skills::bundle::Bundle::read`] checks the file's own whole-file SHA-256
//! anyway, and a copy that fails it is deleted and downloaded again
//! (`service`). Hashing 20 MB twice cost the cached start about a third of a
//! second.

use crate::protocol::Progress;
use js_sys::{Object, Reflect, Uint8Array};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Request, RequestCache, RequestInit, Response, WorkerGlobalScope};

/// The Cache API cache that holds the model (manifest and bundle).
pub const CACHE_NAME: &str = "rolemapper-model-v1";
/// Where the app's model lives, relative to the site's base URL (the
/// package's users name their bundle instead: [`ModelAt`]).
pub const MODEL_DIR: &str = "model/";

/// Where a model is: the folder that holds `manifest.json` (and the role
/// table), and the bundle's file name when the page named one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelAt {
    /// Absolute URL of the folder, ending in `/`.
    pub dir: String,
    /// The bundle's file name, which the manifest must name too.
    pub file: Option<String>,
}

impl ModelAt {
    /// The app's model: `model/` under the site's base URL.
    pub fn site(base: &str) -> Self {
        Self {
            dir: format!("{base}{MODEL_DIR}"),
            file: None,
        }
    }

    /// A bundle named by its absolute URL (the package's `model` option):
    /// its manifest and role table lie next to it.
    pub fn bundle(url: &str) -> Self {
        let path = url.split(['?', '#']).next().unwrap_or_default();
        let dir = crate::service::base_of(path).to_owned();
        let file = path[dir.len()..].to_owned();
        Self {
            dir,
            file: (!file.is_empty()).then_some(file),
        }
    }
}

include!(concat!(env!("OUT_DIR"), "/roles_table.rs"));

/// The role table (`skills/roles/roles.json.gz`), next to the bundle. It
/// is a file of its own, not a section of the bundle: it is built from the
/// ESCO, Nesta and O*NET data, not by training, so a new model does not
/// change it (nor a new table the model); and it loads after the model,
/// so the first highlight does not wait for it. The build records its
/// SHA-256 ([`ROLES_SHA256`], app/build.rs): the code that reads it is
/// built for that table.
pub const ROLES_FILE: &str = "roles.json.gz";

/// `model/manifest.json`, as `model-export` writes it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Manifest {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    pub name: String,
}

impl Manifest {
    /// Parses and checks a manifest: `file` must be a plain file name.
    pub fn parse(json: &str) -> Result<Self, String> {
        let m: Manifest = serde_json::from_str(json)
            .map_err(|e| format!("the model manifest is not valid ({e})"))?;
        if m.file.is_empty() || m.file.contains(['/', '\\']) || m.file.starts_with('.') {
            return Err(format!(
                "the model manifest names {:?}, which is not a file name",
                m.file
            ));
        }
        Ok(m)
    }
}

/// A bundle ready to be read.
pub struct Loaded {
    pub bytes: Vec<u8>,
    pub manifest: Manifest,
    pub from_cache: bool,
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    skills::bundle::sha256_update(&mut h, bytes);
    hex(&h.finalize())
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn scope() -> WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn js_message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}

/// Fetches `url` past the HTTP cache: a model update must be seen at once.
async fn fetch(url: &str) -> Result<Response, String> {
    let init = RequestInit::new();
    init.set_cache(RequestCache::NoStore);
    let req = Request::new_with_str_and_init(url, &init).map_err(|e| js_message(&e))?;
    let resp = JsFuture::from(scope().fetch_with_request(&req))
        .await
        .map_err(|e| js_message(&e))?;
    Ok(resp.unchecked_into())
}

async fn open_cache() -> Option<Cache> {
    // The Cache API exists only in secure contexts (https, localhost).
    let caches = scope().caches().ok()?;
    JsFuture::from(caches.open(CACHE_NAME))
        .await
        .ok()
        .map(JsCast::unchecked_into)
}

async fn cached(cache: &Cache, url: &str) -> Option<Response> {
    let found = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    found.dyn_into::<Response>().ok()
}

async fn body_bytes(resp: &Response) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(resp.array_buffer().map_err(|e| js_message(&e))?)
        .await
        .map_err(|e| js_message(&e))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

async fn body_text(resp: &Response) -> Result<String, String> {
    let text = JsFuture::from(resp.text().map_err(|e| js_message(&e))?)
        .await
        .map_err(|e| js_message(&e))?;
    text.as_string()
        .ok_or_else(|| "the response is not text".into())
}

/// Streams the body of `resp`, hashing as it comes, reporting progress.
async fn download(
    resp: &Response,
    expected: u64,
    progress: &dyn Fn(Progress),
) -> Result<(Vec<u8>, String), String> {
    let Some(body) = resp.body() else {
        let bytes = body_bytes(resp).await?;
        let sha = sha256_hex(&bytes);
        return Ok((bytes, sha));
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(expected as usize);
    let mut hasher = Sha256::new();
    let mut reported = u64::MAX;
    progress(Progress::Download {
        loaded: 0,
        total: expected,
    });
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| format!("the download was interrupted ({})", js_message(&e)))?;
        let done = Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(|e| js_message(&e))?
            .unchecked_into();
        let start = bytes.len();
        bytes.resize(start + value.length() as usize, 0);
        value.copy_to(&mut bytes[start..]);
        hasher.update(&bytes[start..]);
        // At most one message per percent.
        let loaded = bytes.len() as u64;
        let percent = loaded * 100 / expected.max(1);
        if percent != reported {
            reported = percent;
            progress(Progress::Download {
                loaded,
                total: expected,
            });
        }
    }
    Ok((bytes, hex(&hasher.finalize())))
}

/// Starts the bundle's checksum (see `skills::bundle::checksum_range`) in
/// the browser's WebCrypto: `None` where there is none (an insecure
/// context) or the file has no checksum where the format puts it (the read
/// says so). WebCrypto copies the message at the call (and Chromium hashes
/// it there, on this thread: ≈ 16–19 ms for 20 MB), so the message is
/// `bytes` itself, its checksum digits read as the placeholder for the
/// call and put back after, rather than a copy of the file made here.
pub fn start_digest(bytes: &mut [u8]) -> Option<js_sys::Promise> {
    let (range, _) = skills::bundle::checksum_range(bytes).ok()?;
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    let subtle: web_sys::SubtleCrypto = Reflect::get(&crypto, &"subtle".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let recorded = bytes[range.clone()].to_vec();
    bytes[range.clone()].copy_from_slice(&skills::bundle::SHA_PLACEHOLDER);
    // wasm-bindgen's glue views the bytes in wasm memory and calls
    // `digest` with that view in one JS function, nothing in between.
    let called = subtle.digest_with_str_and_u8_array("SHA-256", bytes);
    bytes[range].copy_from_slice(&recorded);
    called.ok()
}

/// The hex digest [`start_digest`] computes, when it is done.
pub async fn finish_digest(digest: js_sys::Promise) -> Option<String> {
    let buffer = JsFuture::from(digest).await.ok()?;
    Some(hex(&Uint8Array::new(&buffer).to_vec()))
}

/// The manifest and bundle, from the network or the cache (see the module
/// doc). Errors are messages for the user.
pub async fn load(
    at: &ModelAt,
    progress: &dyn Fn(Progress),
    steps: &mut Vec<(String, f64)>,
) -> Result<Loaded, String> {
    let now = crate::service::now_ms;
    let mut t = now();
    let mut step = move |steps: &mut Vec<(String, f64)>, name: &str| {
        let n = now();
        steps.push((name.to_owned(), n - t));
        t = n;
    };
    let dir = &at.dir;
    let manifest_url = format!("{dir}manifest.json");
    progress(Progress::Manifest);
    // The cache opens while the manifest comes from the network.
    let online = async {
        match fetch(&manifest_url).await {
            Ok(resp) if resp.ok() => Ok(Some(Manifest::parse(&body_text(&resp).await?)?)),
            Ok(resp) => Err(format!(
                "the model's manifest ({manifest_url}) answered HTTP {}: the model's folder must hold the manifest.json that model-export wrote next to the bundle (for the app, scripts/serve.sh copies public/model into dist/)",
                resp.status()
            )),
            Err(_) => Ok(None),
        }
    };
    let (cache, online) = futures::join!(open_cache(), online);
    step(steps, "cache_open_and_manifest_fetch");
    let Some(manifest) = online? else {
        let loaded = load_offline(cache.as_ref(), &manifest_url, dir, progress).await;
        step(steps, "cache_read");
        return loaded;
    };
    if let Some(file) = at.file.as_deref().filter(|f| *f != manifest.file) {
        return Err(format!(
            "{manifest_url} is the manifest of {}, not of {file}: name the bundle that model-export wrote with this manifest",
            manifest.file
        ));
    }
    let bundle_url = format!("{dir}{}", manifest.file);

    if let Some(cache) = &cache {
        // The manifest stored with the cached bundle must name this bundle;
        // it is read while the bundle is.
        let same = async {
            match cached(cache, &manifest_url).await {
                Some(resp) => body_text(&resp)
                    .await
                    .ok()
                    .and_then(|j| Manifest::parse(&j).ok())
                    .is_some_and(|m| m.sha256 == manifest.sha256 && m.bytes == manifest.bytes),
                None => false,
            }
        };
        let bundle = async {
            let resp = cached(cache, &bundle_url).await?;
            progress(Progress::Loading { from_cache: true });
            Some(body_bytes(&resp).await)
        };
        let (same, bundle) = futures::join!(same, bundle);
        if let Some(Ok(bytes)) = bundle {
            step(steps, "cache_read");
            let ok = if same && bytes.len() as u64 == manifest.bytes {
                true
            } else {
                let ok = sha256_hex(&bytes) == manifest.sha256;
                step(steps, "cache_sha256");
                ok
            };
            if ok {
                return Ok(Loaded {
                    bytes,
                    manifest,
                    from_cache: true,
                });
            }
        }
    }

    let resp = fetch(&bundle_url)
        .await
        .map_err(|e| format!("could not download the model ({e}); check the connection"))?;
    if !resp.ok() {
        return Err(format!(
            "could not download the model: {bundle_url} answered HTTP {}",
            resp.status()
        ));
    }
    let (bytes, sha) = download(&resp, manifest.bytes, progress).await?;
    step(steps, "download_and_sha256");
    if sha != manifest.sha256 {
        return Err(format!(
            "the downloaded model is damaged: {} bytes with SHA-256 {sha}, but the manifest says {} bytes with {}",
            bytes.len(),
            manifest.bytes,
            manifest.sha256
        ));
    }
    progress(Progress::Loading { from_cache: false });
    if let Some(cache) = &cache {
        store(cache, dir, &manifest_url, &bundle_url, &bytes, &manifest).await;
        step(steps, "cache_store");
    }
    Ok(Loaded {
        bytes,
        manifest,
        from_cache: false,
    })
}

/// The role table, from the cache or else the network, used only if its
/// SHA-256 is the one this build ships ([`ROLES_SHA256`]); a download is
/// kept in the model's cache (it goes with the bundle when a new model
/// replaces the cache). Errors are messages for the user.
pub async fn load_roles(dir: &str) -> Result<Vec<u8>, String> {
    let url = format!("{dir}{ROLES_FILE}");
    let cache = open_cache().await;
    if let Some(cache) = &cache {
        if let Some(resp) = cached(cache, &url).await {
            if let Ok(bytes) = body_bytes(&resp).await {
                if bytes.len() as u64 == ROLES_BYTES && sha256_hex(&bytes) == ROLES_SHA256 {
                    return Ok(bytes);
                }
            }
            let _ = JsFuture::from(cache.delete_with_str(&url)).await;
        }
    }
    let resp = fetch(&url).await.map_err(|e| {
        format!("the role data could not be downloaded ({e}); check the connection and reload")
    })?;
    if !resp.ok() {
        return Err(format!(
            "the role data could not be downloaded: {url} answered HTTP {}",
            resp.status()
        ));
    }
    let bytes = body_bytes(&resp).await?;
    let sha = sha256_hex(&bytes);
    if sha != ROLES_SHA256 {
        return Err(format!(
            "the role data is damaged or from another build: {} bytes with SHA-256 {sha}, but this page expects {ROLES_BYTES} bytes with {ROLES_SHA256}",
            bytes.len()
        ));
    }
    if let Some(cache) = &cache {
        put(cache, &url, &Uint8Array::from(bytes.as_slice())).await;
    }
    Ok(bytes)
}

/// Without the network: the cached manifest and its bundle, if they agree.
async fn load_offline(
    cache: Option<&Cache>,
    manifest_url: &str,
    dir: &str,
    progress: &dyn Fn(Progress),
) -> Result<Loaded, String> {
    const OFFLINE: &str = "the model cannot be downloaded (are you offline?) and this browser has no saved copy yet; connect to the internet and Retry";
    let cache = cache.ok_or(OFFLINE)?;
    let resp = cached(cache, manifest_url).await.ok_or(OFFLINE)?;
    let manifest = Manifest::parse(&body_text(&resp).await?)?;
    let bundle_url = format!("{dir}{}", manifest.file);
    let resp = cached(cache, &bundle_url).await.ok_or(OFFLINE)?;
    progress(Progress::Loading { from_cache: true });
    let bytes = body_bytes(&resp).await?;
    // Not hashed again: `Bundle::read` checks the file's own SHA-256.
    if bytes.len() as u64 != manifest.bytes {
        forget(cache, dir).await;
        return Err(format!(
            "the saved copy of the model is damaged and was deleted; {OFFLINE}"
        ));
    }
    Ok(Loaded {
        bytes,
        manifest,
        from_cache: true,
    })
}

/// Replaces the cached files of this model's folder with this manifest and
/// bundle (other folders' models, on pages that load more than one, stay).
async fn store(
    cache: &Cache,
    dir: &str,
    manifest_url: &str,
    bundle_url: &str,
    bytes: &[u8],
    m: &Manifest,
) {
    forget(cache, dir).await;
    let json = serde_json::json!({
        "file": m.file, "bytes": m.bytes, "sha256": m.sha256, "name": m.name,
    })
    .to_string();
    put(cache, bundle_url, &Uint8Array::from(bytes)).await;
    put(cache, manifest_url, &Uint8Array::from(json.as_bytes())).await;
}

async fn put(cache: &Cache, url: &str, body: &Object) {
    if let Ok(resp) = Response::new_with_opt_buffer_source(Some(body)) {
        // A full disk or a private window only costs the next visit a download.
        let _ = JsFuture::from(cache.put_with_str(url, &resp)).await;
    }
}

/// Deletes every cached file of the model folder `dir` (an old model, or a
/// damaged one, and its role table).
pub async fn forget(cache: &Cache, dir: &str) {
    let Ok(keys) = JsFuture::from(cache.keys()).await else {
        return;
    };
    for req in js_sys::Array::from(&keys).iter() {
        let req: Request = req.unchecked_into();
        if req.url().starts_with(dir) {
            let _ = JsFuture::from(cache.delete_with_request(&req)).await;
        }
    }
}

/// Deletes the cached model of folder `dir`, e.g. when the bundle fails to load.
pub async fn forget_cached_model(dir: &str) {
    if let Some(cache) = open_cache().await {
        forget(&cache, dir).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_name_a_plain_file() {
        let ok = r#"{"file":"m.gguf","bytes":3,"sha256":"ab","format_version":1,"name":"x","storage":{}}"#;
        assert_eq!(Manifest::parse(ok).unwrap().file, "m.gguf");
        for bad in ["../x", "a/b", "", ".hidden"] {
            let json = ok.replace("m.gguf", bad);
            assert!(Manifest::parse(&json).is_err(), "{bad}");
        }
        assert!(Manifest::parse("{").is_err());
        assert_eq!(
            ModelAt::site("https://h/demo/"),
            ModelAt {
                dir: "https://h/demo/model/".into(),
                file: None
            }
        );
        assert_eq!(
            ModelAt::bundle("https://h/a/m/rolemapper.gguf?v=2"),
            ModelAt {
                dir: "https://h/a/m/".into(),
                file: Some("rolemapper.gguf".into())
            }
        );
        assert_eq!(ModelAt::bundle("https://h/a/m/").file, None);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
