#!/usr/bin/env bash
# Prosody 13 (the modern generation): scripts/prosody.sh with NATTER_SERVER_GEN=modern. Same subcommands.
NATTER_SERVER_GEN=modern exec "$(dirname "${BASH_SOURCE[0]}")/prosody.sh" "$@"
