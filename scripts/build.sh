#!/usr/bin/env bash
# The release build (`trunk build --release` into dist/), skipped when dist/ already holds the build of exactly
# these inputs: the sources, the build configuration and the tool versions, hashed into a stamp
# (target/natter-dist.stamp) together with a hash of dist/index.html, so a dist/ that anything else rebuilt
# or changed is built again. With the stamp current this takes well under a second instead of a release build.
#
# Usage: scripts/build.sh [--force]     (--force: build even when the stamp says dist/ is current)
#
# Trunk logs `WARN Failed to minify JS: RequiredTokenNotFound(Identifier)` on every release build: its own JS
# minifier (minify-js 0.5) cannot parse the last line of the wasm-bindgen glue, `export { initSync, __wbg_init
# as default };` (it wants a name after `as`, finds the keyword `default`), so Trunk copies the glue
# unminified. Harmless: the post_build hook (scripts/minify-glue.mjs) minifies the glue with terser right
# after. This script prints a line saying so instead of the warning.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true

stamp=target/natter-dist.stamp
inputs() {
  # Tracked and new (not ignored) files that go into the build, then the tools that build it.
  git ls-files -co --exclude-standard -- src style public index.html Cargo.toml Cargo.lock Trunk.toml \
    .cargo/config.toml scripts/minify-glue.mjs package-lock.json | LC_ALL=C sort | xargs -d '\n' sha256sum
  rustc -V
  trunk --version
  wasm-bindgen --version
}
current() {
  local dist_index
  dist_index=$(sha256sum dist/index.html 2>/dev/null | cut -d' ' -f1) || true
  printf '%s %s\n' "$(inputs | sha256sum | cut -d' ' -f1)" "${dist_index:-none}"
}

force=${1:-}
# Outside a git checkout (a source tarball) the inputs cannot be listed: always build.
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || force=--force
if [ "$force" != "--force" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(current)" ]; then
  echo "[build] dist/ is the release build of the current sources: not rebuilding (scripts/build.sh --force does)"
  exit 0
fi
echo "[build] trunk build --release"
rm -f "$stamp"
trunk build --release 2>&1 | sed -u 's/.*WARN Failed to minify JS: RequiredTokenNotFound(Identifier).*/[build] (Trunk cannot minify the wasm-bindgen glue; scripts\/minify-glue.mjs does, with terser: harmless, see scripts\/build.sh)/'
mkdir -p target
current > "$stamp"
