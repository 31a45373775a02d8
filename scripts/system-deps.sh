#!/usr/bin/env bash
# Debian packages the tests need: Virtuoso (remote-endpoint tests), Chromium (map and query-page
# tests), Raptor's rapper (an independent parser of what `serve` answers) and a Java runtime
# (HermiT, the OWL 2 DL reasoner of tests/test_reasoning.py).
# Installs only what is missing; needs root (CI runs as root) or sudo.
set -euo pipefail
need=()
command -v virtuoso-t >/dev/null 2>&1 || need+=(virtuoso-opensource)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v rapper >/dev/null 2>&1 || need+=(raptor2-utils)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
