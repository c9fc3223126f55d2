//! The browser half of endpoint discovery: fetching `config.json` and the XEP-0156 documents with a size cap
//! and a timeout, and reading the JSON ones with the browser's own `JSON.parse` into [`discovery`]'s typed
//! values (so the wasm carries no JSON parser).
//!
//! Every fetch gets [`FETCH_TIMEOUT_MS`] for headers and body together, and its body is read as a stream and
//! dropped (the download cancelled) once it passes [`MAX_BODY`]: a hostile or broken server can neither make
//! the page hold a large body nor stall the login for longer than that. `config.json` is looked up next to the
//! app's own files (where `boot.js` was loaded from), whatever path the page is served under.
//!
//! What this does NOT do: judge the URLs found ([`super::url`] does), or keep anything between logins.

use std::time::Duration;

use js_sys::{Array, JSON, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStream, ReadableStreamDefaultReader, ReadableStreamReadResult, Response};

use super::TransportError;
use super::discovery::{
    self, AppConfig, CONFIG_URL, DiscoveryError, FETCH_TIMEOUT_MS, HostMetaLink, MAX_BODY, websocket_hrefs,
};
use super::url::check_ws_url;

/// config.json, then host-meta.json, then host-meta; the first acceptable WebSocket URL wins, with config.json's
/// response timeout if it sets one. When none is found, the error names the documents that were broken, too
/// large or too slow.
pub async fn discover(domain: &str) -> Result<(String, Option<Duration>), TransportError> {
    let mut problems = Vec::new();
    let config_url = config_url();
    let mut timeout = None;
    match fetch_text(&config_url).await.and_then(|text| parse_config(&config_url, &text)) {
        // The operator named the endpoint explicitly: its verdict (even "insecure") is final.
        Ok(config) => {
            timeout = config.timeout();
            if let Some(url) = config.websocket_url_for(domain) {
                return check_ws_url(url).map(|url| (url, timeout));
            }
        }
        Err(e) => problems.push(e),
    }
    let [json_url, xml_url] = discovery::host_meta_urls(domain);
    let mut refused = None;
    match fetch_text(&json_url).await.and_then(|text| parse_host_meta(&json_url, &text)) {
        Ok(links) => {
            if let Some(url) = first_acceptable(websocket_hrefs(&links), &mut refused) {
                return Ok((url, timeout));
            }
        }
        Err(e) => problems.push(e),
    }
    match fetch_text(&xml_url).await {
        Ok(text) => {
            if let Some(url) = first_acceptable(discovery::host_meta_xml_websockets(&text), &mut refused) {
                return Ok((url, timeout));
            }
        }
        Err(e) => problems.push(e),
    }
    problems.retain(DiscoveryError::worth_reporting);
    Err(refused.unwrap_or_else(|| TransportError::NoEndpoint { domain: domain.to_owned(), problems }))
}

/// The first of `hrefs` that [`check_ws_url`] accepts; the first refusal is kept in `refused`.
fn first_acceptable(hrefs: Vec<String>, refused: &mut Option<TransportError>) -> Option<String> {
    for href in hrefs {
        match check_ws_url(&href) {
            Ok(url) => return Some(url),
            Err(e) => {
                refused.get_or_insert(e);
            }
        }
    }
    None
}

/// Where `config.json` is: beside the app's files. `boot.js` notes their folder on the `natter-app` meta
/// (`data-base`); without it (tests), relative to the page.
pub fn config_url() -> String {
    let base = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector("meta[name=natter-app]").ok().flatten())
        .and_then(|m| m.get_attribute("data-base"));
    format!("{}{CONFIG_URL}", base.unwrap_or_default())
}

/// The body of a successful (2xx) GET of `url` as text, read within [`FETCH_TIMEOUT_MS`] and up to
/// [`MAX_BODY`] bytes.
pub async fn fetch_text(url: &str) -> Result<String, DiscoveryError> {
    let signal = AbortSignal::timeout_with_u32(FETCH_TIMEOUT_MS);
    fetch_text_with(url, &signal).await
}

/// Whether a web server answers a plain GET of `url` at all (any status; `no-cors`, so nothing is read),
/// within [`FETCH_TIMEOUT_MS`]: tells "not an XMPP WebSocket endpoint" apart from "could not be reached".
pub async fn answers_http(url: &str) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let init = web_sys::RequestInit::new();
    init.set_mode(web_sys::RequestMode::NoCors);
    init.set_signal(Some(&AbortSignal::timeout_with_u32(FETCH_TIMEOUT_MS)));
    JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.is_ok()
}

/// [`fetch_text`], aborted by `signal` (which the caller may also abort) instead of the usual timeout.
pub async fn fetch_text_with(url: &str, signal: &AbortSignal) -> Result<String, DiscoveryError> {
    let failed = |signal: &AbortSignal| match signal.aborted() {
        true => DiscoveryError::TimedOut { url: url.to_owned() },
        false => DiscoveryError::Unreachable { url: url.to_owned() },
    };
    let window = web_sys::window().ok_or_else(|| failed(signal))?;
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(signal));
    let response: Response =
        JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.map_err(|_| failed(signal))?.unchecked_into();
    if !response.ok() {
        return Err(DiscoveryError::Status { url: url.to_owned(), status: response.status() });
    }
    let too_large = || DiscoveryError::TooLarge { url: url.to_owned() };
    let declared = response.headers().get("content-length").ok().flatten().and_then(|l| l.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        if let Some(body) = response.body() {
            settle_quietly(body.cancel());
        }
        return Err(too_large());
    }
    let Some(body) = response.body() else { return Ok(String::new()) };
    match read_capped(&body, MAX_BODY, signal).await {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(ReadError::TooLarge) => Err(too_large()),
        Err(ReadError::Aborted | ReadError::Failed) => Err(failed(signal)),
    }
}

/// Why [`read_capped`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// More than the limit arrived (the stream was cancelled there).
    TooLarge,
    /// The signal was aborted (the stream was cancelled).
    Aborted,
    /// The stream failed.
    Failed,
}

/// Reads `stream` to its end, as long as it stays within `limit` bytes and `signal` is not aborted; stops
/// (and cancels the stream) as soon as either is not so. Honours `signal` itself, for any stream.
pub async fn read_capped(stream: &ReadableStream, limit: usize, signal: &AbortSignal) -> Result<Vec<u8>, ReadError> {
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    // Settles (rejects) when the signal aborts; raced against every read.
    let aborted = Promise::new(&mut |_, reject| {
        if signal.aborted() {
            let _ = reject.call0(&JsValue::UNDEFINED);
        } else {
            signal.set_onabort(Some(&reject));
        }
    });
    let mut out = Vec::new();
    let result = loop {
        let read = Promise::race(&Array::of2(&reader.read(), &aborted));
        let chunk: ReadableStreamReadResult = match JsFuture::from(read).await {
            Ok(chunk) => chunk.unchecked_into(),
            Err(_) if signal.aborted() => break Err(ReadError::Aborted),
            Err(_) => break Err(ReadError::Failed),
        };
        if chunk.get_done() == Some(true) {
            break Ok(out);
        }
        let Some(bytes) = chunk.get_value().dyn_ref::<Uint8Array>().map(Uint8Array::to_vec) else {
            break Err(ReadError::Failed);
        };
        if out.len() + bytes.len() > limit {
            break Err(ReadError::TooLarge);
        }
        out.extend_from_slice(&bytes);
    };
    signal.set_onabort(None);
    if result.is_err() {
        settle_quietly(reader.cancel());
    }
    result
}

/// Lets `promise` settle with nobody interested in how (a rejection not awaited would be reported on the
/// console as an uncaught error).
fn settle_quietly(promise: Promise) {
    wasm_bindgen_futures::spawn_local(async move {
        let _ = JsFuture::from(promise).await;
    });
}

/// `config.json` (fetched from `url`) as typed values: an object whose `websocket_url` and `domain`, when
/// present and not `null`, are strings, and whose `timeout_seconds` is a whole number of seconds.
pub fn parse_config(url: &str, text: &str) -> Result<AppConfig, DiscoveryError> {
    let malformed = |reason: String| DiscoveryError::Malformed { url: url.to_owned(), reason };
    let doc = parse_object(text).map_err(malformed)?;
    let member = |key: &str| optional_string(&doc, key).map_err(|()| malformed(format!("“{key}” is not a string")));
    let timeout = Reflect::get(&doc, &"timeout_seconds".into()).unwrap_or(JsValue::UNDEFINED);
    let timeout_seconds = match timeout.as_f64() {
        _ if timeout.is_undefined() || timeout.is_null() => None,
        Some(s) if s.fract() == 0.0 && s >= 0.0 => Some(if s > f64::from(u32::MAX) { u32::MAX } else { s as u32 }),
        _ => return Err(malformed("“timeout_seconds” is not a whole number of seconds".into())),
    };
    Ok(AppConfig { websocket_url: member("websocket_url")?, domain: member("domain")?, timeout_seconds })
}

/// A `host-meta.json` document (fetched from `url`, RFC 6415 JRD) as its links: an object whose `links`, when
/// present, is an array. Entries without a string `rel` and `href` are skipped (they may be of a kind we do
/// not know).
pub fn parse_host_meta(url: &str, text: &str) -> Result<Vec<HostMetaLink>, DiscoveryError> {
    let malformed = |reason: String| DiscoveryError::Malformed { url: url.to_owned(), reason };
    let doc = parse_object(text).map_err(malformed)?;
    let links = Reflect::get(&doc, &"links".into()).unwrap_or(JsValue::UNDEFINED);
    if links.is_undefined() || links.is_null() {
        return Ok(Vec::new());
    }
    if !Array::is_array(&links) {
        return Err(malformed("“links” is not an array".into()));
    }
    let string = |link: &JsValue, key: &str| Reflect::get(link, &key.into()).ok().and_then(|v| v.as_string());
    Ok(Array::from(&links)
        .iter()
        .filter(|link| link.is_object())
        .filter_map(|link| Some(HostMetaLink { rel: string(&link, "rel")?, href: string(&link, "href")? }))
        .collect())
}

/// The document as a JSON object, or why not (the browser's own words for a syntax error).
fn parse_object(text: &str) -> Result<JsValue, String> {
    let doc = JSON::parse(text).map_err(|e| {
        let words = e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()));
        format!("not JSON ({})", words.unwrap_or_else(|| "syntax error".into()))
    })?;
    if doc.is_object() && !Array::is_array(&doc) { Ok(doc) } else { Err("not a JSON object".into()) }
}

/// An object's member `key`: `None` when absent or `null`, `Err` when it is not a string.
fn optional_string(doc: &JsValue, key: &str) -> Result<Option<String>, ()> {
    let value = Reflect::get(doc, &key.into()).map_err(|_| ())?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value.as_string().map(Some).ok_or(())
}
