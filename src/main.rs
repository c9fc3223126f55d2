//! The binary Trunk builds: it installs the panic hook and mounts the app.

#[cfg(target_arch = "wasm32")]
fn main() {
    std::panic::set_hook(Box::new(on_panic));
    natter::ui::mount();
}

/// A bug (a panic) stops the wasm for good. Say so on the page, where the person looks, instead of leaving a
/// page that silently stops reacting; the details go to the browser console for a bug report.
#[cfg(target_arch = "wasm32")]
fn on_panic(info: &std::panic::PanicHookInfo<'_>) {
    web_sys::console::error_1(&format!("Natter stopped: {info}").into());
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let (Some(body), Ok(banner)) = (document.body(), document.create_element("div")) else { return };
    banner.set_class_name("banner banner-error fatal");
    let _ = banner.set_attribute("role", "alert");
    banner.set_text_content(Some(
        "Natter stopped because of an internal error. Reload the page to continue; your messages on the \
         server are not affected. (Details are in the browser console.)",
    ));
    let _ = body.prepend_with_node_1(&banner);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("natter is a browser app: build it with `trunk build --release` (see README.md)");
}
