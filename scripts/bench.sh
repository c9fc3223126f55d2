#!/usr/bin/env bash
# Prints every performance figure of Natter in one go (figures only: nothing here fails on timing):
#   1. the core benchmarks (`cargo bench --bench core`, criterion, shortened measurement) as a summary table,
#   2. the release bundle sizes (scripts/bundle-size.sh),
#   3. browser scenario timings (`node e2e/bench.mjs`) against the local Prosody, which it starts (and stops
#      again) when it is not running already,
#   4. login round trips and times against the modern servers (Prosody 13, ejabberd 24.12; started and stopped
#      the same way): legacy SASL + bind vs SASL2 + Bind2 vs FAST (`examples/login_timing.rs`).
#
# Usage: scripts/bench.sh [--no-bundle] [--no-build] [--no-browser] [--no-servers] [-- CRITERION_ARGS...]
#   --no-bundle   skip the bundle sizes       --no-build  measure the dist/ that is there (no trunk build)
#   --no-browser  skip e2e/bench.mjs          --no-servers  skip the login timings
#   CRITERION_ARGS are passed to criterion, e.g. `-- parse_frame` to run only matching benchmarks, or
#   `-- --measurement-time 5` for steadier figures. Takes about 5 minutes on 2 cores (plus a cold build).
# The tables are Markdown, so they can go straight into docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true

bundle=1 build=1 browser=1 servers=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-bundle) bundle=0 ;;
    --no-build) build=0 ;;
    --no-browser) browser=0 ;;
    --no-servers) servers=0 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

target_dir=${CARGO_TARGET_DIR:-target}
log_dir="$target_dir/bench-logs"
mkdir -p "$log_dir"
stamp="$log_dir/started"
touch "$stamp"

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
echo "# Natter performance figures"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(nproc) CPUs, ${cpu}; load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
echo "- $(rustc --version); benches built with the release profile (opt-level \"z\", LTO: the shipped settings)"
echo

# ---- 1. core benchmarks -------------------------------------------------------------------------------------
echo "## Core benchmarks (cargo bench --bench core)" >&2
# Short runs: 0.5 s warm-up and 1.5 s measurement per benchmark; the slow groups fix their own sample counts.
cargo bench --bench core -- --warm-up-time 0.5 --measurement-time 1.5 "$@" >"$log_dir/criterion.log" 2>&1 &
bench_pid=$!
tail -n +1 -f "$log_dir/criterion.log" --pid="$bench_pid" 2>/dev/null | grep --line-buffered -E '^ +time:|^[a-zA-Z_]+/\S+ +time:|^[a-zA-Z_]+/\S+$|^corpus|^apply:|^note:|^error' >&2 || true
if ! wait "$bench_pid"; then
  echo "bench: cargo bench failed; see $log_dir/criterion.log" >&2
  tail -20 "$log_dir/criterion.log" >&2
  exit 1
fi

python3 - "$target_dir/criterion" "$stamp" <<'PY'
import json, os, re, sys

root, stamp = sys.argv[1], os.path.getmtime(sys.argv[2])
rows = []
for dirpath, _, files in os.walk(root):
    if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
        continue
    est_path = os.path.join(dirpath, "estimates.json")
    if os.path.getmtime(est_path) < stamp:
        continue  # from an earlier run
    est = json.load(open(est_path))
    bench = json.load(open(os.path.join(dirpath, "benchmark.json")))
    rows.append((bench, est))

def order(row):
    groups = ["parse_frame", "quick_xml_ceiling", "stanza", "jid", "serialize", "scram", "login", "apply"]
    g = row[0]["group_id"]
    natural = [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", row[0]["full_id"])]
    return (groups.index(g) if g in groups else len(groups), natural)

def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.0f} ns"

def fmt_rate(x, unit):
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.3g} {suffix}{unit}"
    return f"{x:.3g} {unit}".strip()

def frames_of(bench):
    m = re.match(r"(\d+)-frames$", bench.get("value_str") or "")
    return int(m.group(1)) if m else None

print("| benchmark | time / iteration (mean ± 95% CI) | throughput | frames/s |")
print("|---|---:|---:|---:|")
mbps = {}
for bench, est in sorted(rows, key=order):
    mean = est["mean"]["point_estimate"]
    ci = est["mean"]["confidence_interval"]
    half = (ci["upper_bound"] - ci["lower_bound"]) / 2
    tp = bench.get("throughput") or {}
    per_s = 1e9 / mean
    if "BytesDecimal" in tp or "Bytes" in tp:
        b = tp.get("BytesDecimal", tp.get("Bytes"))
        thr = f"{b * per_s / 1e6:.1f} MB/s"
        mbps[(bench["group_id"], bench["function_id"])] = b * per_s / 1e6
    elif "Elements" in tp:
        unit = {"scram": "logins/s", "login": "logins/s", "apply": "items/s", "jid": "JIDs/s", "stanza": "stanzas/s"}
        thr = fmt_rate(tp["Elements"] * per_s, unit.get(bench["group_id"], "elem/s"))
    else:
        thr = ""
    n = frames_of(bench)
    fps = fmt_rate(n * per_s, "") if n else ""
    print(f"| `{bench['full_id']}` | {fmt_time(mean)} ± {100 * half / mean:.0f}% | {thr} | {fps} |")

pairs = [(f, mbps[("parse_frame", f)], mbps[("quick_xml_ceiling", f)])
         for (g, f) in sorted(mbps) if g == "parse_frame" and ("quick_xml_ceiling", f) in mbps]
if pairs:
    print()
    print("| corpus | `parse_frame` | bare quick-xml `NsReader` loop (ceiling) | parse_frame / ceiling |")
    print("|---|---:|---:|---:|")
    for f, ours, ceiling in pairs:
        print(f"| {f} | {ours:.1f} MB/s | {ceiling:.1f} MB/s | {100 * ours / ceiling:.0f}% |")
if not rows:
    print("(no benchmark results from this run)")
PY
echo
echo "Raw criterion output: $log_dir/criterion.log; per-benchmark data: $target_dir/criterion/."

# ---- 2. bundle size -----------------------------------------------------------------------------------------
if [ "$bundle" = 1 ]; then
  echo
  echo "## Release bundle (scripts/bundle-size.sh)"
  echo
  args=(--markdown)
  [ "$build" = 1 ] || args+=(--no-build)
  if ! scripts/bundle-size.sh "${args[@]}"; then
    echo "bench: scripts/bundle-size.sh failed (see above)" >&2
  fi
fi

# Servers this script started, stopped again on exit.
started=()
stop_started() {
  for s in "${started[@]}"; do "scripts/$s.sh" stop >&2 || true; done
}
trap stop_started EXIT
ensure_server() {
  if ! "scripts/$1.sh" status >/dev/null 2>&1; then
    "scripts/$1.sh" start >&2
    started+=("$1")
  fi
}

# ---- 3. browser scenarios -----------------------------------------------------------------------------------
if [ "$browser" = 1 ] && [ -f e2e/bench.mjs ]; then
  ensure_server prosody
  eval "$(scripts/prosody.sh env)"
  echo
  echo "## Browser scenarios (node e2e/bench.mjs)"
  echo
  node e2e/bench.mjs
fi

# ---- 4. login round trips against the real servers ----------------------------------------------------------
if [ "$servers" = 1 ]; then
  for s in prosody13 ejabberd24; do
    ensure_server "$s"
    eval "$(scripts/$s.sh env)"
  done
  echo
  echo "## Logging in against the real servers (cargo run --release --example login_timing)"
  echo
  cargo run --quiet --release --example login_timing
fi
