#!/usr/bin/env python3
"""Parts of the demo city for other kinds of back end: PostgreSQL, LDAP, HTTP.

    python3 demo/generate.py --out DIR --export DIR/export [--pg-conninfo C]
        [--ldap-uri U --ldap-base B --ldap-bind-dn D --ldap-password-file F]
        [--http-url URL]
    python3 demo/export.py --out DIR --export DIR/export [the same options]

The demo city itself is one SQLite database per agency (demo/generate.py).
Real agencies run other back ends, so this module writes four of its sources
again, as those back ends would hold them, each with its own schema:

  wanted            PostgreSQL  postgres.sql: table signalements (typed dates,
                                the national number as char(11), name keys)
  missing_persons   LDAP        ldap.ldif: inetOrgPerson entries under
                                ou=vermiste-personen,<ldap base>
  vehicles          HTTP/JSON   http.json: data set demo_voertuigen
  stolen_vehicles   HTTP/JSON   http.json: data set demo_stolen

and EXPORT/focal.yaml: the demo configuration with those four sources of kind
postgres, ldap and http (connections from the options above) and every other
source the same SQLite database as DIR/focal.yaml.  tests/integration's
servers load the files (psql -f, ldapadd -f, http_server.py PORT http.json);
tests/system/test_demo_city.py does all of it.

The rows are read back from the SQLite databases generate.py just wrote, so the
exported sources hold exactly the same records (the labelled evaluation set
applies unchanged) and nothing generate.py writes changes when exporting.
Deterministic; Python standard library only.
"""

import argparse
import json
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as gen  # noqa: E402

EXPORTED = ("wanted", "missing_persons", "vehicles", "stolen_vehicles")


def loose(key):
    """A name key with every doubled letter once (Mohammed = Mohamed,
    Peeters = Peters): how the wanted source matches names generously."""
    return None if key is None else re.sub(r"(.)\1+", r"\1", key)


def iso(dmy):  # dd/mm/yyyy or dd.mm.yyyy -> yyyy-mm-dd
    return None if not dmy else "%s-%s-%s" % (dmy[6:10], dmy[3:5], dmy[0:2])


def rows(out, db, sql):
    con = sqlite3.connect("file:%s?mode=ro" % os.path.join(out, db), uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------------
# PostgreSQL: the wanted persons (French schema, typed columns, name keys)
# --------------------------------------------------------------------------

def copy_value(v):
    """A value in COPY's text format."""
    if v is None:
        return "\\N"
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_postgres(out, exp):
    data = rows(out, "signalements.db",
                "SELECT id_signalement, nom, prenom, date_naissance, numero_national, nationalite, categorie, "
                "motif, consigne, emis_par, date_emission, valable_jusqu_au FROM signalements "
                "ORDER BY id_signalement")
    lines = [
        "-- The demo city's wanted persons for PostgreSQL (demo/export.py; synthetic data).",
        "-- Creates its table in the current schema: set search_path first.",
        "CREATE TABLE signalements (",
        "    id_signalement text PRIMARY KEY, nom text NOT NULL, prenom text, date_naissance date,",
        "    numero_national char(11), nationalite text, categorie text NOT NULL, motif text,",
        "    consigne text, emis_par text, date_emission date, valable_jusqu_au date,",
        "    cle_nom text NOT NULL, cle_prenom text, cle_nom_souple text NOT NULL, cle_prenom_souple text);",
        "COPY signalements FROM stdin;",
    ]
    for (ref, nom, prenom, born, nn, nat, cat, motif, consigne, emis, issued, valid) in data:
        fk, gk = gen.name_key(nom), gen.name_key(prenom)
        vals = [ref, nom, prenom, iso(born), nn, nat, cat, motif, consigne, emis, iso(issued), iso(valid),
                fk, gk, loose(fk), loose(gk)]
        lines.append("\t".join(copy_value(v) for v in vals))
    lines += ["\\.",
              "CREATE INDEX signalements_cle ON signalements(cle_nom_souple);",
              "CREATE INDEX signalements_nn ON signalements(numero_national);",
              "ANALYZE signalements;", ""]
    with open(os.path.join(exp, "postgres.sql"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return len(data)


WANTED_COLUMNS = """SELECT id_signalement, nom, prenom, numero_national, nationalite, categorie, motif, consigne,
       emis_par, prenom || ' ' || nom AS nom_complet,
       to_char(date_naissance, 'YYYY-MM-DD') AS naissance,
       to_char(valable_jusqu_au, 'YYYY-MM-DD') AS valable_jusqu
FROM signalements"""

# Names compared on the keys focald sends (:family_key, :given_key: lower
# case, no accents, hyphens as spaces), generously: doubled letters once.
# Family + given name (exact, the first of several, an initial on either
# side), or the whole name split differently ("EMILIE DUBOIS" + "LAMBERT").
WANTED_PERSON = WANTED_COLUMNS + r"""
CROSS JOIN (SELECT regexp_replace(:family_key::text, '(.)\1+', '\1', 'g') AS fam,
                   regexp_replace(:given_key::text, '(.)\1+', '\1', 'g') AS giv) q
WHERE ((cle_nom_souple = q.fam
        AND (q.giv IS NULL OR cle_prenom_souple = q.giv OR cle_prenom_souple LIKE q.giv || ' %'
             OR ((length(q.giv) = 1 OR length(cle_prenom) = 1) AND left(cle_prenom, 1) = left(q.giv, 1))))
       OR (q.giv IS NOT NULL AND cle_prenom_souple || ' ' || cle_nom_souple = q.giv || ' ' || q.fam))
  AND (:birth_date::date IS NULL OR date_naissance IS NULL OR date_naissance = :birth_date::date)
  AND (:birth_year::int IS NULL OR date_naissance IS NULL
       OR extract(year FROM date_naissance) = :birth_year::int)"""


# --------------------------------------------------------------------------
# LDAP: the missing persons (a directory of inetOrgPerson entries)
# --------------------------------------------------------------------------
# Attributes (the standard schemas only, as a directory a police service
# already runs): uid = file number, sn / givenName = names as registered
# (capitals without accents), cn = full name, employeeNumber = national number
# (11 digits), departmentNumber = birth date (yyyy-mm-dd), businessCategory =
# the alert ("vermist - kwetsbare persoon"; absent once found), description =
# what happened, title = the instruction to the officer, l = last seen.

def ldif_value(attr, v):
    """attr: value, base64 when LDIF requires it (non-ASCII, leading space...)."""
    import base64
    s = str(v)
    if not s or s[0] in " :<" or s[-1] == " " or any(ord(c) > 126 or ord(c) < 32 for c in s):
        return "%s:: %s" % (attr, base64.b64encode(s.encode("utf-8")).decode())
    return "%s: %s" % (attr, s)


def write_ldap(out, exp, base):
    data = rows(out, "vermiste_personen.db",
                "SELECT dossiernummer, familienaam, voornaam, geboortedatum, rijksregisternr, vermist_sinds, "
                "laatst_gezien, kwetsbaar, status, beschrijving, instructie, contact FROM vermiste_personen "
                "ORDER BY dossiernummer")
    ou = "ou=vermiste-personen," + base
    lines = ["# The demo city's missing persons for LDAP (demo/export.py; synthetic data).",
             "dn: " + ou, "objectClass: organizationalUnit", "ou: vermiste-personen", ""]
    for (ref, fam, giv, born, nn, since, seen, vuln, status, desc, instr, contact) in data:
        alert = None
        if status == "vermist":
            alert = "vermist - kwetsbare persoon" if vuln == "ja" else "vermist"
        entry = [("dn", "uid=%s,%s" % (ref, ou)), ("objectClass", "inetOrgPerson"),
                 ("uid", ref), ("sn", fam), ("givenName", giv), ("cn", "%s %s" % (giv, fam)),
                 ("employeeNumber", nn.replace(" ", "") if nn else None), ("departmentNumber", iso(born)),
                 ("businessCategory", alert),
                 ("description", "Vermist sinds %s, laatst gezien: %s. %s" % (since, seen, desc)),
                 ("title", "%s Contact: %s" % (instr, contact)), ("l", seen)]
        lines += [ldif_value(a, v) for a, v in entry if v is not None] + [""]
    with open(os.path.join(exp, "ldap.ldif"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return len(data)


# A directory compares sn and givenName ignoring case (caseIgnoreMatch), and
# the entries are in capitals without accents, so focald's name keys match
# them as they are; sn~= (the server's approximate, sound-alike match) is the
# generous comparison an alert source wants (Peters ~ Peeters, Tinne ~ Tine);
# givenName=G* also takes the first of several given names.  A parameter the
# query lacks renders empty: (givenName=*) then matches every given name
# ((givenName~=) matches nothing), (departmentNumber=*) every birth date.
MISSING_PERSON = ("(&(objectClass=inetOrgPerson)(|(sn={family_key})(sn~={family_key}))"
                  "(|(givenName={given_key}*)(givenName~={given_key}))"
                  "(|(!(departmentNumber=*))(departmentNumber={birth_date}*))"
                  "(|(!(departmentNumber=*))(departmentNumber={birth_year}*)))")
MISSING_NN = "(&(objectClass=inetOrgPerson)(employeeNumber={national_number}))"
MISSING_MAP = """    person:
      family_name: sn
      given_name: givenName
      birth_date: departmentNumber
      national_number: employeeNumber
    alert:
      when: businessCategory
      category: businessCategory
      reason: description
      instruction: title
      reference: uid
      subject_name: cn
      subject_national_number: employeeNumber
      subject_birth_date: departmentNumber
      issued_by: {value: Federale Politie - Cel Vermiste Personen}"""


# --------------------------------------------------------------------------
# HTTP/JSON: vehicles and stolen vehicles (the REST API of an agency)
# --------------------------------------------------------------------------

def write_http(out, exp):
    veh = rows(out, "voertuigen.db",
               "SELECT nummerplaat, chassisnummer, merk, model, kleur, bouwjaar, datum_inschrijving, status, "
               "titularis_rrn, titularis_naam FROM inschrijvingen ORDER BY nummerplaat")
    stolen = rows(out, "stolen_vehicles.db",
                  "SELECT plate, vin, make, model, colour, stolen_on, reported_to, case_number, what, instruction "
                  "FROM stolen ORDER BY case_number")
    doc = {
        # the API answers plates in canonical form (1ABC123) and the holder's number as 11 digits
        "demo_voertuigen": [
            {"plaat": p.replace("-", "").upper(), "nummerplaat": p, "chassisnummer": vin, "merk": make,
             "model": model, "kleur": colour, "bouwjaar": year, "datum_inschrijving": reg, "status": status,
             "titularis": {"rrn": onn, "naam": oname}, "titularis_rrn": onn}
            for (p, vin, make, model, colour, year, reg, status, onn, oname) in veh],
        "demo_stolen": [
            {"plate": plate, "vin": vin, "make": make, "model": model, "colour": colour, "stolen_on": on,
             "reported_to": to, "case_number": case, "what": what, "instruction": instr,
             "category": "stolen %s - seize" % what, "reason": "Reported stolen on %s to %s" % (on, to)}
            for (plate, vin, make, model, colour, on, to, case, what, instr) in stolen],
    }
    with open(os.path.join(exp, "http.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=0, sort_keys=True)
        f.write("\n")
    return len(veh) + len(stolen)


VEHICLE_MAP = """    rows: /results
    vehicle:
      plate: /plaat
      vin: /chassisnummer
      make: /merk
      model: /model
      colour: /kleur
      year: /bouwjaar
      status: /status
      owner_national_number: /titularis/rrn
      owner_name: /titularis/naam"""
STOLEN_MAP = """    rows: /results
    vehicle:
      plate: /plate
      vin: /vin
      make: /make
      model: /model
      colour: /colour
      status: {value: stolen}
    alert:
      when: /case_number
      category: /category
      reason: /reason
      instruction: /instruction
      reference: /case_number
      plate: /plate
      issued_by: /reported_to"""


# --------------------------------------------------------------------------
# The configuration
# --------------------------------------------------------------------------

def yaml_str(s):
    return json.dumps(s, ensure_ascii=False)


def exported_sources(opts):
    """{source name: (kind, connection YAML lines, {query kind: template}, map YAML)}."""
    ldap_conn = ["uri: %s" % yaml_str(opts.ldap_uri), "base: %s" % yaml_str("ou=vermiste-personen," + opts.ldap_base),
                 "scope: one"]
    if opts.ldap_bind_dn:
        ldap_conn += ["bind_dn: %s" % yaml_str(opts.ldap_bind_dn),
                      "bind_password_file: %s" % yaml_str(os.path.abspath(opts.ldap_password_file))]
    http = opts.http_url.rstrip("/")
    return {
        "wanted": ("postgres", ["conninfo: %s" % yaml_str(opts.pg_conninfo)],
                   {"person": WANTED_PERSON,
                    "national_number": WANTED_COLUMNS + "\nWHERE numero_national = :national_number"}, None),
        "missing_persons": ("ldap", ldap_conn, {"person": MISSING_PERSON, "national_number": MISSING_NN},
                            MISSING_MAP),
        "vehicles": ("http", [],
                     {"plate": http + "/v1/demo_voertuigen?plaat={plate}",
                      "national_number": http + "/v1/demo_voertuigen?titularis_rrn={national_number}"},
                     VEHICLE_MAP),
        "stolen_vehicles": ("http", [], {"plate": http + "/v1/demo_stolen?plate={plate}"}, STOLEN_MAP),
    }


def write_config(out, exp, opts):
    """EXPORT/focal.yaml: DIR/focal.yaml with the exported sources replaced
    (SQLite paths made absolute, so the file works from EXPORT)."""
    with open(os.path.join(out, "focal.yaml"), encoding="utf-8") as f:
        text = f.read()
    head, body = text.split("\nsources:\n", 1)
    blocks = re.split(r"(?m)^(?=  - name: )", body)
    repl = exported_sources(opts)
    result = []
    for b in blocks:
        m = re.match(r"  - name: (\S+)\n", b)
        if not m:
            result.append(b)
            continue
        name = m.group(1)
        if name not in repl:
            result.append(re.sub(r"(?m)^(    connection: \{path: )(\S+)\}",
                                 lambda mm: mm.group(1) + os.path.abspath(os.path.join(out, mm.group(2))) + "}", b))
            continue
        kind, conn, queries, mapping = repl[name]
        keep = b.split("    connection:", 1)[0].replace("    kind: sqlite\n", "    kind: %s\n" % kind)
        lines = [keep.rstrip("\n"), "    connection:"] + ["      " + c for c in conn if c]
        if not conn:
            lines[-1] = "    connection: {}"
        lines.append("    queries:")
        for k, q in queries.items():
            lines.append("      %s: %s" % (k, gen.block(q, 8)))
        if mapping is None:  # same columns as the SQLite source: its map as is
            mapping = b.split("    map:\n", 1)[1].rstrip("\n")
            lines.append("    map:\n" + mapping)
        else:  # its own map, indented as generate.py indents maps
            lines.append("    map:\n" + "\n".join("  " + line for line in mapping.split("\n")))
        result.append("\n".join(lines) + "\n\n")
    head = head.replace("tls_cert: tls/cert.pem", "tls_cert: %s" % os.path.abspath(os.path.join(out, "tls/cert.pem")))
    head = head.replace("tls_key: tls/key.pem", "tls_key: %s" % os.path.abspath(os.path.join(out, "tls/key.pem")))
    with open(os.path.join(exp, "focal.yaml"), "w", encoding="utf-8") as f:
        f.write(head + "\nsources:\n" + "".join(result))


def add_options(ap):
    g = ap.add_argument_group("export (demo/export.py): four sources for PostgreSQL, LDAP and HTTP")
    g.add_argument("--export", metavar="EXPORT",
                   help="also write postgres.sql, ldap.ldif, http.json and focal.yaml into EXPORT")
    g.add_argument("--pg-conninfo", default="host=127.0.0.1 port=5432 dbname=focal_demo",
                   help="conninfo of the wanted source (set search_path with options=-csearch_path=S)")
    g.add_argument("--ldap-uri", default="ldap://127.0.0.1:389", help="URI of the missing-persons directory")
    g.add_argument("--ldap-base", default="dc=focal,dc=test",
                   help="the entries go under ou=vermiste-personen,BASE (default dc=focal,dc=test)")
    g.add_argument("--ldap-bind-dn", help="DN focald binds as (default: anonymous)")
    g.add_argument("--ldap-password-file", help="file with the bind password")
    g.add_argument("--http-url", default="http://127.0.0.1:8080",
                   help="base URL of the vehicles API (tests/integration/http_server.py)")


def export(out, opts):
    exp = opts.export
    if opts.ldap_bind_dn and not opts.ldap_password_file:
        raise SystemExit("--ldap-bind-dn needs --ldap-password-file")
    os.makedirs(exp, exist_ok=True)
    n = {"postgres": write_postgres(out, exp), "ldap": write_ldap(out, exp, opts.ldap_base),
         "http": write_http(out, exp)}
    write_config(out, exp, opts)
    return n


def main():
    ap = argparse.ArgumentParser(description="Export four demo-city sources for PostgreSQL, LDAP and HTTP.")
    ap.add_argument("--out", required=True, help="the folder demo/generate.py wrote")
    add_options(ap)
    opts = ap.parse_args()
    if not opts.export:
        ap.error("--export is required")
    n = export(opts.out, opts)
    print("exported to %s: %s" % (opts.export, ", ".join("%s %d" % kv for kv in n.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
