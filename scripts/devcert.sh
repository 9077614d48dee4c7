#!/usr/bin/env bash
# Makes a development TLS certificate for 127.0.0.1/localhost in DIR
# (cert.pem, key.pem), valid 30 days.  Never for production: issue "PKI"
# brings the internal CA.  Usage: scripts/devcert.sh DIR
set -euo pipefail
dir=${1:?usage: devcert.sh DIR}
mkdir -p "$dir"
if [ ! -s "$dir/cert.pem" ] || ! openssl x509 -checkend 86400 -noout -in "$dir/cert.pem" >/dev/null 2>&1; then
  umask 077
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
fi
