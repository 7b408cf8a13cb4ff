#!/usr/bin/env bash
# A new text into the registry (issue 17): `document add` (fingerprint and
# sentence table), `cite` (sentence and byte span of exact words) and
# `annotate` (known mentions and normalised dates), against a real annalsd
# with the built-in data set and the founding article.
. "$(dirname "$0")/lib.sh"
start_server

# document add: the founding article's table is the data set's
expect_contains "15 sentences, 2552 bytes" annals document add "$SEED_TEXT" --id doc:copy-of-founding --title "a copy"
run annals document get doc:copy-of-founding -o json
check "document add: the sentence table and sha256 equal the built-in record's" python3 - "$OUT" "$ANNALS_ROOT/data/seed/dataset.json" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))
want = json.load(open(sys.argv[2]))["documents"][0]
ok = got["sha256"] == want["sha256"] and got["length"] == want["length"] and \
     [(s.get("start", 0), s["end"]) for s in got["sentences"]] == [(s.get("start", 0), s["end"]) for s in want["sentences"]]
sys.exit(0 if ok else 1)
PY
# a text of traps: 4 sentences
traps="$CLI_TMP/traps.txt"
printf '%s\n\n%s\n' 'DUSHANBE, Jan. 5 (Xinhua) -- Maj.-Gen. Ivanov of the U.S. Army met Mr. Rahmon at 9 a.m. Monday.' \
	'Spending rose 3.5 percent. He said “We agree. Fully.” The talks ended. Then “No!” came.' >"$traps"
run annals document add "$traps" --id doc:traps --dry-run -o json
check "document add --dry-run: datelines, titles, initials, decimals and quotes do not split" python3 - "$OUT" "$traps" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); text = open(sys.argv[2], "rb").read()
got = [text[s.get("start", 0):s["end"]].decode() for s in d["sentences"]]
want = ["DUSHANBE, Jan. 5 (Xinhua) -- Maj.-Gen. Ivanov of the U.S. Army met Mr. Rahmon at 9 a.m. Monday.",
        "Spending rose 3.5 percent.", "He said “We agree. Fully.”", "The talks ended.", "Then “No!” came."]
print(got)
sys.exit(0 if got == want else 1)
PY
expect_exit 5 annals document get doc:traps # --dry-run wrote nothing

# cite
expect_contains "doc:ad6eff3e562ac92b sentence 12 bytes [2044,2063)" annals cite doc:ad6eff3e562ac92b "renamed as the CSTO" --file "$SEED_TEXT"
run annals cite doc:ad6eff3e562ac92b "current tasks   and some urgent" --file "$SEED_TEXT" -o json
check "cite -o json: an evidence entry; spaces in the words match any run of spaces" \
	python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); sys.exit(0 if e=={"document":"doc:ad6eff3e562ac92b","sentences":[2],"span_start":298,"span_end":327} else 1)' "$OUT"
run annals cite doc:ad6eff3e562ac92b "CSTO" --file "$SEED_TEXT"
check "cite: several matches are an error listing the candidates" \
	test "$RC" -eq 3 -a "$(grep -c '^  sentence' "$ERR")" -eq 8
run annals cite doc:ad6eff3e562ac92b "renamed as the NATO" --file "$SEED_TEXT"
check "cite: absent words are NOT_FOUND" test "$RC" -eq 5
run annals cite doc:ad6eff3e562ac92b "renamed" --file "$traps"
check "cite: a file that is not the document's text is refused (sha256)" \
	grep -q "is not the text of doc:ad6eff3e562ac92b" "$ERR"
expect_exit 64 annals cite doc:ad6eff3e562ac92b "renamed"

# annotate: every dated fact of the data set is proposed, in its own sentence,
# with the same date and precision
run annals annotate "$SEED_TEXT" --id doc:ad6eff3e562ac92b -o json
cp "$OUT" "$CLI_TMP/annotate.json"
check "annotate: every dated fact of the built-in data set is proposed with its date and precision" \
	python3 - "$CLI_TMP/annotate.json" "$ANNALS_ROOT/data/seed/dataset.json" <<'PY'
import json, sys
got = json.load(open(sys.argv[1])); ds = json.load(open(sys.argv[2]))
DOC = "doc:ad6eff3e562ac92b"
events = {e["id"]: e for e in ds["events"]}

def key(d):
    """A comparable form: absolute (precision, y, m, d), or relative to the document."""
    p = d.get("precision")
    a = d.get("anchor", "")
    if a.startswith("event:"):  # counted from another event's date, as "the following year" is
        base = key(events[a[6:]]["when"])
        return (p, base[1] + d.get("offset_years", 0), 0, 0)
    if a:
        return ("doc", p, d.get("offset_years", 0), d.get("offset_months", 0), d.get("offset_days", 0))
    return (p, d.get("year", 0), d.get("month", 0), d.get("day", 0))

proposed = {}
for x in got["dates"]:
    proposed.setdefault(x["sentence"], set()).add(key(x["date"]))

facts = []  # (what, date, evidence sentences in the document)
def sentences(evs):
    return {s for e in evs or [] if e.get("document") == DOC for s in e.get("sentences", [])}
for e in ds["events"]:
    if "when" in e:
        facts.append((e["id"] + ".when", e["when"], sentences(e.get("evidence"))))
for r in ds["relations"]:
    for b in ("start", "end"):
        d = r.get("valid", {}).get(b, {}).get("date")
        if d:
            facts.append((r["id"] + "." + b, d, sentences(r.get("evidence"))))
for n in (x for e in ds["entities"] for x in e.get("names", [])):
    for b in ("start", "end"):
        d = n.get("valid", {}).get(b, {}).get("date")
        if d:
            facts.append((n["text"] + "." + b, d, sentences(n.get("evidence"))))
# Absolute dates and counted ones ("the following year") must be proposed in the
# fact's own sentences. A date relative to the publication may come from
# elsewhere in the text: a fact dated by an earlier sentence ("they discussed"
# after "met yesterday"), or one the text observes as holding when it was
# written (present tense: "Zas is ...") -- then the same value must be proposed
# somewhere in the document ("yesterday", "currently").
anywhere = set().union(*proposed.values())
own = [f for f in facts if f[2] and any(key(f[1]) in proposed.get(s, ()) for s in f[2])]
elsewhere = [f for f in facts if f[2] and f not in own and key(f[1])[0] == "doc" and key(f[1]) in anywhere]
missing = [f for f in facts if f[2] and f not in own and f not in elsewhere]
print("%d dated facts: %d proposed in their own sentences, %d relative ones in another sentence, %d missing"
      % (len(facts), len(own), len(elsewhere), len(missing)))
for f in elsewhere + missing:
    print("  %s: %s %s in sentences %s" % ("elsewhere" if f in elsewhere else "MISSING", f[0], key(f[1]), sorted(f[2])))
sys.exit(1 if missing or len(own) < 50 else 0)
PY
check "annotate: known mentions with their entities; CST is ambiguous without a date" python3 - "$CLI_TMP/annotate.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["mentions"]
ids = {c["entity"] for x in m for c in x["candidates"]}
need = {"org:csto", "person:stanislav-zas", "person:emomali-rahmon", "country:uzbekistan", "place:dushanbe"}
cst = [x for x in m if x["text"] == "CST"]
sys.exit(0 if need <= ids and cst and cst[0]["ambiguous"] else 1)
PY
run annals annotate "$SEED_TEXT" --published 2020-06-15 -o json
check "annotate --published: relative dates resolved, names checked against that date" python3 - "$OUT" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
v = {x["text"]: x.get("value") for x in a["dates"]}
cst = [x for x in a["mentions"] if x["text"] == "CST"]
ok = v.get("yesterday") == "2020-06-14" and v.get("this year") == "2020" and v.get("currently") == "2020-06-15" \
     and cst and not cst[0]["ambiguous"] and [c["entity"] for c in cst[0]["candidates"]] == ["treaty:collective-security-treaty"]
sys.exit(0 if ok else 1)
PY
run annals annotate "$SEED_TEXT" --id doc:copy-of-founding -o json
python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["draft"], open(sys.argv[2], "w"))' "$OUT" "$CLI_TMP/draft.json"
expect_contains "1 written" annals import "$CLI_TMP/draft.json"
finish
