/* ds_ — a Dataset (the import/export and built-in data format) as one Batch. */
#ifndef ANNALS_COMMON_DATASET_H
#define ANNALS_COMMON_DATASET_H

#include "annals/v1/service.pb-c.h"
#include "common/arena.h"

/* One put per record, all in the arena (the records themselves are shared,
 * not copied): documents, entities, relations, then events — the order in
 * which a reader of the change feed can resolve references. The store
 * resolves relative dates whatever the order. */
Annals__V1__BatchRequest *ds_batch(ar_arena *a, const Annals__V1__Dataset *ds);

#endif
