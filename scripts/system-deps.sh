#!/usr/bin/env bash
# Debian packages the tests need: Virtuoso (remote-endpoint tests) and Chromium (map tests).
# Installs only what is missing; needs root (CI runs as root) or sudo.
set -euo pipefail
need=()
command -v virtuoso-t >/dev/null 2>&1 || need+=(virtuoso-opensource)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
