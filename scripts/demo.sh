#!/usr/bin/env bash
# Sets up and runs Focal on its embedded default: installs the packages, builds,
# generates the demo city (SQLite sources, scale 10: 100,000 persons) and a
# development certificate, then starts focald on https://127.0.0.1:8443 in the
# foreground (Ctrl-C stops it).
#
# Login is real, as in production: the first run creates three accounts —
# demo (officer, TOTP enrolled here, QR printed), demo-admin and demo-auditor
# (they enrol TOTP with the QR code at their first login in the browser) — and
# keeps their passwords in demo/data/demo-accounts.txt (mode 0600; synthetic
# data only).  `scripts/demo.sh --dev` instead runs in development mode:
# requests without credentials run as the development user
# (--dev-insecure-no-auth, logged loudly).
set -euo pipefail
cd "$(dirname "$0")/.."
dev=()
case "${1:-}" in
  --dev) dev=(--dev-insecure-no-auth) ;;
  "") ;;
  *) echo "usage: scripts/demo.sh [--dev]" >&2; exit 2 ;;
esac
scripts/deps.sh
scripts/build.sh
data=demo/data
stale=no
for f in demo/generate.py demo/agencies.py demo/labels.py demo/policy.yaml; do
  [ -f "$data/focal.yaml" ] && [ ! "$f" -nt "$data/focal.yaml" ] || stale=yes
done
if [ "$stale" = yes ]; then
  rm -rf "$data"
  python3 demo/generate.py --out "$data" --scale 10
fi
scripts/devcert.sh "$data/tls"
build/focald --check -c "$data/focal.yaml"
# The demo accounts, once per generated data set.
accounts="$data/demo-accounts.txt"
focal_user() { build/focal user --config "$data/focal.yaml" "$@"; }
demo_account() { # USER NAME ROLES [--totp]
  local pw
  pw=$(python3 -c 'import secrets; print("demo-" + secrets.token_urlsafe(15))')
  printf '%s\n' "$pw" | focal_user add "$1" --name "$2" --unit DEMO --roles "$3" \
    --clearance strictly_confidential --password-file - "${@:4}"
  printf '%-13s %-8s %s\n' "$1" "$3" "$pw" >>"$accounts"
}
if ! focal_user list --json 2>/dev/null | grep -q '"username": "demo"'; then
  rm -f "$accounts"
  (umask 077 && printf '%-13s %-8s %s\n' user role password >"$accounts")
  demo_account demo "Demo Officer" officer --totp
  demo_account demo-admin "Demo Administrator" admin
  demo_account demo-auditor "Demo Auditor" auditor
  echo
  echo "Demo accounts (passwords in $accounts, mode 0600):"
  cat "$accounts"
  echo "demo's TOTP is enrolled above (scan the QR code, or: oathtool --totp -b SECRET with the"
  echo "secret= of the otpauth URI); demo-admin and demo-auditor enrol at their first login."
fi
cacert="$PWD/$data/tls/cert.pem"
if [ ${#dev[@]} -eq 0 ]; then
  cat <<TXT

Focal is starting on https://127.0.0.1:8443 (demo data; login required).
Browser: https://127.0.0.1:8443/ (officer app), /admin/, /oversight/ — log in with an
account of $accounts (self-signed demo certificate: accept it once).
Command line, in another terminal:
  export FOCAL_CACERT=$cacert
  build/focal login --user demo                 # password, then the TOTP code
  build/focal search --purpose intervention --case PV-2026-001 "1-ABC-123"
Restricted sources need a purpose and a case reference (demo/policy.yaml);
some searches also ask for --justification "why".
Every search is in the audit log $data/audit/ (signing key generated there):
  build/focal audit verify --log $data/audit --key $data/audit/audit-key.pub.pem
  build/focal login --user demo-auditor && build/focal audit who-looked-up 1-ABC-123 --format csv

TXT
else
  cat <<TXT

Focal is starting on https://127.0.0.1:8443 (demo data, DEVELOPMENT MODE: no login).
Try, in another terminal:
  FOCAL_CACERT=$cacert build/focal search --purpose intervention \\
       --case PV-2026-001 "1-ABC-123"
  curl --cacert $cacert https://127.0.0.1:8443/v1/search \\
       -H 'Content-Type: application/json' \\
       -d '{"q":"Jan Peeters","purpose":"intervention","case_ref":"PV-2026-001"}'

TXT
fi
exec build/focald -c "$data/focal.yaml" "${dev[@]}"
