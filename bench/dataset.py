"""The benchmark's synthetic population, shared by bench.py (SQLite and
PostgreSQL sources, LDAP entries) and http_backend.py (HTTP sources), so
that every source of every kind holds the same kind of data and answers the
benchmark's searches with 1 to 3 rows.

Each source holds ROWS background persons with made-up names plus 1-3 rows
for each of the TARGETS, the persons the load generator searches for.
Background family names are built from syllables and never equal a target's
family name, so a search hits only the intended rows.  Everything is derived
from the source's number: two runs (and two processes) build the same data.
Python standard library only.
"""

import random

# The persons the benchmark searches for: (given name, family name).
TARGETS = [
    ("Jan", "Peeters"), ("Marie", "Janssens"), ("Luc", "Maes"), ("Sofie", "Jacobs"),
    ("Tom", "Mertens"), ("An", "Willems"), ("Pieter", "Claes"), ("Els", "Goossens"),
    ("Koen", "Wouters"), ("Lies", "De Smet"), ("Bart", "Dubois"), ("Nathalie", "Lambert"),
    ("Marc", "Dupont"), ("Julie", "Martin"), ("Hans", "Hermans"), ("Inge", "Vermeulen"),
]

ALERTS = [
    ("gezocht - aan te houden", "Aanhouden en PV opstellen"),
    ("armé et dangereux", "Ne pas intervenir seul"),
    ("vermist - kwetsbaar", "Contact opnemen met de familie"),
]

_SYL = ["van", "de", "ver", "mee", "len", "bos", "dries", "ho", "ven", "ter", "mans", "sens",
        "ber", "ghe", "rooy", "beke", "lin", "dal", "ier", "mont", "court", "ard", "oux", "aut"]
_GIVEN = ["Anna", "Bram", "Cedric", "Dirk", "Emma", "Fien", "Geert", "Hilde", "Ivo", "Joke",
          "Karel", "Lotte", "Mathieu", "Nina", "Olivier", "Paula", "Quentin", "Rik", "Sara",
          "Thomas", "Ursula", "Vincent", "Wim", "Yasmine", "Zoe", "Ahmed", "Fatima", "Mehmet"]

DEFAULT_ROWS = 5000


def national_number(rng):
    """An 11-digit Belgian national register number with valid check digits
    (born 1950-1999): the data looks real to a checksum-aware consumer."""
    yy, mm, dd = rng.randint(50, 99), rng.randint(1, 12), rng.randint(1, 28)
    seq = rng.randint(1, 997)
    base = int("%02d%02d%02d%03d" % (yy, mm, dd, seq))
    return "%09d%02d" % (base, 97 - base % 97), "19%02d-%02d-%02d" % (yy, mm, dd)


def _family(rng):
    return "".join(rng.choice(_SYL) for _ in range(rng.randint(2, 3))).capitalize()


def rows(source_no, nrows=DEFAULT_ROWS):
    """The rows of source number source_no (0-based): a list of dicts with
    national_number, family, given, birth_date, alert, instruction."""
    rng = random.Random(1000 + source_no)
    targets = {f.lower() for _, f in TARGETS}
    out = []
    while len(out) < nrows:
        fam = _family(rng)
        if fam.lower() in targets:
            continue
        nn, born = national_number(rng)
        out.append({"national_number": nn, "family": fam, "given": rng.choice(_GIVEN),
                    "birth_date": born, "alert": None, "instruction": None})
    for t, (given, fam) in enumerate(TARGETS):
        for k in range(1 + (source_no * 7 + t * 3) % 3):  # 1-3 rows per target
            nn, born = national_number(rng)
            alert = ALERTS[(source_no + t) % len(ALERTS)] if (source_no + t + k) % 5 == 0 \
                else (None, None)
            out.append({"national_number": nn, "family": fam, "given": given,
                        "birth_date": born, "alert": alert[0], "instruction": alert[1]})
    return out


def hits(source_no, nrows=DEFAULT_ROWS):
    """{(given, family): rows a search for that target finds in the source}."""
    out = {t: 0 for t in TARGETS}
    want = {(g.lower(), f.lower()): (g, f) for g, f in TARGETS}
    for r in rows(source_no, nrows):
        t = want.get((r["given"].lower(), r["family"].lower()))
        if t is not None:
            out[t] += 1
    return out
