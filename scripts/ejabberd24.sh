#!/usr/bin/env bash
# ejabberd 24.12 (the modern generation): scripts/ejabberd.sh with NATTER_SERVER_GEN=modern. Same subcommands.
NATTER_SERVER_GEN=modern exec "$(dirname "${BASH_SOURCE[0]}")/ejabberd.sh" "$@"
