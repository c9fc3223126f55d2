// Starts Natter with no inline script (see Trunk.toml): loads the files the natter-app meta names, resolved
// against this file's URL (the app may be served under any path), and notes that folder for config.json.
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
