#!/usr/bin/env python3
"""Checks data/seed/dataset.json (standard library only).

    python3 data/seed/check.py [dataset.json] [article.txt] [--quiet]

Without an article it checks the structure: ids, enum names, references
between records, dates, bounds, evidence on every record, and that no
server-set field is present. With the article it also checks the document's
sha256 and length, the sentence table, and that every evidence span lies
inside the file and inside the sentences it lists; then it prints each span's
text for review (to the terminal only), unless --quiet. It also warns when a
free-text field (summary, note, value, title) shares a run of six or more
words with the article: those fields must be in the project's own words.

Exit status: 0 when everything holds, 1 otherwise.
"""
import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ID_RE = re.compile(r'^[a-z0-9:._-]+$')
KIND_PREFIX = {
    'ENTITY_TYPE_PERSON': ('person:',),
    'ENTITY_TYPE_ORGANIZATION': ('org:',),
    'ENTITY_TYPE_COUNTRY': ('country:',),
    'ENTITY_TYPE_PLACE': ('place:',),
    'ENTITY_TYPE_POSITION': ('position:',),
    'ENTITY_TYPE_TREATY': ('treaty:',),
    'ENTITY_TYPE_GROUP': ('group:',),
    'ENTITY_TYPE_MEDIA_SOURCE': ('source:',),
    'ENTITY_TYPE_DOCUMENT': ('doc:',),
}
PRECISIONS = {'PRECISION_YEAR', 'PRECISION_MONTH', 'PRECISION_DAY'}
BOUND_KINDS = {'BOUND_KIND_UNSTATED', 'BOUND_KIND_EXACT', 'BOUND_KIND_OBSERVED',
               'BOUND_KIND_BEFORE', 'BOUND_KIND_AFTER'}
MODALITIES = {'MODALITY_ASSERTED', 'MODALITY_REPORTED', 'MODALITY_HEDGED',
              'MODALITY_PLANNED', 'MODALITY_CLAIMED'}
NAME_KINDS = {'NAME_KIND_OFFICIAL', 'NAME_KIND_ACRONYM', 'NAME_KIND_ALIAS', 'NAME_KIND_FORMER'}
EVENT_STATUSES = {'EVENT_STATUS_OCCURRED', 'EVENT_STATUS_PLANNED', 'EVENT_STATUS_CANCELLED'}
PREDICATES = {'member_of', 'holds_position', 'candidate_for', 'nominee_for', 'chairs',
              'observer_at', 'signatory_of', 'party_to', 'located_in', 'born_in',
              'nationality', 'deputy_of', 'predecessor_of'}
LINK_KINDS = {'caused_by', 'part_of', 'follows', 'precedes'}
SERVER_SET = {'revision', 'resolved', 'earliest', 'latest'}

# Allowed keys per message (proto field names), to catch typos.
KEYS = {
    'dataset': {'documents', 'entities', 'relations', 'events'},
    'document': {'id', 'title', 'sha256', 'length', 'publisher', 'published', 'sentences',
                 'evidence', 'summary'},
    'sentence': {'number', 'start', 'end'},
    'entity': {'id', 'type', 'names', 'attributes', 'summary', 'evidence'},
    'name': {'text', 'kind', 'valid', 'evidence'},
    'attribute': {'key', 'value', 'ref', 'valid', 'evidence'},
    'relation': {'id', 'subject', 'predicate', 'object', 'status', 'valid', 'evidence', 'note'},
    'event': {'id', 'type', 'summary', 'when', 'place', 'participants', 'status', 'links',
              'attributes', 'evidence'},
    'participant': {'entity', 'role'},
    'link': {'kind', 'event'},
    'interval': {'start', 'end'},
    'bound': {'kind', 'date', 'event'},
    'date': {'precision', 'year', 'month', 'day', 'anchor', 'offset_years', 'offset_months',
             'offset_days'},
    'evidence': {'document', 'sentences', 'span_start', 'span_end', 'attributed_to', 'modality',
                 'inferred', 'rule', 'note'},
}


class Checker:
    def __init__(self, ds, article):
        self.ds = ds
        self.article = article
        self.errors = []
        self.warnings = []
        self.spans = []  # (where, evidence)
        self.free_text = []  # (where, text)
        self.ids = {}
        self.sentences = {}  # doc id -> {number: (start, end)}

    def err(self, where, msg):
        self.errors.append('%s: %s' % (where, msg))

    def keys(self, where, obj, kind):
        if not isinstance(obj, dict):
            self.err(where, 'expected an object')
            return False
        for k in obj:
            if k in SERVER_SET:
                self.err(where, 'server-set field %r must not be given' % k)
            elif k not in KEYS[kind]:
                self.err(where, 'unknown field %r for %s' % (k, kind))
        return True

    # ---- pass 1: ids --------------------------------------------------
    def collect_ids(self):
        for kind in ('documents', 'entities', 'relations', 'events'):
            for i, rec in enumerate(self.ds.get(kind, [])):
                rid = rec.get('id', '')
                where = '%s[%d]' % (kind, i)
                if not ID_RE.match(rid):
                    self.err(where, 'bad id %r' % rid)
                if rid in self.ids:
                    self.err(where, 'duplicate id %r' % rid)
                self.ids[rid] = kind

    def ref(self, where, rid, kinds):
        if rid not in self.ids:
            self.err(where, 'unknown id %r' % rid)
        elif self.ids[rid] not in kinds:
            self.err(where, '%r is a %s, expected %s' % (rid, self.ids[rid], '/'.join(kinds)))

    # ---- values -------------------------------------------------------
    def date(self, where, d):
        if not self.keys(where, d, 'date'):
            return
        p = d.get('precision')
        if p not in PRECISIONS:
            self.err(where, 'bad precision %r' % p)
        anchor = d.get('anchor', '')
        if anchor:
            if anchor.startswith('doc:'):
                self.ref(where + '.anchor', anchor, ('documents',))
            elif anchor.startswith('event:'):
                self.ref(where + '.anchor', anchor[len('event:'):], ('events',))
            else:
                self.err(where, 'anchor must be doc:... or event:...')
            for k in ('year', 'month', 'day'):
                if k in d:
                    self.err(where, 'a relative date gives offsets, not %s' % k)
        else:
            for k in ('offset_years', 'offset_months', 'offset_days'):
                if k in d:
                    self.err(where, '%s without an anchor' % k)
            need = {'PRECISION_YEAR': ('year',), 'PRECISION_MONTH': ('year', 'month'),
                    'PRECISION_DAY': ('year', 'month', 'day')}.get(p, ())
            for k in need:
                if not isinstance(d.get(k), int):
                    self.err(where, '%s needed at %s' % (k, p))
            for k in ('year', 'month', 'day'):
                if k in d and k not in need:
                    self.err(where, '%s given beyond precision %s' % (k, p))
            if not 1 <= d.get('month', 1) <= 12 or not 1 <= d.get('day', 1) <= 31:
                self.err(where, 'month/day out of range')

    def interval(self, where, iv):
        if not self.keys(where, iv, 'interval'):
            return
        for side in ('start', 'end'):
            b = iv.get(side)
            if b is None:
                continue
            w = '%s.%s' % (where, side)
            if not self.keys(w, b, 'bound'):
                continue
            kind = b.get('kind', 'BOUND_KIND_UNSTATED')
            if kind not in BOUND_KINDS:
                self.err(w, 'bad bound kind %r' % kind)
            if kind != 'BOUND_KIND_UNSTATED' and 'date' not in b:
                self.err(w, '%s needs a date' % kind)
            if 'date' in b:
                self.date(w + '.date', b['date'])
            if b.get('event'):
                self.ref(w + '.event', b['event'], ('events',))

    def evidence_list(self, where, lst, required=True):
        if required and not lst:
            self.err(where, 'no evidence')
        for i, e in enumerate(lst or []):
            w = '%s.evidence[%d]' % (where, i)
            if not self.keys(w, e, 'evidence'):
                continue
            self.ref(w + '.document', e.get('document', ''), ('documents',))
            if e.get('modality') not in MODALITIES:
                self.err(w, 'bad or missing modality %r' % e.get('modality'))
            if e.get('attributed_to'):
                self.ref(w + '.attributed_to', e['attributed_to'], ('entities',))
            if e.get('inferred') and not e.get('rule'):
                self.err(w, 'inferred without a rule')
            if e.get('rule') and not e.get('inferred'):
                self.err(w, 'rule without inferred')
            sents = e.get('sentences') or []
            if not sents:
                self.err(w, 'no sentences')
            if sents != list(range(sents[0], sents[0] + len(sents))) if sents else False:
                self.err(w, 'sentences must be consecutive and ascending')
            if not (isinstance(e.get('span_start'), int) and isinstance(e.get('span_end'), int)
                    and e['span_start'] < e['span_end']):
                self.err(w, 'span_start < span_end needed')
            if e.get('note'):
                self.free_text.append((w + '.note', e['note']))
            self.spans.append((w, e))

    def attributes(self, where, lst):
        for i, a in enumerate(lst or []):
            w = '%s.attributes[%d]' % (where, i)
            if not self.keys(w, a, 'attribute'):
                continue
            if not a.get('key') or not a.get('value'):
                self.err(w, 'key and value needed')
            if a.get('ref'):
                self.ref(w + '.ref', a['ref'], ('entities',))
            if 'valid' in a:
                self.interval(w + '.valid', a['valid'])
            self.free_text.append((w + '.value', a.get('value', '')))
            self.evidence_list(w, a.get('evidence'))

    # ---- records --------------------------------------------------------
    def document(self, i, d):
        w = 'documents[%d]' % i
        if not self.keys(w, d, 'document'):
            return
        if d.get('publisher'):
            self.ref(w + '.publisher', d['publisher'], ('entities',))
        if 'published' in d:
            self.date(w + '.published', d['published'])
        table = {}
        prev_end = 0
        for j, s in enumerate(d.get('sentences', [])):
            sw = '%s.sentences[%d]' % (w, j)
            self.keys(sw, s, 'sentence')
            if s.get('number') != j + 1:
                self.err(sw, 'sentences must be numbered 1..N in order')
            if not prev_end <= s.get('start', -1) < s.get('end', -1):
                self.err(sw, 'sentence offsets must increase and not overlap')
            prev_end = s.get('end', prev_end)
            table[s.get('number')] = (s.get('start'), s.get('end'))
        self.sentences[d.get('id')] = table
        self.free_text.append((w + '.title', d.get('title', '')))
        self.free_text.append((w + '.summary', d.get('summary', '')))
        self.evidence_list(w, d.get('evidence'))

    def entity(self, i, e):
        w = 'entities[%d] %s' % (i, e.get('id'))
        if not self.keys(w, e, 'entity'):
            return
        t = e.get('type')
        if t not in KIND_PREFIX:
            self.err(w, 'bad type %r' % t)
        elif not e.get('id', '').startswith(KIND_PREFIX[t]):
            self.err(w, 'id prefix does not match type %s' % t)
        if not e.get('names'):
            self.err(w, 'no names')
        for j, n in enumerate(e.get('names', [])):
            nw = '%s.names[%d]' % (w, j)
            if not self.keys(nw, n, 'name'):
                continue
            if not n.get('text'):
                self.err(nw, 'empty name')
            if n.get('kind') not in NAME_KINDS:
                self.err(nw, 'bad name kind %r' % n.get('kind'))
            if 'valid' in n:
                self.interval(nw + '.valid', n['valid'])
            self.evidence_list(nw, n.get('evidence'))
        self.attributes(w, e.get('attributes'))
        self.free_text.append((w + '.summary', e.get('summary', '')))
        self.evidence_list(w, e.get('evidence'))

    def relation(self, i, r):
        w = 'relations[%d] %s' % (i, r.get('id'))
        if not self.keys(w, r, 'relation'):
            return
        self.ref(w + '.subject', r.get('subject', ''), ('entities',))
        self.ref(w + '.object', r.get('object', ''), ('entities',))
        if r.get('predicate') not in PREDICATES:
            self.err(w, 'predicate %r not in the documented list' % r.get('predicate'))
        if r.get('predicate') == 'member_of' and r.get('status') not in ('active', 'suspended'):
            self.err(w, 'member_of needs status active or suspended')
        if 'valid' in r:
            self.interval(w + '.valid', r['valid'])
        if r.get('note'):
            self.free_text.append((w + '.note', r['note']))
        self.evidence_list(w, r.get('evidence'))

    def event(self, i, e):
        w = 'events[%d] %s' % (i, e.get('id'))
        if not self.keys(w, e, 'event'):
            return
        if not e.get('type'):
            self.err(w, 'no type')
        if 'when' in e:
            self.date(w + '.when', e['when'])
        if e.get('place'):
            self.ref(w + '.place', e['place'], ('entities',))
        if e.get('status') not in EVENT_STATUSES:
            self.err(w, 'bad status %r' % e.get('status'))
        for j, p in enumerate(e.get('participants', [])):
            pw = '%s.participants[%d]' % (w, j)
            if self.keys(pw, p, 'participant'):
                self.ref(pw, p.get('entity', ''), ('entities',))
        for j, l in enumerate(e.get('links', [])):
            lw = '%s.links[%d]' % (w, j)
            if self.keys(lw, l, 'link'):
                if l.get('kind') not in LINK_KINDS:
                    self.err(lw, 'bad link kind %r' % l.get('kind'))
                self.ref(lw, l.get('event', ''), ('events',))
        self.attributes(w, e.get('attributes'))
        self.free_text.append((w + '.summary', e.get('summary', '')))
        self.evidence_list(w, e.get('evidence'))

    def run(self):
        self.keys('dataset', self.ds, 'dataset')
        self.collect_ids()
        for i, d in enumerate(self.ds.get('documents', [])):
            self.document(i, d)
        for i, e in enumerate(self.ds.get('entities', [])):
            self.entity(i, e)
        for i, r in enumerate(self.ds.get('relations', [])):
            self.relation(i, r)
        for i, e in enumerate(self.ds.get('events', [])):
            self.event(i, e)
        self.check_spans()
        if self.article is not None:
            self.check_article()

    # ---- spans against the sentence table and the article ------------------
    def check_spans(self):
        for w, e in self.spans:
            table = self.sentences.get(e.get('document'), {})
            sents = e.get('sentences') or []
            if not sents or any(n not in table for n in sents):
                self.err(w, 'sentence number not in the document\'s table')
                continue
            lo, hi = table[sents[0]][0], table[sents[-1]][1]
            if not lo <= e.get('span_start', -1) < e.get('span_end', -1) <= hi:
                self.err(w, 'span [%s,%s) outside sentences %s [%d,%d)'
                         % (e.get('span_start'), e.get('span_end'), sents, lo, hi))
            # each listed sentence must be touched by the span
            for n in sents:
                s, t = table[n]
                if e['span_end'] <= s or e['span_start'] >= t:
                    self.err(w, 'span does not reach listed sentence %d' % n)

    def check_article(self):
        raw = self.article
        for i, d in enumerate(self.ds.get('documents', [])):
            w = 'documents[%d]' % i
            if d.get('sha256') != hashlib.sha256(raw).hexdigest():
                self.err(w, 'sha256 differs from the article')
            if d.get('length') != len(raw):
                self.err(w, 'length %s, article has %d bytes' % (d.get('length'), len(raw)))
            for s in d.get('sentences', []):
                if s.get('end', 0) > len(raw):
                    self.err(w, 'sentence %s runs past the end of the file' % s.get('number'))
                    continue
                text = raw[s['start']:s['end']]
                try:
                    text.decode('utf-8')
                except UnicodeDecodeError:
                    self.err(w, 'sentence %s is cut inside a UTF-8 character' % s.get('number'))
                if text != text.strip() or not text:
                    self.err(w, 'sentence %s has surrounding white space' % s.get('number'))
        for w, e in self.spans:
            st, en = e.get('span_start', 0), e.get('span_end', 0)
            if en > len(raw):
                self.err(w, 'span runs past the end of the file')
                continue
            try:
                raw[st:en].decode('utf-8')
            except UnicodeDecodeError:
                self.err(w, 'span cut inside a UTF-8 character')
        # own words: no free text may share six consecutive words with the article
        words = re.findall(r"[a-z0-9]+", raw.decode('utf-8', 'replace').lower())
        shingles = {tuple(words[i:i + 6]) for i in range(len(words) - 5)}
        for w, text in self.free_text:
            tw = re.findall(r"[a-z0-9]+", text.lower())
            for i in range(len(tw) - 5):
                if tuple(tw[i:i + 6]) in shingles:
                    self.warnings.append('%s: shares six words with the article: %r'
                                         % (w, ' '.join(tw[i:i + 6])))
                    break

    def print_spans(self):
        raw = self.article
        for w, e in self.spans:
            flags = e.get('modality', '').replace('MODALITY_', '').lower()
            if e.get('attributed_to'):
                flags += ' by ' + e['attributed_to']
            if e.get('inferred'):
                flags += ' inferred:' + e.get('rule', '')
            text = raw[e['span_start']:e['span_end']].decode('utf-8', 'replace')
            print('%s\n    s%s [%d,%d) %s\n    | %s' % (w, ','.join(map(str, e.get('sentences', []))),
                                                     e['span_start'], e['span_end'], flags, text))


def main(argv):
    quiet = '--quiet' in argv
    args = [a for a in argv if a != '--quiet']
    path = args[0] if args else os.path.join(HERE, 'dataset.json')
    article_path = args[1] if len(args) > 1 else None
    with open(path, 'rb') as f:
        ds = json.loads(f.read().decode('utf-8'))
    article = None
    if article_path:
        with open(article_path, 'rb') as f:
            article = f.read()
    c = Checker(ds, article)
    c.run()
    if article is not None and not quiet:
        c.print_spans()
    n = {k: len(ds.get(k, [])) for k in ('documents', 'entities', 'relations', 'events')}
    nsent = sum(len(d.get('sentences', [])) for d in ds.get('documents', []))
    print('%(documents)d documents, %(entities)d entities, %(relations)d relations, %(events)d events'
          % n + ', %d sentences, %d evidence spans' % (nsent, len(c.spans)))
    for wmsg in c.warnings:
        print('warning:', wmsg)
    for e in c.errors:
        print('error:', e)
    if not article_path:
        print('(no article given: sha256, length and span text not checked)')
    print('OK' if not c.errors else '%d errors' % len(c.errors))
    return 0 if not c.errors else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
