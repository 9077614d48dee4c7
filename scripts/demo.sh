#!/usr/bin/env bash
# Sets up and runs Focal on its embedded default: installs the packages, builds,
# generates the demo city (SQLite sources) and a development certificate, then
# starts focald on https://127.0.0.1:8443 in the foreground (Ctrl-C stops it).
# Development only: searches run without login (--dev-insecure-no-auth) until
# the identity issue lands, and focald says so loudly in its log.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
data=demo/data
if [ ! -f "$data/focal.yaml" ] || [ demo/generate.py -nt "$data/focal.yaml" ] ||
   [ demo/policy.yaml -nt "$data/focal.yaml" ]; then
  rm -rf "$data"
  python3 demo/generate.py --out "$data"
fi
scripts/devcert.sh "$data/tls"
build/focald --check -c "$data/focal.yaml"
cat <<TXT

Focal is starting on https://127.0.0.1:8443 (demo data, development mode).
Try, in another terminal:
  FOCAL_CACERT=$PWD/$data/tls/cert.pem build/focal search --purpose intervention \\
       --case PV-2026-001 "1-ABC-123"
  curl --cacert $data/tls/cert.pem https://127.0.0.1:8443/v1/search \\
       -H 'Content-Type: application/json' \\
       -d '{"q":"Jan Peeters","purpose":"intervention","case_ref":"PV-2026-001"}'
Restricted sources need a purpose and a case reference (demo/policy.yaml);
some searches also ask for --justification "why".
Every search is in the audit log $data/audit/ (signing key generated there):
  build/focal audit who-looked-up 1-ABC-123 --log $data/audit --format csv
  build/focal audit verify --log $data/audit --key $data/audit/audit-key.pub.pem

TXT
exec build/focald -c "$data/focal.yaml" --dev-insecure-no-auth
