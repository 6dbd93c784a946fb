#!/usr/bin/env bash
# Installs the npm packages Lantern's tests use (scripts/npm/package.json,
# pinned by its package-lock.json): axe-core for the browser tests'
# accessibility checks and @asyncapi/specs for validating the AsyncAPI
# document. It does nothing when they are installed already, so `make test`
# can run it every time.
set -euo pipefail
dir="$(cd "$(dirname "$0")/npm" && pwd)"

# The lock file's digest, kept beside the packages, says what is installed.
lock_sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$dir/node_modules/.installed-lock" 2>/dev/null)" == "$lock_sum" ]]; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-npm-packages.sh: npm is not installed; install Node.js and npm (Debian: apt-get install npm), then run it again." >&2
    exit 1
  fi
  echo "Installing npm for the test tools…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends npm
fi

echo "Installing the npm packages the tests use (axe-core, @asyncapi/specs)…"
npm ci --prefix "$dir" --no-audit --no-fund --ignore-scripts --loglevel=error
echo "$lock_sum" >"$dir/node_modules/.installed-lock"
