/*
 * kn_q_digest — a digest of every record a snapshot holds, for operators
 * (and cluster tests) comparing two stores, as etcd's HashKV does.
 *
 * sha256 over, for each kind in RecordKind order and each record in id
 * order: the kind (1 byte), the id's length (4 bytes, big-endian), the id,
 * the stored bytes' length (4 bytes), the stored bytes. Stored bytes carry
 * the revision that last changed the record, so equal digests at equal
 * revisions mean equal records, not just equal content. Cost: one pass
 * over every record (O(store)); the reply cache keeps the answer until
 * the next commit.
 */
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <string.h>

#include "annals/annals.h"
#include "knowledge/knowledge.h"

typedef struct digest_ctx {
	mbedtls_sha256_context sha;
	uint8_t kind;
	uint64_t n;
} digest_ctx;

static void digest_u32(mbedtls_sha256_context *sha, size_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	mbedtls_sha256_update_ret(sha, b, sizeof(b));
}

static int digest_visit(void *ctx, const char *id, const uint8_t *data, size_t len)
{
	digest_ctx *d = ctx;
	size_t idlen = strlen(id);
	mbedtls_sha256_update_ret(&d->sha, &d->kind, 1);
	digest_u32(&d->sha, idlen);
	mbedtls_sha256_update_ret(&d->sha, (const uint8_t *)id, idlen);
	digest_u32(&d->sha, len);
	mbedtls_sha256_update_ret(&d->sha, data, len);
	d->n++;
	return 0;
}

int kn_q_digest(st_txn *t, const Annals__V1__DigestRequest *in, ar_arena *a, Annals__V1__DigestReply *out,
                st_err *err)
{
	(void)in;
	static const st_kind kinds[] = {ST_ENTITY, ST_EVENT, ST_RELATION, ST_DOCUMENT};
	Annals__V1__RecordCounts *counts =
	    AR_NEW(a, Annals__V1__RecordCounts, ANNALS__V1__RECORD_COUNTS__INIT);
	uint64_t *count_of[] = {&counts->entities, &counts->events, &counts->relations, &counts->documents};
	digest_ctx d;
	mbedtls_sha256_init(&d.sha);
	mbedtls_sha256_starts_ret(&d.sha, 0);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		d.kind = (uint8_t)kinds[i];
		d.n = 0;
		int rc = st_scan_kind(t, kinds[i], "", digest_visit, &d);
		if (rc != ANNALS_OK) {
			mbedtls_sha256_free(&d.sha);
			err->code = rc;
			snprintf(err->msg, sizeof(err->msg), "reading the store for the digest failed");
			return rc;
		}
		*count_of[i] = d.n;
	}
	uint8_t sum[32];
	mbedtls_sha256_finish_ret(&d.sha, sum);
	mbedtls_sha256_free(&d.sha);
	char *hex = ar_alloc(a, 2 * sizeof(sum) + 1);
	for (size_t i = 0; i < sizeof(sum); i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	out->revision = st_txn_revision(t);
	out->counts = counts;
	out->sha256 = hex;
	return ANNALS_OK;
}
