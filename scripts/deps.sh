#!/usr/bin/env bash
# Installs every Debian 12 package Focal needs to build, run and test.
# Idempotent; needs root (or sudo).  Usage: scripts/deps.sh [--test]
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
pkgs=(build-essential meson ninja-build pkg-config python3 openssl sqlite3 curl
      libevent-dev libssl-dev libcurl4-openssl-dev libpq-dev libldap-dev libsqlite3-dev
      libjansson-dev libyaml-dev libutf8proc-dev libsodium-dev liboath-dev libcjose-dev
      libqrencode-dev libpng-dev libjemalloc-dev)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(libcmocka-dev clang libclang-rt-14-dev postgresql-15 postgresql-contrib slapd
         ldap-utils procps oathtool apache2 libapache2-mod-auth-openidc chromium nodejs)
  # browser tests (tests/web): npm may come with nodejs (NodeSource) or apart (Debian)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
  pkgs+=(python3-jwcrypto)  # tests/system/test_oidc.py: JOSE interop
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
