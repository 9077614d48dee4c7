#!/bin/sh
# check_style.sh [PATH...]: fails on calls of banned C library functions in
# Focal's sources (default: the repository's src/), printing file:line for each.
#
# Banned, as curl and OpenBSD ban them: unbounded copies and formatting
# (sprintf, vsprintf, strcpy, strcat, gets), strncpy (does not terminate, pads
# with NULs: use snprintf or memcpy with an explicit length), strtok (hidden
# static state: use strtok_r or strcspn) and atoi/atol/atof (no error
# reporting, undefined on overflow: use strtol/strtod with end and errno
# checks).  Use snprintf/vsnprintf, memcpy with a checked length, strtol.
#
# Comments and string or character literals are skipped, so a comment may
# name a banned function; a member or macro that happens to share a name is
# not a call and is not flagged (`.atoi(` and `->atoi(` are skipped).
# Exit status: 0 clean, 1 banned calls found, 2 usage or I/O error.
set -u
if [ $# -eq 0 ]; then
	cd "$(dirname "$0")/.." || exit 2
	set -- src
fi
for d in "$@"; do
	[ -e "$d" ] || { echo "$0: $d: no such file or directory" >&2; exit 2; }
done
command -v python3 >/dev/null 2>&1 || { echo "$0: needs python3" >&2; exit 2; }

find "$@" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort | python3 -c '
import re, sys

BANNED = ("sprintf", "vsprintf", "strcpy", "strcat", "gets", "strtok", "atoi",
          "atol", "atof", "strncpy")
CALL = re.compile(r"(?<![\w.>])(" + "|".join(BANNED) + r")\s*\(")

def code_only(text):
    """The text with comments and string/char literals blanked, newlines kept
    (so line numbers stay right)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"\x27":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c)
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)

hits = 0
for path in sys.stdin.read().split("\n"):
    if not path:
        continue
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        print("check_style: %s: %s" % (path, e.strerror), file=sys.stderr)
        sys.exit(2)
    for no, line in enumerate(code_only(text).split("\n"), 1):
        for m in CALL.finditer(line):
            print("%s:%d: %s() is banned" % (path, no, m.group(1)))
            hits += 1
if hits:
    print("check_style: %d banned call(s); see the top of scripts/check_style.sh" % hits)
    sys.exit(1)
print("check_style: no banned calls")
'
