#!/usr/bin/env bash
# What a storage probe adds to the release bundle (docs/storage.md). Builds the app with docs/storage-probes/NAME.rs
# called from main() (and DEPENDENCY added to Cargo.toml when given), prints scripts/bundle-size.sh's table, then
# restores src/main.rs, Cargo.toml and Cargo.lock. Compare with `scripts/bundle-size.sh` on the untouched tree.
#
# Usage: docs/storage-probes/measure.sh NAME ['DEPENDENCY LINE']
#   docs/storage-probes/measure.sh raw
#   docs/storage-probes/measure.sh idb 'idb = { version = "0.6.5", default-features = false, features = ["futures"] }'
#   docs/storage-probes/measure.sh idf 'indexed_db_futures = { version = "0.6.4", features = ["indices"] }'
#   docs/storage-probes/measure.sh layer
# The page logs the probe's result in the console (a count, or "probe failed").
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:?usage: measure.sh NAME [DEPENDENCY LINE]} dependency=${2:-}
[ -f "docs/storage-probes/$name.rs" ] || { echo "measure: no docs/storage-probes/$name.rs" >&2; exit 2; }
keep=$(mktemp -d)
cp src/main.rs Cargo.toml Cargo.lock "$keep/"
trap 'cp "$keep/main.rs" src/main.rs; cp "$keep/Cargo.toml" "$keep/Cargo.lock" .; rm -r "$keep"' EXIT
if [ -n "$dependency" ]; then
  # Under the browser-only dependencies, next to leptos.
  awk -v dep="$dependency" '{ print } /^leptos = / { print dep }' "$keep/Cargo.toml" >Cargo.toml
  cargo fetch --target wasm32-unknown-unknown >/dev/null
fi
cat >>src/main.rs <<EOR

#[cfg(target_arch = "wasm32")]
mod probe {
    include!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/storage-probes/$name.rs"));
}
#[cfg(target_arch = "wasm32")]
fn run_probe() {
    wasm_bindgen_futures::spawn_local(async {
        match probe::probe().await {
            Ok(n) => web_sys::console::log_1(&n.into()),
            Err(_) => web_sys::console::log_1(&"probe failed".into()),
        }
    });
}
EOR
sed -i 's/^    natter::ui::mount();$/    natter::ui::mount();\n    run_probe();/' src/main.rs
grep -q '^    run_probe();$' src/main.rs || { echo "measure: could not call the probe from main()" >&2; exit 1; }
scripts/bundle-size.sh --dist "target/probe-dist-$name"
