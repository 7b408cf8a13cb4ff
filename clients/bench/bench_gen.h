/* bench_gen_ — synthetic records (bench_gen.c) for `annals-bench gen`. */
#ifndef ANNALS_BENCH_GEN_H
#define ANNALS_BENCH_GEN_H

#include "annals/v1/model.pb-c.h"
#include "bench.h"
#include "common/arena.h"

/* Entity i and event j of a data set; everything is allocated in a. */
Annals__V1__Entity *bench_gen_entity(ar_arena *a, uint64_t seed, uint64_t i, uint64_t n_docs);
Annals__V1__Event *bench_gen_event(ar_arena *a, uint64_t seed, uint64_t j, uint64_t n_entities,
                                   uint64_t n_docs);

#endif
