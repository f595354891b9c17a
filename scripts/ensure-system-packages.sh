#!/usr/bin/env bash
# Installs the Debian packages agentwire's start and test commands need, when absent.
# Usage: scripts/ensure-system-packages.sh [redis] [sentinel] [chromium]
set -euo pipefail

missing=()
for want in "$@"; do
  case "$want" in
    redis) command -v redis-server >/dev/null 2>&1 || missing+=(redis-server) ;;
    sentinel) command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel) ;;
    chromium) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    *) echo "ensure-system-packages: unknown package group '$want'" >&2; exit 2 ;;
  esac
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing ${missing[*]} from Debian packages..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
