//! The binary Trunk builds: it only mounts the app.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    natter::ui::mount();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("natter is a browser app: build it with `trunk build --release` (see README.md)");
}
