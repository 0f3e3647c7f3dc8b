#!/usr/bin/env bash
# What the browser tests (tests/browser/) and scripts/screenshots.py need, installed only when
# missing (a second run prints one line and takes well under a second):
#   - Debian's `chromium` (/usr/bin/chromium) and `fonts-noto-cjk` (Chinese glyphs), with apt.
#     Playwright drives this system browser; it never downloads one of its own
#     (no `playwright install`).
#   - axe-core (pinned version, integrity checked) from the npm registry into .cache/axe/,
#     exposing .cache/axe/axe.min.js for the accessibility checks.
#
# Usage: scripts/browser-deps.sh [--soft]
#   --soft   on failure, warn and exit 0 (the browser tests then skip loudly) -- unless CI=true,
#            where any failure exits 1. `make test` runs it with --soft.
set -euo pipefail

AXE_VERSION=4.14.1
AXE_INTEGRITY=sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
APT_PACKAGES=(chromium fonts-noto-cjk)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
axe_dir="$root/.cache/axe"
axe_file="$axe_dir/axe.min.js"
soft=0
[[ "${1:-}" == "--soft" ]] && soft=1
on_ci=0
case "${CI:-}" in 1 | true | TRUE | True | yes) on_ci=1 ;; esac

fail() {
  echo "browser-deps: $*" >&2
  if ((soft && !on_ci)); then
    echo "browser-deps: WARNING: continuing without them; the browser tests will be SKIPPED" \
      "(run scripts/browser-deps.sh to install)" >&2
    exit 0
  fi
  exit 1
}

installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]; }

missing=()
if command -v dpkg-query >/dev/null; then
  for pkg in "${APT_PACKAGES[@]}"; do installed "$pkg" || missing+=("$pkg"); done
elif [[ ! -x /usr/bin/chromium ]]; then
  fail "no /usr/bin/chromium and no dpkg/apt to install it: install Chromium and Noto CJK fonts"
fi

if ((${#missing[@]})); then
  sudo=()
  if ((EUID != 0)); then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      fail "missing ${missing[*]}; as root run: apt-get install -y --no-install-recommends ${missing[*]}"
    fi
  fi
  echo "browser-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt=("${sudo[@]}" apt-get install -y --no-install-recommends -q "${missing[@]}")
  if ! "${apt[@]}" >/tmp/browser-deps-apt.log 2>&1; then
    # most often the package lists are missing or stale: refresh them once and try again
    echo "browser-deps: install failed; apt-get update, then again"
    "${sudo[@]}" apt-get update -q >>/tmp/browser-deps-apt.log 2>&1 ||
      fail "apt-get update failed (see /tmp/browser-deps-apt.log)"
    "${apt[@]}" >>/tmp/browser-deps-apt.log 2>&1 ||
      fail "apt-get install ${missing[*]} failed (see /tmp/browser-deps-apt.log)"
  fi
fi
[[ -x /usr/bin/chromium ]] || fail "/usr/bin/chromium is still missing after the install"

if ! head -c 200 "$axe_file" 2>/dev/null | grep -q "axe v$AXE_VERSION\b"; then
  command -v npm >/dev/null || fail "npm not found: needed to fetch axe-core@$AXE_VERSION"
  echo "browser-deps: fetching axe-core@$AXE_VERSION"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent --json "axe-core@$AXE_VERSION" >pack.json 2>npm.log) ||
    fail "npm pack axe-core@$AXE_VERSION failed: $(tail -3 "$tmp/npm.log" 2>/dev/null)"
  grep -q "\"integrity\": \"$AXE_INTEGRITY\"" "$tmp/pack.json" ||
    fail "axe-core@$AXE_VERSION: integrity differs from the pinned one"
  tar -xzf "$tmp/axe-core-$AXE_VERSION.tgz" -C "$tmp" package/axe.min.js package/LICENSE
  mkdir -p "$axe_dir"
  mv "$tmp/package/LICENSE" "$axe_dir/LICENSE"
  mv "$tmp/package/axe.min.js" "$axe_file"
fi

echo "browser-deps: ok ($(/usr/bin/chromium --version 2>/dev/null | head -1); axe-core $AXE_VERSION at ${axe_file#"$root"/})"
