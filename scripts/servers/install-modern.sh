#!/usr/bin/env bash
# Unpacks the modern server generation — Prosody 13 (+ prosody-modules) and ejabberd 24.12 with the Erlang
# libraries it needs newer than Debian 12's — from Debian 12's backports into <repo>/.servers/ (git-ignored),
# next to the stable Prosody 0.12 / ejabberd 23.01 that apt installs system-wide. Called by scripts/setup.sh.
#
# How: `apt-get download` of the pinned .debs and `dpkg -x` into .servers/<name>/root; nothing is installed
# system-wide, so the two generations cannot disturb each other. Everything else the modern servers load
# (lua5.4 and its lua-* libraries; Erlang/OTP 25 and the erlang-* libraries whose versions suffice) comes from
# the stable packages apt installs. scripts/prosody.sh / scripts/ejabberd.sh run them with NATTER_SERVER_GEN=modern.
#
# Idempotent: a stamp file per server lists what was asked for; when it matches, nothing is done. Adds the
# bookworm-backports apt source when it is missing (it has pin priority 100: nothing installed is upgraded
# from it). When backports no longer carries a pinned version (it keeps only the newest), the newest one there
# is taken instead, with a warning; the stamp then records what was really unpacked.
#
# Does not: start anything, install anything system-wide besides the apt source, or touch the stable servers.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="$REPO/.servers"
BACKPORTS=bookworm-backports

# Pinned versions (Debian 12 backports, checked 2026-12).
PROSODY13_DEBS=(
  "prosody=13.0.1-1~bpo12+1"
  "prosody-modules=0.0~hg20250402.f315edc39f3d+dfsg-1~bpo12+1"
)
# ejabberd 24.12 and exactly the Erlang libraries it needs in versions newer than bookworm's (the rest of its
# dependencies are the ones the stable ejabberd package already brought).
EJABBERD24_DEBS=(
  "ejabberd=24.12-3~bpo12+1"
  "erlang-jose=1.11.10-1~bpo12+1"
  "erlang-p1-acme=1.0.25-1~bpo12+1"
  "erlang-p1-cache-tab=1.0.31-2~bpo12+1"
  "erlang-p1-eimp=1.0.23-4~bpo12+1"
  "erlang-p1-mqtree=1.0.17-2~bpo12+1"
  "erlang-p1-pkix=1.0.10-2~bpo12+1"
  "erlang-p1-stringprep=1.0.30-2~bpo12+1"
  "erlang-p1-stun=1.2.15-1~bpo12+1"
  "erlang-p1-tls=1.1.22-1~bpo12+1"
  "erlang-p1-utils=1.0.26-2~bpo12+1"
  "erlang-p1-xml=1.1.55-1~bpo12+1"
  "erlang-p1-xmpp=1.9.4-1~bpo12+1"
  "erlang-p1-yaml=1.0.37-2~bpo12+1"
  "erlang-p1-yconf=1.0.17-1~bpo12+1"
  "erlang-p1-zlib=1.0.13-2~bpo12+1"
)

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m[setup]\033[0m %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

backports_source() {
  if apt-cache policy 2>/dev/null | grep -q " $BACKPORTS/main"; then return 0; fi
  log "adding the $BACKPORTS apt source (pin priority 100: used only when asked for)"
  printf '%s\n' "Types: deb" "URIs: http://deb.debian.org/debian" "Suites: $BACKPORTS" "Components: main" \
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" \
    | $SUDO tee /etc/apt/sources.list.d/natter-bookworm-backports.sources >/dev/null
  $SUDO apt-get update -qq
}

# download DIR SPEC…: the pinned .debs into DIR; a version backports no longer has falls back to its newest.
download() {
  local dir="$1" spec pkg; shift
  for spec in "$@"; do
    pkg="${spec%%=*}"
    # apt-get download as root warns that _apt cannot write to DIR; harmless.
    if ! (cd "$dir" && apt-get download -qq "$spec" 2>/dev/null); then
      warn "$spec is not in the archive any more; taking the newest $pkg from $BACKPORTS"
      (cd "$dir" && apt-get download -qq "$pkg/$BACKPORTS" 2>/dev/null) \
        || { warn "cannot download $pkg from $BACKPORTS"; return 1; }
    fi
  done
}

# unpack NAME SPEC…: .servers/NAME/root from the .debs, unless its stamp already lists SPEC….
unpack() {
  local name="$1"; shift
  local want stamp="$DEST/$name/stamp" tmp deb
  want="$(printf '%s\n' "into $DEST/$name" "$@")"
  if [ -f "$stamp" ] && [ "$(sed -n '/^# unpacked:/q;p' "$stamp")" = "$want" ]; then return 0; fi
  backports_source
  log "unpacking $name from $BACKPORTS into .servers/$name"
  mkdir -p "$DEST"
  tmp="$(mktemp -d "$DEST/.$name.XXXXXX")"
  chmod 755 "$tmp"
  mkdir "$tmp/debs" "$tmp/root"
  download "$tmp/debs" "$@" || { rm -rf "$tmp"; return 1; }
  for deb in "$tmp"/debs/*.deb; do dpkg -x "$deb" "$tmp/root"; done
  { printf '%s\n' "$want"; echo "# unpacked:"; for deb in "$tmp"/debs/*.deb; do basename "$deb"; done; } >"$tmp/stamp"
  rm -rf "$tmp/debs"
  post_unpack_"${name//-/_}" "$tmp/root"
  rm -rf "${DEST:?}/$name"
  mv "$tmp" "$DEST/$name"
}

# Prosody's launchers hard-code /usr/lib/prosody: point them at the unpacked tree (the system's 0.12 is there).
post_unpack_prosody13() {
  local root="$1" f final="$DEST/prosody13/root"
  for f in "$root/usr/bin/prosody" "$root/usr/bin/prosodyctl"; do
    sed -i -e "s|^CFG_SOURCEDIR=.*|CFG_SOURCEDIR='$final/usr/lib/prosody';|" \
           -e "s|^CFG_PLUGINDIR=.*|CFG_PLUGINDIR='$final/usr/lib/prosody/modules/';|" \
           -e "s|^CFG_CONFIGDIR=.*|CFG_CONFIGDIR='$final/etc/prosody';|" \
           -e "s|^CFG_DATADIR=.*|CFG_DATADIR='$final/var/lib/prosody';|" "$f"
  done
}

# ejabberd finds its own and the newer libraries through ERL_LIBS (scripts/ejabberd.sh); nothing to patch.
post_unpack_ejabberd24() { :; }

unpack prosody13 "${PROSODY13_DEBS[@]}"
unpack ejabberd24 "${EJABBERD24_DEBS[@]}"
