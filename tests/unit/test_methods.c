/*
 * The method table (include/annals/methods.h) against everything that must
 * agree with it: the service in service.proto, the server's handlers, the
 * README's RPC table, the fuzz dictionary; and the rules its flags obey.
 * A method added to the .proto without a row, a row without a handler, or
 * a method the README does not list fails here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/check.h"
#include "common/envelope.h"
#include "common/file.h"
#include "server/server.h"

typedef struct row {
	const char *method, *request, *reply, *impl;
	unsigned flags;
} row;

static const row rows[] = {
#define ROW(M, fn, Req, Rep, flags, impl, record) {#M, "annals.v1." #Req, "annals.v1." #Rep, #impl, flags},
    ANNALS_METHODS(ROW)
#undef ROW
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* Every method of `service Annals` has its row, at its index, with the
 * request and reply the .proto gives it; and no row names a method the
 * service does not have. */
static void test_rows_match_the_service(void)
{
	const ProtobufCServiceDescriptor *sd = env_service();
	CHECK_EQ_INT(sd->n_methods, N_ROWS);
	CHECK_EQ_INT(ANNALS_METHOD_COUNT, N_ROWS);
	for (unsigned i = 0; i < sd->n_methods && i < N_ROWS; i++) {
		const ProtobufCMethodDescriptor *md = &sd->methods[i];
		if (strcmp(md->name, rows[i].method) != 0)
			fprintf(stderr, "  method %u of the service is %s, row %u is %s\n", i, md->name, i,
			        rows[i].method);
		CHECK_EQ_STR(md->name, rows[i].method);
		CHECK_EQ_STR(md->input->name, rows[i].request);
		CHECK_EQ_STR(md->output->name, rows[i].reply);
		CHECK_EQ_INT(env_method_index(rows[i].method), i);
	}
	CHECK_EQ_INT(env_method_index("annals.v1.Annals/Members"), ANNALS_METHOD_Members);
	CHECK_EQ_INT(env_method_index("NoSuchMethod"), -1);
}

static void test_every_row_has_a_handler(void)
{
	for (int i = 0; i < (int)N_ROWS; i++) {
		if (!srv_has_handler(i))
			fprintf(stderr, "  %s has no handler\n", rows[i].method);
		CHECK(srv_has_handler(i));
	}
	CHECK(!srv_has_handler(-1));
	CHECK(!srv_has_handler((int)N_ROWS));
}

/* What the flags may say together: exactly one of read, write, admin
 * (admin may mark a write that only admins make: BulkLoad);
 * only reads may be cached, skip the token or wait; the writer's rows are
 * the writes and the writes only. */
static void test_flags_are_consistent(void)
{
	for (size_t i = 0; i < N_ROWS; i++) {
		unsigned f = rows[i].flags;
		int kinds = !!(f & ANNALS_M_READ) + !!(f & ANNALS_M_WRITE) +
		            !!((f & ANNALS_M_ADMIN) && !(f & ANNALS_M_WRITE));
		if (kinds != 1)
			fprintf(stderr, "  %s: flags 0x%x\n", rows[i].method, f);
		CHECK_EQ_INT(kinds, 1);
		if (f & (ANNALS_M_CACHEABLE | ANNALS_M_NO_TOKEN | ANNALS_M_LONG_POLL))
			CHECK(f & ANNALS_M_READ);
		CHECK(!((f & ANNALS_M_CACHEABLE) && (f & ANNALS_M_LONG_POLL)));
		int writer = strcmp(rows[i].impl, "PUT") == 0 || strcmp(rows[i].impl, "DELETE") == 0 ||
		             strcmp(rows[i].impl, "BATCH") == 0 || strcmp(rows[i].impl, "BULK") == 0;
		CHECK_EQ_INT(writer, (f & ANNALS_M_WRITE) != 0);
		CHECK_EQ_INT(env_method_flags((int)i), f);
		CHECK_EQ_INT(env_method_is_write((int)i), (f & ANNALS_M_WRITE) != 0);
	}
	/* the properties the server relies on, as the README states them */
	CHECK(env_method_flags(ANNALS_METHOD_Health) & ANNALS_M_NO_TOKEN);
	CHECK(env_method_flags(ANNALS_METHOD_Backup) & ANNALS_M_ADMIN);
	CHECK(env_method_flags(ANNALS_METHOD_Changes) & ANNALS_M_LONG_POLL);
	CHECK(env_method_flags(ANNALS_METHOD_Members) & ANNALS_M_CACHEABLE);
	CHECK(!(env_method_flags(ANNALS_METHOD_GetEntity) & ANNALS_M_CACHEABLE));
	CHECK_EQ_INT(env_method_flags(-1), 0);
	CHECK_EQ_STR(env_flag_name(ANNALS_M_LONG_POLL), "long-poll");
	CHECK(env_flag_name(0x40000u) == NULL);
}

static char *read_root_file(const char *rel)
{
	const char *root = getenv("ANNALS_ROOT");
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", root ? root : ".", rel);
	size_t len;
	char *text = file_read_all(path, 1u << 20, &len);
	if (text == NULL) {
		fprintf(stderr, "  cannot read %s\n", path);
		return NULL;
	}
	return text;
}

/* The README's RPC table names every method (as `Method` in a table row). */
static void test_readme_lists_every_method(void)
{
	char *readme = read_root_file("README.md");
	CHECK(readme != NULL);
	if (readme == NULL)
		return;
	const char *start = strstr(readme, "\n## RPCs");
	CHECK(start != NULL);
	const char *end = start ? strstr(start + 1, "\n## ") : NULL;
	for (size_t i = 0; start && i < N_ROWS; i++) {
		char want[80];
		snprintf(want, sizeof(want), "`%s`", rows[i].method);
		const char *at = strstr(start, want);
		int found = at != NULL && (end == NULL || at < end);
		if (!found)
			fprintf(stderr, "  README.md's RPC table does not list %s\n", want);
		CHECK(found);
	}
	free(readme);
}

/* The fuzz dictionary (written by gen_seeds from the table) has every method. */
static void test_fuzz_dictionary_has_every_method(void)
{
	char *dict = read_root_file("tests/fuzz/envelope.dict");
	CHECK(dict != NULL);
	for (size_t i = 0; dict && i < N_ROWS; i++) {
		char want[120];
		snprintf(want, sizeof(want), "\"%s%s\"", ENV_METHOD_PREFIX, rows[i].method);
		if (strstr(dict, want) == NULL)
			fprintf(stderr, "  envelope.dict lacks %s: run make fuzz-seeds\n", want);
		CHECK(strstr(dict, want) != NULL);
	}
	free(dict);
}

int main(void)
{
	RUN(test_rows_match_the_service);
	RUN(test_every_row_has_a_handler);
	RUN(test_flags_are_consistent);
	RUN(test_readme_lists_every_method);
	RUN(test_fuzz_dictionary_has_every_method);
	return CHECK_DONE();
}
