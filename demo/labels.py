#!/usr/bin/env python3
"""The labelled evaluation set of the demo city: DIR/evaluation.json.

    python3 demo/labels.py --out DIR        (generate.py calls this itself)

Reads the databases and planted.json that demo/generate.py wrote into DIR and
writes DIR/evaluation.json: searches an officer would type, each with the
alerts that must appear, the alerts that must not, the records that must be
merged into one entity (records of one person across sources) and the pairs
that must never be (different people who share a name).  demo/evaluate.py runs
them against focald and prints precision and recall; docs/evaluation.md
explains the categories, the labels and the targets.

Ground truth comes from the databases themselves, so the labels say exactly
what the sources hold: a record with a national number belongs to the person
with that number; one without (a signalement under a name, a missing person
reported by name) belongs to the single person of the population register with
that name and birth date -- the generator made it from that person, and a name
+ birth date shared by two residents is left unlabelled.  A police-report
warning with neither a national number nor a birth date cannot be attributed:
it must appear (the officer has to see it) but is never labelled for merging.

Deterministic: the databases are deterministic for a --scale and --seed, and
the sampling below uses its own random generator seeded from --seed (it never
touches generate.py's), so evaluation.json is byte-for-byte reproducible and
adding it changed nothing else the generator writes.
"""

import argparse
import datetime
import functools
import json
import os
import random
import sqlite3
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as gen  # noqa: E402  (the formats and folding rules of the city)
import agencies  # noqa: E402  (the further agencies and how to read them back)

ascii_upper = functools.lru_cache(maxsize=None)(gen.ascii_upper)

# Sizes of the sampled part (independent of the scale: the run time must stay
# bounded, and at every scale these are enough persons to measure with)
N_SUBJECTS = 50        # persons with officer-safety alerts: name+date, number, variants
N_VARIANTS_EACH = 2    # spelling-variant searches per subject
N_HOP_PLATE = 25       # plate of a car an alert subject owns
N_HOP_SERIAL = 15      # serial of a firearm an alert subject holds
N_DECOYS = 30          # same name, other birth date
MAX_HOMONYMS = 25      # name-only searches only when the population answer stays well under max_rows

# Sources that match names generously (doubled letters count once); the others
# fold only case, accents and hyphens (see demo/README.md)
LOOSE_SOURCES = ("wanted", "missing_persons") + agencies.LOOSE_SOURCES
NAME_SOURCES = ("population", "wanted", "missing_persons", "police_reports",
                "driving_licences") + agencies.NAME_SOURCES
# officer-safety alerts on persons
SAFETY_SOURCES = ("wanted", "missing_persons", "police_reports") + agencies.SAFETY_SOURCES
# alerts on a vehicle or firearm that name its holder: reached by the holder's
# number, but they concern the object, so they are in no person's merge group
OBJECT_SOURCES = tuple(s[0] for s in agencies.LABEL_OBJECTS)

VARIANT_KINDS = ["case", "diacritics", "hyphen_space", "word_order", "doubled", "phonetic"]
DATE_FORMATS = ["%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%d", "%d-%m-%Y"]
# Typo-free spelling variants that sound the same; the alert sources find them
# because they differ only in doubled letters
PHONETIC = [("Mohammed", "Mohamed"), ("Peeters", "Peters"), ("Janssens", "Jansens"),
            ("Willems", "Wilems"), ("Goossens", "Goosens"), ("Youssef", "Yousef"),
            ("Mertens", "Merttens"), ("Hermans", "Hermanns"), ("Wouters", "Wouterss"),
            ("Collard", "Colard"), ("Gillet", "Gilet"), ("Hallet", "Hallett"),
            ("Timmermans", "Timermans"), ("Bosmans", "Bossmans"), ("Pirson", "Pirsson"),
            ("Annelies", "Anelies"), ("Ellen", "Elen"), ("Hanne", "Hane"), ("Anne", "Ane"),
            ("Isabelle", "Isabele"), ("Mireille", "Mireile"), ("Gaëlle", "Gaële"),
            ("Joëlle", "Joële"), ("Noémie", "Noemie")]


@functools.lru_cache(maxsize=None)
def fold(s):
    """Case, diacritics and hyphens folded: what every source compares."""
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
    return " ".join(s.replace("-", " ").lower().split())


@functools.lru_cache(maxsize=None)
def loose(s):
    """fold() and doubled letters once, as the alert sources' SQL does."""
    s = fold(s)
    for a, b in gen.LOOSE_PAIRS:
        s = s.replace(a, b)
    return s


def iso_from_dmy(s):  # dd/mm/yyyy or dd.mm.yyyy
    return "%s-%s-%s" % (s[6:10], s[3:5], s[0:2]) if s else None


def iso_from_ymd8(s):
    return "%s-%s-%s" % (s[0:4], s[4:6], s[6:8]) if s else None


def digits(s):
    return "".join(c for c in s if c.isdigit()) if s else None


def fmt_date(iso, fmt):
    return datetime.date.fromisoformat(iso).strftime(fmt)


# --------------------------------------------------------------------------
# Record references: how a labelled record is recognised in a briefing
# --------------------------------------------------------------------------


def ref(source, typ, label, **match):
    """A record of one source: type and the fields that identify it (all must
    be equal in the briefing's record).  label is for people reading misses."""
    return {"source": source, "type": typ, "match": match, "label": label}


def ref_key(r):
    return json.dumps([r["source"], r["type"], sorted(r["match"].items())], ensure_ascii=False)


class Person:
    __slots__ = ("nn", "family", "given", "born", "plates", "serials", "alerts", "records")

    def first_given(self):
        return self.given.split(" ")[0]

    def name(self):
        return "%s %s" % (self.given, self.family)


class Alert:
    """An alert record of a source and what is known of its subject."""
    __slots__ = ("source", "ref", "category", "nn", "born", "family", "given", "owner", "safety")


class City:
    """The databases of DIR, read back."""

    def __init__(self, out):
        self.out = out
        self.persons = {}           # nn -> Person
        self.by_name_born = {}      # (ascii upper family, ascii upper given, iso) -> [nn]
        self.by_first_born = {}     # (ascii upper family, ascii upper first given, iso) -> [nn]
        self.by_first = {}          # (fold family, fold first given) -> [nn]
        self.by_loose_born = {}     # (loose family, loose given, iso) -> [nn]
        self.by_initial_born = {}   # (loose family, initial, iso) -> [nn]
        self.alerts = []            # every person alert (Alert)
        self.loose_alerts = []      # person alerts with neither number nor birth date
        self.stolen_plates = {}     # plate -> [case numbers]
        self.firearm_alerts = {}    # compact serial -> (raw serial, category)
        self.plate_alerts = {}      # plate -> [alert refs of the further agencies (demo/agencies.py)]
        self.load()

    def db(self, name):
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.out, name), uri=True)
        return con

    def load(self):
        con = self.db("bevolkingsregister.db")
        for nn, fam, giv, born in con.execute(
                "SELECT rijksregisternummer, achternaam, voornamen, geboortedatum FROM personen "
                "ORDER BY rijksregisternummer"):
            p = Person()
            p.nn, p.family, p.given, p.born = digits(nn), fam, giv, born
            p.plates, p.serials, p.alerts, p.records = [], [], [], []
            self.persons[p.nn] = p
            self.by_name_born.setdefault((ascii_upper(fam), ascii_upper(giv), born), []).append(p.nn)
            self.by_first_born.setdefault((ascii_upper(fam), ascii_upper(p.first_given()), born),
                                          []).append(p.nn)
            self.by_first.setdefault((fold(fam), fold(p.first_given())), []).append(p.nn)
            self.by_loose_born.setdefault((loose(fam), loose(giv), born), []).append(p.nn)
            if loose(p.first_given()) != loose(giv):
                self.by_loose_born.setdefault((loose(fam), loose(p.first_given()), born), []).append(p.nn)
            self.by_initial_born.setdefault((loose(fam), fold(giv)[:1], born), []).append(p.nn)
            p.records.append(ref("population", "person", "population person %s" % p.nn, national_number=p.nn))
        con.close()

        con = self.db("voertuigen.db")
        for plate, onn in con.execute("SELECT nummerplaat, titularis_rrn FROM inschrijvingen "
                                      "WHERE titularis_rrn IS NOT NULL ORDER BY nummerplaat"):
            if onn in self.persons:
                self.persons[onn].plates.append(plate)
        con.close()
        con = self.db("stolen_vehicles.db")
        for plate, case in con.execute("SELECT plate, case_number FROM stolen ORDER BY case_number"):
            self.stolen_plates.setdefault(plate, []).append(case)
        con.close()
        con = self.db("registre_armes.db")
        for serial, hnn, alert in con.execute("SELECT numero_serie, detenteur_nn, signalement FROM armes "
                                              "ORDER BY numero_serie"):
            hnn = digits(hnn)
            if hnn in self.persons:
                self.persons[hnn].serials.append(serial)
            if alert:
                self.firearm_alerts[serial.replace("-", "").replace(" ", "").upper()] = (serial, alert)
        con.close()

        # wanted: person record + alert, by number or by name and birth date
        con = self.db("signalements.db")
        for sid, nom, prenom, born, nn, cat in con.execute(
                "SELECT id_signalement, nom, prenom, date_naissance, numero_national, categorie "
                "FROM signalements ORDER BY id_signalement"):
            born = iso_from_dmy(born)
            a = self.alert("wanted", ref("wanted", "alert", "wanted alert %s (%s)" % (sid, cat), reference=sid),
                           cat, nn, born, nom, prenom)
            owner = self.owner(nn, nom, prenom, born)
            if owner:
                match = {"national_number": nn} if nn else {"family_name": nom, "given_name": prenom,
                                                            "birth_date": born}
                owner.records.append(ref("wanted", "person", "wanted person %s %s" % (prenom, nom), **match))
            self.attach(a, owner)
        con.close()

        con = self.db("vermiste_personen.db")
        for dos, fam, voor, born, rrn, status, kw in con.execute(
                "SELECT dossiernummer, familienaam, voornaam, geboortedatum, rijksregisternr, status, kwetsbaar "
                "FROM vermiste_personen ORDER BY dossiernummer"):
            born, nn = iso_from_dmy(born), digits(rrn)
            owner = self.owner(nn, fam, voor, born)
            if owner:
                match = {"national_number": nn} if nn else {"family_name": fam, "given_name": voor,
                                                            "birth_date": born}
                owner.records.append(ref("missing_persons", "person", "missing person %s %s" % (voor, fam),
                                         **match))
            if status != "vermist":  # found again: no alert
                continue
            cat = "vermist - kwetsbare persoon" if kw == "ja" else "vermist"
            a = self.alert("missing_persons", ref("missing_persons", "alert", "missing-person alert %s (%s)"
                                                  % (dos, cat), reference=dos), cat, nn, born, fam, voor)
            self.attach(a, owner)
        con.close()

        con = self.db("permis_conduire.db")
        for num, nom, prenom, born, nn, cats, ban in con.execute(
                "SELECT numero_permis, nom, prenom, date_naissance, numero_registre_national, categories, "
                "decheance FROM permis ORDER BY numero_permis"):
            owner = self.persons.get(nn)
            if owner:
                owner.records.append(ref("driving_licences", "person", "driving licence of %s" % nn,
                                         national_number=nn))
            if ban:
                reference = "Permis %s (cat. %s)" % (num, cats)
                a = self.alert("driving_licences", ref("driving_licences", "alert", "driving ban %s" % reference,
                                                       reference=reference), ban, nn, iso_from_ymd8(born),
                               nom, prenom)
                self.attach(a, owner)
        con.close()

        con = self.db("police_reports.db")
        seen = set()
        for rf, nn, fam, first, born, warn in con.execute(
                "SELECT ref, nat_no, surname, first_name, birth_date, warning FROM involvements "
                "ORDER BY ref, rowid"):
            born = iso_from_dmy(born)
            owner = self.owner(nn, fam, first, born)
            full = ("%s %s" % (first or "", fam)).strip()
            if owner and (nn, fam, first, born) not in seen:
                seen.add((nn, fam, first, born))
                match = {"national_number": nn} if nn else {"family_name": fam, "given_name": first,
                                                            "birth_date": born}
                owner.records.append(ref("police_reports", "person", "police-report person %s" % (nn or full),
                                         **match))
            if warn:
                match = {"reference": rf, "subject_name": full}
                a = self.alert("police_reports", ref("police_reports", "alert", "report warning %s on %s (%s)"
                                                     % (rf, full, warn), **match), warn, nn, born, fam, first)
                if owner is None and nn is None and born is None:
                    self.loose_alerts.append(a)
                self.attach(a, owner)
        con.close()

        self.load_agencies()

    def load_agencies(self):
        """The further agencies (demo/agencies.py), read through the same
        SELECTs focald runs: person records and alerts as for the police
        reports; alerts on vehicles by plate (and by the holder's number when
        the source answers by number)."""
        for src, db, sel, refc, catc, nnc, famc, givc, bornc, _, _ in agencies.LABEL_PERSONS:
            con = self.db(db)
            seen = set()
            for rf, cat, nn, fam, giv, born in con.execute(
                    "SELECT %s, %s, %s, %s, %s, %s FROM (%s) ORDER BY 1, 3, 4, 5, 6, 2"
                    % (refc, catc, nnc, famc, givc, bornc, sel)):
                owner = self.owner(nn, fam, giv, born)
                if owner and (nn, fam, giv, born) not in seen:
                    seen.add((nn, fam, giv, born))
                    match = {"national_number": nn} if nn else {"family_name": fam, "given_name": giv,
                                                                "birth_date": born}
                    owner.records.append(ref(src, "person", "%s person %s" % (src, nn or "%s %s" % (giv, fam)),
                                             **match))
                if rf and cat:
                    a = self.alert(src, ref(src, "alert", "%s alert %s (%s)" % (src, rf, cat), reference=rf),
                                   cat, nn, born, fam, giv)
                    self.attach(a, owner)
            con.close()
        for src, db, sel, refc, catc, platec, nnc in agencies.LABEL_OBJECTS:
            con = self.db(db)
            for rf, cat, plate, nn in con.execute(
                    "SELECT %s, %s, %s, %s FROM (%s) WHERE %s IS NOT NULL ORDER BY 1"
                    % (refc, catc, platec, nnc, sel, catc)):
                r = ref(src, "alert", "%s alert %s (%s)" % (src, rf, cat), reference=rf)
                if plate:
                    self.plate_alerts.setdefault(plate, []).append(r)
                if nn in self.persons:
                    self.attach(self.alert(src, r, cat, nn, None, None, None), self.persons[nn])
            con.close()

    def owner(self, nn, family, given, born):
        """The resident a record is about: by national number; else the one
        resident with that name (exactly, then with doubled letters once, then
        by initial: 'J.') and that birth date.  None when nobody or several
        residents fit (a foreign national; two namesakes born the same day):
        such records stay unlabelled."""
        if nn:
            return self.persons.get(nn)
        if not born or not given:
            return None
        g = given.strip()
        for cands in (self.by_name_born.get((ascii_upper(family), ascii_upper(g), born)),
                      self.by_first_born.get((ascii_upper(family), ascii_upper(g), born)),
                      self.by_loose_born.get((loose(family), loose(g), born)),
                      self.by_initial_born.get((loose(family), fold(g)[:1], born))
                      if len(g.strip(".")) == 1 else None):
            if cands:
                return self.persons[cands[0]] if len(cands) == 1 else None
        return None

    def alert(self, source, r, category, nn, born, family, given):
        a = Alert()
        a.source, a.ref, a.category, a.nn, a.born = source, r, category, nn or None, born
        a.family, a.given, a.owner = family, given, None
        a.safety = source in SAFETY_SOURCES
        self.alerts.append(a)
        return a

    def attach(self, a, owner):
        if owner is not None:
            a.owner = owner.nn
            owner.alerts.append(a)


# --------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------


class Labels:
    def __init__(self, city, planted, seed):
        self.city = city
        self.planted = planted
        self.rng = random.Random("focal-evaluation-%d" % seed)
        self.queries = []
        self.ids = set()

    def add(self, qid, category, request, subject=None, note=None, must=(), must_not=(), beyond=(),
            merge=(), not_merge=()):
        assert qid not in self.ids, qid
        self.ids.add(qid)
        q = {"id": qid, "category": category, "request": request}
        if subject:
            q["subject"] = subject
        if note:
            q["note"] = note
        uniq = lambda refs: list({ref_key(r): r for r in refs}.values())  # noqa: E731
        q["must_alerts"] = uniq(must)
        q["must_not_alerts"] = uniq(must_not)
        if beyond:
            q["beyond_source_alerts"] = uniq(beyond)
        q["must_merge"] = [uniq(g) for g in merge if len(uniq(g)) >= 2]
        q["must_not_merge"] = [list(p) for p in not_merge]
        self.queries.append(q)

    # -- what a person's records and alerts are, per way of searching --------
    def by_name(self, p, sources=NAME_SOURCES, given=None):
        """Alerts a name search (with the right birth date) must bring: the
        person's own, and name-only warnings nobody can attribute.  given is
        the given name as searched (default: the first one); a source finds a
        record when its given name equals it or starts with it, or either is
        an initial (the SQL of demo/generate.py: person_query)."""
        given = fold(given or p.first_given())
        own = [a for a in p.alerts if a.source in sources]
        key = (fold(p.family), fold(p.first_given()))
        anon = [a for a in self.city.loose_alerts
                if a.source in sources and (fold(a.family), fold(a.given or "").split(" ")[0]) == key]
        return [a.ref for a in own + anon if self.finds(a, given)]

    @staticmethod
    def finds(a, given):
        key = loose if a.source in LOOSE_SOURCES else fold
        g, q = key(a.given or ""), key(given)
        return (g == q or g.startswith(q + " ") or len(q.strip(".")) == 1 or len(g.strip(".")) == 1) \
            and g[:1] == q[:1]

    def by_number(self, p):
        return [a.ref for a in p.alerts if a.nn == p.nn]

    def group_by_name(self, p, sources=NAME_SOURCES):
        return [r for r in p.records if r["source"] in sources] + \
            [a.ref for a in p.alerts if a.source in sources]

    def group_by_number(self, p):
        return [r for r in p.records if r["match"].get("national_number") == p.nn] + \
            [a.ref for a in p.alerts if a.nn == p.nn and a.source not in OBJECT_SOURCES]

    def dated_alerts(self, p):
        """Alerts that carry a birth date or number: a search with another
        birth date must not bring them."""
        return [a.ref for a in p.alerts if a.born or a.nn]

    # -- (a) the planted cases ---------------------------------------------
    def planted_cases(self):
        c = self.city
        nn = {}
        for case in self.planted["cases"]:
            if "person" in case and "national_number" in case["person"]:
                nn[case["id"]] = case["person"]["national_number"]
            for p in case.get("persons", []):
                nn["%s/%s" % (case["id"], p["key"])] = p["national_number"]
        P = {k: c.persons[v] for k, v in nn.items()}

        def a_of(p, source):
            return [a.ref for a in p.alerts if a.source == source]

        armed, jan, decoy = P["armed_by_plate"], P["same_name_decoy/wanted"], P["same_name_decoy/decoy"]
        armed_alerts = a_of(armed, "wanted") + a_of(armed, "police_reports")
        for i, q in enumerate(["1-ABC-123", "1ABC123", "1 abc 123"]):
            self.add("planted/armed_by_plate/plate%d" % i, "planted", {"q": q}, armed.nn,
                     "armed suspect reached through his car (linked hop)",
                     must=armed_alerts + c.plate_alerts.get("1ABC123", []),
                     merge=[self.group_by_number(armed)])
        for i, q in enumerate([gen.nn_dotted(armed.nn), armed.nn]):
            self.add("planted/armed_by_plate/number%d" % i, "planted", {"q": q}, armed.nn,
                     must=armed_alerts, merge=[self.group_by_number(armed)])

        jan_alert = a_of(jan, "wanted")
        pairs = [(x, y) for x in c.persons[decoy.nn].records[:1] for y in jan_alert + jan.records[:1]]
        self.add("planted/same_name_decoy/name", "planted", {"q": "Jan Peeters"}, jan.nn,
                 "two Jan Peeters: the alert concerns the 1981 one only",
                 must=self.by_name(jan) + self.by_name(decoy),
                 merge=[self.group_by_name(jan), self.group_by_name(decoy)], not_merge=pairs)
        self.add("planted/same_name_decoy/wanted_date", "planted", {"q": "Jan Peeters 12/03/1981"}, jan.nn,
                 must=self.by_name(jan), merge=[self.group_by_name(jan)])
        self.add("planted/same_name_decoy/decoy_date", "planted", {"q": "Jan Peeters 04/11/1962"}, decoy.nn,
                 "the decoy: the 1981 Jan Peeters' alert must not appear",
                 must=self.by_name(decoy), must_not=jan_alert, merge=[self.group_by_name(decoy)])

        mo = P["spelling_mohamed"]
        for i, q in enumerate(["Mohamed El Amrani", "Mohammed El Amrani", "MOHAMED EL-AMRANI",
                               "El Amrani Mohamed 21/06/1990"]):
            self.add("planted/spelling_mohamed/%d" % i, "planted", {"q": q}, mo.nn,
                     "Mohamed (population) = MOHAMMED (wanted, no national number)",
                     must=self.by_name(mo), merge=[self.group_by_name(mo)])
        lotte = P["spelling_peeters"]
        for i, q in enumerate(["Lotte Peeters", "Lotte Peters", "lotte peeters 14/05/2009"]):
            self.add("planted/spelling_peeters/%d" % i, "planted", {"q": q}, lotte.nn,
                     "Peeters (population) = PETERS (missing, no national number)",
                     must=self.by_name(lotte), merge=[self.group_by_name(lotte)])
        em = P["diacritics"]
        for i, q in enumerate(["Émilie Dubois-Lambert", "EMILIE DUBOIS LAMBERT", "emilie dubois-lambert",
                               "Dubois-Lambert Émilie"]):
            self.add("planted/diacritics/%d" % i, "planted", {"q": q}, em.nn,
                     must=self.by_name(em), merge=[self.group_by_name(em)])
        jo = P["initial"]
        jo_alert = a_of(jo, "wanted")
        others = [q for q in c.persons.values() if q.family == "Janssens" and q.given.startswith("J")
                  and q.nn != jo.nn]
        self.add("planted/initial/full", "planted", {"q": "Jozef Janssens 02/02/1970"}, jo.nn,
                 "J. JANSSENS 1970-02-02 (wanted, no number) is Jozef Janssens 1970-02-02",
                 must=self.by_name(jo), merge=[self.group_by_name(jo)])
        self.add("planted/initial/initial", "planted", {"q": "J. Janssens"}, jo.nn,
                 "other J* Janssens must not take the alert",
                 must=jo_alert, merge=[self.group_by_name(jo)],
                 not_merge=[(o.records[0], a) for o in others for a in jo_alert])
        ma = P["missing_vulnerable"]
        self.add("planted/missing_vulnerable/name", "planted", {"q": "Marcel Wouters"}, ma.nn,
                 must=self.by_name(ma), merge=[self.group_by_name(ma)])
        self.add("planted/missing_vulnerable/number", "planted", {"q": ma.nn}, ma.nn,
                 must=self.by_number(ma), merge=[self.group_by_number(ma)])
        ka = P["firearm_holder_wanted"]
        for i, q in enumerate(["AFKX417", "AFKX 417", gen.nn_dotted(ka.nn)]):
            self.add("planted/firearm_holder_wanted/%d" % i, "planted", {"q": q}, ka.nn,
                     "firearm holder is wanted (linked hop from the serial)",
                     must=self.by_number(ka), merge=[self.group_by_number(ka)])
        dog = ref("address_notes", "alert", "address note ADR-1 (agressieve hond)", reference="ADR-1")
        lab = ref("address_notes", "alert", "address note ADR-2 (gekend drugslab)", reference="ADR-2")
        self.add("planted/address_note/dog", "planted",
                 {"fields": {"street": "Lange Kievitstraat", "number": "112", "postcode": "2018"},
                  "kind": "address"}, note="hazard at an address", must=[dog])
        self.add("planted/address_note/dog_text", "planted", {"q": "Lange Kievitstraat 112, 2018 Antwerpen"},
                 note="the same address typed as text", must=[dog])
        self.add("planted/address_note/lab", "planted",
                 {"fields": {"street": "Turnhoutsebaan", "number": "300"}, "kind": "address"}, must=[lab])
        self.planted_agencies(P)
        return {p.nn for p in P.values()}

    def planted_agencies(self, P):
        """The hard cases of the further agencies (demo/agencies.py)."""
        c = self.city
        ke = P["uninsured_plate_hop"]
        for i, q in enumerate(["1-KLM-404", "1klm404"]):
            self.add("planted/uninsured_plate_hop/plate%d" % i, "planted", {"q": q}, ke.nn,
                     "uninsured car; the owner's restraining order and police-zone flag through the hop",
                     must=self.by_number(ke) + c.plate_alerts.get("1KLM404", []), merge=[self.group_by_number(ke)])
        self.add("planted/uninsured_plate_hop/name", "planted", {"q": "Kenny Van Looy"}, ke.nn,
                 must=self.by_name(ke), merge=[self.group_by_name(ke)])
        se = P["escaped_resident"]
        liege = ref("address_notes_liege", "alert", "address note LIE-1 (chien dangereux)", reference="LIE-1")
        self.add("planted/escaped_resident/address", "planted",
                 {"fields": {"street": "Rue Féronstrée", "number": "45", "postcode": "4000"}, "kind": "address"},
                 se.nn, "a dangerous dog at the address; the resident escaped from prison (hop)",
                 must=[liege] + self.by_number(se))
        self.add("planted/escaped_resident/address_plain", "planted",
                 {"fields": {"street": "rue feronstree", "number": "45"}, "kind": "address"},
                 se.nn, "the street typed without accents", must=[liege] + self.by_number(se))
        self.add("planted/escaped_resident/name", "planted", {"q": "Sébastien Lhoest"}, se.nn,
                 must=self.by_name(se), merge=[self.group_by_name(se)])
        ju = P["german_speaking"]
        for i, q in enumerate(["Jürgen Schröder", "Jurgen Schroder 08/10/1976", "SCHRÖDER, Jürgen 08.10.1976",
                               "schroder jurgen"]):
            self.add("planted/german_speaking/%d" % i, "planted", {"q": q}, ju.nn,
                     "Eupen police zone (German) and SIS (SCHRODER JURGEN, no number)",
                     must=self.by_name(ju), merge=[self.group_by_name(ju)])
        eupen = ref("address_notes_eupen", "alert", "address note EUP-1 (Waffen im Haus)", reference="EUP-1")
        self.add("planted/german_speaking/address", "planted",
                 {"fields": {"street": "Klötzerbahn", "number": "12", "postcode": "4700"}, "kind": "address"},
                 ju.nn, "weapons in the house; the resident's flag through the hop",
                 must=[eupen] + self.by_number(ju))

    # -- (b) persons with officer-safety alerts ----------------------------
    def subjects(self, exclude):
        c = self.city
        return [p for p in c.persons.values() if p.nn not in exclude and any(a.safety for a in p.alerts)]

    def name_text(self, p, full_given):
        return "%s %s" % (p.given if full_given else p.first_given(), p.family)

    def sampled(self, exclude):
        subjects = self.subjects(exclude)
        rng = self.rng
        chosen = rng.sample(subjects, min(N_SUBJECTS, len(subjects)))
        used = {k: 0 for k in VARIANT_KINDS}
        for i, p in enumerate(chosen):
            fmt = DATE_FORMATS[i % len(DATE_FORMATS)]
            full = i % 5 == 4 and " " in p.given
            name = self.name_text(p, full_given=full)
            self.add("name_dob/%s" % p.nn, "name_dob", {"q": "%s %s" % (name, fmt_date(p.born, fmt))}, p.nn,
                     "all given names" if full else None,
                     must=self.by_name(p, given=p.given if full else None),
                     beyond=[r for r in self.by_name(p) if full and r not in self.by_name(p, given=p.given)],
                     merge=[self.group_by_name(p)])
            nnf = [p.nn, gen.nn_dotted(p.nn), gen.nn_spaced(p.nn),
                   "%s-%s.%s" % (p.nn[:6], p.nn[6:9], p.nn[9:])][i % 4]
            self.add("national_number/%s" % p.nn, "national_number", {"q": nnf}, p.nn,
                     must=self.by_number(p), merge=[self.group_by_number(p)])
            # the kinds that apply to this name, the least used so far first
            cands, texts = [], set()
            for kind in VARIANT_KINDS:
                v = self.variant(p, kind)
                if v is not None:
                    cands.append((used[kind], VARIANT_KINDS.index(kind), kind, v))
            chosen_kinds = []
            for c in sorted(cands):
                if c[3][0] not in texts and len(chosen_kinds) < N_VARIANTS_EACH:
                    texts.add(c[3][0])
                    chosen_kinds.append(c)
            for _, _, kind, (text, sources, given) in chosen_kinds:
                used[kind] += 1
                must = self.by_name(p, sources, given)
                beyond = [r for r in self.by_name(p, NAME_SOURCES) if r not in must]
                self.add("variant/%s/%s" % (kind, p.nn), "variant",
                         {"q": "%s %s" % (text, fmt_date(p.born, "%d/%m/%Y"))}, p.nn,
                         "%s: %s" % (kind, p.name()), must=must, beyond=beyond,
                         merge=[self.group_by_name(p, sources)])

    def variant(self, p, kind):
        """(text, sources that must find it, given name as searched) or None
        when the kind does not apply to this name."""
        given, family = p.first_given(), p.family
        name = "%s %s" % (given, family)
        if kind == "case":
            text = name.upper() if int(p.nn[-2:]) % 2 else name.lower()
        elif kind == "diacritics":
            if any(ord(ch) > 127 for ch in name):  # removed
                text = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
            else:  # added, as a French-speaking officer might: Mertens -> Merténs
                i = family.rfind("e")
                if i < 0:
                    return None
                text = "%s %s" % (given, family[:i] + "é" + family[i + 1:])
        elif kind == "hyphen_space":
            if "-" in name:
                text = name.replace("-", " ")
            elif " " in family:
                text = "%s %s" % (given, family.replace(" ", "-"))
            elif " " in p.given:  # two given names written as one: Jan-Pieter Peeters
                given = p.given
                text = "%s %s" % (given.replace(" ", "-"), family)
                name = "%s %s" % (given, family)
            else:
                return None
        elif kind == "word_order":  # family name first, as registers print it
            text = "%s %s" % (family, given) if int(p.nn[-2:]) % 3 else "%s, %s" % (family.upper(), given)
        elif kind in ("doubled", "phonetic"):
            text = None
            if kind == "phonetic":
                for a, b in PHONETIC:
                    for x, y in ((a, b), (b, a)):
                        if x in (given, family):
                            text = "%s %s" % (y if given == x else given, y if family == x else family)
                            break
                    if text:
                        break
            else:
                text = self.double(given, family)
            if text is None or loose(text) != loose(name) or fold(text) == fold(name):
                return None
            return text, LOOSE_SOURCES, given
        else:
            raise ValueError(kind)
        if sorted(fold(text).replace(",", "").split()) != sorted(fold(name).split()):
            return None
        return text, NAME_SOURCES, given

    @staticmethod
    def double(given, family):
        """A doubled letter written once (Wilmotte -> Wilmote), or else a
        single consonant between vowels written twice (Simon -> Simmon): in
        the family name, else the given name."""
        vowels = "aeiouyéèëêïîôöüàâ"
        for pass_ in ("undouble", "double"):
            for k, part in ((1, family), (0, given)):
                new = None
                if pass_ == "undouble":
                    for a, b in gen.LOOSE_PAIRS:
                        i = part.find(a)
                        if i >= 0 and a != "ee":  # Peeters -> Peters, not Lee -> Le
                            new = part[:i] + b + part[i + len(a):]
                            break
                else:
                    for i in range(1, len(part) - 1):
                        if part[i] in "mtsnl" and part[i - 1].lower() in vowels and part[i + 1] in vowels:
                            new = part[:i + 1] + part[i] + part[i + 1:]
                            break
                if new is not None:
                    parts = [given, family]
                    parts[k] = new
                    return "%s %s" % tuple(parts)
        return None

    def hops(self, exclude):
        rng = self.rng
        subjects = self.subjects(exclude)
        owners = [p for p in subjects if p.plates]
        for i, p in enumerate(rng.sample(owners, min(N_HOP_PLATE, len(owners)))):
            plate = p.plates[0]
            compact = plate.replace("-", "")
            text = [plate, compact, plate.replace("-", " ").lower()][i % 3]
            stolen = [ref("stolen_vehicles", "alert", "stolen vehicle %s (%s)" % (cn, compact), reference=cn)
                      for cn in self.city.stolen_plates.get(compact, [])] + self.city.plate_alerts.get(compact, [])
            self.add("hop_plate/%s" % compact, "hop_plate", {"q": text}, p.nn,
                     "owner %s; alerts reached through the owner's national number" % p.name(),
                     must=self.by_number(p) + stolen, merge=[self.group_by_number(p)])
        holders = [p for p in subjects if p.serials]
        for i, p in enumerate(rng.sample(holders, min(N_HOP_SERIAL, len(holders)))):
            serial = p.serials[0]
            compact = serial.replace("-", "").replace(" ", "").upper()
            text = serial if i % 2 == 0 else compact
            fa = self.city.firearm_alerts.get(compact)
            own = [ref("firearms", "alert", "firearm %s (%s)" % (compact, fa[1]), serial=compact)] if fa else []
            self.add("hop_serial/%s" % compact, "hop_serial", {"q": text}, p.nn,
                     "holder %s; alerts reached through the holder's national number" % p.name(),
                     must=self.by_number(p) + own, merge=[self.group_by_number(p)])

    # -- (c) decoys: same name, another birth date -------------------------
    def decoys(self, exclude):
        c = self.city
        rng = self.rng
        subjects = [p for p in self.subjects(exclude) if self.dated_alerts(p)]
        natural, synthetic = [], []
        for p in subjects:
            homonyms = [c.persons[n] for n in c.by_first[(fold(p.family), fold(p.first_given()))]
                        if n != p.nn and c.persons[n].born != p.born]
            if homonyms and len(homonyms) < MAX_HOMONYMS:
                natural.append((p, homonyms))
            else:
                synthetic.append(p)
        chosen = rng.sample(natural, min(N_DECOYS, len(natural)))
        for p, homonyms in chosen:
            d = homonyms[rng.randrange(len(homonyms))]
            name = "%s %s" % (p.first_given(), p.family)
            # the name alone: both persons come back; the alert must stay with its subject
            not_merge = []
            for h in homonyms:
                for x in self.group_by_name(h)[:1] + [a.ref for a in h.alerts]:
                    for y in self.group_by_name(p)[:1] + self.dated_alerts(p):
                        not_merge.append((x, y))
            must = self.by_name(p)
            groups = [self.group_by_name(p)]
            for h in homonyms:
                must += self.by_name(h)
                groups.append(self.group_by_name(h))
            self.add("decoy_name/%s" % p.nn, "decoy_name", {"q": name}, p.nn,
                     "%d other %s; the alerts concern %s only" % (len(homonyms), name, p.born),
                     must=must, merge=groups, not_merge=not_merge)
            # the name with the other person's birth date: the alert must not appear
            fmt = DATE_FORMATS[len(self.queries) % len(DATE_FORMATS)]
            self.add("decoy/%s/%s" % (p.nn, d.nn), "decoy", {"q": "%s %s" % (name, fmt_date(d.born, fmt))},
                     d.nn, "the other %s, born %s, not %s" % (name, d.born, p.born),
                     must=self.by_name(d), must_not=self.dated_alerts(p), merge=[self.group_by_name(d)])
        for p in rng.sample(synthetic, min(max(0, N_DECOYS - len(chosen)), len(synthetic))):
            name = "%s %s" % (p.first_given(), p.family)
            born = datetime.date.fromisoformat(p.born)
            other = None
            for delta in (397, -397, 731, -731, 1096):
                cand = born + datetime.timedelta(days=delta)
                if cand.year >= 1900 and cand.isoformat() not in {
                        c.persons[n].born for n in c.by_first.get((fold(p.family), fold(p.first_given())), [])}:
                    other = cand
                    break
            self.add("decoy/%s/synthetic" % p.nn, "decoy", {"q": "%s %s" % (name, other.strftime("%d/%m/%Y"))},
                     None, "nobody named %s is born %s: %s's alerts must not appear" % (name, other, p.born),
                     must_not=self.dated_alerts(p))


def build(out):
    with open(os.path.join(out, "planted.json"), encoding="utf-8") as f:
        planted = json.load(f)
    seed = planted["generator"]["seed"]
    city = City(out)
    lab = Labels(city, planted, seed)
    planted_nn = lab.planted_cases()
    lab.sampled(planted_nn)
    lab.hops(planted_nn)
    lab.decoys(planted_nn)
    counts = {}
    for q in lab.queries:
        counts[q["category"]] = counts.get(q["category"], 0) + 1
    return {
        "generator": planted["generator"],
        "description": "Labelled searches over the demo city; see docs/evaluation.md. Run with "
                       "python3 demo/evaluate.py --config DIR/focal.yaml --labels DIR/evaluation.json ...",
        "targets": {"planted_alert_recall": 1.0, "merge_precision": 1.0, "variant_alert_recall": 0.95,
                    "decoy_alerts_shown": 0},
        "counts": counts,
        "queries": lab.queries,
    }


def write(out):
    doc = build(out)
    with open(os.path.join(out, "evaluation.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    return doc


def main():
    ap = argparse.ArgumentParser(description="Write DIR/evaluation.json from a generated demo city.")
    ap.add_argument("--out", required=True, help="the folder demo/generate.py wrote")
    args = ap.parse_args()
    doc = write(args.out)
    print("%s: %d searches (%s)" % (os.path.join(args.out, "evaluation.json"), len(doc["queries"]),
                                    ", ".join("%s %d" % kv for kv in doc["counts"].items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
