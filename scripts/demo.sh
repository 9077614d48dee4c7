#!/usr/bin/env bash
# Sets up and runs Focal on its embedded default: installs the packages, builds,
# generates the demo city (SQLite sources) and a development certificate, then
# starts focald on https://127.0.0.1:8443 in the foreground (Ctrl-C stops it).
# Creates the officer account "demo" (password and TOTP printed once).  Still
# development mode: requests without credentials run as the development user
# (--dev-insecure-no-auth, logged loudly); logged-in requests use the session.
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
# An officer account for the demo (once per generated data set): the password
# and the TOTP enrolment are printed here, once.
if ! build/focal user --config "$data/focal.yaml" list --json 2>/dev/null | grep -q '"username": "demo"'; then
  pw=$(python3 -c 'import secrets; print("demo-" + secrets.token_urlsafe(15))')
  printf '%s\n' "$pw" | build/focal user --config "$data/focal.yaml" add demo --name "Demo Officer" \
    --unit DEMO --roles officer --clearance strictly_confidential --password-file - --totp 2>/dev/null
  cat <<TXT

Demo officer account: username demo, password $pw (shown only now).
Log in with:  FOCAL_CACERT=$PWD/$data/tls/cert.pem build/focal login --user demo
(the password above, then the 6-digit code of an authenticator app that scanned the QR code;
 or: oathtool --totp -b SECRET with the secret= of the otpauth URI).
TXT
fi
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
