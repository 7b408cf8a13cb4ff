/*
 * pf_ — ix_pubfloor, the index behind a document's derived publication
 * bounds (knowledge/pubdate.c, rule publication-follows-reported-past),
 * private to src/store.
 *
 * The derivation is "the latest first day among the offers (common/
 * pubrule.h) the records citing the document make, ties to an event, else
 * to the first in ix_cites order". Done over ix_cites it unpacked every
 * record citing the document on every query that met a date relative to
 * it (the founding article is cited by nearly every record): 95% of a
 * Holder call. The index keeps, per (document, citing record):
 *
 *   doc \0 'a' be32 day(lo) be32 sentence record-id -> ""
 *       the record makes an offer with an absolute date; lo: the latest
 *       first day among those (a pure function of the record);
 *   doc \0 'r' be32 sentence record-id -> ""
 *       the record makes an offer with a relative date, whose day depends
 *       on its anchor and so is worked out at query time;
 *
 * sentence: the first sentence of the record citing doc (0: evidence
 * without sentences), i.e. where ix_cites's scan meets the record. The
 * records that can decide the derivation are those with an absolute offer
 * at the greatest lo and those with a relative offer; visited in ix_cites
 * order, they give the answer the full scan gives (an offer below the
 * maximum never wins, and the tie rules only compare offers at it).
 * Written by ix_update with every other index, so every write path (put,
 * delete, Batch, cluster apply, seed) keeps it, in the records' own txn.
 */
#ifndef ANNALS_STORE_PUBFLOOR_H
#define ANNALS_STORE_PUBFLOOR_H

#include "store/store_int.h"

typedef void (*pf_add_fn)(void *ctx, const st_key *k);

/* The ix_pubfloor keys of rec (an Entity, Event or Relation; others have
 * none), whose id is id. */
void pf_keys(const ProtobufCMessage *rec, const char *id, ar_arena *a, pf_add_fn add, void *ctx);

/* ix_pubfloor for a store written before it existed (meta "ix_pubfloor"
 * unset), in txn; *built: records read. */
int pf_build_index(st_store *s, MDB_txn *txn, uint64_t *built, st_err *err);

#endif
