// Starts Natter without any inline script, so the page's Content-Security-Policy can forbid inline script.
// Trunk replaces <link data-trunk rel="rust"> with <meta name="natter-app" data-js data-wasm> (pattern_script
// in Trunk.toml); the JS glue and the wasm it names are preloaded in <head>.
// The app's files sit beside this one, whatever path the page is served under: their names are resolved
// against this file's URL, and the folder is noted on the meta (data-base) for the app to find config.json.
const app = document.querySelector('meta[name="natter-app"]');
const beside = (name) => new URL(name, import.meta.url).href;
app.dataset.base = beside("./");
try {
  const { default: init } = await import(beside(app.dataset.js));
  await init({ module_or_path: beside(app.dataset.wasm) });
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
