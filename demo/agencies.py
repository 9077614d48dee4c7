"""The further agencies of the demo city: fifteen more back ends.

demo/generate.py writes the city's nine core sources (population register,
wanted persons, missing persons, vehicle registry, stolen vehicles, firearms
registry, police reports, driving licences, Antwerp address notes) and then
calls build() here for the rest, so that one officer search fans out over as
many differently built systems as a Belgian patrol really meets:

    pz_antwerpen         Dutch    PZ Antwerpen: interventions, "NAAM, Voornaam", dates dd-mm-yyyy
    pz_gent              Dutch    PZ Gent: persons table + reports + warnings, dates yyyymmdd
    zp_bruxelles         French   ZP Bruxelles-Capitale/Ixelles: interventions, NN 810312-121-45
    zp_liege             French   ZP Liège: reports, ISO timestamps, identity "Nom Prénom"
    pz_eupen             German   Polizeizone Weser-Göhl (Eupen): Einsätze, dates dd.mm.yyyy
    sis                  English  Schengen SIS person alerts: SIS ids, no Belgian number
    criminal_records     French   Casier judiciaire: convictions, contact and area bans
    prison_register      Dutch    DG EPI: detainees, releases, escapes
    protection_orders    Dutch    temporary restraining orders (huisverbod), by address too
    vehicle_insurance    French   motor insurance status, plates '1-abc-123'
    vehicle_inspection   Dutch    technical inspection, plates '1 ABC 123'
    anpr_watchlist       English  ANPR watch-list entries, compact plates
    firearm_licences     Dutch    governors' firearm licences, serials typed otherwise
    address_notes_liege  French   Ville de Liège: hazards at addresses
    address_notes_eupen  German   Stadt Eupen: hazards at addresses

Every source draws on the same persons, vehicles, firearms and addresses of
the city (so entity resolution has real work), in its own schema, language
and identifier formats.  Person tables store the name keys focald compares
(generate.name_key, in *_key columns: see generate.person_query).

Deterministic: everything here uses its own random generator, seeded from
--seed, so the core sources do not depend on these and the other way round.
LABELS (below) tells demo/labels.py how to read each source back for the
labelled evaluation set.
"""

import datetime
import random

import generate as gen

TODAY = gen.TODAY


class Ctx:
    """What the builders share: the city as generate.py made it."""

    def __init__(self, out, seed, scale, city, P, A, vehicles, n_planted_vehicles, arms):
        self.out, self.scale, self.city, self.P, self.A = out, scale, city, P, A
        self.rng = random.Random("focal-agencies-%d" % seed)
        self.vehicles, self.reg_vehicles = vehicles, vehicles[n_planted_vehicles:]
        self.arms = arms
        self.adults = [p for p in city.persons if p.age() >= 18 and p.planted is None]
        self.by_area = {}  # first two digits of the postcode -> adults living there
        for p in self.adults:
            self.by_area.setdefault(self.addr(p)[4][:2], []).append(p)
        self.counts, self.alerts = {}, 0

    def n(self, base, minimum):
        return max(minimum, int(base * self.scale))

    def addr(self, p):
        return self.city.addresses[p.addr - 1]

    def date(self, y0, y1):
        start = datetime.date(y0, 1, 1).toordinal()
        d = datetime.date.fromordinal(self.rng.randint(start, datetime.date(y1, 12, 31).toordinal()))
        return d if d <= TODAY else TODAY - datetime.timedelta(days=self.rng.randint(1, 120))

    def local(self, areas, share=0.7):
        """An adult, most often one living in the zone (postcode areas)."""
        rng = self.rng
        if rng.random() < share:
            pool = self.by_area.get(areas[rng.randrange(len(areas))])
            if pool:
                return pool[rng.randrange(len(pool))]
        return self.adults[rng.randrange(len(self.adults))]

    def weighted(self, table):
        """table: [(weight, value...)] -> the row drawn."""
        r = self.rng.randrange(sum(t[0] for t in table))
        for t in table:
            r -= t[0]
            if r < 0:
                return t
        return table[-1]


def keys(family, given):
    return gen.name_key_columns(family, given)


def write(ctx, db, schema, tables, indexes):
    """Creates db with schema (list of CREATE TABLE) and tables ({name: rows})."""
    con = gen.open_db(ctx.out, db)
    for stmt in schema:
        con.execute(stmt)
    for name, rows in tables.items():
        if rows:
            con.executemany("INSERT INTO %s VALUES (%s)" % (name, ",".join("?" * len(rows[0]))), rows)
    gen.close_db(con, indexes)


def nn_dash(d):  # '810312-121-45'
    return "%s-%s-%s" % (d[0:6], d[6:9], d[9:11])


def nn_de(d):  # '81.03.12 121-45'
    return "%s.%s.%s %s-%s" % (d[0:2], d[2:4], d[4:6], d[6:9], d[9:11])


def d_dash(d):
    return "%02d-%02d-%04d" % (d.day, d.month, d.year)


# --------------------------------------------------------------------------
# Local police zones: each its own records system
# --------------------------------------------------------------------------

ZONE_FACTS = {
    "nl": ["diefstal", "inbraak", "burenruzie", "verkeersongeval", "intrafamiliaal geweld", "overlast",
           "drugsbezit", "winkeldiefstal", "vechtpartij", "verdachte handelingen", "identiteitscontrole"],
    "fr": ["vol", "cambriolage", "différend de voisinage", "accident de la circulation", "violences intrafamiliales",
           "nuisances", "détention de stupéfiants", "vol à l'étalage", "rixe", "comportement suspect",
           "contrôle d'identité"],
    "de": ["Diebstahl", "Einbruch", "Nachbarschaftsstreit", "Verkehrsunfall", "häusliche Gewalt", "Ruhestörung",
           "Drogenbesitz", "Ladendiebstahl", "Schlägerei", "verdächtige Person", "Identitätskontrolle"],
}
ZONE_ROLES = {"nl": ["verdachte", "slachtoffer", "getuige", "melder", "betrokkene"],
              "fr": ["suspect", "victime", "témoin", "déclarant", "impliqué"],
              "de": ["Tatverdächtiger", "Geschädigter", "Zeuge", "Anzeigeerstatter", "Beteiligter"]}
ZONE_FLAGS = {  # officer-safety flags of the local systems, with the instruction to the officer
    "nl": [("gevaarlijk - gewapend", "Gekend wapenbezit (mes/vuurwapen). Altijd met twee, fouilleren bij controle."),
           ("agressief tegen politie", "Eerder agressief tegen politie. Voorzichtig benaderen, versterking vragen."),
           ("drugsgebruiker - naalden", "Kans op gebruikte naalden bij fouillering: handschoenen dragen.")],
    "fr": [("dangereux - porteur d'arme", "Porte régulièrement une arme blanche. Palpation de sécurité, à deux."),
           ("violent envers la police", "Antécédents de rébellion. Intervenir à deux au minimum, demander renfort."),
           ("risque de fuite", "A déjà pris la fuite lors d'un contrôle. Sécuriser le véhicule.")],
    "de": [("bewaffnet", "Besitzt Waffen. Nur mit Verstärkung ansprechen, Eigensicherung beachten."),
           ("gewalttätig gegenüber Polizei", "Widerstand bei früheren Einsätzen. Mindestens zu zweit vorgehen."),
           ("psychisch auffällig - Selbstgefährdung", "Ruhig ansprechen, Rettungsdienst verständigen.")],
}


def zone_events(ctx, n, lang, areas, n_flags, planted):
    """n interventions of a zone: (seq, date, fact, address, [(person, role, flag)]).
    planted: [(person, fact, (flag, instruction))] come first."""
    rng = ctx.rng
    events = []
    for p, fact, flag in planted:
        events.append((len(events) + 1, ctx.date(2024, 2025), fact, ctx.addr(p), [(p, ZONE_ROLES[lang][0], flag)]))
    flags = 0
    facts, roles = ZONE_FACTS[lang], ZONE_ROLES[lang]
    while len(events) < n:
        d = ctx.date(2016, 2025)
        people = []
        for k in range(rng.choices([1, 2, 3], [65, 28, 7])[0]):
            p = ctx.local(areas)
            flag = None
            if flags < n_flags and rng.random() < 0.006:
                flags += 1
                flag = ZONE_FLAGS[lang][rng.randrange(len(ZONE_FLAGS[lang]))]
            people.append((p, roles[0] if k == 0 else roles[rng.randrange(len(roles))], flag))
        events.append((len(events) + 1, d, facts[rng.randrange(len(facts))], ctx.addr(ctx.local(areas)), people))
    return events


def addr_text(a):
    return "%s %s, %s %s" % (a[1], a[2], a[4], a[5])


def build_pz_antwerpen(ctx):
    P = ctx.P
    events = zone_events(ctx, ctx.n(3000, 60), "nl", ["20", "21"], ctx.n(15, 3),
                         [(P["kenny"], "intrafamiliaal geweld",
                           ("agressief tegen politie", "Sloeg een inspecteur bij vorige interventie (partnergeweld). "
                            "Minstens met drie, versterking vragen."))])
    inter, betr = [], []
    for seq, d, fact, a, people in events:
        nr = "ANT-I-%d-%07d" % (d.year, seq)
        inter.append((nr, "%s %02d:%02d" % (d.isoformat(), ctx.rng.randrange(24), ctx.rng.randrange(60)), fact,
                      addr_text(a), "Interventieploeg %d" % ctx.rng.randint(1, 12)))
        for i, (p, role, fl) in enumerate(people):
            known = ctx.rng.random() < 0.9 or fl is not None
            betr.append((nr, i + 1, "%s, %s" % (p.family.upper(), p.given), d_dash(p.born),
                         p.nn if known else None, role, fl[0] if fl else None, fl[1] if fl else None)
                        + keys(p.family, p.given))
    write(ctx, "pz_antwerpen.db", [
        """CREATE TABLE interventies (interventienr TEXT PRIMARY KEY, tijdstip TEXT NOT NULL, aard TEXT,
           adres TEXT, ploeg TEXT)""",
        """CREATE TABLE betrokkenen (interventienr TEXT NOT NULL REFERENCES interventies, volgnr INTEGER,
           naam TEXT NOT NULL, geboortedatum TEXT, rrn TEXT, hoedanigheid TEXT, veiligheidsvlag TEXT,
           vlag_instructie TEXT, familienaam_key TEXT NOT NULL, voornaam_key TEXT)"""],
        {"interventies": inter, "betrokkenen": betr},
        gen.person_indexes("betrokkenen", "voornaam", "familienaam") +
        ["CREATE INDEX betrokkenen_rrn ON betrokkenen(rrn)", "CREATE INDEX betrokkenen_nr ON betrokkenen(interventienr)"])
    ctx.counts["pz_antwerpen"] = len(inter)
    ctx.alerts += sum(1 for b in betr if b[6])


def build_pz_gent(ctx):
    events = zone_events(ctx, ctx.n(2000, 40), "nl", ["90", "91", "92"], ctx.n(10, 2), [])
    personen, meldingen, rollen, waarsch = {}, [], [], []
    for seq, d, fact, a, people in events:
        nr = "GENT/%02d/%06d" % (d.year % 100, seq)
        meldingen.append((nr, gen.d_ymd8(d), fact, a[1] + " " + a[2], a[5]))
        for p, role, fl in people:
            if p.nn not in personen:
                personen[p.nn] = (len(personen) + 1, p.family, p.given, gen.d_ymd8(p.born), gen.nn_dotted(p.nn),
                                  p.nationality) + keys(p.family, p.given)
            pid = personen[p.nn][0]
            rollen.append((nr, pid, role))
            if fl:
                waarsch.append((len(waarsch) + 1, pid, fl[0], fl[1], gen.d_ymd8(d + datetime.timedelta(days=3 * 365))))
    write(ctx, "pz_gent.db", [
        """CREATE TABLE personen (pers_id INTEGER PRIMARY KEY, fam_naam TEXT NOT NULL, voornamen TEXT,
           geb_dat TEXT, rijksreg TEXT, nationaliteit TEXT, fam_naam_key TEXT NOT NULL, voornamen_key TEXT)""",
        """CREATE TABLE meldingen (meldingnr TEXT PRIMARY KEY, datum TEXT, feit TEXT, straat TEXT, deelgemeente TEXT)""",
        "CREATE TABLE rollen (meldingnr TEXT NOT NULL, pers_id INTEGER NOT NULL, rol TEXT)",
        """CREATE TABLE waarschuwingen (waarsch_id INTEGER PRIMARY KEY, pers_id INTEGER NOT NULL, code TEXT NOT NULL,
           toelichting TEXT, geldig_tot TEXT)"""],
        {"personen": list(personen.values()), "meldingen": meldingen, "rollen": rollen, "waarschuwingen": waarsch},
        gen.person_indexes("personen", "voornamen", "fam_naam") +
        ["CREATE INDEX personen_rr ON personen(replace(replace(rijksreg,'.',''),'-',''))",
         "CREATE INDEX rollen_pers ON rollen(pers_id)", "CREATE INDEX waarsch_pers ON waarschuwingen(pers_id)"])
    ctx.counts["pz_gent"] = len(meldingen)
    ctx.alerts += len(waarsch)


def build_zp_bruxelles(ctx):
    events = zone_events(ctx, ctx.n(2500, 50), "fr", ["10", "11", "12"], ctx.n(12, 3), [])
    inter, pers = [], []
    for seq, d, fact, a, people in events:
        nr = "BXL/%d/I/%06d" % (d.year, seq)
        inter.append((nr, "%s %02dh%02d" % (gen.d_slash(d), ctx.rng.randrange(24), ctx.rng.randrange(60)), fact,
                      addr_text(a)))
        for i, (p, role, fl) in enumerate(people):
            pers.append(("%s-%d" % (nr, i + 1), nr, gen.ascii_upper(p.family), p.given, gen.d_slash(p.born),
                         nn_dash(p.nn), role, fl[0] if fl else None, fl[1] if fl else None) + keys(p.family, p.given))
    write(ctx, "zp_bruxelles.db", [
        "CREATE TABLE interventions (no_intervention TEXT PRIMARY KEY, date_heure TEXT, nature TEXT, lieu TEXT)",
        """CREATE TABLE personnes_impliquees (id_fiche TEXT PRIMARY KEY, no_intervention TEXT NOT NULL, nom TEXT NOT NULL,
           prenom TEXT, ne_le TEXT, nn TEXT, qualite TEXT, signalement_securite TEXT, consigne TEXT,
           nom_key TEXT NOT NULL, prenom_key TEXT)"""],
        {"interventions": inter, "personnes_impliquees": pers},
        gen.person_indexes("personnes_impliquees", "prenom", "nom") +
        ["CREATE INDEX pi_nn ON personnes_impliquees(replace(nn,'-',''))"])
    ctx.counts["zp_bruxelles"] = len(inter)
    ctx.alerts += sum(1 for x in pers if x[7])


def build_zp_liege(ctx):
    P = ctx.P
    events = zone_events(ctx, ctx.n(2000, 40), "fr", ["40", "41", "45"], ctx.n(10, 2),
                         [(P["sebastien"], "rixe", ("violent envers la police",
                                                    "A blessé un policier lors de son arrestation en 2024. "
                                                    "Intervenir à trois au minimum."))])
    rapports, interv = [], []
    for seq, d, fact, a, people in events:
        rapports.append((seq, "LG.%d.%06d" % (d.year, seq), "%sT%02d:%02d:00" % (d.isoformat(), ctx.rng.randrange(24),
                                                                               ctx.rng.randrange(60)),
                         fact, addr_text(a)))
        for p, role, fl in people:
            interv.append((len(interv) + 1, seq, "%s %s" % (p.family, p.given), p.family, p.given, p.born.isoformat(),
                           p.nn if ctx.rng.random() < 0.8 or fl else None, role, fl[0] if fl else None,
                           fl[1] if fl else None) + keys(p.family, p.given))
    write(ctx, "zp_liege.db", [
        "CREATE TABLE rapport (id INTEGER PRIMARY KEY, numero TEXT NOT NULL, horodatage TEXT, objet TEXT, adresse TEXT)",
        """CREATE TABLE intervenant (id INTEGER PRIMARY KEY, rapport_id INTEGER NOT NULL REFERENCES rapport(id),
           identite TEXT, nom TEXT NOT NULL, prenoms TEXT, date_naissance TEXT, registre_national TEXT, role TEXT,
           mise_en_garde TEXT, conduite_a_tenir TEXT, nom_key TEXT NOT NULL, prenoms_key TEXT)"""],
        {"rapport": rapports, "intervenant": interv},
        gen.person_indexes("intervenant", "prenoms", "nom") +
        ["CREATE INDEX intervenant_rn ON intervenant(registre_national)"])
    ctx.counts["zp_liege"] = len(rapports)
    ctx.alerts += sum(1 for x in interv if x[8])


def build_pz_eupen(ctx):
    P = ctx.P
    events = zone_events(ctx, ctx.n(600, 20), "de", ["47"], ctx.n(4, 1),
                         [(P["jurgen"], "häusliche Gewalt", ("bewaffnet", "Besitzt mehrere Jagdwaffen und hat "
                                                              "Beamten gedroht. Nur mit Verstärkung ansprechen."))])
    eins, bet = [], []
    for seq, d, fact, a, people in events:
        nr = "WG-%d-%05d" % (d.year, seq)
        eins.append((nr, gen.d_dot(d), fact, addr_text(a)))
        for p, role, fl in people:
            bet.append((nr, p.family, p.given, gen.d_dot(p.born), nn_de(p.nn), role,
                        fl[0] if fl else None, fl[1] if fl else None) + keys(p.family, p.given))
    write(ctx, "pz_eupen.db", [
        "CREATE TABLE einsaetze (einsatznummer TEXT PRIMARY KEY, datum TEXT, art TEXT, ort TEXT)",
        """CREATE TABLE beteiligte (einsatznummer TEXT NOT NULL, nachname TEXT NOT NULL, vorname TEXT,
           geburtsdatum TEXT, nationalregisternummer TEXT, rolle TEXT, warnhinweis TEXT, verhaltenshinweis TEXT,
           nachname_key TEXT NOT NULL, vorname_key TEXT)"""],
        {"einsaetze": eins, "beteiligte": bet},
        gen.person_indexes("beteiligte", "vorname", "nachname") +
        ["CREATE INDEX beteiligte_nrn ON beteiligte(%s)" % gen.sql_compact("nationalregisternummer", ".- ")])
    ctx.counts["pz_eupen"] = len(eins)
    ctx.alerts += sum(1 for x in bet if x[6])


# --------------------------------------------------------------------------
# Schengen Information System: person alerts (English, no Belgian number)
# --------------------------------------------------------------------------

SIS_ARTICLES = [  # weight, article, type, action, markers
    (40, "Art. 26", "arrest for surrender or extradition",
     "Arrest the person and contact SIRENE Belgium immediately (24/7).", ["", "", "ARMED", "VIOLENT", "ESCAPE RISK"]),
    (25, "Art. 34", "whereabouts for judicial procedure",
     "Do not arrest. Record the address and inform SIRENE Belgium.", [""]),
    (20, "Art. 36", "discreet check",
     "Do not alert the person. Record place, companions and vehicle; send to SIRENE Belgium.", ["", "VIOLENT"]),
    (15, "Art. 32", "missing person - protective custody",
     "Take into protective custody if a minor or at risk; contact SIRENE Belgium.", [""]),
]
SIS_STATES = ["DE", "FR", "NL", "LU", "IT", "ES", "PL", "RO", "AT", "BE"]


def build_sis(ctx):
    rng, P = ctx.rng, ctx.P
    rows = []

    def add(family, given, born, nat, state, art, typ, action, markers):
        sid = "SIS-%s-%d-%07d-P" % (state, 2019 + len(rows) % 7, 1000 + len(rows) * 7)
        fam, giv = gen.ascii_upper(family), gen.ascii_upper(given)
        rows.append((sid, fam, giv, born.isoformat(), nat, art, typ, markers or None, action, state,
                     (TODAY + datetime.timedelta(days=rng.randint(30, 900))).isoformat())
                    + gen.name_key_columns(fam, giv, loose=True))

    add("Schröder", "Jürgen", P["jurgen"].born, "BEL", "DE", "Art. 26", "arrest for surrender or extradition",
        "Arrest the person and contact SIRENE Belgium immediately (24/7). European arrest warrant "
        "(Staatsanwaltschaft Aachen): armed robbery.", "ARMED")
    iso3 = {"BE": "BEL", "MA": "MAR", "TR": "TUR", "IT": "ITA", "CD": "COD", "PL": "POL", "RO": "ROU", "DE": "DEU"}
    while len(rows) < ctx.n(60, 6):
        _, art, typ, action, markers = ctx.weighted(SIS_ARTICLES)
        state = SIS_STATES[rng.randrange(len(SIS_STATES) - 1)]
        if rng.random() < 0.6:
            p = ctx.adults[rng.randrange(len(ctx.adults))]
            add(p.family, p.given, p.born, iso3.get(p.nationality, "BEL"), state, art, typ, action,
                markers[rng.randrange(len(markers))])
        else:  # not a resident
            given, family, nat, _ = ctx.city.random_name(rng.choice("MV"))
            if (given.split(" ")[0].lower(), family.lower()) in ctx.city.reserved_names:
                continue
            add(family, given, ctx.date(1960, 2006), iso3.get(nat, "XXX"), state, art, typ, action,
                markers[rng.randrange(len(markers))])
    write(ctx, "sis.db", [
        """CREATE TABLE person_alerts (sis_id TEXT PRIMARY KEY, surname TEXT NOT NULL, forenames TEXT,
           date_of_birth TEXT, nationality TEXT, article TEXT NOT NULL, alert_type TEXT NOT NULL,
           warning_markers TEXT, action_to_be_taken TEXT, issuing_state TEXT, expiry_date TEXT,
           surname_key TEXT NOT NULL, forenames_key TEXT)"""],
        {"person_alerts": rows}, gen.person_indexes("person_alerts", "forenames", "surname"))
    ctx.counts["sis"] = len(rows)
    ctx.alerts += len(rows)


# --------------------------------------------------------------------------
# Justice: criminal records, prison register, protection orders
# --------------------------------------------------------------------------

OFFENCES = ["vol simple", "vol avec effraction", "coups et blessures volontaires", "conduite en état d'ivresse",
            "détention de stupéfiants", "escroquerie", "harcèlement", "violences conjugales", "port d'arme prohibée",
            "rébellion", "hooliganisme (loi football)"]
MEASURES = [  # weight, measure, instruction (None: no measure)
    (85, None, None),
    (6, "interdiction de contact avec la victime",
     "Vérifier la présence de la victime; en cas de contact, dresser PV et aviser le parquet."),
    (4, "interdiction de lieu (quartier / stade)",
     "Si la personne est sur le lieu interdit: dresser PV, éloigner et aviser le parquet."),
    # (worded without "armes": focald would rank it "armed and dangerous")
    (3, "interdiction de détention et de port (loi du 8 juin 2006)",
     "Toute arme trouvée doit être saisie; aviser le parquet."),
    (2, "interdiction d'exercer (mineurs)", "Vérifier l'activité exercée; aviser le parquet."),
]
COURTS = ["Tribunal correctionnel de Liège", "Tribunal correctionnel de Bruxelles (FR)",
          "Correctionele rechtbank Antwerpen", "Correctionele rechtbank Gent", "Tribunal correctionnel de Namur",
          "Tribunal de police de Charleroi", "Strafgericht Eupen"]


def build_criminal_records(ctx):
    rng = ctx.rng
    rows = []
    for i in range(ctx.n(3000, 60)):
        p = ctx.adults[rng.randrange(len(ctx.adults))]
        decided = ctx.date(2010, 2025)
        _, measure, instr = ctx.weighted(MEASURES)
        until = decided + datetime.timedelta(days=365 * rng.choice([1, 2, 3, 5, 10])) if measure else None
        active = measure if until and until > TODAY else None
        rows.append(("CJ-%07d" % (4100000 + i * 13), gen.ascii_upper(p.family), gen.ascii_upper(p.given),
                     gen.d_slash(p.born), gen.nn_dotted(p.nn), COURTS[rng.randrange(len(COURTS))],
                     gen.d_slash(decided), OFFENCES[rng.randrange(len(OFFENCES))],
                     rng.choice(["amende", "travail d'intérêt général", "emprisonnement avec sursis",
                                 "emprisonnement", "probation"]),
                     measure, gen.d_slash(until) if until else None, active, instr if active else None)
                    + keys(gen.ascii_upper(p.family), gen.ascii_upper(p.given)))
    write(ctx, "casier_judiciaire.db", [
        """CREATE TABLE condamnations (numero_extrait TEXT PRIMARY KEY, nom TEXT NOT NULL, prenoms TEXT,
           date_naissance TEXT, numero_registre_national TEXT, juridiction TEXT, date_decision TEXT,
           infraction TEXT, peine TEXT, mesure TEXT, mesure_jusqu_au TEXT, mesure_en_cours TEXT,
           consigne TEXT, nom_key TEXT NOT NULL, prenoms_key TEXT)"""],
        {"condamnations": rows},
        gen.person_indexes("condamnations", "prenoms", "nom") +
        ["CREATE INDEX condamnations_nn ON condamnations(%s)" % gen.sql_compact("numero_registre_national", ".-")])
    ctx.counts["criminal_records"] = len(rows)
    ctx.alerts += sum(1 for r in rows if r[11])


PRISONS = ["Gevangenis Antwerpen", "Gevangenis Haren", "Prison de Lantin", "Gevangenis Gent", "Prison de Marche",
           "Gevangenis Hasselt", "Prison de Mons", "Gevangenis Brugge"]
PRISON_STATUS = [  # weight, status, alert category, instruction
    (40, "in hechtenis", None, None),
    (42, "vrijgelaten", None, None),
    (9, "voorwaardelijk vrij", "voorwaardelijk vrij - voorwaarden",
     "Voorwaardelijk vrijgelaten: controleer de voorwaarden (justitiehuis) en meld overtredingen aan het parket."),
    (7, "elektronisch toezicht", "elektronisch toezicht",
     "Onder enkelband: controleer of de persoon binnen de toegestane uren buiten is; meld aan NCET."),
    (2, "ontvlucht", "ontvlucht - opsporen en aanhouden",
     "Ontvluchte gedetineerde: aanhouden, versterking vragen, Dienst Detentiebeheer verwittigen."),
]


def build_prison_register(ctx):
    rng, P = ctx.rng, ctx.P
    rows = []

    def add(p, status, cat, instr, prison, jailed, released):
        rows.append(("%07d" % (1200000 + len(rows) * 17), p.family.upper(), p.given, p.born.isoformat(), p.nn, prison,
                     jailed.isoformat(), released.isoformat() if released else None, status, cat, instr)
                    + keys(p.family.upper(), p.given))

    add(P["sebastien"], "ontvlucht", "ontvlucht - opsporen en aanhouden",
        "Ontvlucht tijdens ziekenhuisbezoek (05/2025); veroordeeld voor gewapende overval. "
        "Aanhouden met versterking; Dienst Detentiebeheer verwittigen.", "Prison de Lantin",
        datetime.date(2022, 11, 3), None)
    while len(rows) < ctx.n(800, 20):
        p = ctx.adults[rng.randrange(len(ctx.adults))]
        _, status, cat, instr = ctx.weighted(PRISON_STATUS)
        jailed = ctx.date(2015, 2025)
        released = None if status in ("in hechtenis", "ontvlucht") else min(
            TODAY, jailed + datetime.timedelta(days=rng.randint(30, 1500)))
        add(p, status, cat, instr, PRISONS[rng.randrange(len(PRISONS))], jailed, released)
    write(ctx, "gedetineerden.db", [
        """CREATE TABLE gedetineerden (detentienummer TEXT PRIMARY KEY, naam TEXT NOT NULL, voornaam TEXT,
           geboortedatum TEXT, rijksregisternummer TEXT, inrichting TEXT, opgesloten_op TEXT, vrijgelaten_op TEXT,
           status TEXT NOT NULL, signalering TEXT, instructie TEXT, naam_key TEXT NOT NULL, voornaam_key TEXT)"""],
        {"gedetineerden": rows},
        gen.person_indexes("gedetineerden", "voornaam", "naam") +
        ["CREATE INDEX gedetineerden_rrn ON gedetineerden(rijksregisternummer)"])
    ctx.counts["prison_register"] = len(rows)
    ctx.alerts += sum(1 for r in rows if r[9])


def build_protection_orders(ctx):
    rng, P = ctx.rng, ctx.P
    rows = []

    def add(p, kind, start, days, instr):
        a = ctx.addr(p)
        end = start + datetime.timedelta(days=days)
        rows.append(("HV/%s/%d/%04d" % (rng.choice(["AN", "GE", "BR", "LG"]), start.year, len(rows) + 1),
                     p.family, p.given, gen.d_slash(p.born), p.nn, a[1], a[2], a[4], a[5], kind,
                     start.isoformat(), end.isoformat(), "ja" if end >= TODAY else "nee", instr)
                    + keys(p.family, p.given))

    add(P["kenny"], "tijdelijk huisverbod", datetime.date(2025, 5, 20), 14,
        "Dader mag de woning niet betreden en geen contact opnemen met partner en kinderen. Bij aanwezigheid: "
        "aanhouden (art. 4 wet 15/05/2012), parket verwittigen.")
    while len(rows) < ctx.n(60, 6):
        p = ctx.adults[rng.randrange(len(ctx.adults))]
        kind = rng.choice(["tijdelijk huisverbod", "tijdelijk huisverbod", "contactverbod (slachtoffer)"])
        add(p, kind, ctx.date(2023, 2025), rng.choice([10, 14, 90, 365]),
            "Dader mag de woning niet betreden. Bij aanwezigheid: aanhouden en parket verwittigen."
            if "huisverbod" in kind else "Geen contact met het slachtoffer; bij overtreding PV en parket.")
    write(ctx, "huisverboden.db", [
        """CREATE TABLE huisverboden (dossier TEXT PRIMARY KEY, dader_naam TEXT NOT NULL, dader_voornaam TEXT,
           dader_geboren TEXT, dader_rrn TEXT, straat TEXT, huisnummer TEXT, postcode TEXT, gemeente TEXT,
           soort TEXT NOT NULL, begin TEXT, einde TEXT, actief TEXT, instructie TEXT,
           dader_naam_key TEXT NOT NULL, dader_voornaam_key TEXT)"""],
        {"huisverboden": rows},
        gen.person_indexes("huisverboden", "dader_voornaam", "dader_naam") +
        ["CREATE INDEX huisverboden_rrn ON huisverboden(dader_rrn)",
         "CREATE INDEX huisverboden_straat ON huisverboden(%s, huisnummer)" % gen.sql_fold("straat")])
    ctx.counts["protection_orders"] = len(rows)
    ctx.alerts += sum(1 for r in rows if r[12] == "ja")


# --------------------------------------------------------------------------
# Vehicles: insurance, inspection, ANPR watch-list
# --------------------------------------------------------------------------

INSURERS = ["AG Insurance", "Ethias", "AXA Belgium", "P&V", "Baloise", "KBC Verzekeringen", "Allianz Benelux"]


def build_vehicle_insurance(ctx):
    rng = ctx.rng
    rows = []
    for v in ctx.vehicles:
        if v["status"] != "ingeschreven":
            continue
        status = "actif"
        if v["plate"] == "1KLM404":
            status = "résilié"
        elif v["plate"] not in ("1ABC123", "2XKT884", "1GHV627") and rng.random() < 0.01:
            status = rng.choice(["résilié", "suspendu (non-paiement)"])
        end = None if status == "actif" else ctx.date(2024, 2025)
        if v["plate"] == "1KLM404":
            end = datetime.date(2025, 3, 31)
        rows.append((gen.plate_dashed(v["plate"]).lower(), "POL-%09d" % (310000000 + len(rows) * 29),
                     INSURERS[rng.randrange(len(INSURERS))], v["owner_nn"], v["owner_name"], status,
                     gen.d_slash(end) if end else None))
    write(ctx, "assurance_auto.db", [
        """CREATE TABLE contrats (plaque TEXT NOT NULL, numero_police TEXT PRIMARY KEY, assureur TEXT,
           preneur_nn TEXT, preneur_nom TEXT, statut TEXT NOT NULL, fin_couverture TEXT)"""],
        {"contrats": rows},
        ["CREATE INDEX contrats_plaque ON contrats(upper(replace(plaque,'-','')))",
         "CREATE INDEX contrats_nn ON contrats(preneur_nn)"])
    ctx.counts["vehicle_insurance"] = len(rows)
    ctx.alerts += sum(1 for r in rows if r[5] != "actif")


def build_vehicle_inspection(ctx):
    rng = ctx.rng
    rows = []
    for v in ctx.vehicles:
        if v["status"] != "ingeschreven" or v["year"] > 2021:
            continue
        last = ctx.date(2023, 2025)
        result = rng.choices(["groen", "oranje", "rood"], [90, 9, 1])[0]
        valid = last + datetime.timedelta(days=365) if result != "rood" else last + datetime.timedelta(days=15)
        p = gen.plate_dashed(v["plate"]).replace("-", " ")
        rows.append((p, v["vin"], gen.d_slash(last), result, gen.d_slash(valid),
                     rng.choice(["GOCA Antwerpen-Noord", "Autokeuring Gent", "SBAT Wavre", "AIBV Liège",
                                 "Autosécurité Namur"])))
    write(ctx, "autokeuring.db", [
        """CREATE TABLE keuringen (nummerplaat TEXT NOT NULL, chassisnummer TEXT, datum_keuring TEXT,
           resultaat TEXT, geldig_tot TEXT, station TEXT)"""],
        {"keuringen": rows}, ["CREATE INDEX keuringen_plaat ON keuringen(replace(nummerplaat,' ',''))"])
    ctx.counts["vehicle_inspection"] = len(rows)
    ctx.alerts += sum(1 for r in rows if r[3] == "rood")


ANPR_LISTS = [
    ("suspect vehicle - serious crime", "Do not stop alone. Report position to the dispatch; follow instructions."),
    ("suspect vehicle - organised property crime", "Stop and check occupants; record identities and cargo."),
    ("vehicle of a missing person", "Stop the vehicle; check on the driver's wellbeing; inform the missing persons unit."),
]


def build_anpr_watchlist(ctx):
    rng = ctx.rng
    rows = []
    cams = ["E19 Kontich", "R1 Antwerpen-Centrum", "E40 Gent-Oost", "E411 Wavre", "E25 Liège-Guillemins",
            "E40 Eupen", "Ring Brussel Anderlecht"]

    def add(plate, lst, action, reason, marker=None):
        rows.append(("ANPR-%d-%05d" % (2024 + len(rows) % 2, len(rows) + 1), plate, lst, marker, reason, action,
                     ctx.date(2024, 2025).isoformat(), cams[rng.randrange(len(cams))],
                     "%s %02d:%02d" % (ctx.date(2025, 2025).isoformat(), rng.randrange(24), rng.randrange(60))))

    add("1ABC123", ANPR_LISTS[0][0], "Do not stop alone: driver probably armed. Report position, request backup.",
        "Used in the armed robbery of a jeweller, Antwerpen, 14/02/2025", "ARMED")
    for v in rng.sample(ctx.reg_vehicles, min(len(ctx.reg_vehicles), ctx.n(50, 5) - 1)):
        lst, action = ANPR_LISTS[rng.randrange(len(ANPR_LISTS))]
        add(v["plate"], lst, action, "Request of the investigating unit")
    write(ctx, "anpr_watchlist.db", [
        """CREATE TABLE watchlist (entry_id TEXT PRIMARY KEY, plate TEXT NOT NULL, list TEXT NOT NULL,
           risk_marker TEXT, reason TEXT,
           action TEXT, added_on TEXT, last_hit_camera TEXT, last_hit_at TEXT)"""],
        {"watchlist": rows}, ["CREATE INDEX watchlist_plate ON watchlist(plate)"])
    ctx.counts["anpr_watchlist"] = len(rows)
    ctx.alerts += len(rows)


# --------------------------------------------------------------------------
# Firearm licences (provincial governors), separate from the registry
# --------------------------------------------------------------------------

PROVINCES = {"2": "Antwerpen", "3": "Vlaams-Brabant", "8": "West-Vlaanderen", "9": "Oost-Vlaanderen",
             "4": "Liège", "5": "Namur", "6": "Hainaut", "7": "Hainaut", "1": "Brussel"}


def build_firearm_licences(ctx):
    rng = ctx.rng
    persons = {p.nn: p for p in ctx.city.persons}
    rows = []
    for serial, make, model, _, cat, _, hnn, hname, regdate, _ in ctx.arms:
        if cat == "en vente libre" or rng.random() < 0.05:
            continue
        nn = hnn.replace(".", "").replace("-", "")
        p = persons[nn]
        prov = PROVINCES.get(ctx.addr(p)[4][0], "Antwerpen")
        st, reason = "geldig", None
        if serial != "AFKX 417" and rng.random() < 0.012:
            st, reason = "ingetrokken", rng.choice(["veroordeling voor geweld", "psychische ongeschiktheid",
                                                    "huisverbod", "geen wettige reden meer"])
        typed = serial.replace(" ", "-").lower()  # the governors' files: lower case, dashes
        rows.append(("WV/%s/%s/%05d" % (prov[:3].upper(), regdate[-4:], len(rows) + 1), nn, hname, prov,
                     "%s %s" % (make, model), typed, cat, st, reason))
    write(ctx, "wapenvergunningen.db", [
        """CREATE TABLE vergunningen (vergunningnr TEXT PRIMARY KEY, houder_rrn TEXT NOT NULL, houder_naam TEXT,
           provincie TEXT, wapen TEXT, serienummer TEXT, categorie TEXT, status TEXT NOT NULL, reden TEXT)"""],
        {"vergunningen": rows},
        ["CREATE INDEX vergunningen_rrn ON vergunningen(houder_rrn)",
         "CREATE INDEX vergunningen_serie ON vergunningen(upper(%s))" % gen.sql_compact("serienummer", "- ")])
    ctx.counts["firearm_licences"] = len(rows)
    ctx.alerts += sum(1 for r in rows if r[7] == "ingetrokken")


# --------------------------------------------------------------------------
# City services: Liège (French), Eupen (German)
# --------------------------------------------------------------------------

LIEGE_NOTES = [
    ("chien dangereux", "Chien de type molossoïde non tenu en laisse; ne pas entrer sans le propriétaire.",
     "Service du bien-être animal"),
    ("bâtiment insalubre", "Arrêté d'inhabitabilité; risque d'effondrement du plancher.", "Service de l'urbanisme"),
    ("personne vulnérable isolée", "Occupant âgé sous oxygène; prévenir le CPAS en cas d'intervention.",
     "CPAS de Liège"),
    ("stockage de produits dangereux", "Bonbonnes de gaz stockées dans la cave; risque d'explosion.",
     "Pompiers - Zone Liège"),
]
EUPEN_NOTES = [
    ("gefährlicher Hund", "Als gefährlich eingestufter Hund (Beißvorfall); Grundstück nicht allein betreten.",
     "Ordnungsamt Eupen"),
    ("einsturzgefährdet", "Gebäude einsturzgefährdet; Betreten nur mit Feuerwehr.", "Bauamt Eupen"),
    ("Messie-Wohnung", "Wohnung stark vermüllt, Fluchtwege blockiert.", "ÖSHZ Eupen"),
]


def build_city_notes(ctx, pcs, n, templates, planted):
    rng = ctx.rng
    addrs = [a for a in ctx.city.addresses if a[4] in pcs and (a[1], a[2]) not in ctx.city.reserved_addr]
    rows = list(planted)
    for a in rng.sample(addrs, min(len(addrs), n - len(rows))):
        cat, desc, service = templates[rng.randrange(len(templates))]
        rows.append((len(rows) + 1, a[1], a[2], a[4], a[5], cat, desc, service, ctx.date(2020, 2025).isoformat()))
    return rows


def build_address_notes_liege(ctx):
    rows = build_city_notes(ctx, ("4000", "4020"), ctx.n(25, 3), LIEGE_NOTES,
                            [(1, "Rue Féronstrée", "45", "4000", "Liège", "chien dangereux",
                                           "Pitbull non déclaré, agressif; le propriétaire refuse l'accès. "
                                           "Ne pas entrer sans le service animalier.",
                                           "Service du bien-être animal", "2025-02-11")])
    write(ctx, "notes_adresses_liege.db", [
        """CREATE TABLE notes (id INTEGER PRIMARY KEY, rue TEXT NOT NULL, numero TEXT NOT NULL, code_postal TEXT,
           localite TEXT, type_risque TEXT NOT NULL, description TEXT, service TEXT, date_note TEXT)"""],
        {"notes": rows}, ["CREATE INDEX notes_rue ON notes(%s, numero)" % gen.sql_fold("rue")])
    ctx.counts["address_notes_liege"] = len(rows)
    ctx.alerts += len(rows)


def build_address_notes_eupen(ctx):
    rows = build_city_notes(ctx, ("4700",), ctx.n(8, 2), EUPEN_NOTES,
                            [(1, "Klötzerbahn", "12", "4700", "Eupen", "Waffen im Haus",
                                           "Bewohner besitzt mehrere Jagdwaffen (Waffenschrank im Keller).",
                                           "Ordnungsamt Eupen", "2024-10-02")])
    rows = [(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], gen.d_dot(datetime.date.fromisoformat(r[8])))
            for r in rows]
    write(ctx, "adresshinweise_eupen.db", [
        """CREATE TABLE hinweise (hinweis_nr INTEGER PRIMARY KEY, strasse TEXT NOT NULL, hausnummer TEXT NOT NULL,
           plz TEXT, ort TEXT, kategorie TEXT NOT NULL, beschreibung TEXT, dienststelle TEXT, datum TEXT)"""],
        {"hinweise": rows}, ["CREATE INDEX hinweise_strasse ON hinweise(%s, hausnummer)" % gen.sql_fold("strasse")])
    ctx.counts["address_notes_eupen"] = len(rows)
    ctx.alerts += len(rows)


BUILDERS = [build_pz_antwerpen, build_pz_gent, build_zp_bruxelles, build_zp_liege, build_pz_eupen, build_sis,
            build_criminal_records, build_prison_register, build_protection_orders, build_vehicle_insurance,
            build_vehicle_inspection, build_anpr_watchlist, build_firearm_licences, build_address_notes_liege,
            build_address_notes_eupen]


def build(out, seed, scale, city, P, A, vehicles, n_planted_vehicles, arms):
    """Writes the databases; returns (counts per source, number of alerts)."""
    ctx = Ctx(out, seed, scale, city, P, A, vehicles, n_planted_vehicles, arms)
    for b in BUILDERS:
        b(ctx)
    return ctx.counts, ctx.alerts


# --------------------------------------------------------------------------
# Configuration: (name, kind, owner, classification, description, database,
# {query kind: SQL}, map in YAML), as generate.config_sources()
# --------------------------------------------------------------------------

ISO_DMY = gen.sql_iso_from_dmy
ISO_YMD8 = gen.sql_iso_from_ymd8


def person_source(name, owner, cls, desc, db, select, given, family, iso, nn_where, mapping, loose=False,
                  order=None, extra=None):
    queries = {"person": gen.person_query(*gen.split(select), given, family, iso, loose=loose, order=order)}
    if nn_where:
        queries["national_number"] = select + "\nWHERE " + nn_where + (("\n" + order) if order else "")
    queries.update(extra or {})
    return (name, "sqlite", owner, cls, desc, db, queries, mapping)


def person_map(nn, family, given, born, extra=""):
    lines = ["    person:"]
    if nn:
        lines.append("      national_number: %s" % nn)
    lines += ["      family_name: %s" % family, "      given_name: %s" % given, "      birth_date: %s" % born]
    return "\n".join(lines) + extra


def alert_map(**fields):
    return "\n    alert:\n" + "\n".join("      %s: %s" % kv for kv in fields.items())


def address_where(street, number, postcode):
    F = gen.sql_fold
    return ("WHERE %s = %s\n  AND (:number IS NULL OR %s = :number)\n  AND (:postcode IS NULL OR %s = :postcode)"
            % (F(street), F(":street"), number, postcode))


# the SELECTs; LABELS below reads the same columns back
ANT_SELECT = """SELECT b.interventienr || '/' || b.volgnr AS ref, i.interventienr, substr(i.tijdstip,1,10) AS datum,
       i.aard, i.adres, i.ploeg, b.rrn, b.naam, b.hoedanigheid, b.veiligheidsvlag, b.vlag_instructie,
       trim(substr(b.naam, 1, instr(b.naam, ',') - 1)) AS familienaam,
       trim(substr(b.naam, instr(b.naam, ',') + 1)) AS voornaam,
       %s AS geboren
FROM betrokkenen b JOIN interventies i ON i.interventienr = b.interventienr""" % ISO_DMY("b.geboortedatum")
GENT_SELECT = """SELECT replace(replace(p.rijksreg,'.',''),'-','') AS rrn, p.fam_naam, p.voornamen, p.nationaliteit,
       %s AS geboren, w.code, w.toelichting, 'GENT-W-' || w.waarsch_id AS waarschuwing,
       %s AS geldig_tot, p.voornamen || ' ' || p.fam_naam AS naam
FROM personen p LEFT JOIN waarschuwingen w ON w.pers_id = p.pers_id""" % (ISO_YMD8("p.geb_dat"), ISO_YMD8("w.geldig_tot"))
BXL_SELECT = """SELECT f.id_fiche, i.no_intervention, %s AS date_iso, i.nature, i.lieu, replace(f.nn,'-','') AS nn,
       f.nom, f.prenom, %s AS ne_le, f.qualite, f.signalement_securite, f.consigne,
       f.prenom || ' ' || f.nom AS nom_complet
FROM personnes_impliquees f JOIN interventions i ON i.no_intervention = f.no_intervention""" % (
    ISO_DMY("i.date_heure"), ISO_DMY("f.ne_le"))
LIEGE_SELECT = """SELECT 'LG-' || x.id AS ref, r.numero, substr(r.horodatage,1,10) AS jour, r.objet, r.adresse,
       x.registre_national, x.nom, x.prenoms, x.date_naissance, x.role, x.mise_en_garde, x.conduite_a_tenir,
       x.identite
FROM intervenant x JOIN rapport r ON r.id = x.rapport_id"""
EUPEN_SELECT = """SELECT 'WG/' || b.rowid AS ref, e.einsatznummer, %s AS datum, e.art, e.ort,
       %s AS nrn, b.nachname, b.vorname, %s AS geboren, b.rolle, b.warnhinweis, b.verhaltenshinweis,
       b.vorname || ' ' || b.nachname AS name,
       CASE b.warnhinweis WHEN 'bewaffnet' THEN 'armed' WHEN 'gewalttätig gegenüber Polizei'
            THEN 'violence against police' WHEN 'psychisch auffällig - Selbstgefährdung'
            THEN 'vulnerable person' END AS stufe
FROM beteiligte b JOIN einsaetze e ON e.einsatznummer = b.einsatznummer""" % (
    ISO_DMY("e.datum"), gen.sql_compact("b.nationalregisternummer", ".- "), ISO_DMY("b.geburtsdatum"))
SIS_SELECT = """SELECT sis_id, surname, forenames, date_of_birth, nationality,
       article || ' - ' || alert_type || coalesce(' (' || warning_markers || ')', '') AS category,
       action_to_be_taken, expiry_date, forenames || ' ' || surname AS full_name,
       'SIS alert issued by ' || issuing_state AS issued_by
FROM person_alerts"""
CJ_SELECT = """SELECT numero_extrait, nom, prenoms, %s AS naissance,
       replace(replace(numero_registre_national,'.',''),'-','') AS nn, juridiction, %s AS decision,
       infraction, peine, mesure, %s AS jusqu_au, mesure_en_cours, consigne, prenoms || ' ' || nom AS nom_complet,
       'Condamnation: ' || infraction || ' - ' || peine || coalesce('; ' || mesure, '') AS resume
FROM condamnations""" % (ISO_DMY("date_naissance"), ISO_DMY("date_decision"), ISO_DMY("mesure_jusqu_au"))
DET_SELECT = """SELECT detentienummer, 'DET-' || detentienummer AS ref, naam, voornaam, geboortedatum, rijksregisternummer,
       inrichting, opgesloten_op, vrijgelaten_op, status, signalering,
       instructie || ' (' || inrichting || ', gedetineerde ' || detentienummer || ')' AS instructie,
       'Status: ' || status || ' (' || inrichting || ', opgesloten op ' || opgesloten_op
       || coalesce(', vrij op ' || vrijgelaten_op, '') || ')' AS reden, voornaam || ' ' || naam AS volledige_naam
FROM gedetineerden"""
HV_SELECT = """SELECT dossier, dader_naam, dader_voornaam, %s AS geboren, dader_rrn, straat, huisnummer, postcode, gemeente,
       soort, CASE WHEN actief = 'ja' THEN soort END AS signalering, instructie,
       'Van ' || begin || ' tot ' || einde || ' voor ' || straat || ' ' || huisnummer AS reden, einde,
       dader_voornaam || ' ' || dader_naam AS dader,
       straat || ' ' || huisnummer || ', ' || postcode || ' ' || gemeente AS adres
FROM huisverboden""" % ISO_DMY("dader_geboren")
INS_SELECT = """SELECT upper(replace(plaque,'-','')) AS plaque_norm, numero_police, assureur, preneur_nn, preneur_nom,
       statut, fin_couverture,
       CASE WHEN statut <> 'actif' THEN 'véhicule non assuré (' || statut || ')' END AS signalement,
       'Couverture RC terminée le ' || fin_couverture || ' (' || assureur || ')' AS motif
FROM contrats"""
KEUR_SELECT = """SELECT replace(nummerplaat,' ','') AS plaat, chassisnummer, datum_keuring, resultaat, geldig_tot, station,
       CASE WHEN resultaat = 'rood' THEN 'rode keuringskaart' END AS signalering,
       'KEUR-' || replace(nummerplaat,' ','') || '-' || replace(datum_keuring,'/','') AS ref,
       'Rode kaart op ' || datum_keuring || ' (' || station || ')' AS reden
FROM keuringen"""
WV_SELECT = """SELECT upper(%s) AS serie, vergunningnr, houder_rrn, houder_naam, provincie, wapen, categorie,
       status, reden, CASE WHEN status = 'ingetrokken' THEN 'wapenvergunning ingetrokken' END AS signalering,
       'Gouverneur van de provincie ' || provincie AS uitgever
FROM vergunningen""" % gen.sql_compact("serienummer", "- ")


def config_sources():
    S = []
    S.append(person_source(
        "pz_antwerpen", "PZ Antwerpen - lokaal interventieregister", "restricted",
        "Local police zone Antwerp: interventions and the people involved, with officer-safety flags "
        "(Dutch schema, names as 'NAAM, Voornaam', dates dd-mm-yyyy).", "pz_antwerpen.db", ANT_SELECT,
        "b.voornaam", "b.familienaam", ISO_DMY("b.geboortedatum"), "b.rrn = :national_number",
        """    report:
      reference: interventienr
      date: datum
      type: aard
      location: adres
      unit: ploeg
      involved_national_number: rrn
      involved_name: naam
""" + person_map("rrn", "familienaam", "voornaam", "geboren") + alert_map(
            when="veiligheidsvlag", category="veiligheidsvlag", instruction="vlag_instructie", reference="ref",
            subject_name="naam", subject_national_number="rrn", subject_birth_date="geboren",
            issued_by="{value: PZ Antwerpen}"), order="ORDER BY i.tijdstip DESC"))
    S.append(person_source(
        "pz_gent", "PZ Gent - lokaal registratiesysteem", "restricted",
        "Local police zone Ghent: persons known to the zone and their warnings (Dutch schema: persons, "
        "reports and warnings in separate tables, dates yyyymmdd, NN dotted).", "pz_gent.db", GENT_SELECT,
        "p.voornamen", "p.fam_naam", ISO_YMD8("p.geb_dat"),
        "replace(replace(p.rijksreg,'.',''),'-','') = :national_number",
        person_map("rrn", "fam_naam", "voornamen", "geboren", "\n      nationality: nationaliteit") + alert_map(
            when="code", category="code", instruction="toelichting", reference="waarschuwing",
            valid_until="geldig_tot", subject_name="naam", subject_national_number="rrn",
            subject_birth_date="geboren", issued_by="{value: PZ Gent}")))
    S.append(person_source(
        "zp_bruxelles", "Zone de police Bruxelles-Capitale/Ixelles - registre des interventions", "restricted",
        "Local police zone Brussels-Capital/Ixelles: interventions and persons involved (French schema, "
        "names in capitals without accents, NN as 810312-121-45).", "zp_bruxelles.db", BXL_SELECT,
        "f.prenom", "f.nom", ISO_DMY("f.ne_le"), "replace(f.nn,'-','') = :national_number",
        """    report:
      reference: no_intervention
      date: date_iso
      type: nature
      location: lieu
      involved_national_number: nn
      involved_name: nom_complet
      unit: {value: ZP Bruxelles-Capitale/Ixelles}
""" + person_map("nn", "nom", "prenom", "ne_le") + alert_map(
            when="signalement_securite", category="signalement_securite", instruction="consigne",
            reference="id_fiche", subject_name="nom_complet", subject_national_number="nn",
            subject_birth_date="ne_le", issued_by="{value: ZP Bruxelles-Capitale/Ixelles}"),
        order="ORDER BY i.no_intervention DESC"))
    S.append(person_source(
        "zp_liege", "Zone de police de Liège - rapports d'intervention", "restricted",
        "Local police zone Liège: reports and the persons concerned (French schema, ISO timestamps, "
        "national number often missing).", "zp_liege.db", LIEGE_SELECT,
        "x.prenoms", "x.nom", "x.date_naissance", "x.registre_national = :national_number",
        """    report:
      reference: numero
      date: jour
      type: objet
      location: adresse
      involved_national_number: registre_national
      involved_name: identite
      unit: {value: ZP Liège}
""" + person_map("registre_national", "nom", "prenoms", "date_naissance") + alert_map(
            when="mise_en_garde", category="mise_en_garde", instruction="conduite_a_tenir", reference="ref",
            subject_name="identite", subject_national_number="registre_national",
            subject_birth_date="date_naissance", issued_by="{value: ZP Liège}"),
        order="ORDER BY r.horodatage DESC"))
    S.append(person_source(
        "pz_eupen", "Polizeizone Weser-Göhl (Eupen) - Einsatzregister", "restricted",
        "Local police zone Eupen (German-speaking Community): operations and persons involved "
        "(German schema, dates dd.mm.yyyy, NN as 81.03.12 121-45).", "pz_eupen.db", EUPEN_SELECT,
        "b.vorname", "b.nachname", ISO_DMY("b.geburtsdatum"),
        gen.sql_compact("b.nationalregisternummer", ".- ") + " = :national_number",
        """    report:
      reference: einsatznummer
      date: datum
      type: art
      location: ort
      involved_national_number: nrn
      involved_name: name
      unit: {value: PZ Weser-Göhl}
""" + person_map("nrn", "nachname", "vorname", "geboren") + alert_map(
            when="warnhinweis", category="warnhinweis", severity="stufe", instruction="verhaltenshinweis",
            reference="ref",
            subject_name="name", subject_national_number="nrn", subject_birth_date="geboren",
            issued_by="{value: Polizeizone Weser-Göhl}")))
    S.append(person_source(
        "sis", "SIRENE Belgium - Schengen Information System (SIS)", "strictly_confidential",
        "Schengen SIS person alerts of all member states (English schema, SIS identifiers, no Belgian "
        "national number; names matched generously).", "sis.db", SIS_SELECT,
        "forenames", "surname", "date_of_birth", None,
        person_map(None, "surname", "forenames", "date_of_birth", "\n      nationality: nationality") + alert_map(
            when="sis_id", category="category", instruction="action_to_be_taken", reference="sis_id",
            valid_until="expiry_date", subject_name="full_name", subject_birth_date="date_of_birth",
            issued_by="issued_by"), loose=True))
    S.append(person_source(
        "criminal_records", "SPF Justice - Casier judiciaire central", "strictly_confidential",
        "Criminal records: convictions and court measures still running (contact bans, area bans, weapons bans) "
        "(French schema, capitals without accents, NN dotted).", "casier_judiciaire.db", CJ_SELECT,
        "prenoms", "nom", ISO_DMY("date_naissance"),
        gen.sql_compact("numero_registre_national", ".-") + " = :national_number",
        """    report:
      reference: numero_extrait
      date: decision
      type: infraction
      summary: resume
      unit: juridiction
      involved_national_number: nn
      involved_name: nom_complet
""" + person_map("nn", "nom", "prenoms", "naissance") + alert_map(
            when="mesure_en_cours", category="mesure_en_cours", instruction="consigne",
            reference="numero_extrait", valid_until="jusqu_au", subject_name="nom_complet",
            subject_national_number="nn", subject_birth_date="naissance", issued_by="juridiction")))
    S.append(person_source(
        "prison_register", "FOD Justitie - DG EPI (gedetineerdenregister)", "strictly_confidential",
        "Prison register: detainees, releases on conditions, electronic monitoring, escapes (Dutch schema).",
        "gedetineerden.db", DET_SELECT, "voornaam", "naam", "geboortedatum",
        "rijksregisternummer = :national_number",
        person_map("rijksregisternummer", "naam", "voornaam", "geboortedatum") + alert_map(
            when="signalering", category="signalering", reason="reden", instruction="instructie", reference="ref",
            subject_name="volledige_naam", subject_national_number="rijksregisternummer",
            subject_birth_date="geboortedatum", issued_by="inrichting")))
    S.append(person_source(
        "protection_orders", "Parket - tijdelijke huisverboden en contactverboden", "strictly_confidential",
        "Temporary restraining orders (domestic violence: banned from the home, contact bans), "
        "by person and by address (Dutch schema).", "huisverboden.db", HV_SELECT,
        "dader_voornaam", "dader_naam", ISO_DMY("dader_geboren"), "dader_rrn = :national_number",
        person_map("dader_rrn", "dader_naam", "dader_voornaam", "geboren") + """
    address:
      street: straat
      number: huisnummer
      postcode: postcode
      city: gemeente
      country: {value: BE}""" + alert_map(
            when="signalering", category="signalering", reason="reden", instruction="instructie",
            reference="dossier", valid_until="einde", subject_name="dader", subject_national_number="dader_rrn",
            subject_birth_date="geboren", address="adres", issued_by="{value: Parket}"),
        extra={"address": HV_SELECT + "\n" + address_where("straat", "huisnummer", "postcode")}))
    S.append(("vehicle_insurance", "sqlite", "Datassur - fichier central de l'assurance RC automobile",
              "restricted", "Motor liability insurance by plate (French schema, plates as 1-abc-123).",
              "assurance_auto.db", {
                  "plate": INS_SELECT + "\nWHERE upper(replace(plaque,'-','')) = :plate",
                  "national_number": INS_SELECT + "\nWHERE preneur_nn = :national_number"},
              """    vehicle:
      plate: plaque_norm
      status: statut
      owner_national_number: preneur_nn
      owner_name: preneur_nom""" + alert_map(
                  when="signalement", category="signalement", reason="motif",
                  instruction="{value: \"Véhicule non assuré: interdire la circulation, immobiliser le véhicule "
                              "et dresser PV (loi du 21/11/1989).\"}",
                  reference="numero_police", plate="plaque_norm", subject_national_number="preneur_nn",
                  issued_by="assureur")))
    S.append(("vehicle_inspection", "sqlite", "GOCA Vlaanderen / AIBV - technische keuring", "not_sensitive",
              "Roadworthiness tests by plate: the last inspection and its result (Dutch schema, plates as "
              "1 ABC 123).", "autokeuring.db",
              {"plate": KEUR_SELECT + "\nWHERE replace(nummerplaat,' ','') = :plate"},
              """    vehicle:
      plate: plaat
      vin: chassisnummer
      status: resultaat""" + alert_map(
                  when="signalering", category="signalering", reason="reden",
                  instruction="{value: \"Rode kaart: voertuig niet meer toegelaten op de openbare weg. "
                              "Takelen of begeleiden naar keuringsstation; PV opstellen.\"}",
                  reference="ref", plate="plaat", issued_by="station")))
    S.append(("anpr_watchlist", "sqlite", "Federal Police - ANPR watch-list (national ANPR platform)",
              "restricted", "Plates on the ANPR watch-list and their last camera hit (English schema).",
              "anpr_watchlist.db",
              {"plate": """SELECT entry_id, plate, list, risk_marker, reason, action, added_on,
       'Last seen: ' || last_hit_camera || ' at ' || last_hit_at || '. ' || reason AS why
FROM watchlist
WHERE plate = :plate"""},
              """    alert:
      when: entry_id
      category: list
      severity: risk_marker
      reason: why
      instruction: action
      reference: entry_id
      plate: plate
      issued_by: {value: Federal Police - ANPR}"""))
    S.append(("firearm_licences", "sqlite", "Gouverneurs van de provincies - wapenvergunningen", "restricted",
              "Firearm licences issued by the provincial governors, separate from the registry "
              "(Dutch schema, serials typed in lower case with dashes).", "wapenvergunningen.db", {
                  "serial": WV_SELECT + "\nWHERE upper(%s) = :serial" % gen.sql_compact("serienummer", "- "),
                  "national_number": WV_SELECT + "\nWHERE houder_rrn = :national_number"},
              """    firearm:
      serial: serie
      model: wapen
      category: categorie
      status: status
      holder_national_number: houder_rrn
      holder_name: houder_naam""" + alert_map(
                  when="signalering", category="signalering", reason="reden",
                  instruction="{value: \"Vergunning ingetrokken: wapen en vergunning in beslag nemen, "
                              "parket verwittigen.\"}",
                  reference="vergunningnr", serial="serie", subject_national_number="houder_rrn",
                  issued_by="uitgever")))
    S.append(("address_notes_liege", "sqlite", "Ville de Liège - services communaux (notes d'adresse)",
              "not_sensitive", "Hazards known to the city of Liège at an address (French schema).",
              "notes_adresses_liege.db",
              {"address": """SELECT 'LIE-' || id AS reference, rue, numero, code_postal, localite, type_risque,
       description, service, date_note, rue || ' ' || numero || ', ' || code_postal || ' ' || localite AS adresse
FROM notes
""" + address_where("rue", "numero", "code_postal")},
              """    address:
      street: rue
      number: numero
      postcode: code_postal
      city: localite
      note: description
    alert:
      when: type_risque
      category: type_risque
      instruction: description
      reference: reference
      address: adresse
      issued_by: service"""))
    S.append(("address_notes_eupen", "sqlite", "Stadt Eupen - Ordnungsamt (Adresshinweise)", "not_sensitive",
              "Hazards known to the town of Eupen at an address (German schema).", "adresshinweise_eupen.db",
              {"address": """SELECT 'EUP-' || hinweis_nr AS referenz, strasse, hausnummer, plz, ort, kategorie,
       beschreibung, dienststelle, strasse || ' ' || hausnummer || ', ' || plz || ' ' || ort AS adresse,
       CASE kategorie WHEN 'Waffen im Haus' THEN 'weapons' WHEN 'gefährlicher Hund' THEN 'dangerous dog' END AS stufe
FROM hinweise
""" + address_where("strasse", "hausnummer", "plz")},
              """    address:
      street: strasse
      number: hausnummer
      postcode: plz
      city: ort
      note: beschreibung
    alert:
      when: kategorie
      category: kategorie
      severity: stufe
      instruction: beschreibung
      reference: referenz
      address: adresse
      issued_by: dienststelle"""))
    return S


# --------------------------------------------------------------------------
# How demo/labels.py reads the sources back (the same SELECTs focald runs)
# --------------------------------------------------------------------------

# person sources: (source, database, select, alert reference, category, national number, family name,
# given name, birth date: columns of the select as focald maps them, loose matching, officer safety)
LABEL_PERSONS = [
    ("pz_antwerpen", "pz_antwerpen.db", ANT_SELECT, "ref", "veiligheidsvlag", "rrn", "familienaam", "voornaam",
     "geboren", False, True),
    ("pz_gent", "pz_gent.db", GENT_SELECT, "waarschuwing", "code", "rrn", "fam_naam", "voornamen", "geboren",
     False, True),
    ("zp_bruxelles", "zp_bruxelles.db", BXL_SELECT, "id_fiche", "signalement_securite", "nn", "nom", "prenom",
     "ne_le", False, True),
    ("zp_liege", "zp_liege.db", LIEGE_SELECT, "ref", "mise_en_garde", "registre_national", "nom", "prenoms",
     "date_naissance", False, True),
    ("pz_eupen", "pz_eupen.db", EUPEN_SELECT, "ref", "warnhinweis", "nrn", "nachname", "vorname", "geboren",
     False, True),
    ("sis", "sis.db", SIS_SELECT, "sis_id", "category", "NULL", "surname", "forenames", "date_of_birth", True, True),
    ("criminal_records", "casier_judiciaire.db", CJ_SELECT, "CASE WHEN mesure_en_cours IS NOT NULL THEN "
     "numero_extrait END", "mesure_en_cours", "nn", "nom", "prenoms", "naissance", False, False),
    ("prison_register", "gedetineerden.db", DET_SELECT, "CASE WHEN signalering IS NOT NULL THEN ref END",
     "signalering", "rijksregisternummer", "naam", "voornaam", "geboortedatum", False, True),
    ("protection_orders", "huisverboden.db", HV_SELECT, "CASE WHEN signalering IS NOT NULL THEN dossier END",
     "signalering", "dader_rrn", "dader_naam", "dader_voornaam", "geboren", False, True),
]
# alerts on vehicles and firearms: (source, database, select, alert reference, category, plate or NULL,
# national number or NULL: reachable by that number too)
LABEL_OBJECTS = [
    ("vehicle_insurance", "assurance_auto.db", INS_SELECT, "numero_police", "signalement", "plaque_norm",
     "preneur_nn"),
    ("vehicle_inspection", "autokeuring.db", KEUR_SELECT, "ref", "signalering", "plaat", "NULL"),
    ("anpr_watchlist", "anpr_watchlist.db", "SELECT * FROM watchlist", "entry_id", "list", "plate", "NULL"),
    ("firearm_licences", "wapenvergunningen.db", WV_SELECT, "vergunningnr", "signalering", "NULL", "houder_rrn"),
]
NAME_SOURCES = tuple(s[0] for s in LABEL_PERSONS)
LOOSE_SOURCES = tuple(s[0] for s in LABEL_PERSONS if s[9])
SAFETY_SOURCES = tuple(s[0] for s in LABEL_PERSONS if s[10])
