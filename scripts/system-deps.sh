#!/usr/bin/env bash
# Install the Debian packages given as arguments, only those missing; quick when all are present.
# Usage: scripts/system-deps.sh graphviz chromium ...
set -euo pipefail
missing=()
for pkg in "$@"; do
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  else
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "CNN Explorer needs these Debian/Ubuntu packages (or your system's equivalents): ${missing[*]}" >&2
  echo "This system has no apt-get: install them with your package manager, then run make again." >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
