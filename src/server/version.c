/*
 * srv_build_ — what this annalsd is: its version, the `git describe` of the
 * tree it was built from (the Makefile writes build/gen/build_info.h, and
 * rewrites it only when that changes, so only this file recompiles), the
 * compiler, and the versions of nng, LMDB and protobuf-c it runs on (the
 * shared libraries' own answers, which can differ from the headers it was
 * built against). For `annalsd --version` and annals_build_info.
 */
#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>
#include <stdio.h>

#include "build_info.h"
#include "server/server.h"

#if defined(__clang__)
#define SRV_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define SRV_COMPILER "gcc " __VERSION__
#else
#define SRV_COMPILER "unknown"
#endif

void srv_build_get(srv_build *b)
{
	b->version = ANNALS_VERSION;
	b->git = ANNALS_GIT_DESCRIBE;
	b->compiler = SRV_COMPILER;
	b->nng = nng_version();
	b->protobuf_c = protobuf_c_version();
	st_lmdb_version(b->lmdb, sizeof(b->lmdb));
}

void srv_build_print(FILE *out)
{
	srv_build b;
	srv_build_get(&b);
	fprintf(out,
	        "annalsd %s\n"
	        "git:        %s\n"
	        "compiler:   %s\n"
	        "nng:        %s\n"
	        "lmdb:       %s\n"
	        "protobuf-c: %s\n",
	        b.version, b.git, b.compiler, b.nng, b.lmdb, b.protobuf_c);
}
