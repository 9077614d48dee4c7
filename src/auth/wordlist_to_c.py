#!/usr/bin/env python3
"""Turns data/common-passwords.txt into a C array (sorted, lower-cased, unique)
that password.c searches with bsearch, so the list ships inside the binaries
and no file has to be found at run time."""
import sys

src, dst = sys.argv[1], sys.argv[2]
words = set()
with open(src, "rb") as f:
    for raw in f:
        line = raw.rstrip(b"\r\n")
        if not line or line.startswith(b"#"):
            continue
        words.add(line.lower())
with open(dst, "w") as out:
    out.write("/* Generated from data/common-passwords.txt by wordlist_to_c.py. */\n")
    out.write('#include "auth/password.h"\n\n')
    out.write("const char *const password_common_list[] = {\n")
    for w in sorted(words):
        esc = "".join(c if 0x20 <= b < 0x7f and c not in '\\"?' else "\\%03o" % b
                      for b, c in ((b, chr(b)) for b in w))
        out.write('\t"%s",\n' % esc)
    out.write("};\n")
    out.write("const size_t password_common_count = %d;\n" % len(words))
