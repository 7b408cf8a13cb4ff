// The annals analyst page. Every answer comes from POST /v1/{Method} on the
// server that served this page (proto3 JSON in and out); nothing else is
// fetched. Text from the registry is put into the page with textContent,
// never as HTML. The address carries the view: ?entity=ID&at=DATE.
'use strict';

const $ = (id) => document.getElementById(id);
const DAY_MS = 86400000;
const state = { entity: null, at: '', timeline: null, items: null, docs: new Map() };

// ---- the API ---------------------------------------------------------------

async function api(method, body) {
  const headers = { 'Content-Type': 'application/json' };
  const token = $('token').value.trim();
  if (token) headers.Authorization = 'Bearer ' + token;
  const r = await fetch('/v1/' + method, { method: 'POST', headers, body: JSON.stringify(body || {}) });
  let j;
  try { j = await r.json(); } catch (e) { j = { message: 'HTTP ' + r.status + ' without a JSON body' }; }
  if (!r.ok) {
    const err = new Error(j.message || 'HTTP ' + r.status);
    err.status = j.status || String(r.status);
    throw err;
  }
  return j;
}

function showError(e) {
  const p = $('error');
  if (!e) { p.hidden = true; return; }
  let text = (e.status ? e.status + ': ' : '') + e.message;
  if (e.status === 'UNAUTHENTICATED' || e.status === 'PERMISSION_DENIED')
    text += ' (give a token under "Token")';
  p.textContent = text;
  p.hidden = false;
}

// ---- dates -----------------------------------------------------------------

// "2005" | "2005-04" | "2005-04-03" -> an annals.v1.Date; null when malformed
function parseDate(text) {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(text.trim());
  if (!m) return null;
  const d = { year: +m[1], precision: 'PRECISION_YEAR' };
  if (m[2]) {
    d.month = +m[2];
    d.precision = 'PRECISION_MONTH';
    if (d.month < 1 || d.month > 12) return null;
  }
  if (m[3]) {
    d.day = +m[3];
    d.precision = 'PRECISION_DAY';
    const t = new Date(Date.UTC(d.year, d.month - 1, d.day));
    if (t.getUTCDate() !== d.day) return null;
  }
  return d;
}

// the first day a resolved date can be (days since 1970), as a JS Date
function dayOf(date) {
  if (!date || !date.resolved || date.earliest === undefined) return null;
  return new Date(date.earliest * DAY_MS);
}

function dateText(date) {
  if (!date || (!date.year && !date.anchor)) return 'undated';
  const p = date.precision;
  let t = String(date.year || '?');
  if (p === 'PRECISION_MONTH' || p === 'PRECISION_DAY') t += '-' + String(date.month).padStart(2, '0');
  if (p === 'PRECISION_DAY') t += '-' + String(date.day).padStart(2, '0');
  return t;
}

function atMiddle(d) { // the as-of marker: the middle of the asked period
  const y = d.year, m = (d.month || 1) - 1;
  if (d.precision === 'PRECISION_DAY') return new Date(Date.UTC(y, m, d.day, 12));
  if (d.precision === 'PRECISION_MONTH') return new Date(Date.UTC(y, m, 15));
  return new Date(Date.UTC(y, 6, 1));
}

// ---- DOM helpers -----------------------------------------------------------

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) e.append(c);
  return e;
}

function slug(id) { return id.replace(/[^a-z0-9]+/gi, '-'); }

function entityName(e) {
  const names = e.names || [];
  const off = names.find((n) => n.kind === 'NAME_KIND_OFFICIAL') || names[0];
  return off ? off.text : e.id;
}

// ---- search ----------------------------------------------------------------

async function search(text) {
  showError(null);
  const list = $('result-list');
  list.replaceChildren();
  try {
    let page = await api('FindEntities', { name: text, limit: 25 });
    if (!(page.entities || []).length) page = await api('FindEntities', { name: text, prefix: true, limit: 25 });
    const found = page.entities || [];
    if (found.length === 1) return openEntity(found[0].id);
    for (const e of found) {
      const b = el('button', { type: 'button', textContent: entityName(e) });
      b.dataset.entity = e.id;
      b.addEventListener('click', () => openEntity(e.id));
      list.append(el('li', {}, b, ' ', el('code', { textContent: e.id })));
    }
    if (!found.length) list.append(el('li', { textContent: 'No entity has that name or a name starting so.' }));
    $('results').hidden = false;
  } catch (e) { showError(e); }
}

// ---- one entity: lanes and timeline -----------------------------------------

// The spans of one relation: what the sources say held (solid, or marked
// suspended) and, after an end known only as "at or after", an unknown span.
function relationItems(fact, group, horizon) {
  const r = fact.relation;
  const v = r.valid || {};
  const start = dayOf(v.start && v.start.date);
  const endKind = (v.end && v.end.kind) || 'BOUND_KIND_UNSTATED';
  const end = dayOf(v.end && v.end.date);
  const subject = slug(r.subject || '');
  const suspended = r.status === 'suspended';
  const items = [];
  const from = start || end || horizon;
  const solidTo = end || horizon;
  const label = suspended ? 'suspended' : r.status || r.predicate;
  const cls = (suspended ? 'suspended' : 'member') + ' subj-' + subject;
  if (solidTo > from)
    items.push({ group, start: from, end: solidTo, type: 'range', className: cls,
      content: label, title: describe(r), fact: r });
  if (end && (endKind === 'BOUND_KIND_AFTER' || endKind === 'BOUND_KIND_OBSERVED') && horizon > end)
    items.push({ group, start: end, end: horizon, type: 'range', className: 'unknown subj-' + subject,
      content: 'unknown', fact: r,
      title: describe(r) + ' — after ' + dateText(v.end.date) + ' the sources do not say whether it held' });
  if (!start && v.start && v.start.kind !== 'BOUND_KIND_UNSTATED')
    items[0] && (items[0].className += ' unknown-start');
  return items;
}

function describe(r) {
  const v = r.valid || {};
  const s = v.start && v.start.date ? dateText(v.start.date) : 'not stated';
  const e = v.end && v.end.date ? dateText(v.end.date) : 'no end stated';
  return r.subject + ' ' + r.predicate + ' ' + r.object + (r.status ? ' (' + r.status + ')' : '') +
    ': ' + s + ' .. ' + e;
}

async function openEntity(id, keepAt) {
  showError(null);
  $('results').hidden = true;
  try {
    const e = await api('GetEntity', { id });
    state.entity = e;
    $('entity-name').textContent = entityName(e);
    $('entity-meta').textContent = e.id + ' · ' + (e.type || '').replace('ENTITY_TYPE_', '').toLowerCase();
    $('entity-summary').textContent = e.summary || '';
    $('entity').hidden = false;
    await drawTimeline(e);
    if (!keepAt && !state.at) syncUrl();
    await showAsOf();
  } catch (err) { showError(err); }
}

async function drawTimeline(e) {
  const horizon = new Date(Date.now() + 365 * DAY_MS);
  const groups = [], items = [];
  const byLane = new Map();
  const lane = (key, label) => {
    if (!byLane.has(key)) {
      byLane.set(key, groups.length);
      groups.push({ id: groups.length, content: label, className: 'lane-' + slug(key) });
    }
    return byLane.get(key);
  };
  lane('events', 'events');
  const org = e.type === 'ENTITY_TYPE_ORGANIZATION';
  // an organization: one lane per member; anything else: one per tie
  const hist = await api('History', org ? { entity: e.id, predicate: 'member_of' } : { entity: e.id });
  for (const f of hist.facts || []) {
    const r = f.relation;
    const other = r.subject === e.id ? r.object : r.subject;
    const name = r.subject === e.id ? f.object_name || r.object : f.subject_name || r.subject;
    const key = org ? other : r.predicate + ' ' + other;
    const g = lane(key, org ? name : r.predicate.replace(/_/g, ' ') + ' ' + name);
    items.push(...relationItems(f, g, horizon));
  }
  const tl = await api('Timeline', { entity: e.id });
  const rows = [];
  for (const it of tl.items || []) {
    rows.push(it);
    const when = dayOf(it.when);
    if (it.kind === 'event' && it.event && when && !it.undated)
      items.push({ group: 0, start: when, type: 'point', className: 'event', fact: it.event,
        content: it.event.type || 'event', title: it.description || it.event.summary || it.event.id });
  }
  items.forEach((it, i) => { it.id = i; });
  state.items = items;
  listEvents(rows);
  const box = $('timeline');
  if (state.timeline) state.timeline.destroy();
  box.replaceChildren();
  state.timeline = new vis.Timeline(box, new vis.DataSet(items), new vis.DataSet(groups), {
    // stacked, so that the events lane puts close events on rows of their
    // own; a lane's spans meet end to start and never overlap
    stack: true, selectable: true, zoomKey: 'ctrlKey', orientation: 'top',
    margin: { item: { horizontal: 0, vertical: 4 } }, groupOrder: 'id',
  });
  state.timeline.on('select', (p) => {
    const it = p.items.length ? state.items[p.items[0]] : null;
    if (it) showEvidence(it.fact.id, it.title);
  });
  state.timeline.on('click', (p) => { // a click on empty time asks "as of then"
    if (p.item === null && p.what === 'background' && p.time) {
      $('at').value = p.time.toISOString().slice(0, 10);
      setAt($('at').value);
    }
  });
  state.timeline.fit({ animation: false });
}

function listEvents(rows) {
  const body = $('event-table').tBodies[0];
  body.replaceChildren();
  for (const it of rows) {
    const rec = it.event || it.relation;
    const tr = el('tr', {}, el('td', { textContent: it.undated ? 'undated' : dateText(it.when) }),
      el('td', { textContent: it.kind }), el('td', { textContent: it.description || '' }));
    if (rec) {
      tr.classList.add('clickable');
      tr.addEventListener('click', () => showEvidence(rec.id, it.description));
    }
    body.append(tr);
  }
  $('events').hidden = !rows.length;
}

// ---- as of a date ------------------------------------------------------------

function setAt(text) {
  state.at = text;
  syncUrl();
  showAsOf();
}

function syncUrl() {
  const q = new URLSearchParams();
  if (state.entity) q.set('entity', state.entity.id);
  if (state.at) q.set('at', state.at);
  history.replaceState(null, '', q.toString() ? '?' + q : location.pathname);
}

function memberList(title, cls, members) {
  const box = el('div', { className: 'asof-group ' + cls });
  box.append(el('h3', { textContent: title + ' (' + members.length + ')' }));
  const ul = el('ul', {});
  for (const m of members) {
    const b = el('button', { type: 'button', textContent: m.name || m.entity });
    b.dataset.entity = m.entity;
    const rel = m.deciding && m.deciding.relation;
    if (rel) b.addEventListener('click', () => showEvidence(rel.id, m.deciding.reason));
    const reason = m.deciding && m.deciding.reason ? ' — ' + m.deciding.reason : '';
    ul.append(el('li', {}, b, el('span', { className: 'reason', textContent: reason })));
  }
  box.append(ul);
  return box;
}

async function showAsOf() {
  const e = state.entity;
  const section = $('asof');
  const lists = $('asof-lists');
  if (!e || !state.at) { section.hidden = true; return; }
  const at = parseDate(state.at);
  if (!at) {
    showError({ status: 'INVALID_ARGUMENT', message: 'as of "' + state.at + '": give YYYY, YYYY-MM or YYYY-MM-DD' });
    return;
  }
  showError(null);
  if (state.timeline) {
    const t = atMiddle(at);
    try { state.timeline.setCustomTime(t, 'asof'); } catch (x) { state.timeline.addCustomTime(t, 'asof'); }
  }
  $('asof-title').textContent = e.id + ' as of ' + state.at;
  lists.replaceChildren();
  try {
    const n = await api('NameAt', { entity: e.id, at });
    $('asof-name').textContent = 'name: ' + (n.name || 'unknown') + ' (' + (n.truth || '').replace('TRUTH_', '') + ')';
    $('asof-name').className = 'truth-' + (n.truth || '');
    if (e.type === 'ENTITY_TYPE_ORGANIZATION') {
      const m = await api('Members', { organization: e.id, at });
      lists.append(memberList('members', 'truth-TRUTH_TRUE', m.members || []),
        memberList('suspended', 'suspended', m.suspended || []),
        memberList('unknown', 'truth-TRUTH_UNKNOWN', m.unknown || []),
        memberList('not members', 'truth-TRUTH_FALSE', m.not_members || []));
    } else if (e.type === 'ENTITY_TYPE_POSITION') {
      const h = await api('Holder', { position: e.id, at });
      const holders = (h.holders || []).map((f) => ({ entity: f.relation.subject, name: f.subject_name,
        deciding: f }));
      lists.append(memberList('holder', 'truth-TRUTH_TRUE', holders));
    } else { // anyone else: its ties on that date, by truth
      const r = await api('Relations', { entity: e.id, at });
      const by = { TRUTH_TRUE: [], TRUTH_UNKNOWN: [], TRUTH_FALSE: [] };
      for (const f of r.facts || []) {
        const rel = f.relation;
        const other = rel.subject === e.id ? f.object_name || rel.object : f.subject_name || rel.subject;
        const entry = { entity: rel.subject === e.id ? rel.object : rel.subject,
          name: rel.predicate.replace(/_/g, ' ') + ' ' + other + (rel.status ? ' (' + rel.status + ')' : ''),
          deciding: f };
        (by[f.truth] || by.TRUTH_UNKNOWN).push(entry);
      }
      lists.append(memberList('holds', 'truth-TRUTH_TRUE', by.TRUTH_TRUE),
        memberList('unknown', 'truth-TRUTH_UNKNOWN', by.TRUTH_UNKNOWN),
        memberList('does not hold', 'truth-TRUTH_FALSE', by.TRUTH_FALSE));
    }
    section.hidden = false;
  } catch (err) { showError(err); }
}

// ---- evidence ------------------------------------------------------------------

async function docTitle(id) {
  if (!state.docs.has(id)) {
    try { state.docs.set(id, (await api('GetDocument', { id })).title || id); } catch (e) { state.docs.set(id, id); }
  }
  return state.docs.get(id);
}

async function showEvidence(id, fact) {
  try {
    const ev = await api('Evidence', { id });
    const body = $('evidence-table').tBodies[0];
    body.replaceChildren();
    $('evidence-fact').textContent = fact || (ev.items && ev.items[0] && ev.items[0].fact) || id;
    for (const item of ev.items || []) {
      const x = item.evidence || {};
      const title = x.document ? await docTitle(x.document) : '';
      body.append(el('tr', {},
        el('td', { textContent: (x.document || '') + (title && title !== x.document ? ' — ' + title : '') }),
        el('td', { textContent: (x.sentences || []).join(', ') }),
        el('td', { textContent: (x.span_start || 0) + '..' + (x.span_end || 0) }),
        el('td', { textContent: x.attributed_to || '' }),
        el('td', { textContent: (x.modality || '').replace('MODALITY_', '').toLowerCase() +
          (x.inferred ? ' (inferred' + (x.rule ? ': ' + x.rule : '') + ')' : '') }),
        el('td', { textContent: [item.path, item.fact !== fact ? item.fact : '', x.note].filter(Boolean).join('; ') })));
    }
    if (!(ev.items || []).length)
      body.append(el('tr', {}, el('td', { colSpan: 6, textContent: 'No evidence is recorded for ' + id + '.' })));
    $('evidence').hidden = false;
  } catch (err) { showError(err); }
}

// ---- start ---------------------------------------------------------------------

$('search').addEventListener('submit', (ev) => { ev.preventDefault(); search($('q').value); });
$('asof-form').addEventListener('submit', (ev) => { ev.preventDefault(); setAt($('at').value.trim()); });
$('token').value = sessionStorage.getItem('annals-token') || '';
$('token').addEventListener('change', () => sessionStorage.setItem('annals-token', $('token').value.trim()));

(function start() {
  const q = new URLSearchParams(location.search);
  state.at = q.get('at') || '';
  $('at').value = state.at;
  if (q.get('entity')) openEntity(q.get('entity'), true);
})();
