/* st_get and friends: point reads of records, and store statistics. */
#include <assert.h>
#include <string.h>

#include "common/validate.h"
#include "store/store_int.h"

int st_get(st_txn *t, st_kind k, const char *id, const uint8_t **data, size_t *len)
{
	assert(t->active);
	*data = NULL;
	*len = 0;
	if (!rec_kind_ok((int)k) || id == NULL)
		return ANNALS_INVALID_ARGUMENT;
	size_t n = strlen(id);
	if (n == 0 || n > VAL_ID_MAX)
		return ANNALS_NOT_FOUND; /* no such key can exist; LMDB would reject it */
	MDB_val key = {n, (void *)id}, val;
	dp_read_key(t, rec_dbi(k), id, n);
	int rc = mdb_get(t->txn, t->s->dbi[rec_dbi(k)], &key, &val);
	if (rc == MDB_NOTFOUND)
		return ANNALS_NOT_FOUND;
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, NULL, "get");
	*data = val.mv_data;
	*len = val.mv_size;
	return ANNALS_OK;
}

ProtobufCMessage *st_load(st_txn *t, st_kind k, const char *id, ar_arena *a)
{
	const uint8_t *data;
	size_t len;
	if (st_get(t, k, id, &data, &len) != ANNALS_OK)
		return NULL;
	/* unpack copies every string into the arena: the result outlives the snapshot */
	return rec_unpack(k, data, len, a);
}

Annals__V1__Entity *st_load_entity(st_txn *t, const char *id, ar_arena *a)
{
	return (Annals__V1__Entity *)st_load(t, ST_ENTITY, id, a);
}

Annals__V1__Event *st_load_event(st_txn *t, const char *id, ar_arena *a)
{
	return (Annals__V1__Event *)st_load(t, ST_EVENT, id, a);
}

Annals__V1__Relation *st_load_relation(st_txn *t, const char *id, ar_arena *a)
{
	return (Annals__V1__Relation *)st_load(t, ST_RELATION, id, a);
}

Annals__V1__Document *st_load_document(st_txn *t, const char *id, ar_arena *a)
{
	return (Annals__V1__Document *)st_load(t, ST_DOCUMENT, id, a);
}

st_kind st_kind_of(st_txn *t, const char *id)
{
	/* Four point lookups; cheaper to keep than a fifth table to maintain. */
	for (int k = ST_ENTITY; k <= ST_DOCUMENT; k++) {
		const uint8_t *data;
		size_t len;
		if (st_get(t, (st_kind)k, id, &data, &len) == ANNALS_OK)
			return (st_kind)k;
	}
	return 0;
}

static uint64_t st_entries(st_txn *t, enum st_dbi db)
{
	MDB_stat ms;
	dp_read_prefix(t, db, NULL, 0);
	if (mdb_stat(t->txn, t->s->dbi[db], &ms) != MDB_SUCCESS)
		return 0;
	return ms.ms_entries;
}

int st_stats_get(st_txn *t, st_stats *out)
{
	assert(t->active);
	memset(out, 0, sizeof(*out));
	out->revision = st_txn_revision(t);
	out->entities = st_entries(t, DB_ENTITIES);
	out->events = st_entries(t, DB_EVENTS);
	out->relations = st_entries(t, DB_RELATIONS);
	out->documents = st_entries(t, DB_DOCUMENTS);
	out->dedup_entries = st_entries(t, DB_DEDUP);
	out->oldest_change = st_oldest_change(t);
	MDB_envinfo info;
	MDB_stat ms;
	int rc = mdb_env_info(t->s->env, &info);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_stat(t->s->env, &ms);
	if (rc != MDB_SUCCESS)
		return st_mdb_status(rc, NULL, "stat");
	out->map_size = info.me_mapsize;
	out->map_used = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	return ANNALS_OK;
}
