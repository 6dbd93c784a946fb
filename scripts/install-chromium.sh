#!/usr/bin/env bash
# Installs Debian's chromium for the workspace's browser tests, which drive a
# real headless Chromium. It does nothing when chromium is already there, so
# `make test` can run it every time.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  cat >&2 <<'MSG'
install-chromium.sh: chromium is not installed and this script is not running as root.
The workspace's browser tests need Debian's chromium package. Install it with:
  sudo apt-get update && sudo apt-get install -y chromium
or set LANTERN_CHROMIUM to the path of a Chromium or Chrome binary.
MSG
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium.sh: chromium is missing and apt-get is not available; install Chromium and set LANTERN_CHROMIUM to its path." >&2
  exit 1
fi

echo "Installing chromium for the browser tests…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
command -v chromium >/dev/null
