// Trunk post_build hook (Trunk.toml), release builds only: makes the wasm-bindgen glue and the names the wasm
// and the glue share small. Debug builds are left as generated.
//
// 1. Short names. wasm-bindgen names every import and export by function plus a 16-digit hash
//    (`__wbg_settextcontent_d29397f7b994d314`), ~190 of them, each written once in the wasm and once in the
//    glue, where gzip cannot compress the hashes. Every such name (12+ characters with a `_`) that the glue
//    uses is renamed `_0`, `_1`, … in both files: the wasm's import and export sections are rewritten entry by
//    entry (nothing else in the module refers to these names), the glue by whole-identifier replacement.
//    An import the glue does not name is an error: the build stops instead of shipping a broken pair.
// 2. terser. Trunk's own JS minifier leaves this file as generated.
// Together: glue 51 KB → ~20 KB raw; ~4.7 KB less gzip over both files (docs/performance.md).
// boot.js is not touched (index.html pins it by integrity hash). The files keep Trunk's hashed names, which
// are still one name per build, so caching holds.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

if (process.env.TRUNK_PROFILE !== "release") process.exit(0);
const fail = (msg) => {
  console.error(`minify-glue: ${msg}`);
  process.exit(1);
};
const dir = process.env.TRUNK_STAGING_DIR || fail("TRUNK_STAGING_DIR is not set (this script is a Trunk hook)");
let minify;
try {
  ({ minify } = await import("terser"));
} catch {
  fail("terser is missing; run scripts/setup.sh (npm ci) first");
}

const files = await readdir(dir);
const one = (re, what) => {
  const found = files.filter((f) => re.test(f));
  if (found.length !== 1) fail(`expected one ${what} in ${dir}, found ${found.length}`);
  return join(dir, found[0]);
};
const jsPath = one(/^natter-[0-9a-f]+\.js$/, "natter-<hash>.js");
const wasmPath = one(/^natter-[0-9a-f]+_bg\.wasm$/, "natter-<hash>_bg.wasm");
const js = await readFile(jsPath, "utf8");
const wasm = await readFile(wasmPath);

// --- the wasm's import and export sections ---------------------------------------------------------------
function leb(buf, at) {
  let value = 0, shift = 0, byte;
  do {
    byte = buf[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [value, at];
}
function lebBytes(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return Buffer.from(out);
}
const nameBytes = (s) => Buffer.concat([lebBytes(Buffer.byteLength(s)), Buffer.from(s)]);
function readName(buf, at) {
  const [len, start] = leb(buf, at);
  return [buf.subarray(start, start + len).toString(), start + len];
}
function skipLimits(buf, at) {
  const flags = buf[at++];
  [, at] = leb(buf, at);
  if (flags & 1) [, at] = leb(buf, at);
  return at;
}
// The bytes of an import's description (what it imports), by kind: func, table, memory, global, tag.
function skipImportDesc(buf, at) {
  const kind = buf[at++];
  switch (kind) {
    case 0: return leb(buf, at)[1];
    case 1: return skipLimits(buf, at + 1);
    case 2: return skipLimits(buf, at);
    case 3: return at + 2;
    case 4: return leb(buf, at + 1)[1];
    default: fail(`import of unknown kind ${kind}`);
  }
}

if (wasm.readUInt32LE(0) !== 0x6d736100) fail(`${wasmPath} is not a wasm module`);
const sections = [];
for (let at = 8; at < wasm.length; ) {
  const id = wasm[at];
  const [size, start] = leb(wasm, at + 1);
  sections.push({ id, start, end: start + size, bytes: wasm.subarray(at, start + size) });
  at = start + size;
}
// Entries of the import (2) or export (7) section: { module (imports only, else null), name, rest: the
// entry's bytes after its name }.
function entries(section) {
  const buf = wasm;
  let [count, at] = leb(buf, section.start);
  const out = [];
  while (count--) {
    const entry = { module: null };
    if (section.id === 2) [entry.module, at] = readName(buf, at);
    [entry.name, at] = readName(buf, at);
    const restStart = at;
    at = section.id === 2 ? skipImportDesc(buf, at) : leb(buf, at + 1)[1];
    entry.rest = buf.subarray(restStart, at);
    out.push(entry);
  }
  if (at !== section.end) fail(`section ${section.id} did not parse to its end`);
  return out;
}
const imports = entries(sections.find((s) => s.id === 2) ?? fail("no import section"));
const exportSection = sections.find((s) => s.id === 7);
const exports = exportSection ? entries(exportSection) : [];

// --- the renaming ----------------------------------------------------------------------------------------
const ident = (name) => new RegExp(`(?<![\\w$])${name.replace(/\$/g, "\\$")}(?![\\w$])`);
const long = (name) => name.length >= 12 && name.includes("_");
const rename = new Map();
let next = 0;
const fresh = () => {
  for (;;) {
    const candidate = `_${(next++).toString(36)}`;
    if (!ident(candidate).test(js)) return candidate;
  }
};
for (const entry of [...imports, ...exports]) {
  if (!long(entry.name) || rename.has(entry.name)) continue;
  if (ident(entry.name).test(js)) rename.set(entry.name, fresh());
  else if (entry.module !== null) fail(`the glue does not name the import ${entry.name}`);
}
const alternatives = [...rename.keys()].sort((a, b) => b.length - a.length).join("|");
const renamedJs = rename.size
  ? js.replace(new RegExp(`(?<![\\w$])(?:${alternatives})(?![\\w$])`, "g"), (name) => rename.get(name))
  : js;
const section = (id, list) => {
  const body = Buffer.concat([
    lebBytes(list.length),
    ...list.map((e) =>
      Buffer.concat([
        e.module === null ? Buffer.alloc(0) : nameBytes(e.module),
        nameBytes(rename.get(e.name) ?? e.name),
        e.rest,
      ]),
    ),
  ]);
  return Buffer.concat([Buffer.from([id]), lebBytes(body.length), body]);
};
const renamedWasm = Buffer.concat([
  wasm.subarray(0, 8),
  ...sections.map((s) => (s.id === 2 ? section(2, imports) : s.id === 7 ? section(7, exports) : s.bytes)),
]);

const out = await minify(renamedJs, { module: true, compress: { passes: 2 }, mangle: true, format: { comments: false } });
if (!out.code) fail("terser returned no code");
await writeFile(wasmPath, renamedWasm);
await writeFile(jsPath, out.code);
console.log(
  `minify-glue: ${rename.size} names shortened; glue ${js.length} → ${out.code.length} bytes, ` +
    `wasm ${wasm.length} → ${renamedWasm.length} bytes`,
);
