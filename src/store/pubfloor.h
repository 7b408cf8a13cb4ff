/*
 * pf_ — ix_pubfloor, the index behind a document's derived publication
 * bounds (knowledge/pubdate.c, rule publication-follows-reported-past),
 * private to src/store.
 *
 * The derivation is "the latest first day among the offers (common/
 * pubrule.h) the records citing the document make; at that day an event
 * wins, else the first offer in ix_cites order". Done over ix_cites it
 * unpacked every record citing the document on every query that met a
 * date relative to it (the founding article is cited by nearly every
 * record): 95% of a Holder call. The index keeps, per (document, citing
 * record):
 *
 *   doc \0 'a' be32 day(lo) kind be32 sentence record-id -> flags
 *       the record makes an offer with an absolute date; lo: the latest
 *       first day among those (a pure function of the record); kind 'e'
 *       for an Event, 'f' for a fact, so a day's events come first;
 *   doc \0 'r' be32 sentence record-id -> flags, then per offer:
 *                                         varint n, n bytes of packed Date
 *       the record makes offers dated relative to an anchor (not the
 *       document itself: while its bounds are derived it has no date);
 *       their days depend on the anchors, so the query resolves them;
 *
 * flags: PF_EVENT when the record is an Event (its one offer is an
 * event's). sentence: the first sentence of the record citing doc (0:
 * evidence without sentences), i.e. where ix_cites's scan meets it. Only
 * the records with an absolute offer at the greatest lo, and those with
 * relative offers, can decide the derivation (an offer below the maximum
 * never wins, and the tie rules compare only offers at it); of those at
 * the greatest absolute day only the first event and the first fact can
 * win. So the query seeks those two keys, reads the relative ones and
 * resolves their dates, and unpacks one record: the winner. Kept by pf_update, called by ix_update with every
 * other index, so every write path (put, delete, Batch, cluster apply, seed) keeps it, in the records' own
 * txn.
 */
#ifndef ANNALS_STORE_PUBFLOOR_H
#define ANNALS_STORE_PUBFLOOR_H

#include "store/store_int.h"

#define PF_EVENT 1u

/* val lives only for the call: keep a copy (an 'a' entry's flags byte is
 * on pf_entries's stack). */
typedef void (*pf_add_fn)(void *ctx, const st_key *k, const uint8_t *val, size_t n);

/* The ix_pubfloor entries of rec (an Entity, Event or Relation; others
 * have none), whose id is id. */
void pf_entries(const ProtobufCMessage *rec, const char *id, ar_arena *a, pf_add_fn add, void *ctx);

/* Replaces the entries of old (NULL: none) by those of rec (NULL: none),
 * touching only those that differ. */
int pf_update(st_store *s, MDB_txn *txn, const ProtobufCMessage *old, const ProtobufCMessage *rec,
              ar_arena *a, st_err *err);

/* ix_pubfloor for a store written before it existed (meta "ix_pubfloor"
 * unset), in txn; *built: records read. */
int pf_build_index(st_store *s, MDB_txn *txn, uint64_t *built, st_err *err);

#endif
