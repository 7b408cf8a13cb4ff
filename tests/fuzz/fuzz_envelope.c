/*
 * fuzz_envelope — bytes off the wire, the way srv_dispatch takes them:
 *
 *   bytes -> unpack annals.v1.Call -> its strings UTF-8 (val_fields) ->
 *         env_method_index -> unpack the body with the method's input
 *         descriptor -> its strings UTF-8 and enums known (val_fields) ->
 *         for writes st_validate, for reads the st_q_ query (or st_get /
 *         st_stats_get) against a real store loaded with the built-in data.
 *
 * The val_fields steps are srv_dispatch's own checks, in its order, so the
 * queries see what they see in the server.
 *
 * The store is opened once (in a temporary directory, no fsync) and never
 * written after the data set is loaded, so every input runs against the
 * same state and a crash reproduces from its input alone.
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - a query or validation fails only with a client-error status
 *     (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, OUT_OF_RANGE):
 *     INTERNAL or UNKNOWN on hostile input is a bug;
 *   - every error message is UTF-8 (Reply.message is a proto3 string;
 *     clients in other languages reject the whole Reply otherwise);
 *   - a write that st_validate accepts has only UTF-8 strings and known
 *     enum values (the contract in common/validate.h);
 *   - a successful reply packs, unpacks, and has only UTF-8 strings;
 *   - query cost is bounded: the store also holds one legal entity with
 *     FZ_ALIASES aliases sharing a prefix (the shape that once made one
 *     30-byte FindEntities cost 9 s of CPU), every read runs with a
 *     deadline FZ_DEADLINE_MS ahead, as the server sets it from
 *     timeout_ms, and must answer within FZ_BUDGET_MS of this thread's
 *     CPU time whatever its input: by finishing, or with DEADLINE_EXCEEDED.
 *     (CPU time, not wall time: a niced fuzzer on a shared machine once
 *     waited 3.2 s for a core during one 45 ms Changes call.) (libFuzzer's -timeout is
 *     the coarse backstop; this names the query that ran long.)
 *   - strings with a NUL inside are refused (val_wire_strings) before
 *     anything reads them as C strings: the dictionary and seeds carry NULs.
 * ANNALS_FUZZ_LAX=1 turns the UTF-8-of-messages check off (to look past a
 * known finding).
 *
 * ANNALS_FUZZ_APPLY=1 also applies every write st_validate accepts (with a
 * request_id the server would take) to the store, through st_apply, and
 * checks it answers with a client-error status or OK, never INTERNAL, and
 * commits. The store then changes from input to input, so a crash found
 * this way may need the inputs before it to reproduce: an exploration
 * mode, not the default.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "annals/annals.h"
#include "common/arena.h"
#include "common/envelope.h"
#include "common/validate.h"
#include "knowledge/knowledge.h"
#include "store/query.h"
#include "store/store.h"

#include "fuzz_seed.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static st_store *fz_store;
static st_txn *fz_txn;
static ar_arena fz_arena;
static char fz_dir[256];
static bool fz_lax, fz_apply;

enum {
	FZ_ALIASES = 10000,
	FZ_DEADLINE_MS = 250,
	/* the deadline is looked at every 128 index entries; an ASan build gets
	 * generous slack beyond it */
	FZ_BUDGET_MS = 3000,
};

/* This thread's CPU time: what a query that ignores its deadline burns,
 * and what waiting for a core on a loaded machine does not. */
static uint64_t fz_cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t fz_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void fz_cleanup(void)
{
	if (fz_txn)
		st_txn_free(fz_txn);
	if (fz_store)
		st_close(fz_store);
	ar_free(&fz_arena);
	if (fz_dir[0])
		fz_rm_tree(fz_dir);
}

/* One legal entity whose FZ_ALIASES aliases all start "alias-0": prefix
 * queries over it are the worst case the cost bound is about. */
static void fz_put_many_aliases(void)
{
	ar_arena a;
	ar_init(&a);
	Annals__V1__Name *names = ar_alloc(&a, FZ_ALIASES * sizeof(*names));
	Annals__V1__Name **ptrs = ar_alloc(&a, FZ_ALIASES * sizeof(*ptrs));
	for (int i = 0; i < FZ_ALIASES; i++) {
		annals__v1__name__init(&names[i]);
		names[i].text = ar_printf(&a, "alias-0-%d", i);
		names[i].kind = ANNALS__V1__NAME_KIND__NAME_KIND_ALIAS;
		ptrs[i] = &names[i];
	}
	Annals__V1__Entity e = ANNALS__V1__ENTITY__INIT;
	e.id = "person:many-aliases";
	e.type = ANNALS__V1__ENTITY_TYPE__ENTITY_TYPE_PERSON;
	e.names = ptrs;
	e.n_names = FZ_ALIASES;
	Annals__V1__PutEntityRequest req = ANNALS__V1__PUT_ENTITY_REQUEST__INIT;
	req.entity = &e;
	st_write w = {.op = ST_PUT, .kind = ST_ENTITY, .req = &req.base, .request_id = "fuzz-many-aliases"};
	st_err err = {0};
	FZ_ASSERT(st_validate(&w, st_limits(fz_store), &err) == ANNALS_OK, "many aliases: %s", err.msg);
	FZ_ASSERT(st_apply(fz_store, &w, 1) == ANNALS_OK && w.code == ANNALS_OK, "many aliases: %s", w.msg);
	st_write_clear(&w);
	ar_free(&a);
}

static void fz_load_store(void)
{
	snprintf(fz_dir, sizeof(fz_dir), "%s/annals-fuzz.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	FZ_ASSERT(mkdtemp(fz_dir) != NULL, "mkdtemp %s", fz_dir);
	atexit(fz_cleanup);
	st_options o = {.no_sync = true, .map_size = 64u << 20};
	st_err err = {0};
	FZ_ASSERT(st_open(fz_dir, &o, &fz_store, &err) == ANNALS_OK, "st_open: %s", err.msg);

	ar_arena a;
	ar_init(&a);
	Annals__V1__Dataset *d = fz_load_dataset(&a);
	Annals__V1__BatchRequest batch = ANNALS__V1__BATCH_REQUEST__INIT;
	fz_dataset_batch(&a, d, &batch);
	st_write w = {.op = ST_BATCH, .req = &batch.base, .request_id = "annals-seed-v1"};
	st_options limits = *st_limits(fz_store);
	limits.max_batch_ops = (unsigned)batch.n_ops;
	FZ_ASSERT(st_validate(&w, &limits, &err) == ANNALS_OK, "the data set does not validate: %s", err.msg);
	FZ_ASSERT(st_apply(fz_store, &w, 1) == ANNALS_OK && w.code == ANNALS_OK,
	          "loading the data set failed: %s", w.msg);
	st_write_clear(&w);
	ar_free(&a);
	fz_put_many_aliases();
	fz_txn = st_txn_new(fz_store);
	FZ_ASSERT(fz_txn != NULL, "st_txn_new");
	/* The open environment keeps its files (mmap and descriptors), so the
	 * directory can go now: nothing is left behind however the run ends
	 * (libFuzzer leaves by _exit on a crash, past atexit). */
	fz_rm_tree(fz_dir);
	fz_dir[0] = '\0';
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *lax = getenv("ANNALS_FUZZ_LAX");
	fz_lax = lax && *lax && strcmp(lax, "0") != 0;
	const char *apply = getenv("ANNALS_FUZZ_APPLY");
	fz_apply = apply && *apply && strcmp(apply, "0") != 0;
	ar_init(&fz_arena);
	fz_load_store();
	return 0;
}

/* Statuses a hostile request may earn: the client's fault, never ours. */
static bool fz_client_error(int rc)
{
	return rc == ANNALS_INVALID_ARGUMENT || rc == ANNALS_NOT_FOUND || rc == ANNALS_FAILED_PRECONDITION ||
	       rc == ANNALS_OUT_OF_RANGE || rc == ANNALS_ALREADY_EXISTS ||
	       rc == ANNALS_DEADLINE_EXCEEDED; /* a read past its deadline (FZ_DEADLINE_MS) */
}

static void fz_check_error(const char *method, int rc, const char *msg)
{
	FZ_ASSERT(fz_client_error(rc), "%s: status %s (%d) on client input: \"%s\"", method,
	          annals_status_name(rc), rc, msg);
	FZ_ASSERT(msg[0] != '\0', "%s: status %s without a message", method, annals_status_name(rc));
	FZ_ASSERT(fz_lax || fz_utf8(msg), "%s: the error message is not UTF-8: \"%s\"", method, msg);
}

static void fz_check_reply(const char *method, const ProtobufCMessage *out)
{
	const char *bad = NULL;
	FZ_ASSERT(fz_lax || fz_message_ok(out, false, &bad), "%s: the reply's field %s is not UTF-8", method,
	          bad ? bad : "?");
	fz_pack_roundtrip(out, method);
}

/* ---- writes: decoding and validation --------------------------------------- */

/* A BulkLoad part: checked and added to a load of its own, as the server
 * stages it (the commit is not fuzzed here: test_cli_bulk drives it). */
static void fz_bulk(const ProtobufCMessage *in)
{
	const Annals__V1__BulkLoadRequest *req = (const Annals__V1__BulkLoadRequest *)in;
	st_bulk_part p;
	st_err err = {0};
	int rc = st_bulk_check(req, &p, &err);
	if (rc == ANNALS_OK) {
		st_bulk *b = st_bulk_new("fuzz", false);
		FZ_ASSERT(b != NULL, "st_bulk_new");
		rc = st_bulk_add(b, 1, req, &p, &err);
		st_bulk_free(b);
	}
	st_bulk_part_free(&p);
	if (rc != ANNALS_OK)
		fz_check_error("BulkLoad", rc, err.msg);
}

static void fz_write(const char *name, const ProtobufCMessage *in, const char *request_id)
{
	if (strcmp(name, "BulkLoad") == 0) {
		fz_bulk(in);
		return;
	}
	st_write w = {0};
	w.req = in;
	w.request_id = request_id;
	if (strcmp(name, "Batch") == 0) {
		w.op = ST_BATCH;
	} else {
		w.op = strncmp(name, "Put", 3) == 0 ? ST_PUT : ST_DELETE;
		const char *kind = name + (w.op == ST_PUT ? 3 : 6);
		w.kind = strcmp(kind, "Entity") == 0     ? ST_ENTITY
		         : strcmp(kind, "Event") == 0    ? ST_EVENT
		         : strcmp(kind, "Relation") == 0 ? ST_RELATION
		                                         : ST_DOCUMENT;
	}
	st_err err = {0};
	int rc = st_validate(&w, st_limits(fz_store), &err);
	if (rc != ANNALS_OK) {
		fz_check_error(name, rc, err.msg);
		return;
	}
	const char *bad = NULL;
	FZ_ASSERT(fz_message_ok(in, true, &bad),
	          "%s: st_validate accepted a request whose field %s is not UTF-8 or not a known enum value",
	          name, bad ? bad : "?");
	if (!fz_apply || request_id == NULL || request_id[0] == '\0' || strlen(request_id) > 128)
		return;
	rc = st_apply(fz_store, &w, 1);
	FZ_ASSERT(rc == ANNALS_OK, "%s: st_apply's commit failed: %s %s", name, annals_status_name(rc),
	          w.msg);
	if (w.code != ANNALS_OK)
		fz_check_error(name, w.code, w.msg);
	st_write_clear(&w);
}

/* ---- reads: the queries ---------------------------------------------------- */

static void fz_get(const char *name, st_kind kind, const Annals__V1__GetRequest *in)
{
	if (in->id[0] == '\0')
		return; /* the handler answers this itself */
	const uint8_t *data;
	size_t len;
	int rc = st_get(fz_txn, kind, in->id, &data, &len);
	if (rc != ANNALS_OK) {
		FZ_ASSERT(rc == ANNALS_NOT_FOUND, "%s: st_get returned %s", name, annals_status_name(rc));
		return;
	}
	const ProtobufCMethodDescriptor *md = env_method(env_method_index(name));
	ProtobufCMessage *m = protobuf_c_message_unpack(md->output, ar_pbc(&fz_arena), len, data);
	FZ_ASSERT(m != NULL, "%s: the stored record does not unpack as %s", name, md->output->name);
	fz_check_reply(name, m);
}

/* Every read row of the method table gets its read path here, from its
 * `impl` column: QUERY runs the query engine's function, GET the record
 * read; OWN rows say below what they read. */
#define FZ_IMPL_QUERY_(M, fn, Req, Rep, query_fn)                                                            \
	case ANNALS_METHOD_##M: {                                                                            \
		Annals__V1__##Rep out;                                                                       \
		protobuf_c_message_init(env_method(ANNALS_METHOD_##M)->output, &out);                        \
		st_err err = {0};                                                                            \
		int rc = query_fn(fz_txn, (const Annals__V1__##Req *)in, &fz_arena, &out, &err);             \
		if (rc == ANNALS_OK)                                                                         \
			fz_check_reply(#M, &out.base);                                                       \
		else                                                                                         \
			fz_check_error(#M, rc, err.msg);                                                     \
		return;                                                                                      \
	}

/* QUERY rows: the knowledge engine; LIST rows: the store's record queries. */
#define FZ_IMPL_QUERY(M, fn, Req, Rep, record) FZ_IMPL_QUERY_(M, fn, Req, Rep, kn_q_##fn)
#define FZ_IMPL_LIST(M, fn, Req, Rep, record)  FZ_IMPL_QUERY_(M, fn, Req, Rep, st_q_##fn)
#define FZ_IMPL_GET(M, fn, Req, Rep, record)                                                                 \
	case ANNALS_METHOD_##M:                                                                              \
		fz_get(#M, ST_##record, (const void *)in);                                                   \
		return;
#define FZ_IMPL_OWN(M, fn, Req, Rep, record)
#define FZ_IMPL_PUT(M, fn, Req, Rep, record)
#define FZ_IMPL_DELETE(M, fn, Req, Rep, record)
#define FZ_IMPL_BATCH(M, fn, Req, Rep, record)
#define FZ_IMPL_BULK(M, fn, Req, Rep, record)
#define FZ_ROW(M, fn, Req, Rep, flags, impl, record) FZ_IMPL_##impl(M, fn, Req, Rep, record)

static void fz_query(int method, const ProtobufCMessage *in)
{
	switch (method) {
		ANNALS_METHODS(FZ_ROW)
	case ANNALS_METHOD_Changes: {
		Annals__V1__ChangesReply out = ANNALS__V1__CHANGES_REPLY__INIT;
		st_err err = {0};
		int rc = st_q_changes(fz_txn, (const Annals__V1__ChangesRequest *)in, &fz_arena, &out, &err);
		if (rc == ANNALS_OK)
			fz_check_reply("Changes", &out.base);
		else
			fz_check_error("Changes", rc, err.msg);
		return;
	}
	case ANNALS_METHOD_ServerInfo: {
		st_stats st;
		FZ_ASSERT(st_stats_get(fz_txn, &st) == ANNALS_OK, "st_stats_get");
		return;
	}
	case ANNALS_METHOD_Health:
		FZ_ASSERT(st_revision(fz_store) >= 1, "revision");
		return;
	default:
		/* Backup copies the store to a directory the request names: not
		 * from fuzz input. Stats reads the server's counters, not the store. */
		return;
	}
}
#undef FZ_ROW

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Annals__V1__Call *call = (Annals__V1__Call *)protobuf_c_message_unpack(&annals__v1__call__descriptor,
	                                                                       ar_pbc(&fz_arena), size, data);
	if (call == NULL)
		goto out;
	char bad[480];
	/* as dispatch does: NULs inside strings first, from the wire bytes */
	if (val_wire_strings(&annals__v1__call__descriptor, data, size, "envelope", bad, sizeof(bad)) != 0 ||
	    val_fields(&call->base, "envelope", bad, sizeof(bad)) != 0) {
		fz_check_error("envelope", ANNALS_INVALID_ARGUMENT, bad);
		goto out;
	}
	int mi = env_method_index(call->method);
	const ProtobufCMethodDescriptor *md = env_method(mi);
	if (md == NULL)
		goto out;
	ProtobufCMessage *in =
	    protobuf_c_message_unpack(md->input, ar_pbc(&fz_arena), call->body.len, call->body.data);
	if (in == NULL)
		goto out;
	if (val_wire_strings(md->input, call->body.data, call->body.len, "", bad, sizeof(bad)) != 0 ||
	    val_fields(in, "", bad, sizeof(bad)) != 0) {
		fz_check_error(md->name, ANNALS_INVALID_ARGUMENT, bad);
		goto out;
	}
	if (env_method_is_write(mi)) {
		fz_write(md->name, in, call->request_id);
	} else {
		FZ_ASSERT(st_txn_begin(fz_txn) == ANNALS_OK, "st_txn_begin");
		uint64_t cpu0 = fz_cpu_ms();
		st_txn_set_deadline(fz_txn, fz_now_ms() + FZ_DEADLINE_MS);
		fz_query(mi, in);
		uint64_t took = fz_cpu_ms() - cpu0;
		FZ_ASSERT(took <= FZ_BUDGET_MS, "%s: the query took %llu ms of CPU with a %d ms deadline",
		          md->name, (unsigned long long)took, FZ_DEADLINE_MS);
		st_txn_end(fz_txn);
	}
out:
	ar_reset(&fz_arena);
	return 0;
}
