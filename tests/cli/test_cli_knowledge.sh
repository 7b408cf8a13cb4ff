#!/usr/bin/env bash
# Knowledge queries against the built-in data (the founding article):
# names, memberships, offices, succession, timelines, evidence.
source "$(dirname "$0")/lib.sh"
start_server

# resolve: "CST" is ambiguous on purpose (the treaty and the old name of the CSTO)
expect_contains "org:csto" annals resolve CST
check "resolve CST lists the treaty too" out_has "treaty:collective-security-treaty"
expect_contains "treaty:collective-security-treaty" annals resolve CST --type treaty
check "--type treaty leaves out the organization" bash -c "! grep -q '^org:csto' '$OUT'"
expect_contains "FALSE" annals resolve CST --type organization --at 2005
check "CST as the CSTO's acronym ended in 2002-10" out_has "1992 .. 2002-10"

# an ambiguous name where one entity is needed: exit 3, candidates listed
expect_exit 3 annals members CST --at 2005
check "ambiguity is INVALID_ARGUMENT" err_has "annals: INVALID_ARGUMENT:"
check "candidates listed: org:csto" err_has "org:csto"
check "candidates listed: the treaty" err_has "treaty:collective-security-treaty"
check "a hint to give an id" err_has "hint:"

# members of the CSTO in 2005: Uzbekistan suspended (1999-2006), Russia a member
expect_exit 0 annals members org:csto --at 2005
section members "$OUT" >"$CLI_TMP/m"
section suspended "$OUT" >"$CLI_TMP/s"
section unknown "$OUT" >"$CLI_TMP/u"
check "2005: Russia is a member" grep -q "country:russia" "$CLI_TMP/m"
check "2005: Uzbekistan is suspended" grep -q "country:uzbekistan" "$CLI_TMP/s"
check "2005: Uzbekistan is not among the members" bash -c "! grep -q uzbekistan '$CLI_TMP/m'"
check "2005: the deciding segment is named" grep -q "rel:uzbekistan.member_of.csto.1999" "$CLI_TMP/s"
check "2005: Azerbaijan unknown (not at the 1999 renewal)" grep -q "country:azerbaijan" "$CLI_TMP/u"
check "2005: Belarus joined the year after the founding" grep -q "country:belarus" "$CLI_TMP/m"
# 1992-06: the founding is known only to the year, so founders are UNKNOWN
expect_exit 0 annals members org:csto --at 1992-06
section members "$OUT" >"$CLI_TMP/m"
section unknown "$OUT" >"$CLI_TMP/u"
section "not members" "$OUT" >"$CLI_TMP/n"
check "1992-06: nobody is certainly a member" grep -q "(none)" "$CLI_TMP/m"
check "1992-06: Russia unknown (year precision)" grep -q "country:russia" "$CLI_TMP/u"
check "1992-06: the reason says why" grep -q "may not have begun" "$CLI_TMP/u"
check "1992-06: Belarus not yet a member" grep -q "country:belarus" "$CLI_TMP/n"
# 2007: Uzbekistan back (2006-2012)
expect_exit 0 annals members org:csto --at 2007
section members "$OUT" >"$CLI_TMP/m"
check "2007: Uzbekistan is a member again" grep -q "country:uzbekistan" "$CLI_TMP/m"
expect_exit 0 annals members org:csto --at 2013
section suspended "$OUT" >"$CLI_TMP/s"
check "2013: suspended again since 2012-06-28" grep -q "2012-06-28" "$CLI_TMP/s"
run annals members org:csto --at 2005 --json
check "members --json parses" python3 -m json.tool "$OUT"
check "members --json: Uzbekistan under suspended" python3 -c "
import json, sys
d = json.load(open('$OUT'))
sys.exit(not any(m['entity'] == 'country:uzbekistan' for m in d.get('suspended', [])))"
check "members --json uses not_members / .proto names" bash -c "grep -q '\"not_members\"\\|\"unknown\"' '$OUT'"
# the article gives no publication date, but reports the 2020-01-01
# appointment as past: questions at its publication are answered over
# "2020-01-01 or later", and what it observes as current is TRUE
expect_exit 0 annals members org:csto --at pub:$SEED_DOC
check "pub: the derived bound is shown" out_has "publication of $SEED_DOC: 2020-01-01 or later"
check "pub: with its rule and sentence" out_has "s8 [1252,1301) asserted, inferred (publication-follows-reported-past)"
section members "$OUT" >"$CLI_TMP/m"
section suspended "$OUT" >"$CLI_TMP/s"
section unknown "$OUT" >"$CLI_TMP/u"
check "pub: Russia is a member" grep -q "country:russia" "$CLI_TMP/m"
check "pub: Uzbekistan suspended since 2012" grep -q "country:uzbekistan" "$CLI_TMP/s"
check "pub: Azerbaijan unknown: may have ended since 1999-04" grep -q "country:azerbaijan" "$CLI_TMP/u"
expect_exit 0 annals holder position:csto-secretary-general --at pub:$SEED_DOC
check "pub: Zas, seen in office at publication, is TRUE" grep -qE '^  TRUE +person:stanislav-zas ' "$OUT"
check "pub: Khachaturov had left before 2020" bash -c "! grep -q khachaturov '$OUT'"
expect_contains "org:csto at pub:$SEED_DOC: Collective Security Treaty Organization (TRUE)" annals name org:csto --at pub:$SEED_DOC
expect_exit 0 annals relations person:emomali-rahmon --at pub:$SEED_DOC
check "pub: Rahmon, observed as president, is TRUE" grep -qE '^TRUE .*president-of-tajikistan' "$OUT"
expect_exit 0 annals relations person:stanislav-zas --predicate holds_position --at pub:$SEED_DOC
check "pub: 'formerly' State Secretary is FALSE" grep -qE '^FALSE .*rel:stanislav-zas.holds_position.state-secretary' "$OUT"
run annals -o json members org:csto --at pub:$SEED_DOC
check "pub --json: publication derived and open-ended" python3 -c "
import json, sys
p = json.load(open('$OUT'))['publication']
sys.exit(not (p['derived'] and p['open_end'] and p['decided_by'] == 'ev:zas-appointed-csto-secretary-general'))"
# "yesterday" is a range now, not an unresolved date
expect_contains "2019-12-31 or later" annals timeline person:emomali-rahmon
# a document with an explicit publication date uses it, whatever it reports
cat >"$CLI_TMP/dated.json" <<'JSON'
{"documents": [{"id": "doc:cli-dated", "title": "A dated note", "length": 10,
  "published": {"precision": "PRECISION_DAY", "year": 2003, "month": 3, "day": 1},
  "sentences": [{"number": 1, "start": 0, "end": 10}]}]}
JSON
expect_exit 0 annals import "$CLI_TMP/dated.json"
expect_exit 0 annals members org:csto --at pub:doc:cli-dated
check "explicit published: it is the day asked about" out_has "publication of doc:cli-dated: 2003-03-01 (day)"
section suspended "$OUT" >"$CLI_TMP/s"
check "explicit published: Uzbekistan suspended in 2003" grep -q "country:uzbekistan" "$CLI_TMP/s"

# offices
expect_contains "person:stanislav-zas" annals holder position:csto-secretary-general --at 2020-01-01
check "holder names Zas" out_has "Stanislav Zas"
check "holder shows a truth value" bash -c "grep -qE 'TRUE|UNKNOWN' '$OUT'"
check "Khachaturov had left by then" bash -c "! grep -q khachaturov '$OUT'"
expect_contains "person:yuri-khachaturov" annals holder position:csto-secretary-general --at 2015
expect_contains "Khachaturov" annals succession position:csto-secretary-general
check "Khachaturov is the first holder" grep -qE '^ +1 +person:yuri-khachaturov ' "$OUT"
check "Zas is the second holder" grep -qE '^ +2 +person:stanislav-zas ' "$OUT"
expect_contains "person:stanislav-zas" annals succession "CSTO Secretary General"

# a question that does not fit its subject is refused in words, not
# answered with empty lists (exit 9, FAILED_PRECONDITION, with what to try)
expect_exit 9 annals members country:armenia --at 2005
check "members of a country: it says what it is" err_has "country:armenia is a country, not an organization: Members applies to organizations"
check "members of a country: what to try" err_has "hint: try: annals relations country:armenia"
check "members of a country: no empty lists" test ! -s "$OUT"
expect_exit 9 annals members Armenia --at 2005
check "by name too: the resolved id is named" err_has "country:armenia is a country"
expect_exit 9 annals holder person:stanislav-zas --at 2020-01-01
check "holder of a person" err_has "person:stanislav-zas is a person, not a position: Holder applies to offices"
expect_exit 9 annals succession org:csto
check "succession of an organization" err_has "org:csto is an organization, not a position: Succession"
run annals -o json members country:russia --at 2005
check "-o json: the same refusal, nothing on stdout" test "$RC" -eq 9 -a ! -s "$OUT"
# ... while a question that fits still answers, with empty groups when so
expect_exit 0 annals holder position:csto-secretary-general --at 1990

# names on a date: renamed CSTO in October 2002
expect_contains "org:csto at 2001: Collective Security Treaty (TRUE)" annals name org:csto --at 2001
expect_contains "org:csto at 2003: Collective Security Treaty Organization (TRUE)" annals name org:csto --at 2003
expect_contains "UNKNOWN" annals name org:csto --at 2002
run annals name org:csto --at 2001 --json
check "name --json parses" python3 -m json.tool "$OUT"

# relations and history
expect_contains "TRUE" annals relations country:uzbekistan --predicate member_of --at 2007
check "the 2006 segment holds in 2007" bash -c "grep 'rel:uzbekistan.member_of.csto.2006' '$OUT' | grep -q TRUE"
expect_contains "country:armenia" annals relations org:csto --inverse --predicate member_of
expect_contains "rel:uzbekistan.member_of.csto.2012" annals history country:uzbekistan --predicate member_of
check "history in time order" in_order "$OUT" "member_of.csto.1992" "member_of.csto.2012"

# timeline: dated items in order, the renaming after the founding
expect_contains "ev:csto-founded" annals timeline org:csto
check "founding before renaming" in_order "$OUT" "ev:csto-founded" "ev:csto-renamed"
expect_contains "ev:csto-renamed" annals timeline org:csto --from 2002 --to 2002
check "--to 2002 leaves out 2012" bash -c "! grep -q '2012-06-28' '$OUT'"
# ties: the CSTO's 1999 shows the treaty renewal behind the "at or after
# 1999-04" ends, marked with the tie that brought it
expect_exit 0 annals timeline org:csto --from 1999 --to 1999
check "1999: the renewal, via the treaty" grep -qE 'event via treaty:collective-security-treaty \(formed_by_members_of\) +ev:cst-extended-1999' "$OUT"
check "1999: the renewal before the ends it explains" in_order "$OUT" "ev:cst-extended-1999" "rel:azerbaijan.member_of.csto"
expect_exit 0 annals timeline org:csto --via none --from 1999 --to 1999
check "--via none: only its own" bash -c "! grep -q 'ev:cst-extended-1999' '$OUT'"
expect_exit 0 annals timeline org:csto --via organization
check "--via organization: the office's appointment" grep -qE 'event via position:csto-secretary-general \(organization\) +ev:zas-appointed-csto-secretary-general' "$OUT"
check "--via organization: not the treaty" bash -c "! grep -q 'ev:cst-extended-1999' '$OUT'"
expect_exit 0 annals timeline country:armenia --via member_of,signatory_of --to 1993
check "--via P1,P2: the CSTO's founding reaches Armenia once, as its own" bash -c "[ \$(grep -c '  ev:csto-founded  ' '$OUT') -eq 1 ] && ! grep -q 'via org:csto (member_of) *ev:csto-founded' '$OUT'"
check "--via P1,P2: the accession, via the CSTO" grep -qE 'event via org:csto \(member_of\) +ev:csto-accession' "$OUT"
expect_exit 0 annals timeline country:azerbaijan
cp "$OUT" "$CLI_TMP/az1"
expect_exit 0 annals timeline country:azerbaijan --via none
check "no ties: the same timeline" cmp -s "$OUT" "$CLI_TMP/az1"
expect_exit 64 annals timeline org:csto --via ,

# evidence: document, sentence, span
expect_contains "document $SEED_DOC, sentence 9" annals evidence rel:russia.member_of.csto
check "evidence shows the byte span" out_has "bytes [1343,1520)"
expect_contains "attributed to source:tajik-president-website" annals evidence ev:rahmon-zas-meeting
expect_contains "inferred by rule renaming-implies-former-name" annals evidence org:csto
run annals evidence org:csto --json
check "evidence --json parses" python3 -m json.tool "$OUT"
expect_exit 5 annals evidence rel:nope
if [ -f "$SEED_TEXT" ]; then
	expect_contains "Armenia, Kazakhstan, Kyrgyzstan, Russia, Tajikistan" annals evidence rel:russia.member_of.csto --source "$SEED_TEXT"
	head -c 100 "$SEED_TEXT" >"$CLI_TMP/cut.txt"
	expect_exit 9 annals evidence rel:russia.member_of.csto --source "$CLI_TMP/cut.txt"
	check "a wrong source file is refused by its sha256" err_has "sha256"
else
	skip "evidence --source" "the article is not at $SEED_TEXT"
fi
expect_exit 66 annals evidence rel:russia.member_of.csto --source "$CLI_TMP/none.txt"

# facts of a sentence
expect_contains "ev:csto-renamed" annals facts $SEED_DOC --sentence 12
check "facts of sentence 12 only" bash -c "! grep -qE '^  (1|9|13) ' '$OUT'"
expect_contains "ev:rahmon-zas-meeting" annals facts $SEED_DOC

finish
