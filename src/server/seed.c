/*
 * The built-in data: on first start (an empty store) annalsd loads the
 * embedded data set as one Batch, through the same st_apply as every other
 * write, so it lands atomically with revision 1 and appears in the change
 * feed like any import.
 */
#include <stdlib.h>
#include <string.h>

#include "annals/annals.h"
#include "common/dataset.h"
#include "common/log.h"
#include "common/pbjson.h"
#include "server/server.h"

extern const char annals_seed_json[];
extern const size_t annals_seed_json_len;

Annals__V1__BatchRequest *srv_seed_batch(ar_arena *a)
{
	char err[512] = "";
	Annals__V1__Dataset *d = (Annals__V1__Dataset *)pbjson_parse(
	    &annals__v1__dataset__descriptor, annals_seed_json, annals_seed_json_len, a, err, sizeof(err));
	if (d == NULL) {
		log_msg(LOG_ERROR, "seed_invalid", "problem=\"%s\"", err);
		return NULL;
	}
	return ds_batch(a, d);
}

int srv_seed_load(srv_server *s)
{
	ar_arena a;
	ar_init(&a);
	int rc = -1;
	Annals__V1__BatchRequest *batch = srv_seed_batch(&a);
	if (batch == NULL)
		goto out;
	st_write w = {.op = ST_BATCH, .req = &batch->base, .request_id = SRV_SEED_REQUEST_ID};
	st_options limits = *st_limits(s->store);
	limits.max_batch_ops = (unsigned)batch->n_ops; /* the seed is one atomic batch, whatever its size */
	st_err verr = {0};
	if (st_validate(&w, &limits, &verr) != ANNALS_OK) {
		log_msg(LOG_ERROR, "seed_invalid", "problem=\"%s\"", verr.msg);
		goto out;
	}
	w.validated = true;
	if (st_apply(s->store, &w, 1) != ANNALS_OK || w.code != ANNALS_OK) {
		log_msg(LOG_ERROR, "seed_failed", "code=%s problem=\"%s\"", annals_status_name(w.code),
		        w.msg);
		st_write_clear(&w);
		goto out;
	}
	st_write_clear(&w);
	log_msg(LOG_INFO, "seed_loaded", "ops=%zu revision=%llu", batch->n_ops,
	        (unsigned long long)w.revision);
	rc = 0;
out:
	ar_free(&a);
	return rc;
}
