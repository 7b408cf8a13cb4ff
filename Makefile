# annals — build, test, run.  `make help` lists the targets.
#
# Two flavours share one tree: FLAVOR=release (bin/, -O2) and FLAVOR=asan
# (build/asan/bin, ASan + UBSan), which is what `make test` runs.

FLAVOR  ?= release
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := 0.1.0
SOMAJOR := 0

CC      ?= cc
GEN     := build/gen
OBJ     := build/$(FLAVOR)/obj
ifeq ($(FLAVOR),release)
BIN     := bin
LIBDIR  := build/release/lib
OPT     := -O2
else ifeq ($(FLAVOR),valgrind)
BIN     := build/valgrind/bin
LIBDIR  := build/valgrind/lib
OPT     := -O1 -fno-omit-frame-pointer
else
BIN     := build/$(FLAVOR)/bin
LIBDIR  := build/$(FLAVOR)/lib
OPT     := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
CFLAGS  += -std=c11 -D_GNU_SOURCE -g -fPIC $(OPT) $(WARN) -DANNALS_VERSION='"$(VERSION)"' \
           -Iinclude -Isrc -I$(GEN)
LDFLAGS += $(filter -fsanitize%,$(OPT))
LIBS    := -lnng -lmbedtls -lmbedx509 -lmbedcrypto -lprotobuf-c -llmdb -ljansson -lpthread -lm
# the server (cluster mode's etcd client) and the tests (their etcd harness) also need libcurl;
# the client library and its programs do not
SRV_LIBS := $(LIBS) -lcurl

PROTOS     := $(wildcard proto/annals/v1/*.proto)
PROTO_C    := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PROTO_H    := $(PROTO_C:.c=.h)
COMMON_C   := $(wildcard src/common/*.c)
STORE_C    := $(wildcard src/store/*.c)
KNOW_C     := $(wildcard src/knowledge/*.c)
SERVER_C   := $(filter-out src/server/main.c,$(wildcard src/server/*.c)) $(wildcard src/cluster/*.c)
CLIENT_C   := $(wildcard src/client/*.c)
CLI_C      := $(wildcard clients/cli/*.c)
BENCH_C    := $(wildcard clients/bench/*.c)
EXAMPLE_C  := $(wildcard clients/examples/*.c)
UNIT_C     := $(wildcard tests/unit/test_*.c)
ITEST_C    := $(wildcard tests/integration/test_*.c)
TESTLIB_C  := $(wildcard tests/lib/*.c)
SEED_JSON  := data/seed/dataset.json

o = $(patsubst %.c,$(OBJ)/%.o,$(patsubst $(GEN)/%,gen/%,$(1)))

PROTO_O  := $(call o,$(PROTO_C))
COMMON_O := $(call o,$(COMMON_C))
STORE_O  := $(call o,$(STORE_C))
KNOW_O   := $(call o,$(KNOW_C))
SERVER_O := $(call o,$(SERVER_C)) $(OBJ)/src/server/seed_blob.o $(OBJ)/src/server/descriptor_blob.o
CLIENT_O := $(call o,$(CLIENT_C))
TESTLIB_O:= $(call o,$(TESTLIB_C))

CLIENT_LIB_O := $(CLIENT_O) $(COMMON_O) $(PROTO_O)

PROGRAMS := $(BIN)/annalsd $(BIN)/annals $(BIN)/annals-bench
EXAMPLES := $(patsubst clients/examples/%.c,$(BIN)/examples/%,$(EXAMPLE_C))
UNITS    := $(patsubst tests/unit/%.c,$(BIN)/tests/%,$(UNIT_C))
ITESTS   := $(patsubst tests/integration/%.c,$(BIN)/tests/%,$(ITEST_C))

.PHONY: all build run test test-soak test-unit test-valgrind bench clean install format lint help deps web
.DEFAULT_GOAL := all
.SECONDARY:

# the CLI's manual page and bash completion, written by the CLI itself from its command table
CLI_DOCS := build/$(FLAVOR)/share/man/man1/annals.1 build/$(FLAVOR)/share/bash-completion/completions/annals

all: $(PROGRAMS) $(LIBDIR)/libannals.a $(LIBDIR)/libannals.so $(EXAMPLES) $(CLI_DOCS)

help:
	@echo "make            build bin/annalsd, bin/annals, bin/annals-bench and libannals"
	@echo "make web        the analyst page (npm ci in clients/web) into $(BIN)/web, served by --http-listen"
	@echo "make run        install missing packages (as root), build, serve ./var/annals on tcp://127.0.0.1:7700"
	@echo "make test       build with ASan+UBSan and run every test; ends with 'N passed, N failed'"
	@echo "make test-soak  10 minutes of mixed load with abusers alongside (SOAK_SECONDS=600)"
	@echo "make bench      load-test figures as ratios against the echo baseline"
	@echo "make install    PREFIX=... DESTDIR=... installs the programs, library, header and pkg-config file"
	@echo "make lint       cppcheck and clang-tidy;  make format: clang-format -i"

deps:
	@sh scripts/deps.sh

# ---- generated code ---------------------------------------------------------
$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -Iproto $<

# every object may include any generated header
$(OBJ)/%.o: %.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/gen/%.o: $(GEN)/%.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-unused-parameter -c $< -o $@

# The built-in data set is embedded in annalsd so that a bare binary serves it.
$(OBJ)/src/server/seed_blob.o: src/server/seed_blob.S $(SEED_JSON)
	@mkdir -p $(dir $@)
	$(CC) -DSEED_PATH='"$(SEED_JSON)"' -c $< -o $@

# `git describe` of the tree, for annalsd --version and annals_build_info
# (ANNALS_GIT=... where there is no .git, e.g. a container build). The header
# is rewritten only when it changes, so only version.c recompiles then.
ANNALS_GIT ?= $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)
$(GEN)/build_info.h: FORCE
	@mkdir -p $(GEN)
	@printf '#define ANNALS_GIT_DESCRIBE "%s"\n' '$(ANNALS_GIT)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(OBJ)/src/server/version.o: $(GEN)/build_info.h
.PHONY: FORCE
FORCE:

# The schema as a FileDescriptorSet (comments included), embedded in annalsd for
# ServerInfo{descriptors}; the CLI decodes it with protobuf's own descriptor.proto
# (Debian's libprotobuf-dev), compiled by protoc-c into the CLI alone.
DESC_SET       := $(GEN)/annals.desc
PB_INCLUDE     ?= /usr/include
PB_DESCRIPTOR  := $(GEN)/google/protobuf/descriptor.pb-c
$(DESC_SET): $(PROTOS)
	@mkdir -p $(GEN)
	protoc-c --descriptor_set_out=$@ --include_imports --include_source_info -Iproto $(PROTOS)

$(OBJ)/src/server/descriptor_blob.o: src/server/descriptor_blob.S $(DESC_SET)
	@mkdir -p $(dir $@)
	$(CC) -DDESC_PATH='"$(DESC_SET)"' -c $< -o $@

$(PB_DESCRIPTOR).c $(PB_DESCRIPTOR).h: $(PB_INCLUDE)/google/protobuf/descriptor.proto
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -I$(PB_INCLUDE) $<

$(call o,$(CLI_C)): $(PB_DESCRIPTOR).h

# ---- programs and libraries -------------------------------------------------
$(BIN)/annalsd: $(OBJ)/src/server/main.o $(SERVER_O) $(KNOW_O) $(STORE_O) $(CLIENT_O) $(COMMON_O) $(PROTO_O)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(SRV_LIBS)

$(BIN)/annals: $(call o,$(CLI_C)) $(OBJ)/gen/google/protobuf/descriptor.pb-c.o $(CLIENT_LIB_O)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LIBS)

build/$(FLAVOR)/share/man/man1/annals.1: $(BIN)/annals
	@mkdir -p $(dir $@)
	$(BIN)/annals manpage > $@

build/$(FLAVOR)/share/bash-completion/completions/annals: $(BIN)/annals
	@mkdir -p $(dir $@)
	$(BIN)/annals completion bash > $@

$(BIN)/annals-bench: $(call o,$(BENCH_C)) $(CLIENT_LIB_O)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LIBS)

$(BIN)/examples/%: $(OBJ)/clients/examples/%.o $(CLIENT_LIB_O)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LIBS)

$(LIBDIR)/libannals.a: $(CLIENT_LIB_O)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The shared library exports only the client API and the contract's
# generated message code (src/client/libannals.map); soname libannals.so.0.
$(LIBDIR)/libannals.so: $(CLIENT_LIB_O) src/client/libannals.map
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libannals.so.$(SOMAJOR) -Wl,--version-script,src/client/libannals.map \
	  $(CLIENT_LIB_O) -o $@ $(LIBS)

# unit tests link everything but the mains; integration tests link the client
$(BIN)/tests/test_%: $(OBJ)/tests/unit/test_%.o $(TESTLIB_O) $(SERVER_O) $(KNOW_O) $(STORE_O) $(CLIENT_O) $(COMMON_O) $(PROTO_O)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(SRV_LIBS)

$(BIN)/tests/test_it_%: $(OBJ)/tests/integration/test_it_%.o $(TESTLIB_O) $(CLIENT_LIB_O)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(SRV_LIBS)

# ---- the web page ------------------------------------------------------------
# vis-timeline (and playwright-core, for the browser test) come from the npm
# registry at build time, pinned by package-lock.json; annalsd serves the
# copies in $(BIN)/web and fetches nothing when the page runs.
WEB_NPM := clients/web/node_modules/.package-lock.json
WEB_OWN := clients/web/index.html clients/web/app.js clients/web/style.css
VIS     := clients/web/node_modules/vis-timeline

$(WEB_NPM): clients/web/package.json clients/web/package-lock.json
	cd clients/web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web: $(BIN)/web/index.html

$(BIN)/web/index.html: $(WEB_OWN) $(WEB_NPM)
	@mkdir -p $(BIN)/web
	cp clients/web/app.js clients/web/style.css $(BIN)/web/
	cp $(VIS)/standalone/umd/vis-timeline-graph2d.min.js $(VIS)/styles/vis-timeline-graph2d.min.css $(BIN)/web/
	cp clients/web/index.html $@

# ---- run, test, bench -------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory all web
	@mkdir -p var
	./bin/annalsd --data var/annals --http-listen http://127.0.0.1:7780 $(ANNALSD_FLAGS)

test: deps
	@$(MAKE) --no-print-directory FLAVOR=asan all tests web
	@bash tests/run.sh build/asan/bin

tests: $(UNITS) $(ITESTS)

# The integration tests with client and server under valgrind (no sanitizers
# in this build: valgrind and ASan do not mix).
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --track-fds=no
test-valgrind: deps
	@$(MAKE) --no-print-directory FLAVOR=valgrind all tests
	@ANNALS_TEST_WRAPPER="$(VALGRIND)" ANNALS_SERVER_WRAPPER="$(VALGRIND)" \
	  bash tests/run.sh build/valgrind/bin test_it_service

# The soak (issue 13): 10 minutes of mixed load with every abuser alongside,
# on the release build (latency and RSS as production sees them). `make test`
# runs the same program for 20 s under ASan.
SOAK_SECONDS ?= 600
test-soak: deps
	@$(MAKE) --no-print-directory all tests
	@rm -rf build/soak-logs
	@ANNALS_SOAK_SECONDS=$(SOAK_SECONDS) ANNALS_TEST_TIMEOUT=$$(( $(SOAK_SECONDS) + 300 )) \
	  ANNALS_TEST_LOGDIR=build/soak-logs bash tests/run.sh bin test_it_soak; \
	  rc=$$?; grep '^soak:' build/soak-logs/test_it_soak.log; exit $$rc

bench:
	@ANNALS_DEPS_BENCH=1 sh scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@bash clients/bench/make-bench.sh
	@bash clients/bench/cluster-bench.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/include/annals/v1 $(DESTDIR)$(PREFIX)/share/annals/proto/annals/v1 \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 build/$(FLAVOR)/share/man/man1/annals.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 build/$(FLAVOR)/share/bash-completion/completions/annals \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/
	install -m 644 $(LIBDIR)/libannals.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBDIR)/libannals.so $(DESTDIR)$(PREFIX)/lib/libannals.so.$(VERSION)
	ln -sf libannals.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libannals.so.$(SOMAJOR)
	ln -sf libannals.so.$(SOMAJOR) $(DESTDIR)$(PREFIX)/lib/libannals.so
	install -m 644 $(PROTOS) $(DESTDIR)$(PREFIX)/share/annals/proto/annals/v1/
	if [ -f $(BIN)/web/index.html ]; then install -d $(DESTDIR)$(PREFIX)/share/annals/web && \
	  install -m 644 $(BIN)/web/* $(DESTDIR)$(PREFIX)/share/annals/web/; fi
	install -m 644 include/annals/*.h $(DESTDIR)$(PREFIX)/include/annals/
	install -m 644 $(PROTO_H) $(DESTDIR)$(PREFIX)/include/annals/v1/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' annals.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/annals.pc

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

lint:
	@bash scripts/lint.sh

clean:
	rm -rf build bin var/test-*

-include $(shell find build/$(FLAVOR)/obj -name '*.d' 2>/dev/null)

# ---- deployment proof (podman; skipped with a message where it cannot run) ---
.PHONY: test-deploy
test-deploy:
	@bash deploy/test-deploy.sh

# ---- fuzzing, crash tests and other hardening targets live beside their tests
-include tests/fuzz/fuzz.mk
-include tests/crash/crash.mk
