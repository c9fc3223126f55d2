// Starts Natter without any inline script, so the page's Content-Security-Policy can forbid inline script.
// Trunk replaces <link data-trunk rel="rust"> with <meta name="natter-app" data-js data-wasm> (pattern_script
// in Trunk.toml); the JS glue and the wasm it names are preloaded with subresource integrity in <head>.
const app = document.querySelector('meta[name="natter-app"]');
try {
  const { default: init } = await import(app.dataset.js);
  await init({ module_or_path: app.dataset.wasm });
} catch (err) {
  // A Rust panic during start-up has already said so (the app's panic hook adds a `.fatal` banner).
  if (document.querySelector(".fatal")) throw err;
  const p = document.createElement("p");
  p.className = "boot-error";
  p.setAttribute("role", "alert");
  p.textContent = "Natter could not start: " + err;
  document.body.append(p);
  throw err;
}
