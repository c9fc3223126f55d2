//! Browser tests of discovery's browser half (`natter::transport::lookup`): the JSON documents read with the
//! browser's `JSON.parse` into typed values, and bodies read with a size cap and a timeout. No server needed:
//! bodies come from `blob:` URLs and from streams built in the page.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_discovery`
#![cfg(target_arch = "wasm32")]

use natter::transport::discovery::{AppConfig, DiscoveryError, HostMetaLink, MAX_BODY, WEBSOCKET_REL};
use natter::transport::lookup::{self, ReadError};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const URL: &str = "https://example.org/config.json";

fn config(json: &str) -> Result<AppConfig, DiscoveryError> {
    lookup::parse_config(URL, json)
}

fn some(url: &str, domain: Option<&str>) -> Result<AppConfig, DiscoveryError> {
    Ok(AppConfig { websocket_url: Some(url.to_owned()), domain: domain.map(str::to_owned), timeout_seconds: None })
}

/// The reason of a `Malformed` error (fails on any other result).
fn malformed<T: std::fmt::Debug>(result: Result<T, DiscoveryError>) -> String {
    match result {
        Err(DiscoveryError::Malformed { url, reason }) => {
            assert!(!url.is_empty());
            reason
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[wasm_bindgen_test]
fn config_json_into_typed_values() {
    let both = r#"{"websocket_url": "ws://127.0.0.1:5280/xmpp-websocket", "domain": "localhost"}"#;
    assert_eq!(config(both), some("ws://127.0.0.1:5280/xmpp-websocket", Some("localhost")));
    assert_eq!(config(r#"{"websocket_url": "wss://x/ws"}"#), some("wss://x/ws", None));
    assert_eq!(
        config(r#"{"websocket_url": "wss://x/ws", "domain": null, "other": [1, {}]}"#),
        some("wss://x/ws", None)
    );
    assert_eq!(config("{}"), Ok(AppConfig::default()));
    // Escapes and surrogate pairs are JSON.parse's business, and it gets them right.
    assert_eq!(
        config(r#"{"websocket_url": "wss:\/\/h\u00e9.example\/\ud83d\ude00"}"#),
        some("wss://hé.example/😀", None)
    );
    // A repeated key: the last one, as JSON.parse keeps it.
    assert_eq!(config(r#"{"websocket_url": "wss://a/", "websocket_url": "wss://b/"}"#), some("wss://b/", None));
}

#[wasm_bindgen_test]
fn config_json_may_set_the_response_timeout_in_whole_seconds() {
    let timeout = |json: &str| config(json).map(|c| c.timeout_seconds);
    assert_eq!(timeout(r#"{"timeout_seconds": 12}"#), Ok(Some(12)));
    assert_eq!(timeout(r#"{"timeout_seconds": null}"#), Ok(None));
    assert_eq!(timeout(r#"{"timeout_seconds": 1e12}"#), Ok(Some(u32::MAX)), "held to its range later");
    for bad in [r#""12""#, "1.5", "-3", "true", "[]"] {
        let reason = malformed(config(&format!(r#"{{"timeout_seconds": {bad}}}"#)));
        assert_eq!(reason, "“timeout_seconds” is not a whole number of seconds", "{bad}");
    }
    let c = config(r#"{"timeout_seconds": 2}"#).unwrap();
    assert_eq!(c.timeout(), Some(std::time::Duration::from_secs(5)), "at least 5 s");
}

#[wasm_bindgen_test]
fn broken_config_json_is_an_error_in_words() {
    let reason = malformed(config("<html>404</html>"));
    assert!(reason.starts_with("not JSON ("), "{reason}");
    assert!(reason.len() > "not JSON ()".len(), "the parser's own words are kept: {reason}");
    assert_eq!(malformed(config(r#"{"websocket_url": 5}"#)), "“websocket_url” is not a string");
    assert_eq!(malformed(config(r#"{"websocket_url": "wss://x/", "domain": ["a"]}"#)), "“domain” is not a string");
    assert_eq!(malformed(config(r#"["wss://x/ws", null]"#)), "not a JSON object");
    assert_eq!(malformed(config("null")), "not a JSON object");
    assert_eq!(malformed(config(r#""wss://x/ws""#)), "not a JSON object");
    assert!(malformed(config(r#"{"websocket_url": "wss://x/ws",}"#)).starts_with("not JSON"));
    assert!(malformed(config("")).starts_with("not JSON"));
    // Deep nesting is the parser's problem, not a crash: an error or a value, either way an answer.
    let deep = format!("{{\"a\": {}{}, \"websocket_url\": \"wss://x/ws\"}}", "[".repeat(30_000), "]".repeat(30_000));
    assert!(matches!(config(&deep), Ok(_) | Err(DiscoveryError::Malformed { .. })));
    // The words say which document.
    let e = config("{").unwrap_err().to_string();
    assert!(e.starts_with("https://example.org/config.json is not valid: not JSON"), "{e}");
}

#[wasm_bindgen_test]
fn host_meta_json_into_links() {
    let url = "https://example.com/.well-known/host-meta.json";
    // XEP-0156 §3.2's example, with a WebSocket link and entries of kinds we do not know.
    let doc = r#"{
      "links": [
        {"rel": "urn:xmpp:alt-connections:xbosh", "href": "https://web.example.com:5280/bosh"},
        {"rel": "urn:xmpp:alt-connections:websocket", "href": "wss://web.example.com:443/ws"},
        {"rel": "urn:xmpp:alt-connections:websocket"},
        {"rel": "urn:xmpp:alt-connections:websocket", "href": 443},
        "not an object", null, 7
      ]
    }"#;
    let link = |rel: &str, href: &str| HostMetaLink { rel: rel.into(), href: href.into() };
    assert_eq!(
        lookup::parse_host_meta(url, doc),
        Ok(vec![
            link("urn:xmpp:alt-connections:xbosh", "https://web.example.com:5280/bosh"),
            link(WEBSOCKET_REL, "wss://web.example.com:443/ws"),
        ])
    );
    assert_eq!(lookup::parse_host_meta(url, "{}"), Ok(vec![]));
    assert_eq!(lookup::parse_host_meta(url, r#"{"links": null}"#), Ok(vec![]));
    assert_eq!(malformed(lookup::parse_host_meta(url, r#"{"links": 3}"#)), "“links” is not an array");
    assert_eq!(malformed(lookup::parse_host_meta(url, "[]")), "not a JSON object");
    assert!(malformed(lookup::parse_host_meta(url, "not json")).starts_with("not JSON"));
}

/// Runs `source` as the body of a JS function and returns what it returns.
fn js(source: &str) -> JsValue {
    js_sys::Function::new_no_args(source).call0(&JsValue::NULL).expect("test JS runs")
}

/// A `blob:` URL serving `bytes` bytes of `x`.
fn blob_url(bytes: usize) -> String {
    let parts = js_sys::Array::of1(&JsValue::from_str(&"x".repeat(bytes)));
    let blob = web_sys::Blob::new_with_str_sequence(&parts).unwrap();
    web_sys::Url::create_object_url_with_blob(&blob).unwrap()
}

#[wasm_bindgen_test]
async fn bodies_up_to_the_cap_are_read_larger_ones_refused() {
    let small = blob_url(100);
    assert_eq!(lookup::fetch_text(&small).await, Ok("x".repeat(100)));
    let exactly = blob_url(MAX_BODY);
    assert_eq!(lookup::fetch_text(&exactly).await.map(|t| t.len()), Ok(MAX_BODY));
    for size in [MAX_BODY + 1, 4 * 1024 * 1024] {
        let url = blob_url(size);
        assert_eq!(lookup::fetch_text(&url).await, Err(DiscoveryError::TooLarge { url: url.clone() }), "{size} bytes");
    }
}

#[wasm_bindgen_test]
async fn an_endless_body_is_cut_at_the_cap_and_cancelled() {
    // 16 KiB per pull, for ever; the stream notes how often it was pulled and whether it was cancelled.
    let stream = js(r#"
        const chunk = new Uint8Array(16384).fill(120);
        window.__endless = { pulls: 0, cancelled: false };
        return new ReadableStream({
            pull(c) { window.__endless.pulls++; c.enqueue(chunk); },
            cancel() { window.__endless.cancelled = true; },
        });
    "#);
    let signal = web_sys::AbortController::new().unwrap().signal();
    let result = lookup::read_capped(stream.unchecked_ref(), MAX_BODY, &signal).await;
    assert_eq!(result, Err(ReadError::TooLarge));
    let probe = js("return window.__endless");
    let pulls = js_sys::Reflect::get(&probe, &"pulls".into()).unwrap().as_f64().unwrap();
    assert!(pulls <= (MAX_BODY / 16384 + 3) as f64, "read only up to the cap: {pulls} pulls");
    assert_eq!(js_sys::Reflect::get(&probe, &"cancelled".into()).unwrap(), JsValue::TRUE);
}

#[wasm_bindgen_test]
async fn a_stalled_body_ends_when_the_signal_aborts() {
    // One chunk, then nothing: a server that sent headers and stopped. The timeout is the signal's; here the
    // test aborts it itself once the first chunk is in, so nothing depends on the clock.
    let stream = js(r#"
        window.__stalled = { cancelled: false, first: null };
        window.__stalled.first = new Promise((r) => (window.__stalled.started = r));
        return new ReadableStream({
            start(c) { c.enqueue(new Uint8Array([123])); },
            pull() { window.__stalled.started(); return new Promise(() => {}); },
            cancel() { window.__stalled.cancelled = true; },
        });
    "#);
    let controller = web_sys::AbortController::new().unwrap();
    let signal = controller.signal();
    let started: js_sys::Promise =
        js_sys::Reflect::get(&js("return window.__stalled"), &"first".into()).unwrap().unchecked_into();
    let abort_when_stalled = async {
        wasm_bindgen_futures::JsFuture::from(started).await.unwrap();
        controller.abort();
    };
    let (result, ()) =
        futures::join!(lookup::read_capped(stream.unchecked_ref(), MAX_BODY, &signal), abort_when_stalled);
    assert_eq!(result, Err(ReadError::Aborted));
    let cancelled = js_sys::Reflect::get(&js("return window.__stalled"), &"cancelled".into()).unwrap();
    assert_eq!(cancelled, JsValue::TRUE);
    // A complete stream is read whole.
    let done = js("return new ReadableStream({ start(c) { c.enqueue(new Uint8Array([104, 105])); c.close(); } })");
    let signal = web_sys::AbortController::new().unwrap().signal();
    assert_eq!(lookup::read_capped(done.unchecked_ref(), MAX_BODY, &signal).await, Ok(b"hi".to_vec()));
}

#[wasm_bindgen_test]
async fn fetch_failures_in_words() {
    // An aborted signal is a timeout: that is the only thing that aborts a discovery fetch.
    let controller = web_sys::AbortController::new().unwrap();
    controller.abort();
    let url = blob_url(10);
    let timed_out = lookup::fetch_text_with(&url, &controller.signal()).await;
    assert_eq!(timed_out, Err(DiscoveryError::TimedOut { url: url.clone() }));
    assert!(timed_out.unwrap_err().to_string().ends_with("did not answer within 10 seconds"));
    // The test page's server has no such file.
    let missing = lookup::fetch_text("natter-no-such-file.json").await;
    assert!(matches!(&missing, Err(DiscoveryError::Status { status: 404, .. })), "{missing:?}");
    // Nothing listens on port 9 of this machine (discard): no answer at all.
    let nothing = lookup::fetch_text("http://127.0.0.1:9/").await;
    assert!(matches!(&nothing, Err(DiscoveryError::Unreachable { .. })), "{nothing:?}");
}

#[wasm_bindgen_test]
fn config_json_is_looked_up_beside_the_apps_files() {
    // Without boot.js's note (as here): relative to the page.
    assert_eq!(lookup::config_url(), "config.json");
    let document = web_sys::window().unwrap().document().unwrap();
    let meta = document.create_element("meta").unwrap();
    meta.set_attribute("name", "natter-app").unwrap();
    meta.set_attribute("data-base", "https://example.org/some/path/").unwrap();
    document.head().unwrap().append_child(&meta).unwrap();
    let url = lookup::config_url();
    meta.remove();
    assert_eq!(url, "https://example.org/some/path/config.json");
}
