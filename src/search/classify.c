/*
 * classify: reading an officer's free text as typed searches (classify.h).
 *
 * The reading happens in two phases.  First every reader looks at the whole
 * text without adding anything: national register number, phone number,
 * number plate, serial number, address, person.  Then the plausible readings
 * are emitted in a fixed order of specificity (plate, serial, address, person)
 * and capped at CLASSIFY_MAX_INTERP.  Some readings are exclusive: eleven
 * digits can only be a national register number, a leading "+" or "00" only a
 * phone number, and those fail loudly (wrong check digits, too few digits)
 * rather than falling through to a reading that would search for nonsense.
 * Every other reader that does not fit leaves a reason; when nothing fits, the
 * most specific reason is the error ("\"31/02/1981\" is not a date: ...").
 *
 * The text is first put in Unicode NFKC without default-ignorable code
 * points (utf8proc): fullwidth digits and letters pasted from a phone become
 * ASCII, a no-break space becomes a space, a stray right-to-left mark
 * disappears; typographic dashes and apostrophes become "-" and "'".
 *
 * Person names: which word is the given name is decided with a compiled-in
 * list of common given names in Belgium (Flemish, Walloon and of immigrant
 * origin), compared as normalize_key() keys.  Compiled in rather than loaded
 * from a data file because the list decides what is searched: a file that is
 * missing, stale or edited on one server would silently change the answers
 * officers get, while a table in the binary is reviewed, tested and versioned
 * with the code that uses it (it is ~1,000 short strings, 8 KB).  The rules
 * are in docs/query-language.md; each is marked "rule:" below.
 */
#include "search/classify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

#include "search/normalize.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_TOKENS 32  /* words in one text; more is not a query but a paste */
#define MAX_WORDS 12   /* words in one person's name */
#define MAX_PERSON 3   /* person readings of one text */
#define WHY_MAX 240

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */

/* Common given names in Belgium as normalize_key() keys (lower case, no
 * accents, hyphen = space), strcmp order for bsearch.  Chosen by hand, not an
 * official list: Flemish and Walloon names of every generation (Jozef and
 * Godelieve as well as Seppe and Lotte), compound French names (Jean-Pierre),
 * and the names most common among Belgians of Moroccan, Turkish, Congolese
 * and West African, Polish, Romanian, Italian, Spanish, Portuguese, Albanian,
 * Syrian, Afghan and Russian-speaking origin.  A name missing from it is not
 * an error: the text is then searched in both orders.  Names that are also
 * common family names here (Thomas, Martin, Lambert, Ali, ...) are repeated
 * in also_family_names: they count as weak evidence only. */
static const char *const given_names[] = {
	"abdallah", "abdel", "abdelali", "abdelaziz", "abdelhak", "abdelkader", "abdellah",
	"abderrahim", "abderrahman", "abdou", "abdoulaye", "abdulaziz", "abdullah", "abdulrahman",
	"achiel", "adam", "adele", "adrian", "adrien", "agathe", "agnes", "agnieszka", "agron",
	"ahmad", "ahmed", "ahmet", "aicha", "aisha", "akbar", "alain", "albert", "alejandro",
	"alessandro", "alexandre", "alexandru", "alexei", "alexis", "alfons", "ali", "alice",
	"alina", "alois", "aloysius", "amadou", "amandine", "amber", "ambre", "amelie", "amina",
	"aminata", "amine", "an", "ana", "anais", "anas", "anastasia", "andre", "andrea",
	"andreea", "andrei", "andrzej", "angela", "angelo", "anja", "ann", "anna", "anne",
	"anne france", "anne marie", "anne sophie", "anneleen", "annelies", "annick", "anouar",
	"anouk", "ans", "anthony", "antoine", "antonella", "antonio", "anwar", "apolline",
	"arben", "armand", "arnaud", "arne", "arno", "arsene", "arta", "arthur", "asma", "astrid",
	"audrey", "aurelie", "aurelien", "axel", "axelle", "aya", "ayman", "aymane", "ayoub",
	"ayse", "aziz", "badr", "baptiste", "barbara", "baris", "bart", "bashar", "bavo",
	"beatrice", "ben", "benjamin", "benoit", "bernard", "bert", "bertha", "besnik", "bieke",
	"bilal", "birgit", "blerta", "blessing", "bo", "boubacar", "brahim", "bram", "brecht",
	"brigitte", "bruno", "burak", "busra", "calogero", "camiel", "camille", "can", "capucine",
	"carine", "carl", "carlos", "carmela", "carmelo", "carmen", "caroline", "cas",
	"catherine", "cato", "cedric", "celia", "celine", "cem", "cengiz", "chaima", "chantal",
	"charles", "charlotte", "cheikh", "chloe", "christel", "christelle", "christian",
	"christine", "christof", "christophe", "claire", "clara", "claude", "clement",
	"clementine", "colette", "colin", "collin", "concetta", "corentin", "cristian",
	"cristina", "cyriel", "daan", "damien", "daniel", "daniela", "danielle", "david",
	"deborah", "delphine", "denis", "deniz", "derya", "didier", "dilek", "dimitri", "dirk",
	"divine", "dmitri", "dolores", "domenico", "dominique", "dorota", "douae", "dounia",
	"dries", "driss", "drita", "dumitru", "dylan", "ebru", "ekaterina", "elena", "elias",
	"elien", "elif", "eline", "eliott", "elisa", "elisabeth", "elise", "elke", "ella",
	"ellen", "elliot", "elodie", "eloise", "els", "elza", "emeline", "emiel", "emile",
	"emilie", "emine", "emma", "emmanuel", "emre", "enzo", "ercan", "eren", "eric", "erik",
	"erkan", "esra", "estelle", "esther", "ethan", "etienne", "eva", "evelien", "evelyne",
	"evi", "ewa", "exauce", "fabian", "fabien", "fabio", "fabrice", "fanny", "farid",
	"fatemeh", "fatih", "fatiha", "fatima", "fatma", "fatmir", "febe", "femke", "ferhat",
	"fernand", "fernando", "ferre", "fien", "filip", "filiz", "finn", "firas", "firmin",
	"fleur", "floor", "florence", "florent", "florian", "florin", "fons", "fouad",
	"francesca", "francesco", "francine", "francis", "francisco", "francois", "francoise",
	"frank", "frans", "frederic", "frieda", "furkan", "gabriel", "gabriela", "gabriella",
	"gael", "gaelle", "gaetano", "gaston", "gauthier", "geert", "genevieve", "geoffrey",
	"georges", "georgiana", "gerald", "gerard", "gerda", "germain", "germaine", "gert",
	"gheorghe", "ghislaine", "gilbert", "gilles", "giovanna", "giovanni", "giuseppe",
	"giuseppina", "glenn", "glodi", "gloria", "godelieve", "gokhan", "grace", "greet",
	"gregory", "griet", "grzegorz", "guido", "guillaume", "gul", "gulsen", "gust", "gustaaf",
	"gustave", "guy", "hafsa", "hajar", "hakan", "hakim", "halil", "hamid", "hamza", "hanan",
	"hanane", "hannah", "hanne", "hannes", "hans", "hasan", "hassan", "hatice", "helena",
	"helene", "hendrik", "henk", "henri", "henry", "herman", "hicham", "hilde", "hossein",
	"houda", "hubert", "hugo", "huguette", "hulya", "huseyin", "hussam", "hussein", "ian",
	"ibrahim", "ibrahima", "idriss", "igor", "ikram", "ilham", "ilias", "ilse", "ilyas",
	"iman", "imane", "imran", "ine", "ines", "inge", "ingrid", "ioana", "ion", "ionut",
	"irene", "irina", "isabel", "isabelle", "ismail", "ismet", "ivan", "ivo", "jaak", "jacob",
	"jacqueline", "jacques", "jade", "jakub", "jamal", "jamel", "jan", "jana", "jarne",
	"jasper", "javier", "jean", "jean baptiste", "jean claude", "jean francois",
	"jean jacques", "jean louis", "jean luc", "jean marc", "jean marie", "jean michel",
	"jean paul", "jean philippe", "jean pierre", "jeanine", "jeanne", "jeannine", "jef",
	"jelle", "jens", "jeroen", "jerome", "jessica", "jo", "joanna", "joao", "jochen", "joel",
	"joeri", "johan", "johannes", "joke", "jolien", "jonas", "jonathan", "joost", "jordan",
	"jordy", "jorge", "jorik", "joris", "jorn", "jos", "jose", "josee", "joseph", "josephine",
	"josette", "josiane", "jozef", "juan", "jules", "julia", "julie", "julien", "juliette",
	"jurgen", "justine", "justyna", "kaan", "kaat", "kamil", "kareem", "karel", "karen",
	"karim", "karolien", "karolina", "karsten", "kasper", "katarzyna", "kathleen", "katleen",
	"kato", "katrien", "kelly", "kemal", "kenneth", "kenza", "kenzo", "kerem", "kevin",
	"khadija", "khaled", "khalid", "khalil", "khaoula", "kim", "kobe", "koen", "kris",
	"krista", "kristel", "kristien", "kristof", "krzysztof", "kubra", "kurt", "laetitia",
	"lambert", "lamine", "lana", "lander", "lara", "lars", "latifa", "laura", "lauren",
	"laurence", "laurent", "layla", "lea", "leen", "leila", "lena", "lennart", "lennert",
	"lenny", "leon", "leona", "leonard", "leopold", "levent", "liam", "lien", "lies",
	"liesbeth", "liesje", "lieve", "lieven", "lina", "linda", "lindsey", "lio", "lionel",
	"lisa", "lise", "liv", "loic", "lola", "lore", "lotte", "lou", "loubna", "louis",
	"louise", "louka", "louna", "lowie", "luc", "luca", "lucas", "lucia", "lucie", "lucien",
	"lucienne", "lucile", "ludo", "ludovic", "luigi", "luis", "luka", "lukas", "lukasz",
	"luna", "lutgarde", "lutgart", "lynn", "maaike", "maarten", "madeleine", "mael", "maelle",
	"maeva", "magda", "magdalena", "maggy", "mahmoud", "malak", "malgorzata", "malika",
	"mamadou", "manon", "manu", "manuel", "marc", "marc antoine", "marcel", "marcella",
	"marcin", "marco", "margaux", "margot", "margriet", "maria", "mariam", "marian",
	"marianne", "marie", "marie christine", "marie claire", "marie france", "marie jeanne",
	"marie paule", "marie therese", "marieke", "mariella", "mariette", "marijke", "marine",
	"mario", "marius", "mark", "marleen", "maroua", "martha", "marthe", "martin", "martine",
	"maryam", "masoud", "mateusz", "mathias", "mathieu", "mathilde", "mathis", "mats",
	"matteo", "matthias", "matthieu", "mattias", "maurice", "mauro", "maxim", "maxime",
	"mehdi", "mehmed", "mehmet", "melanie", "merel", "meriem", "mert", "merve", "merveille",
	"meryem", "metin", "mia", "michael", "michal", "michel", "michele", "micheline",
	"michiel", "mickael", "mieke", "miguel", "mihaela", "mihai", "mil", "mila", "milan",
	"mira", "mireille", "modou", "mohamad", "mohamed", "mohammad", "mohammed", "mohsen",
	"monika", "monique", "morad", "mounia", "mourad", "moussa", "muhammad", "murat", "muriel",
	"mustafa", "mustapha", "myriam", "nabil", "nadia", "nadine", "naima", "nand", "naomi",
	"natalia", "nathalie", "nathan", "nawal", "nele", "nick", "nico", "nicola", "nicolas",
	"nicole", "niek", "niels", "nihat", "nils", "nina", "nisrine", "noa", "noah", "noe",
	"noemie", "noor", "nora", "norbert", "nordin", "nore", "nour", "noura", "nourdin",
	"noureddine", "nuno", "nurcan", "odette", "odile", "oleg", "olga", "olivia", "olivier",
	"omar", "omer", "onur", "orhan", "oscar", "osman", "othman", "otto", "ousmane", "oussama",
	"ozan", "ozlem", "pascal", "pascale", "pasquale", "patrice", "patricia", "patrick",
	"paul", "paula", "paulette", "pauline", "paulo", "paulus", "pawel", "pedro", "peter",
	"petrus", "philip", "philippe", "pierre", "pierre yves", "piet", "pieter", "pieterjan",
	"pilar", "piotr", "pol", "precious", "prisca", "prosper", "quentin", "quinten", "rachid",
	"rachida", "raf", "rafael", "rania", "raphael", "rashid", "raymond", "raymonde",
	"rebecca", "recep", "redouane", "regis", "remi", "remy", "renaat", "renaud", "rene",
	"renee", "reza", "ria", "ricardo", "richard", "rida", "rik", "rita", "rob", "robbe",
	"robert", "robin", "rocco", "rodolphe", "roel", "roger", "roland", "romain", "romane",
	"romy", "ronny", "roos", "rosa", "rosario", "rose", "rosette", "ruben", "rudi", "rudy",
	"rui", "rune", "ruth", "saar", "sabrina", "sabrine", "sacha", "saeed", "safae", "said",
	"salima", "salma", "salome", "salvatore", "sam", "samia", "samir", "samira", "samuel",
	"sanae", "sander", "sandrine", "sanne", "sara", "sarah", "sebastiaan", "sebastien",
	"sekou", "selim", "sem", "senne", "seppe", "serge", "sergei", "sergey", "sergio",
	"serkan", "serpil", "severine", "sevgi", "sibel", "siebe", "siham", "sihame", "silas",
	"silke", "simon", "simone", "simonne", "sinan", "sofiane", "sofie", "songul", "sophie",
	"souad", "soufiane", "soukaina", "souleymane", "staf", "stan", "stef", "stefan",
	"stefanie", "stephane", "stephanie", "steven", "stien", "stijn", "sumeyye", "suzanne",
	"sven", "svetlana", "sylvain", "sylvie", "tanguy", "tarek", "tarik", "tatiana", "teresa",
	"tess", "tessa", "teun", "theo", "therese", "thierry", "thijs", "thomas", "tiago", "tibo",
	"tiebe", "tijs", "tim", "timeo", "timothee", "tine", "tinne", "tolga", "tom", "tomasz",
	"toon", "tristan", "tulay", "tuncay", "tuur", "ugur", "valentin", "valere", "valerie",
	"vasile", "veerle", "vera", "veronique", "vic", "victoire", "victor", "viktor", "vincent",
	"vincenzo", "virginie", "vladimir", "volkan", "wafae", "walid", "walter", "wannes",
	"ward", "warre", "wendelien", "wendy", "wiam", "wiebe", "willem", "william", "willy",
	"wim", "wojciech", "wout", "wouter", "xander", "xavier", "yana", "yannick", "yasemin",
	"yasmina", "yasmine", "yasser", "yassin", "yassine", "yente", "younes",
	"yousef", "youssef", "yunus", "yuri", "yusuf", "yvan", "yves", "yvette", "yvonne",
	"zahra", "zaid", "zainab", "zakaria", "zakariya", "zaynab", "zehra", "zeki", "zeno",
	"zeynep", "zineb", "zita", "zoe",
};

static const char *const also_family_names[] = {
	"adam", "ahmed", "ali", "antoine", "arnaud", "benjamin", "bernard", "charles", "claude",
	"colin", "collin", "daniel", "david", "denis", "dominique", "francois", "georges",
	"gerard", "gilles", "guillaume", "hasan", "hassan", "henri", "henry", "herman", "hubert",
	"hussein", "ibrahim", "ismail", "jacob", "jamal", "joseph", "lambert", "laurent", "leon",
	"leonard", "lucas", "mahmoud", "martin", "mathieu", "maurice", "michel", "mohamed",
	"nicolas", "omar", "osman", "paul", "philippe", "pierre", "renaud", "rene", "richard",
	"robert", "roland", "said", "samuel", "simon", "thomas", "victor", "vincent", "youssef",
};

/* rule: family-name particles; a particle starts a family name and takes the
 * following words up to the first one that is not a particle ("van den
 * Broeck", "El Amrani", "d' Hondt").  "ben" is also a given name: see
 * person_read. */
static const char *const particles[] = {
	"'t", "abou", "abu", "al", "ben", "bin", "bou", "d'", "da", "das", "de", "del", "della",
	"den", "der", "des", "di", "do", "dos", "du", "el", "het", "ibn", "in", "l'", "la", "le",
	"les", "mac", "mc", "op", "ould", "t'", "te", "ten", "ter", "van", "vande", "vanden", "vander",
	"von",
};

/* rule: street words.  Dutch street names end in one of these ("Lange
 * Kievitstraat", "Turnhoutsebaan", "Sint-Jansplein") or have it as a word
 * ("Grote Markt"); French ones start with one ("Rue de la Loi", "Chaussée de
 * Louvain").  Weak ones also end common family names (Van Dijk, Verweg) or
 * are family names (Place, Route): they make an address only together with a
 * house number or a postcode. */
struct street_word {
	const char *key;
	bool strong;
};
static const struct street_word dutch_street[] = {
	{ "baan", true }, { "dijk", false }, { "dreef", true }, { "gracht", true },
	{ "kaai", true }, { "kade", true }, { "laan", true }, { "lei", true },
	{ "markt", true }, { "pad", false }, { "plaats", true }, { "plein", true },
	{ "ring", false }, { "singel", true }, { "steenweg", true }, { "straat", true },
	{ "vest", false }, { "wal", false }, { "weg", false },
};
static const struct street_word french_street[] = {
	{ "allee", true }, { "av", true }, { "avenue", true },
	{ "bd", true }, { "boulevard", true }, { "chaussee", true }, { "chemin", true },
	{ "cite", false }, { "clos", false }, { "cours", false }, { "dreve", true },
	{ "esplanade", true }, { "galerie", false }, { "impasse", true }, { "parvis", false },
	{ "passage", false }, { "place", false }, { "quai", true }, { "rempart", false },
	{ "rond point", true }, { "route", false }, { "rue", true }, { "ruelle", true },
	{ "sentier", false }, { "square", true }, { "venelle", true }, { "voie", false },
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool in_list(const char *key, const char *const *list, size_t n)
{
	return bsearch(&key, list, n, sizeof(*list), cmp_str) != NULL;
}

const char *const *classify_given_names(size_t *n)
{
	*n = N(given_names);
	return given_names;
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return n > 0;
}

/* ASCII case-insensitive comparison with a lower-case word. */
static bool word_is(const char *w, const char *lower_word)
{
	for (; *w != '\0' && *lower_word != '\0'; w++, lower_word++)
		if (lower(*w) != *lower_word)
			return false;
	return *w == '\0' && *lower_word == '\0';
}

/* The normalize_key() of s, or "" when it cannot be made (too long). */
static void key_of(const char *s, char out[NORMALIZE_MAX])
{
	if (normalize_key(s, out, NORMALIZE_MAX) < 0)
		out[0] = '\0';
}

struct why {
	char msg[WHY_MAX];
	int rank; /* a more specific reader's reason wins */
};

static void why_set(struct why *w, int rank, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void why_set(struct why *w, int rank, const char *fmt, ...)
{
	va_list ap;

	if (w == NULL || rank <= w->rank)
		return;
	w->rank = rank;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
}

/* Today's date, for two-digit years and "not in the future". */
static void today(int *y, int *m, int *d)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL) {
		*y = 2000, *m = 1, *d = 1;
		return;
	}
	*y = tm.tm_year + 1900, *m = tm.tm_mon + 1, *d = tm.tm_mday;
}

/* ------------------------------------------------------------------------ */
/* Text preparation                                                         */

/* NFKC without default-ignorables, then: dashes and minus to '-', typographic
 * apostrophes to '\'', every other space or control to ' ', and the spaces
 * around a hyphen between two letters dropped ("Dubois - Lambert").  Returns
 * a malloc'd string, or NULL with *rc set. */
static char *prepare(const char *text, int *rc)
{
	utf8proc_uint8_t *nfkc = NULL;
	utf8proc_ssize_t n;
	char *out, *o;
	const utf8proc_uint8_t *p;

	n = utf8proc_map((const utf8proc_uint8_t *)text, 0, &nfkc,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
				 UTF8PROC_IGNORE);
	if (n < 0) {
		*rc = n == UTF8PROC_ERROR_NOMEM ? FOCAL_E_NOMEM : FOCAL_E_INVAL;
		return NULL;
	}
	out = malloc((size_t)n + 1);
	if (out == NULL) {
		free(nfkc);
		*rc = FOCAL_E_NOMEM;
		return NULL;
	}
	o = out;
	for (p = nfkc; *p != '\0';) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate(p, -1, &cp);

		if (len <= 0) /* utf8proc_map's output is valid: cannot happen */
			break;
		if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0xFE58 || cp == 0xFE63)
			*o++ = '-';
		else if (cp == 0x2018 || cp == 0x2019 || cp == 0x02BC || cp == 0x2032 || cp == 0x0060)
			*o++ = '\'';
		else if (cp < 0x20 || cp == 0x7F ||
			 utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS ||
			 utf8proc_category(cp) == UTF8PROC_CATEGORY_ZL ||
			 utf8proc_category(cp) == UTF8PROC_CATEGORY_ZP ||
			 utf8proc_category(cp) == UTF8PROC_CATEGORY_CC)
			*o++ = ' ';
		else {
			memcpy(o, p, (size_t)len);
			o += len;
		}
		p += len;
	}
	*o = '\0';
	free(nfkc);

	/* "Dubois - Lambert" → "Dubois-Lambert": only between letters, so that
	 * "12 - 14" and "Peeters - 1981" keep their spaces */
	for (char *h = out; (h = strchr(h, '-')) != NULL; h++) {
		char *l = h, *r = h + 1;

		while (l > out && l[-1] == ' ')
			l--;
		while (*r == ' ')
			r++;
		if (l == h && r == h + 1)
			continue;
		if (l > out && (is_alpha(l[-1]) || (unsigned char)l[-1] >= 0x80) &&
		    (is_alpha(*r) || (unsigned char)*r >= 0x80)) {
			*l = '-';
			memmove(l + 1, r, strlen(r) + 1);
			h = l;
		}
	}
	return out;
}

/* Splits s in place at spaces, commas and semicolons.  comma[i] is true when
 * a comma or semicolon follows token i.  Returns the number of tokens, or -1
 * when there are more than MAX_TOKENS. */
static int tokenize(char *s, char *tok[MAX_TOKENS], bool comma[MAX_TOKENS])
{
	int n = 0;

	while (*s != '\0') {
		while (*s == ' ' || *s == ',' || *s == ';') {
			if (*s != ' ' && n > 0)
				comma[n - 1] = true;
			s++;
		}
		if (*s == '\0')
			break;
		if (n == MAX_TOKENS)
			return -1;
		comma[n] = false;
		tok[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != ',' && *s != ';')
			s++;
		if (*s == '\0')
			break;
		if (*s != ' ')
			comma[n - 1] = true;
		*s++ = '\0';
	}
	return n;
}

/* ------------------------------------------------------------------------ */
/* Dates                                                                    */

enum shape { SHAPE_NO = 0, SHAPE_OK, SHAPE_BAD };

static const char *const month_names[] = {
	"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December",
};

static int days_in(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* Reads n digits at s (n ≤ 4). */
static int digits_value(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* rule: dates are d/m/y with 1-2 digit day and month and a 2 or 4 digit year,
 * or y-m-d with a 4 digit year; the separator is "/", "-" or "." and the same
 * twice.  SHAPE_NO: not shaped like a date; SHAPE_BAD: shaped like one but
 * not a real past date (why says which part is wrong). */
static enum shape date_read(const char *s, char out[11], struct why *why)
{
	size_t len[3] = { 0 }, part = 0;
	const char *start[3] = { s, NULL, NULL };
	char sep = 0;
	int y, m, d, ty, tm, td;

	for (const char *p = s; *p != '\0'; p++) {
		if (is_digit(*p)) {
			len[part]++;
			continue;
		}
		if (!(*p == '/' || *p == '-' || *p == '.') || part == 2 || (sep && *p != sep) ||
		    len[part] == 0)
			return SHAPE_NO;
		sep = *p;
		start[++part] = p + 1;
	}
	if (part != 2 || len[0] == 0 || len[1] == 0 || len[2] == 0 || len[1] > 2)
		return SHAPE_NO;
	today(&ty, &tm, &td);
	if (len[0] == 4 && len[2] <= 2) {
		y = digits_value(start[0], 4), m = digits_value(start[1], len[1]);
		d = digits_value(start[2], len[2]);
	} else if (len[0] <= 2 && (len[2] == 2 || len[2] == 4)) {
		d = digits_value(start[0], len[0]), m = digits_value(start[1], len[1]);
		y = digits_value(start[2], len[2]);
		/* two-digit years: the most recent such year, officers ask about
		 * people already born */
		if (len[2] == 2)
			y += y <= ty % 100 ? ty / 100 * 100 : ty / 100 * 100 - 100;
	} else {
		return SHAPE_NO;
	}
	if (m < 1 || m > 12) {
		why_set(why, 50, "\"%s\" is not a date: there is no month %d (dates are day/month/year)",
			s, m);
		return SHAPE_BAD;
	}
	if (d < 1 || d > days_in(y, m)) {
		why_set(why, 50, "\"%s\" is not a date: %s %d has %d days", s, month_names[m - 1], y,
			days_in(y, m));
		return SHAPE_BAD;
	}
	if (y < 1900) {
		why_set(why, 50, "\"%s\" is not a plausible birth date: before 1900", s);
		return SHAPE_BAD;
	}
	if (y > ty || (y == ty && (m > tm || (m == tm && d > td)))) {
		why_set(why, 50, "\"%s\" is not a plausible birth date: it lies in the future", s);
		return SHAPE_BAD;
	}
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
	return SHAPE_OK;
}

int classify_date(const char *text, char out[11], struct focal_err *err)
{
	struct why why = { "", 0 };

	out[0] = '\0';
	switch (date_read(text, out, &why)) {
	case SHAPE_OK:
		return FOCAL_OK;
	case SHAPE_BAD:
		return focal_err_set(err, FOCAL_E_INVAL, "%s", why.msg);
	default:
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"%s\" is not a date: write dd/mm/yyyy or yyyy-mm-dd", text);
	}
}

/* rule: a birth year is four digits from 1900 to this year. */
static enum shape year_read(const char *s, struct why *why)
{
	int y, ty, tm, td;

	if (strlen(s) != 4 || !all_digits(s, 4) || s[0] == '0')
		return SHAPE_NO;
	today(&ty, &tm, &td);
	y = digits_value(s, 4);
	if (y < 1900 || y > ty) {
		why_set(why, 40, "\"%s\" is not a plausible birth year", s);
		return SHAPE_BAD;
	}
	return SHAPE_OK;
}

/* ------------------------------------------------------------------------ */
/* Identifiers                                                              */

/* Letters and digits of s, upper case, every other character dropped;
 * non-ASCII text goes through normalize_identifier so that a Cyrillic "А"
 * or a fullwidth "Ａ" still reads as A.  Returns the length, 0 when the
 * result is empty, longer than max - 1, or not plain ASCII. */
static size_t compact(const char *s, char *out, size_t max)
{
	size_t n = 0;
	bool ascii = true;

	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			ascii = false;
	if (!ascii) {
		char buf[NORMALIZE_MAX];
		int len = normalize_identifier(s, buf, sizeof(buf));

		if (len <= 0 || (size_t)len >= max)
			return 0;
		for (int i = 0; i < len; i++)
			if (!is_digit(buf[i]) && !(buf[i] >= 'A' && buf[i] <= 'Z'))
				return 0;
		memcpy(out, buf, (size_t)len + 1);
		return (size_t)len;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (!is_digit(*p) && !is_alpha(*p))
			continue;
		if (n + 1 >= max)
			return 0;
		out[n++] = is_alpha(*p) ? (char)(lower(*p) - 'a' + 'A') : *p;
	}
	out[n] = '\0';
	return n;
}

int classify_identifier(const char *text, char out[25], struct focal_err *err)
{
	out[0] = '\0';
	if (compact(text, out, 25) == 0)
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"%s\" is not an identifier: 1 to 24 letters and digits", text);
	return FOCAL_OK;
}

/* Digits of s when s is only digits and the separators in seps; else 0. */
static size_t digits_only(const char *s, const char *seps, char *out, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (is_digit(*s)) {
			if (n + 1 >= max)
				return 0;
			out[n++] = *s;
		} else if (strchr(seps, *s) == NULL) {
			return 0;
		}
	}
	out[n] = '\0';
	return n;
}

/* rule: the check digits of a national register number are 97 minus the
 * first nine digits modulo 97; for births from 2000 the nine digits are
 * prefixed with 2. */
static bool nrn_check(const char *d)
{
	unsigned long long base = (unsigned long long)digits_value(d, 4) * 100000ULL +
				  (unsigned long long)digits_value(d + 4, 5);
	unsigned check = (unsigned)digits_value(d + 9, 2);

	return 97 - base % 97 == check || 97 - (2000000000ULL + base) % 97 == check;
}

int classify_national_number(const char *text, char out[12], struct focal_err *err)
{
	char d[32];
	size_t n = digits_only(text, " .-/", d, sizeof(d));
	int month, day;

	out[0] = '\0';
	if (n != 11)
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"%s\" is not a national register number: it needs 11 digits",
				     text);
	if (!nrn_check(d))
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"%s\" looks like a national register number but its check "
				     "digits %c%c do not match the first nine digits: a digit is "
				     "probably mistyped", text, d[9], d[10]);
	/* rule: the month is 0-12, or 20-32 / 40-52 for BIS numbers (people not
	 * in the population register); 0 stands for an unknown month or day */
	month = digits_value(d + 2, 2), day = digits_value(d + 4, 2);
	if (!(month <= 12 || (month >= 20 && month <= 32) || (month >= 40 && month <= 52)))
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"%s\" is not a valid national register number: %02d is not a "
				     "month (BIS numbers add 20 or 40)", text, month);
	if (day > 31)
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"%s\" is not a valid national register number: %02d is not a "
				     "day", text, day);
	memcpy(out, d, 12);
	return FOCAL_OK;
}

/* rule: phone numbers.  "+CC…" and "00CC…" are international; "0…" is
 * Belgian (9 digits for a fixed line, 10 for a mobile, which starts 04).
 * After +32: 8 digits, or 9 starting with 4 (mobiles); after +31 and +33:
 * 9 digits; any other country: 8 to 15 digits in all (E.164). */
int classify_phone(const char *text, char e164[17], char national[17], struct focal_err *err)
{
	char d[64];
	const char *s = text, *intl;
	size_t n = 0, rest;
	bool plus = false;

	e164[0] = '\0';
	if (national != NULL)
		national[0] = '\0';
	while (*s == ' ')
		s++;
	if (*s == '+')
		plus = true, s++;
	for (; *s != '\0'; s++) {
		if (is_digit(*s)) {
			if (n + 1 >= sizeof(d))
				return focal_err_set(err, FOCAL_E_INVAL,
						     "\"%s\" is not a phone number: too many digits",
						     text);
			d[n++] = *s;
		} else if (s[0] == '(' && s[1] == '0' && s[2] == ')' && (plus || n >= 2)) {
			s += 2; /* "+32 (0)470": the trunk 0 is not dialled from abroad */
		} else if (strchr(" .-/()", *s) == NULL) {
			return focal_err_set(err, FOCAL_E_INVAL,
					     "\"%s\" is not a phone number: only digits, spaces and "
					     ". - / ( ) may follow the leading +", text);
		}
	}
	d[n] = '\0';
	if (plus)
		intl = d;
	else if (n >= 2 && d[0] == '0' && d[1] == '0')
		intl = d + 2;
	else if (n >= 1 && d[0] == '0')
		intl = NULL; /* Belgian national form */
	else
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"%s\" is not a phone number: write +32…, 0032… or 0…", text);
	if (intl == NULL) {
		/* 0 + 8 digits (fixed line), 0 + 9 digits starting 4 (mobile) */
		if (!((n == 9 && d[1] != '0') || (n == 10 && d[1] == '4')))
			return focal_err_set(err, FOCAL_E_INVAL,
					     "\"%s\" is not a Belgian phone number: a mobile number "
					     "has 10 digits starting 04, a fixed line 9 starting 0",
					     text);
		snprintf(e164, 17, "+32%.9s", d + 1);
		if (national != NULL)
			snprintf(national, 17, "%.10s", d);
		return FOCAL_OK;
	}
	n = strlen(intl);
	if (n == 0 || intl[0] == '0')
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"%s\" is not a phone number: a country code follows + or 00",
				     text);
	if (strncmp(intl, "32", 2) == 0) {
		rest = n - 2;
		if (rest > 0 && intl[2] == '0')
			return focal_err_set(err, FOCAL_E_INVAL,
					     "\"%s\": after +32 the leading 0 of the Belgian number "
					     "is dropped (+32 470…, not +32 0470…)", text);
		if (!(rest == 8 || (rest == 9 && intl[2] == '4')))
			return focal_err_set(err, FOCAL_E_INVAL,
					     "\"%s\" is not a Belgian phone number: +32 is followed "
					     "by 8 digits, or 9 for a mobile (+32 4…)", text);
		if (national != NULL)
			snprintf(national, 17, "0%.9s", intl + 2);
	} else if (strncmp(intl, "31", 2) == 0 || strncmp(intl, "33", 2) == 0) {
		if (n - 2 != 9)
			return focal_err_set(err, FOCAL_E_INVAL,
					     "\"%s\" is not a %s phone number: +%.2s is followed by 9 "
					     "digits", text, intl[1] == '1' ? "Dutch" : "French", intl);
	} else if (n < 8 || n > 15) {
		return focal_err_set(err, FOCAL_E_INVAL,
				     "\"%s\" is not a phone number: an international number has 8 "
				     "to 15 digits with the country code", text);
	}
	snprintf(e164, 17, "+%.15s", intl);
	return FOCAL_OK;
}

/* rule: Belgian plates: 1-ABC-123 (since 2010: a digit 1-9, three letters,
 * three digits), ABC-123 (1973-2008) and 123-ABC (2008-2010), with any
 * separators or none. */
static bool plate_like(const char *c, size_t n)
{
	if (n == 7)
		return c[0] >= '1' && c[0] <= '9' && is_alpha(c[1]) && is_alpha(c[2]) &&
		       is_alpha(c[3]) && all_digits(c + 4, 3);
	if (n == 6)
		return (is_alpha(c[0]) && is_alpha(c[1]) && is_alpha(c[2]) && all_digits(c + 3, 3)) ||
		       (all_digits(c, 3) && is_alpha(c[3]) && is_alpha(c[4]) && is_alpha(c[5]));
	return false;
}

/* rule: a serial number has 4 to 24 letters and digits, at least one of each,
 * typed with any separators; spaces inside ("AFKX 417") only when the text
 * reads as nothing else, since "Jan 1981" is a name and a year. */
static bool serial_like(const char *c, size_t n)
{
	bool letter = false, digit = false;

	for (size_t i = 0; i < n; i++) {
		letter |= is_alpha(c[i]);
		digit |= is_digit(c[i]);
	}
	return n >= 4 && n <= 24 && letter && digit;
}

/* Tokens that can be the groups of one serial number typed with spaces
 * ("AFKX 417"): at most four groups, a group of letters at most 4 long,
 * and only letters, digits and dashes, so that "Peeters 12/13/1981" is a
 * name with a bad date, not a serial. */
static bool spaced_serial(char *tok[], int ntok)
{
	if (ntok > 4)
		return false;
	for (int i = 0; i < ntok; i++) {
		size_t letters = 0, n = strlen(tok[i]);

		for (size_t j = 0; j < n; j++) {
			if (is_alpha(tok[i][j]))
				letters++;
			else if (!is_digit(tok[i][j]) && tok[i][j] != '-')
				return false;
		}
		if (letters == n && letters > 4)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------ */
/* Words                                                                    */

/* rule: a name word is letters (any script, with their accents), and the
 * hyphens, apostrophes and dots of "Dubois-Lambert", "D'Hondt", "J.". */
static bool name_word(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	bool letter = false;

	while (*p != '\0') {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate(p, -1, &cp);
		utf8proc_category_t c;

		if (len <= 0)
			return false;
		c = utf8proc_category(cp);
		if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO)
			letter = true;
		else if (!(c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME) &&
			 cp != '-' && cp != '\'' && cp != '.')
			return false;
		p += len;
	}
	return letter;
}

/* Counts the letters of s and how many are upper / lower case. */
static void letter_case(const char *s, int *letters, int *upper, int *lowerc)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;

	while (*p != '\0') {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate(p, -1, &cp);
		utf8proc_category_t c;

		if (len <= 0)
			return;
		c = utf8proc_category(cp);
		if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO)
			(*letters)++;
		if (c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LT)
			(*upper)++;
		else if (c == UTF8PROC_CATEGORY_LL)
			(*lowerc)++;
		p += len;
	}
}

/* rule: an initial is one letter, with or without a dot ("J", "J."), or
 * dotted letters ("J.P.", "J.-P.").  first receives the first letter in upper
 * case (UTF-8, NUL-terminated). */
static bool initial_of(const char *s, char first[8])
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	int letters = 0;
	bool dot_after_each = true, prev_letter = false;

	while (*p != '\0') {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate(p, -1, &cp);
		utf8proc_category_t c;

		if (len <= 0)
			return false;
		c = utf8proc_category(cp);
		if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) {
			if (prev_letter)
				return false;
			if (letters++ == 0) {
				utf8proc_ssize_t e = utf8proc_encode_char(utf8proc_toupper(cp),
									  (utf8proc_uint8_t *)first);
				first[e > 0 ? e : 0] = '\0';
			}
			prev_letter = true;
		} else if (cp == '.') {
			if (!prev_letter)
				return false;
			prev_letter = false;
		} else if (cp == '-' && !prev_letter && letters > 0) {
			/* "J.-P." */
		} else {
			return false;
		}
		if (prev_letter && p[len] != '.' && p[len] != '\0')
			dot_after_each = false;
		p += len;
	}
	return letters == 1 || (letters > 1 && dot_after_each && !prev_letter);
}

static bool is_particle(const char *w)
{
	char key[16];
	size_t n = strlen(w);

	if (n >= sizeof(key))
		return false;
	for (size_t i = 0; i <= n; i++)
		key[i] = lower(w[i]);
	return in_list(key, particles, N(particles));
}

/* "D'Hondt", "l'Hoir", "Vandenbroucke", "Vanderstraeten": the particle written
 * together with the name. */
static bool glued_particle(const char *w)
{
	size_t n = strlen(w);

	if (n >= 4 && (lower(w[0]) == 'd' || lower(w[0]) == 'l') && w[1] == '\'')
		return true;
	return n >= 8 && lower(w[0]) == 'v' && lower(w[1]) == 'a' && lower(w[2]) == 'n' &&
	       lower(w[3]) == 'd' && lower(w[4]) == 'e';
}

bool classify_is_given_name(const char *name)
{
	char key[NORMALIZE_MAX];
	char *part, *save = NULL;
	int parts = 0;

	key_of(name, key);
	if (key[0] == '\0')
		return false;
	if (in_list(key, given_names, N(given_names)))
		return true;
	if (strchr(key, ' ') == NULL)
		return false;
	/* "Jean-Pierre", "Marie-Lou": every part a given name */
	for (part = strtok_r(key, " ", &save); part != NULL; part = strtok_r(NULL, " ", &save)) {
		if (!in_list(part, given_names, N(given_names)))
			return false;
		parts++;
	}
	return parts > 1;
}

static bool also_family(const char *name)
{
	char key[NORMALIZE_MAX];

	key_of(name, key);
	return in_list(key, also_family_names, N(also_family_names));
}

/* ------------------------------------------------------------------------ */
/* Persons                                                                  */

struct unit {
	int first, n; /* words[first .. first + n) */
	bool particle, initial, given, weak, caps, lower;
	char initial_letter[8];
};

struct reading {
	int seg;            /* which segmentation (see person_read) */
	int k;              /* units on the given side; 0 = family name only */
	bool family_first;  /* the given side is at the end */
	char why[96];
};

struct person {
	const char *word[MAX_WORDS];
	bool comma[MAX_WORDS]; /* a comma follows word i */
	int nword;
	char birth_date[11];
	char birth_year[5];
	struct unit unit[2][MAX_WORDS];
	int nunit[2];
	struct reading reading[MAX_PERSON];
	int nreading;
};

/* Groups words into units: a particle and the words it takes ("Van den
 * Broeck"), or one word.  ben_given: a leading "Ben" stands alone. */
static int person_units(const struct person *p, bool ben_given, struct unit *u)
{
	int m = 0;

	for (int i = 0; i < p->nword;) {
		struct unit *x = &u[m++];
		int j = i;

		memset(x, 0, sizeof(*x));
		x->first = i;
		x->n = 1;
		if (!(ben_given && i == 0 && word_is(p->word[0], "ben"))) {
			while (j < p->nword && j - i < 4 && is_particle(p->word[j]) && !p->comma[j])
				j++;
			if (j > i && j < p->nword) {
				x->n = j - i + 1;
				x->particle = true;
			}
		}
		i += x->n;
		if (x->n == 1) {
			const char *w = p->word[x->first];

			x->initial = initial_of(w, x->initial_letter);
			x->particle = !x->initial && glued_particle(w) && !classify_is_given_name(w);
			x->given = !x->initial && !x->particle && classify_is_given_name(w);
			x->weak = x->given && also_family(w);
		}
		for (int k = x->first; k < x->first + x->n; k++) {
			int letters = 0, up = 0, low = 0;

			letter_case(p->word[k], &letters, &up, &low);
			x->lower |= low > 0;
			x->caps |= letters >= 2 && low == 0;
		}
		x->caps &= !x->lower && !x->initial;
	}
	return m;
}

/* The side of a reading: units [from, to) of segmentation seg. */
static void side(const struct reading *rd, int m, bool given, int *from, int *to)
{
	int gfrom = rd->family_first ? m - rd->k : 0, gto = rd->family_first ? m : rd->k;

	if (given) {
		*from = gfrom, *to = gto;
	} else if (rd->family_first) {
		*from = 0, *to = m - rd->k;
	} else {
		*from = rd->k, *to = m;
	}
}

/* Words of units [from, to) joined by spaces into out. */
static void units_text(const struct person *p, const struct unit *u, int from, int to, char *out,
		       size_t max)
{
	size_t off = 0;

	out[0] = '\0';
	for (int i = from; i < to; i++)
		for (int w = u[i].first; w < u[i].first + u[i].n; w++)
			off += (size_t)snprintf(out + off, off < max ? max - off : 0, "%s%s",
						off ? " " : "", p->word[w]);
}

/* A reading is usable when no particle name is on the given side and no
 * initial on the family side. */
static bool reading_valid(const struct unit *u, int m, const struct reading *rd)
{
	int gf, gt, ff, ft;

	if (rd->k <= 0 || rd->k >= m)
		return rd->k == 0;
	side(rd, m, true, &gf, &gt);
	side(rd, m, false, &ff, &ft);
	for (int i = gf; i < gt; i++)
		if (u[i].particle)
			return false;
	for (int i = ff; i < ft; i++)
		if (u[i].initial)
			return false;
	return true;
}

/* Why a reading was chosen, for read_as. */
static void reading_why(const struct person *p, const struct unit *u, int m,
			struct reading *rd, bool unclear)
{
	char text[QUERY_TEXT_MAX + 1];
	int gf, gt, ff, ft;

	side(rd, m, true, &gf, &gt);
	side(rd, m, false, &ff, &ft);
	if (unclear) {
		snprintf(rd->why, sizeof(rd->why), "name order unclear: both orders are searched");
		return;
	}
	for (int pass = 0; pass < 4; pass++) {
		int from = pass == 2 ? ff : gf, to = pass == 2 ? ft : gt;

		for (int i = from; i < to; i++) {
			const char *what = NULL;

			if (pass == 0 && u[i].initial)
				what = "is an initial";
			else if (pass == 1 && u[i].given && !u[i].weak)
				what = "is a common given name";
			else if (pass == 2 && u[i].particle)
				what = "is a family name";
			else if (pass == 3 && u[i].given)
				what = "can be a given name";
			if (what != NULL) {
				units_text(p, u, i, i + 1, text, sizeof(text));
				snprintf(rd->why, sizeof(rd->why), "\"%s\" %s", text, what);
				return;
			}
		}
	}
	snprintf(rd->why, sizeof(rd->why), "name order unclear: both orders are searched");
}

static bool person_add_reading(struct person *p, int seg, int k, bool family_first,
			       const char *why)
{
	struct reading rd = { seg, k, family_first, "" };
	const struct unit *u = p->unit[seg];
	int m = p->nunit[seg];

	if (p->nreading >= MAX_PERSON || !reading_valid(u, m, &rd))
		return false;
	if (why != NULL)
		snprintf(rd.why, sizeof(rd.why), "%s", why);
	p->reading[p->nreading++] = rd;
	return true;
}

/* rule: the order of the name.  In this order of precedence:
 *  - one comma between name words: the family name comes before it
 *    ("Peeters, Jan");
 *  - some words in capitals and the others not: the capitals are the family
 *    name ("PEETERS Jan", "Jan VAN DEN BROECK"); when the list of given names
 *    clearly says otherwise, that reading is searched too;
 *  - otherwise the list: the given names are the known given names (or
 *    initials) at the start or at the end; a particle name is a family name;
 *    when both ends are equally plausible, or the only evidence is a given
 *    name that is also a common family name (Thomas, Martin), or there is no
 *    evidence at all, both orders are searched, given name first first. */
static void person_order(struct person *p, int seg)
{
	const struct unit *u = p->unit[seg];
	int m = p->nunit[seg], commas = 0, cut = 0, gp = 0, gs = 0, sgf = 0, sgf_strong = 0,
	    sfg = 0, sfg_strong = 0;
	int ncaps = 0, nlower = 0, caps_prefix = 0, caps_suffix = 0;
	struct reading cand[2];
	bool gf_first;

	if (m == 1) {
		person_add_reading(p, seg, 0, false, NULL);
		return;
	}
	for (int i = 0; i + 1 < m; i++)
		if (p->comma[u[i].first + u[i].n - 1])
			commas++, cut = i + 1;
	if (commas == 1 &&
	    person_add_reading(p, seg, m - cut, true, "family name before the comma"))
		return;

	for (int i = 0; i < m; i++) {
		ncaps += u[i].caps;
		nlower += u[i].lower;
	}
	while (caps_prefix < m && u[caps_prefix].caps)
		caps_prefix++;
	while (caps_suffix < m && u[m - 1 - caps_suffix].caps)
		caps_suffix++;

	/* the list of given names */
	while (gp < m - 1 && (u[gp].given || u[gp].initial))
		sgf_strong |= u[gp].initial || !u[gp].weak, gp++;
	while (gs < m - 1 && (u[m - 1 - gs].given || u[m - 1 - gs].initial))
		sfg_strong |= u[m - 1 - gs].initial || !u[m - 1 - gs].weak, gs++;
	if (u[0].particle || u[m - 1].initial)
		gp = 0, sgf_strong = 0;
	if (u[m - 1].particle || u[0].initial)
		gs = 0, sfg_strong = 0;
	sgf = (gp > 0 ? (sgf_strong ? 2 : 1) : 0) + (u[m - 1].particle ? 2 : 0);
	sfg = (gs > 0 ? (sfg_strong ? 2 : 1) : 0) + (u[0].particle ? 2 : 0);
	gf_first = sgf >= sfg;
	cand[0] = (struct reading){ seg, gp > 0 ? gp : 1, false, "" };
	cand[1] = (struct reading){ seg, gs > 0 ? gs : 1, true, "" };

	if (ncaps > 0 && nlower > 0 && ncaps + nlower == m) {
		int list_order = sgf > sfg ? 0 : sfg > sgf ? 1 : -1;
		bool caps_first = caps_prefix == ncaps;

		if (caps_prefix == ncaps || caps_suffix == ncaps) {
			if (person_add_reading(p, seg, caps_first ? m - ncaps : m - ncaps, caps_first,
					       "family name in capitals")) {
				/* the list disagrees with conviction: search its reading too */
				if (list_order >= 0 && (list_order == 1) != caps_first &&
				    (list_order == 0 ? sgf : sfg) >= 2) {
					reading_why(p, u, m, &cand[list_order], false);
					person_add_reading(p, seg, cand[list_order].k,
							   cand[list_order].family_first,
							   cand[list_order].why);
				}
				return;
			}
		}
	}

	{
		struct reading *first = &cand[gf_first ? 0 : 1], *second = &cand[gf_first ? 1 : 0];
		int best = gf_first ? sgf : sfg;
		bool both = sgf == sfg || best < 2;
		bool ok1 = reading_valid(u, m, first), ok2 = reading_valid(u, m, second);

		if (ok1 && (!both || !ok2)) {
			reading_why(p, u, m, first, false);
			person_add_reading(p, seg, first->k, first->family_first, first->why);
		} else if (ok1 && ok2) {
			bool unclear = best == 0 || (sgf == sfg && !sgf_strong && !sfg_strong);

			reading_why(p, u, m, first, unclear);
			reading_why(p, u, m, second, unclear);
			person_add_reading(p, seg, first->k, first->family_first, first->why);
			person_add_reading(p, seg, second->k, second->family_first, second->why);
		} else if (ok2) {
			reading_why(p, u, m, second, false);
			person_add_reading(p, seg, second->k, second->family_first, second->why);
		} else {
			person_add_reading(p, seg, 0, false, "read as one family name");
		}
	}
}

/* Reads tokens as a person: name words, at most one birth date or year, and
 * the "°" / "geb." / "né" that officers put before it.  Returns true with the
 * readings in p, or false with a reason in why. */
static bool person_read(char *tok[], const bool comma[], int ntok, struct person *p,
			struct why *why)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < ntok; i++) {
		char *t = tok[i];
		char date[11];
		size_t n;
		enum shape sh;

		if (strncmp(t, "\xc2\xb0", 2) == 0) /* "°12/03/1981": born */
			t += 2;
		if (t[0] == '\0')
			continue;
		if (i + 1 < ntok && (word_is(t, "geb.") || word_is(t, "geb") ||
				     word_is(t, "geboren") || word_is(t, "born") ||
				     strcmp(t, "n\xc3\xa9") == 0 || strcmp(t, "n\xc3\xa9" "e") == 0 ||
				     strcmp(t, "N\xc3\xa9") == 0 || strcmp(t, "N\xc3\xa9" "e") == 0))
			continue;
		n = strlen(t);
		if (n >= 3 && t[0] == '(' && t[n - 1] == ')') { /* "(1981)" */
			t[n - 1] = '\0';
			t++;
		}
		if ((sh = date_read(t, date, why)) == SHAPE_BAD)
			return false;
		if (sh == SHAPE_OK) {
			if (p->birth_date[0] != '\0' ||
			    (p->birth_year[0] != '\0' && strncmp(p->birth_year, date, 4) != 0)) {
				why_set(why, 45, "\"%s\": give one birth date or year, not two", t);
				return false;
			}
			memcpy(p->birth_date, date, sizeof(date));
			p->birth_year[0] = '\0';
			continue;
		}
		if ((sh = year_read(t, why)) == SHAPE_BAD)
			return false;
		if (sh == SHAPE_OK) {
			if (p->birth_date[0] != '\0' && strncmp(p->birth_date, t, 4) == 0)
				continue;
			if (p->birth_date[0] != '\0' || p->birth_year[0] != '\0') {
				why_set(why, 45, "\"%s\": give one birth date or year, not two", t);
				return false;
			}
			memcpy(p->birth_year, t, 5);
			continue;
		}
		if (!name_word(t)) {
			why_set(why, 10, "\"%s\" is neither part of a name nor a birth date", t);
			return false;
		}
		if (p->nword == MAX_WORDS) {
			why_set(why, 20, "more than %d words is not a name", MAX_WORDS);
			return false;
		}
		p->comma[p->nword] = comma[i];
		p->word[p->nword++] = t;
	}
	if (p->nword == 0) {
		why_set(why, 30, "a birth %s alone is not a search: add the name",
			p->birth_date[0] ? "date" : "year");
		return false;
	}
	p->nunit[0] = person_units(p, false, p->unit[0]);
	for (int i = 0; i < p->nunit[0] && p->unit[0][i].initial; i++)
		if (i == p->nunit[0] - 1) {
			why_set(why, 30, "an initial alone is not a search: add the family name");
			return false;
		}
	person_order(p, 0);
	/* rule: "Ben" is a given name as well as the particle of "Ben Ali":
	 * a leading Ben is also read as a given name */
	if (p->nword > 1 && word_is(p->word[0], "ben") && p->unit[0][0].particle) {
		p->nunit[1] = person_units(p, true, p->unit[1]);
		person_order(p, 1);
	}
	return p->nreading > 0;
}

/* ------------------------------------------------------------------------ */
/* Addresses                                                                */

struct address {
	int s0, s1;   /* street tokens */
	int num;      /* house number token or -1 */
	int pc;       /* postcode token or -1 */
	int c0, c1;   /* city tokens */
	size_t numlen; /* the house number's length in its token (a box follows) */
	const char *box;
	int strength; /* 2: surely an address, 1: plausible */
};

/* A box: 1-4 letters and digits ("3", "12B"). */
static bool box_like(const char *t)
{
	size_t n = strlen(t);

	for (size_t i = 0; i < n; i++)
		if (!is_digit(t[i]) && !is_alpha(t[i]))
			return false;
	return n >= 1 && n <= 4;
}

/* rule: a house number is 1-4 digits and an optional letter ("16", "112B"),
 * optionally a box after "/" ("16/3") or a range ("12-14"). */
static bool house_number(const char *t, size_t *numlen, const char **box)
{
	size_t i = 0;

	while (is_digit(t[i]) && i < 5)
		i++;
	if (i == 0 || i > 4)
		return false;
	if (is_alpha(t[i]) && (t[i + 1] == '\0' || t[i + 1] == '/'))
		i++;
	*numlen = i;
	*box = NULL;
	if (t[i] == '\0')
		return true;
	if (t[i] == '-' && all_digits(t + i + 1, strlen(t + i + 1)) && strlen(t + i + 1) <= 4) {
		*numlen = strlen(t);
		return true;
	}
	if (t[i] == '/' && box_like(t + i + 1)) {
		*box = t + i + 1;
		return true;
	}
	return false;
}

/* rule: a postcode is 1000-9999, optionally written B-1000 or B1000. */
static const char *postcode(const char *t)
{
	if ((t[0] == 'B' || t[0] == 'b') && t[1] == '-')
		t += 2;
	else if ((t[0] == 'B' || t[0] == 'b') && is_digit(t[1]))
		t += 1;
	return strlen(t) == 4 && all_digits(t, 4) && t[0] != '0' ? t : NULL;
}

static bool box_word(const char *t)
{
	return word_is(t, "bus") || word_is(t, "bte") || word_is(t, "bte.") ||
	       word_is(t, "bt") || word_is(t, "bt.") || word_is(t, "box") ||
	       strcmp(t, "bo\xc3\xaete") == 0;
}

/* Street words in tokens [from, to): 0 none, 1 weak, 2 strong.  *dutch_end
 * receives the last token holding a Dutch street word (or -1). */
static int street_strength(char *tok[], int from, int to, int *dutch_end)
{
	char key[NORMALIZE_MAX];
	int best = 0;

	*dutch_end = -1;
	for (int i = from; i < to; i++) {
		char *part, *save = NULL;

		key_of(tok[i], key);
		/* French: the street word comes first ("Av. Louise": the key of
		 * "Av." is "av") */
		for (size_t f = 0; i == from && f < N(french_street); f++) {
			int s = french_street[f].strong ? 2 : 1;

			if (strcmp(key, french_street[f].key) == 0 && s > best)
				best = s;
		}
		for (part = strtok_r(key, " ", &save); part != NULL;
		     part = strtok_r(NULL, " ", &save)) {
			size_t pl = strlen(part);

			for (size_t d = 0; d < N(dutch_street); d++) {
				size_t sl = strlen(dutch_street[d].key);
				int s = dutch_street[d].strong ? 2 : 1;

				if (pl < sl || strcmp(part + pl - sl, dutch_street[d].key) != 0)
					continue;
				/* the word alone ("Markt") only when strong: "Van Dijk" */
				if (pl == sl && !dutch_street[d].strong)
					continue;
				*dutch_end = i;
				if (s > best)
					best = s;
			}
		}
	}
	return best;
}

/* rule: addresses.  Read as
 *   street number [box] [,] [postcode] [city]   "Rue de la Loi 16 1000 Bruxelles"
 *   number [,] street [,] [postcode] [city]      "16, rue de la Loi"
 *   street [,] postcode city                     "Kerkstraat, 2000 Antwerpen"
 *   postcode city                                "2018 Antwerpen"
 *   street [city]                                "Lange Kievitstraat" (strong street word)
 * The street must hold a street word unless a house number, a postcode and a
 * city are all given ("Meir 50, 2000 Antwerpen").  A four-digit number right
 * after the street and followed only by a city is the postcode. */
static bool address_read(char *tok[], const bool comma[], int ntok, struct address *a)
{
	int i = 0, dutch_end, strength;
	size_t nl;
	const char *box;

	memset(a, 0, sizeof(*a));
	a->num = a->pc = -1;
	if (ntok == 0)
		return false;
	/* number first */
	if (ntok >= 2 && house_number(tok[0], &nl, &box) && name_word(tok[1])) {
		int j = 1;

		while (j < ntok && name_word(tok[j])) {
			j++;
			if (comma[j - 1])
				break;
		}
		strength = street_strength(tok, 1, j, &dutch_end);
		if (strength > 0) {
			a->num = 0, a->numlen = nl, a->box = box;
			a->s0 = 1, a->s1 = j;
			i = j;
			goto tail;
		}
	}
	/* postcode and city */
	if (postcode(tok[0]) != NULL && ntok >= 2) {
		int j = 1;

		while (j < ntok && name_word(tok[j]))
			j++;
		if (j == ntok) {
			a->pc = 0, a->c0 = 1, a->c1 = ntok, a->strength = 1;
			return true;
		}
	}
	/* street first */
	while (i < ntok && name_word(tok[i])) {
		i++;
		if (comma[i - 1])
			break;
	}
	if (i == 0)
		return false;
	a->s0 = 0, a->s1 = i;
	strength = street_strength(tok, 0, i, &dutch_end);
	if (i < ntok && house_number(tok[i], &nl, &box)) {
		bool pc_city = postcode(tok[i]) != NULL && i + 1 < ntok && box == NULL;

		for (int j = i + 1; pc_city && j < ntok; j++)
			pc_city = name_word(tok[j]) && !box_word(tok[j]);
		if (!pc_city) {
			a->num = i++, a->numlen = nl, a->box = box;
			if (i + 1 < ntok && box_word(tok[i]) && box_like(tok[i + 1])) {
				a->box = tok[i + 1];
				i += 2;
			}
		}
	}
tail:
	if (i < ntok && postcode(tok[i]) != NULL)
		a->pc = i++;
	a->c0 = i;
	while (i < ntok && name_word(tok[i]))
		i++;
	a->c1 = i;
	if (i != ntok)
		return false;
	if (a->num < 0 && a->pc < 0) {
		/* no number: only a strong street word makes it an address; the
		 * words after a Dutch street word are the city */
		if (strength < 2)
			return false;
		if (a->c0 == a->c1 && dutch_end >= a->s0 && dutch_end + 1 < a->s1) {
			a->c0 = dutch_end + 1, a->c1 = a->s1;
			a->s1 = dutch_end + 1;
		}
	} else if (strength == 0 && !(a->num >= 0 && a->pc >= 0 && a->c1 > a->c0)) {
		return false;
	}
	a->strength = strength == 2 ? 2 : 1;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Emitting interpretations                                                 */

static bool same_query(const struct query *a, const struct query *b)
{
	if (a->kind != b->kind)
		return false;
	for (int p = 0; p < QP__COUNT; p++)
		if ((a->param[p] == NULL) != (b->param[p] == NULL) ||
		    (a->param[p] != NULL && strcmp(a->param[p], b->param[p]) != 0))
			return false;
	return true;
}

/* Starts an interpretation; NULL with *rc = FOCAL_OK when the cap is reached
 * (readings are emitted most plausible first, so the last ones are dropped). */
static struct query *emit_start(struct query_request *r, enum query_kind k, int *rc)
{
	struct query *q;

	*rc = FOCAL_OK;
	if (r->ninterp >= CLASSIFY_MAX_INTERP)
		return NULL;
	q = query_request_add(r, k);
	if (q == NULL)
		*rc = FOCAL_E_NOMEM;
	return q;
}

/* Sets read_as and drops q again when it repeats an earlier reading. */
static int emit_end(struct query_request *r, struct query *q, const char *read_as)
{
	q->read_as = strdup(read_as);
	if (q->read_as == NULL)
		return FOCAL_E_NOMEM;
	for (size_t i = 0; i + 1 < r->ninterp; i++)
		if (same_query(&r->interp[i], q)) {
			query_clear(q);
			r->ninterp--;
			break;
		}
	return FOCAL_OK;
}

static int emit_identifier(struct query_request *r, enum query_kind k, enum query_param p,
			   const char *value, const char *read_as)
{
	int rc;
	struct query *q = emit_start(r, k, &rc);

	if (q == NULL)
		return rc;
	if ((rc = query_set(q, p, value)) != 0)
		return rc;
	return emit_end(r, q, read_as);
}

/* read_as shows the value searched, as for serials ("number plate 1ABC123"). */
static int emit_plate(struct query_request *r, const char *c)
{
	char read_as[64];

	snprintf(read_as, sizeof(read_as), "number plate %.8s", c);
	return emit_identifier(r, QUERY_PLATE, QP_PLATE, c, read_as);
}

static int emit_nrn(struct query_request *r, const char *d)
{
	char read_as[80];
	int month = digits_value(d + 2, 2);

	snprintf(read_as, sizeof(read_as), "%s %.2s.%.2s.%.2s-%.3s.%.2s",
		 month > 12 ? "BIS number (national register)" : "national register number", d,
		 d + 2, d + 4, d + 6, d + 9);
	return emit_identifier(r, QUERY_NATIONAL_NUMBER, QP_NATIONAL_NUMBER, d, read_as);
}

static int emit_phone(struct query_request *r, const char *e164, const char *national)
{
	char read_as[64];
	int rc;
	struct query *q = emit_start(r, QUERY_PHONE, &rc);

	if (q == NULL)
		return rc;
	snprintf(read_as, sizeof(read_as), "phone number %s", e164);
	if ((rc = query_set(q, QP_PHONE, e164)) != 0 ||
	    (national[0] != '\0' && (rc = query_set(q, QP_PHONE_NATIONAL, national)) != 0))
		return rc;
	return emit_end(r, q, read_as);
}

/* Joins tokens [from, to) with spaces. */
static void join(char *tok[], int from, int to, char *out, size_t max)
{
	size_t off = 0;

	out[0] = '\0';
	for (int i = from; i < to; i++)
		off += (size_t)snprintf(out + off, off < max ? max - off : 0, "%s%s", off ? " " : "",
					tok[i]);
}

static int emit_address(struct query_request *r, char *tok[], const struct address *a)
{
	char street[QUERY_TEXT_MAX * 4], city[QUERY_TEXT_MAX * 4], number[16], read_as[1024];
	const char *pc = a->pc >= 0 ? postcode(tok[a->pc]) : NULL;
	size_t off;
	int rc;
	struct query *q = emit_start(r, QUERY_ADDRESS, &rc);

	if (q == NULL)
		return rc;
	join(tok, a->s0, a->s1, street, sizeof(street));
	join(tok, a->c0, a->c1, city, sizeof(city));
	number[0] = '\0';
	if (a->num >= 0) {
		snprintf(number, sizeof(number), "%.*s", (int)a->numlen, tok[a->num]);
		for (char *c = number; *c != '\0'; c++)
			if (*c >= 'a' && *c <= 'z')
				*c = (char)(*c - 'a' + 'A');
	}
	if ((street[0] != '\0' && (rc = query_set(q, QP_STREET, street)) != 0) ||
	    (number[0] != '\0' && (rc = query_set(q, QP_NUMBER, number)) != 0) ||
	    (pc != NULL && (rc = query_set(q, QP_POSTCODE, pc)) != 0) ||
	    (city[0] != '\0' && (rc = query_set(q, QP_CITY, city)) != 0))
		return rc;
	off = (size_t)snprintf(read_as, sizeof(read_as), "address:");
#define PART(cond, ...)                                                                      \
	if ((cond) && off < sizeof(read_as))                                                 \
	off += (size_t)snprintf(read_as + off, sizeof(read_as) - off, __VA_ARGS__)
	PART(street[0], " street \"%s\"", street);
	PART(number[0], "%s number %s", street[0] ? "," : "", number);
	PART(pc != NULL, "%s postcode %s", street[0] ? "," : "", pc);
	PART(city[0], ", city \"%s\"", city);
	PART(a->box != NULL, " (box %s is not searched)", a->box);
#undef PART
	return emit_end(r, q, read_as);
}

static int emit_person(struct query_request *r, const struct person *p, const struct reading *rd)
{
	const struct unit *u = p->unit[rd->seg];
	int m = p->nunit[rd->seg], gf, gt, ff, ft, rc;
	char family[QUERY_TEXT_MAX * 4], given[QUERY_TEXT_MAX * 4], read_as[2048];
	bool initials = true;
	size_t off;
	struct query *q = emit_start(r, QUERY_PERSON, &rc);

	if (q == NULL)
		return rc;
	side(rd, m, true, &gf, &gt);
	side(rd, m, false, &ff, &ft);
	units_text(p, u, ff, ft, family, sizeof(family));
	units_text(p, u, gf, gt, given, sizeof(given));
	for (int i = gf; i < gt; i++)
		initials &= u[i].initial;
	/* rule: initials only ("J. Peeters", "J.-P. Peeters"): the given name is
	 * the first initial, which sources compare with the first letter */
	if (gt > gf && initials)
		snprintf(given, sizeof(given), "%s", u[gf].initial_letter);
	if ((rc = query_set(q, QP_FAMILY_NAME, family)) != 0 ||
	    (given[0] != '\0' && (rc = query_set(q, QP_GIVEN_NAME, given)) != 0) ||
	    (p->birth_date[0] != '\0' && (rc = query_set(q, QP_BIRTH_DATE, p->birth_date)) != 0) ||
	    (p->birth_year[0] != '\0' && (rc = query_set(q, QP_BIRTH_YEAR, p->birth_year)) != 0))
		return rc;
	off = (size_t)snprintf(read_as, sizeof(read_as), "person: family name \"%s\"", family);
	if (given[0] != '\0' && off < sizeof(read_as))
		off += (size_t)snprintf(read_as + off, sizeof(read_as) - off,
					", given name \"%s\"%s", given,
					initials ? " (initial)" : "");
	if (p->birth_date[0] != '\0' && off < sizeof(read_as))
		off += (size_t)snprintf(read_as + off, sizeof(read_as) - off,
					", born %.2s/%.2s/%.4s", p->birth_date + 8,
					p->birth_date + 5, p->birth_date);
	if (p->birth_year[0] != '\0' && off < sizeof(read_as))
		off += (size_t)snprintf(read_as + off, sizeof(read_as) - off, ", born in %s",
					p->birth_year);
	if (rd->why[0] != '\0' && off < sizeof(read_as))
		snprintf(read_as + off, sizeof(read_as) - off, " — %s", rd->why);
	return emit_end(r, q, read_as);
}

/* ------------------------------------------------------------------------ */
/* The whole text                                                           */

/* The readings that own the text when it is only digits (and separators) or
 * starts with "+": national register number, phone number.  Returns 1 when
 * the text is not of that sort, 0 when it was read, or an error. */
static int read_exclusive(struct query_request *r, const char *prep, struct why *why,
			  struct focal_err *err)
{
	char d[64], e164[17], national[17], nrn[12];
	const char *s = prep;
	size_t n;
	int rc;

	while (*s == ' ')
		s++;
	if (*s != '+' && digits_only(s, " .-/", d, sizeof(d)) == 11) {
		if ((rc = classify_national_number(s, nrn, err)) != 0)
			return rc;
		return emit_nrn(r, nrn);
	}
	n = digits_only(s, " .-/()", d, sizeof(d));
	if (*s == '+' || (n >= 2 && d[0] == '0' && d[1] == '0') ||
	    (n >= 9 && n <= 10 && d[0] == '0')) {
		if ((rc = classify_phone(s, e164, national, err)) != 0)
			return rc;
		return emit_phone(r, e164, national);
	}
	if (n > 0)
		why_set(why, 20,
			"%zu digits: a national register number has 11, a Belgian phone number 9 "
			"or 10 starting with 0 (a serial number of digits only goes in the "
			"\"serial\" field)", n);
	return 1;
}

int classify_text(struct query_request *r, const char *text, struct focal_err *err)
{
	char *prep = NULL, *work = NULL, *tok[MAX_TOKENS];
	bool comma[MAX_TOKENS];
	char id[32];
	size_t idn;
	int ntok = 0, rc;
	struct why why = { "", 0 };
	struct person *p = NULL;
	struct address a;
	bool person_ok = false, address_ok = false, plate = false, serial = false;

	if (r->ninterp != 0)
		return focal_err_set(err, FOCAL_E_INVAL, "classify_text: request already read");
	if ((prep = prepare(text, &rc)) == NULL) {
		rc = rc == FOCAL_E_NOMEM ? focal_err_set(err, rc, "out of memory")
					 : focal_err_set(err, rc, "the query is not UTF-8 text");
		goto out;
	}
	if ((rc = read_exclusive(r, prep, &why, err)) <= 0)
		goto out;

	work = strdup(prep);
	p = malloc(sizeof(*p));
	if (work == NULL || p == NULL) {
		rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
		goto out;
	}
	ntok = tokenize(work, tok, comma);
	if (ntok < 0) {
		why_set(&why, 60, "more than %d words", MAX_TOKENS);
		ntok = 0;
	}
	idn = compact(prep, id, sizeof(id));
	plate = idn > 0 && plate_like(id, idn);
	address_ok = address_read(tok, comma, ntok, &a);
	person_ok = person_read(tok, comma, ntok, p, &why);
	serial = idn > 0 && serial_like(id, idn) &&
		 (ntok <= 1 || plate || (!person_ok && !address_ok && spaced_serial(tok, ntok)));

	if ((plate && (rc = emit_plate(r, id)) != 0) ||
	    (serial && (rc = emit_identifier(r, QUERY_SERIAL, QP_SERIAL, id, "serial number")) != 0))
		goto nomem;
	if (serial) /* read_as names the value */
		for (size_t i = 0; i < r->ninterp; i++)
			if (r->interp[i].kind == QUERY_SERIAL) {
				char read_as[48];

				snprintf(read_as, sizeof(read_as), "serial number %s", id);
				free(r->interp[i].read_as);
				if ((r->interp[i].read_as = strdup(read_as)) == NULL)
					goto nomem;
			}
	if (address_ok && (rc = emit_address(r, tok, &a)) != 0)
		goto nomem;
	/* rule: a strong street word ("straat", "rue") is never part of a name */
	if (person_ok && !(address_ok && a.strength == 2))
		for (int i = 0; i < p->nreading; i++)
			if ((rc = emit_person(r, p, &p->reading[i])) != 0)
				goto nomem;
	if (r->ninterp > 0) {
		rc = FOCAL_OK;
		goto out;
	}
	/* "\"x\" is neither part of a name..." says nothing more than the
	 * general message when x is the whole text */
	if (why.rank > 10 || (why.rank > 0 && ntok > 1))
		rc = focal_err_set(err, FOCAL_E_INVAL, "could not read \"%s\": %s", text, why.msg);
	else
		rc = focal_err_set(err, FOCAL_E_INVAL,
				   "could not read \"%s\" as a name, number plate, national register "
				   "number, serial number, address or phone number", text);
	goto out;
nomem:
	rc = focal_err_set(err, FOCAL_E_NOMEM, "out of memory");
out:
	if (rc != FOCAL_OK) {
		for (size_t i = 0; i < r->ninterp; i++)
			query_clear(&r->interp[i]);
		r->ninterp = 0;
	}
	free(p);
	free(work);
	free(prep);
	return rc;
}
