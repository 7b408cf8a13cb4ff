/*
 * Keys the workload draws from.
 *
 * Built-in: the ids and names of data/seed/dataset.json, as listed in
 * data/seed/README.md. A key that goes missing there shows up as NOT_FOUND
 * in every report's status breakdown, so a drift cannot pass unnoticed.
 *
 * Generated: `annals-bench gen` makes entity i and event j with ids and
 * names that are pure functions of i and j, so a run can draw any of 10
 * million keys without holding a list of them.
 */
#include <stdio.h>

#include "annals/v1/model.pb-c.h"
#include "bench.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *const bench_seed_entities[] = {
    "person:emomali-rahmon",
    "person:stanislav-zas",
    "person:yuri-khachaturov",
    "org:csto",
    "org:cis",
    "org:un-general-assembly",
    "org:security-council-of-belarus",
    "group:csto-foreign-ministers",
    "group:csto-heads-of-state",
    "source:tajik-president-website",
    "position:csto-secretary-general",
    "position:president-of-tajikistan",
    "position:state-secretary-security-council-belarus",
    "position:deputy-state-secretary-security-council-belarus",
    "treaty:collective-security-treaty",
    "treaty:1994-treaty",
    "country:tajikistan",
    "country:belarus",
    "country:ukraine",
    "country:armenia",
    "country:kazakhstan",
    "country:kyrgyzstan",
    "country:russia",
    "country:uzbekistan",
    "country:azerbaijan",
    "country:georgia",
    "country:afghanistan",
    "place:dushanbe",
    "place:andijon",
    "place:tajik-afghan-border",
};
const size_t bench_n_seed_entities = COUNT(bench_seed_entities);

const char *const bench_seed_events[] = {
    "ev:rahmon-zas-meeting",
    "ev:rahmon-zas-discussions",
    "ev:csto-summit-dushanbe",
    "ev:website-report-on-meeting",
    "ev:csto-founded",
    "ev:csto-accession-azerbaijan-georgia-belarus",
    "ev:1994-treaty-concluded",
    "ev:cst-extended-1999",
    "ev:csto-renamed",
    "ev:uzbekistan-suspends-membership-1999",
    "ev:andijon-crackdown",
    "ev:uzbekistan-criticized-over-andijon",
    "ev:uzbekistan-returns-2006",
    "ev:uzbekistan-announcement-2012",
    "ev:uzbekistan-suspends-membership-2012",
    "ev:zas-appointed-state-secretary",
    "ev:zas-candidacy-csto-secretary-general",
    "ev:zas-nominated-csto-secretary-general",
    "ev:zas-appointed-csto-secretary-general",
};
const size_t bench_n_seed_events = COUNT(bench_seed_events);

/* Names and aliases people would type, including ambiguous ones ("CST"). */
const char *const bench_seed_names[] = {
    "CSTO",     "Zas",        "Rahmon",        "Tajikistan",        "Collective Security Treaty",
    "CST",      "Uzbekistan", "Stanislav Zas", "Yuri Khachaturov",  "CIS",
    "Dushanbe", "Belarus",    "Russia",        "Secretary General", "State Secretary",
    "Andijon",
};
const size_t bench_n_seed_names = COUNT(bench_seed_names);

const char *const bench_seed_orgs[] = {"org:csto"};
const size_t bench_n_seed_orgs = COUNT(bench_seed_orgs);

const char *const bench_seed_positions[] = {
    "position:csto-secretary-general",
    "position:president-of-tajikistan",
    "position:state-secretary-security-council-belarus",
    "position:deputy-state-secretary-security-council-belarus",
};
const size_t bench_n_seed_positions = COUNT(bench_seed_positions);

/* Dates that cross the history: before the founding, each membership
 * change, and the present; at year, month and day precision. */
const char *const bench_seed_dates[] = {
    "1991",    "1993", "1995-06",    "1999-05", "2000",       "2003-01-15",
    "2006-07", "2010", "2012-07-01", "2019-06", "2020-01-01", "2024",
};
const size_t bench_n_seed_dates = COUNT(bench_seed_dates);

/* ---- generated data ---------------------------------------------------------- */

/* 60% people, 20% organizations, 15% places, 5% groups: roughly the mix of
 * entities named in news text. */
int bench_gen_entity_type(uint64_t i)
{
	unsigned r = (unsigned)(i % 20);
	if (r < 12)
		return ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	if (r < 16)
		return ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION;
	if (r < 19)
		return ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PLACE;
	return ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_GROUP;
}

const char *bench_gen_entity_prefix(int type)
{
	switch (type) {
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON:
		return "person";
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION:
		return "org";
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PLACE:
		return "place";
	default:
		return "group";
	}
}

void bench_gen_entity_id(uint64_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%s:gen-%0*llu", bench_gen_entity_prefix(bench_gen_entity_type(i)),
	         BENCH_KEY_DIGITS, (unsigned long long)i);
}

void bench_gen_event_id(uint64_t i, char *buf, size_t len)
{
	snprintf(buf, len, "ev:gen-%0*llu", BENCH_EVENT_DIGITS, (unsigned long long)i);
}

static const char *const given[] = {
    "Anna",   "Boris",   "Chen",   "Dilnoza", "Emil",    "Farida",  "Gulnara", "Hamid",
    "Irina",  "Jamshid", "Karina", "Leonid",  "Madina",  "Nikolai", "Olga",    "Pavel",
    "Rustam", "Sabina",  "Timur",  "Umida",   "Viktor",  "Yulia",   "Zarina",  "Aziz",
    "Bakhyt", "Daniyar", "Elena",  "Feruza",  "Grigory", "Ilham",   "Kamila",  "Marat",
};
static const char *const family[] = {
    "Abdullayev", "Bekov",      "Chernov",   "Davletov", "Ermekov",   "Fedorov",  "Gafurov",   "Hasanov",
    "Ivanov",     "Jurayev",    "Karimov",   "Lebedev",  "Mirzoyev",  "Nazarov",  "Orlov",     "Petrov",
    "Qodirov",    "Rahimov",    "Sokolov",   "Tursunov", "Umarov",    "Volkov",   "Yusupov",   "Zakirov",
    "Aliyev",     "Baranov",    "Dzhurayev", "Egorov",   "Kuznetsov", "Mamedov",  "Novikov",   "Popov",
    "Saidov",     "Tashkentov", "Usmanov",   "Vasiliev", "Yakubov",   "Zhukov",   "Akhmedov",  "Borisov",
    "Golubev",    "Ismoilov",   "Kholov",    "Latipov",  "Morozov",   "Nurmatov", "Pavlov",    "Rakhmonov",
    "Safarov",    "Tokayev",    "Valiyev",   "Yermakov", "Zaitsev",   "Azimov",   "Bobojonov", "Gromov",
    "Islamov",    "Karpov",     "Lukin",     "Makarov",  "Nikitin",   "Orekhov",  "Rasulov",   "Sharipov",
};
static const char *const org_adj[] = {
    "Northern", "Eurasian", "Central",     "Caspian", "United",      "Regional",
    "National", "Joint",    "Independent", "Federal", "Continental", "Southern",
};
static const char *const org_noun[] = {
    "Security", "Trade",  "Energy", "Customs", "Water", "Transport",
    "Defence",  "Border", "Health", "Grain",   "Press", "Banking",
};
static const char *const org_kind[] = {
    "Council", "Union", "Agency", "Committee", "Organization", "Commission", "Forum", "Alliance",
};
static const char *const place_root[] = {
    "Kara", "Ak",  "Nov", "Zar",  "Tash", "Bel", "Kyz", "Os",
    "Sam",  "Ter", "Kok", "Ural", "Bay",  "Chu", "Ist", "Mar",
};
static const char *const place_end[] = {
    "abad", "kent", "grad", "bulak", "sk", "tau", "su", "pol", "ino", "ovo", "kol", "dar",
};

#define PICK(arr, v) (arr)[(v) % COUNT(arr)]

/* Name parts come from different digits of i so neighbours differ, and a
 * numeric tag keeps full names rare enough that Find returns a handful,
 * not thousands; the alias (a family name, an acronym) is deliberately
 * ambiguous, as real aliases are. */
void bench_gen_entity_name(uint64_t i, char *buf, size_t len)
{
	uint64_t h = i * 0x9e3779b97f4a7c15u >> 17;
	switch (bench_gen_entity_type(i)) {
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON:
		snprintf(buf, len, "%s %s-%llu", PICK(given, h), PICK(family, h >> 8),
		         (unsigned long long)(i / 20));
		break;
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION:
		snprintf(buf, len, "%s %s %s %llu", PICK(org_adj, h), PICK(org_noun, h >> 8),
		         PICK(org_kind, h >> 16), (unsigned long long)(i / 20));
		break;
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PLACE:
		snprintf(buf, len, "%s%s-%llu", PICK(place_root, h), PICK(place_end, h >> 8),
		         (unsigned long long)(i / 20));
		break;
	default:
		snprintf(buf, len, "%s %s Group %llu", PICK(org_adj, h), PICK(org_noun, h >> 8),
		         (unsigned long long)(i / 20));
		break;
	}
}

void bench_gen_entity_alias(uint64_t i, char *buf, size_t len)
{
	uint64_t h = i * 0x9e3779b97f4a7c15u >> 17;
	switch (bench_gen_entity_type(i)) {
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON:
		snprintf(buf, len, "%s", PICK(family, h >> 8));
		break;
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_ORGANIZATION:
		snprintf(buf, len, "%c%c%c", PICK(org_adj, h)[0], PICK(org_noun, h >> 8)[0],
		         PICK(org_kind, h >> 16)[0]);
		break;
	case ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PLACE:
		snprintf(buf, len, "%s%s", PICK(place_root, h), PICK(place_end, h >> 8));
		break;
	default:
		snprintf(buf, len, "%s %s", PICK(org_adj, h), PICK(org_noun, h >> 8));
		break;
	}
}
