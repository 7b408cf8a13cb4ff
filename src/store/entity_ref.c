/*
 * st_entity_ref — an entity named by a request: by id, or by a name that
 * only one entity has (case-insensitive). Shared by the record queries
 * (a ListEvents participant) and the knowledge engine (kn_entity), so a
 * name means the same entity, with the same "ambiguous" message, in
 * every query. Reads through the read interface only.
 */
#include <stdio.h>
#include <string.h>

#include "annals/annals.h"
#include "store/read.h"

#define ER_SHOWN 6 /* candidates listed in an "ambiguous" message */

typedef struct er_matches {
	ar_arena *a;
	st_txn *t;
	Annals__V1__Entity *found[ER_SHOWN];
	size_t n; /* all distinct entities seen, even past the ones kept */
} er_matches;

static int er_collect(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	er_matches *m = ctx;
	for (size_t i = 0; i < m->n && i < ER_SHOWN; i++)
		if (strcmp(m->found[i]->id, id) == 0)
			return 0;
	if (m->n < ER_SHOWN) {
		Annals__V1__Entity *e = data != NULL && len > 0
		                            ? annals__v1__entity__unpack(ar_pbc(m->a), len, data)
		                            : st_load_entity(m->t, id, m->a);
		if (e == NULL)
			return 0;
		m->found[m->n] = e;
	}
	m->n++;
	return 0;
}

static int er_ambiguous(const er_matches *m, const char *ref, const char *field, st_err *err)
{
	char list[400];
	size_t used = 0;
	for (size_t i = 0; i < m->n && i < ER_SHOWN && used < sizeof(list); i++) {
		const char *label = st_entity_label(m->t, m->found[i]->id, m->a);
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s (%s)", i ? ", " : "",
		                         m->found[i]->id, label ? label : m->found[i]->id);
	}
	if (m->n > ER_SHOWN && used < sizeof(list))
		snprintf(list + used, sizeof(list) - used, " and %zu more", m->n - ER_SHOWN);
	return st_errf(err, ANNALS_INVALID_ARGUMENT, "%s: '%.60s' is ambiguous: %s; give an id", field, ref,
	               list);
}

static int er_resolve(st_txn *t, const char *ref, const char *field, ar_arena *a, bool head,
                      Annals__V1__Entity **out, st_err *err)
{
	*out = NULL;
	if (ref == NULL || ref[0] == '\0')
		return st_errf(err, ANNALS_INVALID_ARGUMENT, "%s: required (an entity id or name)", field);
	*out = head && !st_txn_full_scans(t) ? st_entity_head(t, ref, a) : st_load_entity(t, ref, a);
	if (*out != NULL)
		return ANNALS_OK;
	er_matches m = {.a = a, .t = t};
	int rc = st_scan_names(t, ref, false, er_collect, &m);
	if (rc != ANNALS_OK)
		return st_errf(err, rc, "%s: looking up '%.60s' failed", field, ref);
	if (m.n == 0)
		return st_errf(err, ANNALS_NOT_FOUND, "%s: no entity has the id or name '%.100s'", field,
		               ref);
	if (m.n > 1)
		return er_ambiguous(&m, ref, field, err);
	*out = m.found[0];
	return ANNALS_OK;
}

int st_entity_ref(st_txn *t, const char *ref, const char *field, ar_arena *a, Annals__V1__Entity **out,
                  st_err *err)
{
	return er_resolve(t, ref, field, a, false, out, err);
}

int st_entity_ref_head(st_txn *t, const char *ref, const char *field, ar_arena *a, Annals__V1__Entity **out,
                       st_err *err)
{
	return er_resolve(t, ref, field, a, true, out, err);
}
