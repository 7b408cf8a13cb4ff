# The crash test: included by the top-level Makefile.
#
#   make test-crash        CRASH_KILLS=100 SIGKILLs of annalsd under write load
#                          (the release build; FLAVOR=asan for the sanitized one)
#   make tests             also builds $(BIN)/tests/test_crash, which
#                          tests/run.sh (make test) runs with 20 kills
#
# CRASH_SEED=n replays a run's random choices; CRASH_WRITERS=n sets the
# writer threads (default 4); CRASH_KEEP=1 keeps the data directory and logs.
# See tests/crash/test_crash.c for what is checked.

CRASH_KILLS ?= 100

.PHONY: test-crash

tests: $(BIN)/tests/test_crash

$(BIN)/tests/test_crash: $(OBJ)/tests/crash/test_crash.o $(TESTLIB_O) $(CLIENT_LIB_O)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(SRV_LIBS)

test-crash: $(BIN)/annalsd $(BIN)/annals-bench $(BIN)/tests/test_crash
	@ANNALS_BIN=$(abspath $(BIN)) CRASH_KILLS=$(CRASH_KILLS) $(BIN)/tests/test_crash
