# libFuzzer targets: included by the top-level Makefile.
#
#   make fuzz            build with clang (-fsanitize=fuzzer,address,undefined)
#                        and run each target FUZZ_SECONDS (default 60) from its
#                        corpus, after replaying tests/fuzz/regressions/<target>/
#   make fuzz-smoke      the same, ~20 s per target (what the test suite runs)
#   make fuzz-build      only build build/fuzz/fuzz_*
#   make fuzz-seeds      regenerate the committed seed corpora in tests/fuzz/corpus/
#   make fuzz-regress    replay only the regression inputs (quick)
#
# Everything is compiled here with clang into build/fuzz/: the main build's
# objects come from $(CC) (gcc) without the fuzzer's coverage hooks. Only
# src/common, src/knowledge, src/store and the generated protobuf code are linked: no nng,
# no server threads. See tests/fuzz/README.md.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_DIR     := build/fuzz
FUZZ_TARGETS := envelope json_import date
FUZZ_BINS    := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link $(WARN) -DANNALS_VERSION='"$(VERSION)"' \
                -Iinclude -Isrc -I$(GEN) -DFUZZ_SEED_JSON='"$(abspath $(SEED_JSON))"'
FUZZ_LIBS    := -lmbedcrypto -lprotobuf-c -llmdb -ljansson -lpthread -lm
FUZZ_LIB_C   := $(COMMON_C) $(KNOW_C) $(STORE_C) $(PROTO_C)
fuzz_o        = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(patsubst $(GEN)/%,gen/%,$(1)))
FUZZ_LIB_O   := $(call fuzz_o,$(FUZZ_LIB_C))

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-seeds fuzz-regress

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: $(FUZZ_BINS)
	@bash tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz-regress: $(FUZZ_BINS)
	@bash tests/fuzz/run.sh 0 $(FUZZ_TARGETS)

fuzz-seeds: $(FUZZ_DIR)/gen_seeds
	$(FUZZ_DIR)/gen_seeds tests/fuzz/corpus

$(FUZZ_DIR)/obj/%.o: %.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/gen/%.o: $(GEN)/%.c $(PROTO_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Wno-unused-parameter -c $< -o $@

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB_O)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $^ -o $@ $(FUZZ_LIBS)

# The seed generator is an ordinary program (no fuzzer main) built from the
# same sanitized objects, so it also checks that every seed is valid.
$(FUZZ_DIR)/gen_seeds: $(FUZZ_DIR)/obj/tests/fuzz/gen_seeds.o $(FUZZ_LIB_O)
	$(FUZZ_CC) $(FUZZ_SAN) $^ -o $@ $(FUZZ_LIBS)

# The test suite runs the smoke fuzz through this wrapper (tests/run.sh runs
# every $(BIN)/tests/test_*); it is a script, copied, not compiled.
tests: $(BIN)/tests/test_fuzz_smoke
$(BIN)/tests/test_fuzz_smoke: tests/fuzz/test_fuzz_smoke.sh
	@mkdir -p $(dir $@)
	cp $< $@ && chmod +x $@

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
