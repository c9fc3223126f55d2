#!/usr/bin/env bash
# What a browser downloads to start Natter: raw, gzip -9 and brotli -q 11 bytes of every .wasm, .js and .css
# file of the release build, and (with --check) whether their gzip total fits the budget in bundle-budget.txt.
#
# Usage: scripts/bundle-size.sh [--no-build] [--check] [--markdown] [--dist DIR]
#   --no-build   measure the dist/ that is there (default: `trunk build --release` first)
#   --check      exit 1 when the gzip total of .wasm + .js + .css exceeds the budget
#   --markdown   print the table as Markdown (for docs/performance.md)
#   --dist DIR   build into / measure DIR instead of dist/
# Sizes are bytes; "KB" in the output is 1000 bytes. brotli comes from the `brotli` CLI (scripts/setup.sh
# installs it); without it that column says n/a and --check still works (the budget is on gzip).
set -euo pipefail
cd "$(dirname "$0")/.."

build=1 check=0 markdown=0 dist=dist
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --check) check=1 ;;
    --markdown) markdown=1 ;;
    --dist) dist="${2:?--dist needs a directory}"; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bundle-size: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

budget_file=bundle-budget.txt
budget=$(awk '$1 == "gzip_total_bytes" { print $2 }' "$budget_file" 2>/dev/null || true)
if [ -z "$budget" ]; then
  echo "bundle-size: no 'gzip_total_bytes N' line in $budget_file" >&2
  exit 2
fi

if [ "$build" = 1 ]; then
  echo "bundle-size: trunk build --release (dist: $dist)" >&2
  PATH="$PWD/node_modules/.bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true trunk build --release --dist "$dist" >&2
fi
if [ ! -d "$dist" ]; then
  echo "bundle-size: $dist/ does not exist (build it, or drop --no-build)" >&2
  exit 2
fi

mapfile -t files < <(find "$dist" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) \
  -not -path '*/.stage/*' | LC_ALL=C sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "bundle-size: no .wasm, .js or .css files in $dist/" >&2
  exit 2
fi

have_brotli=0
command -v brotli >/dev/null 2>&1 && have_brotli=1
size_raw() { wc -c <"$1" | tr -d ' '; }
size_gzip() { gzip -9c -- "$1" | wc -c | tr -d ' '; }
size_brotli() {
  if [ "$have_brotli" = 1 ]; then brotli -q 11 -c -- "$1" | wc -c | tr -d ' '; else echo n/a; fi
}
kb() { case "$1" in n/a) echo n/a ;; *) awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000 }' ;; esac; }

declare -A raw_by=() gz_by=() br_by=()
rows=()
for f in "${files[@]}"; do
  kind=${f##*.}
  r=$(size_raw "$f") g=$(size_gzip "$f") b=$(size_brotli "$f")
  raw_by[$kind]=$(( ${raw_by[$kind]:-0} + r ))
  gz_by[$kind]=$(( ${gz_by[$kind]:-0} + g ))
  if [ "$b" != n/a ]; then br_by[$kind]=$(( ${br_by[$kind]:-0} + b )); fi
  rows+=("${f#"$dist"/}|$r|$g|$b")
done
total_raw=0 total_gz=0 total_br=0
for kind in wasm js css; do
  rows+=("total $kind|${raw_by[$kind]:-0}|${gz_by[$kind]:-0}|${br_by[$kind]:-n/a}")
  total_raw=$(( total_raw + ${raw_by[$kind]:-0} ))
  total_gz=$(( total_gz + ${gz_by[$kind]:-0} ))
  total_br=$(( total_br + ${br_by[$kind]:-0} ))
done
[ "$have_brotli" = 1 ] || total_br=n/a
rows+=("TOTAL wasm+js+css|$total_raw|$total_gz|$total_br")

if [ "$markdown" = 1 ]; then
  echo "| file | raw (bytes) | gzip -9 (bytes) | brotli -q 11 (bytes) |"
  echo "|---|---:|---:|---:|"
  for row in "${rows[@]}"; do
    IFS='|' read -r name r g b <<<"$row"
    case "$name" in total*|TOTAL*) name="**$name**" ;; *) name="\`$name\`" ;; esac
    echo "| $name | $r | $g | $b |"
  done
else
  printf '%-44s %12s %12s %12s\n' "file ($dist/)" "raw KB" "gzip -9 KB" "brotli KB"
  printf '%-44s %12s %12s %12s\n' "$(printf '%.0s-' {1..44})" "------------" "------------" "------------"
  for row in "${rows[@]}"; do
    IFS='|' read -r name r g b <<<"$row"
    [ "$name" = "total wasm" ] && printf '%-44s %12s %12s %12s\n' "" "" "" ""
    printf '%-44s %12s %12s %12s\n' "$name" "$(kb "$r")" "$(kb "$g")" "$(kb "$b")"
  done
fi
[ "$have_brotli" = 1 ] || echo "(brotli CLI not found: run scripts/setup.sh to install it)"

[ "$markdown" = 1 ] && echo
pct=$(awk -v t="$total_gz" -v b="$budget" 'BEGIN { printf "%.0f", 100 * t / b }')
echo "budget ($budget_file): gzip total ${total_gz} B of ${budget} B = ${pct}% ($(kb "$total_gz") KB of $(kb "$budget") KB, KB = 1000 B)"
if [ "$check" = 1 ]; then
  if [ "$total_gz" -gt "$budget" ]; then
    echo "bundle-size: OVER BUDGET by $(( total_gz - budget )) bytes (gzip -9 of .wasm + .js + .css)" >&2
    exit 1
  fi
  echo "bundle-size: within budget"
fi
