#!/usr/bin/env bash
# libannals as another project links it: `make install DESTDIR=...` into a
# temporary tree, then clients/examples/registry_client.c built with nothing
# but `cc app.c $(pkg-config --cflags --libs annals)` (shared) and with
# `pkg-config --static` (static), each run against a real annalsd. The
# shared library exports only annals_* and the contract's annals__v1__*
# code, under its soname; the .proto files are installed for other languages.
. "$(dirname "$0")/lib.sh"
DEST="$CLI_TMP/dest"
PREFIX=/usr/local
if ! make -s -j2 -C "$ANNALS_ROOT" install DESTDIR="$DEST" PREFIX="$PREFIX" >"$CLI_TMP/install.log" 2>&1; then
	fail "make install DESTDIR=..." "$(tail -n 5 "$CLI_TMP/install.log")"
	finish
fi
pass "make install DESTDIR=... PREFIX=$PREFIX"
LIB="$DEST$PREFIX/lib"
export PKG_CONFIG_PATH="$LIB/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$DEST"
check "annals.pc is found" pkg-config --exists annals
check "the .proto files are installed" test -f "$DEST$PREFIX/share/annals/proto/annals/v1/service.proto"
check "the method table header is installed" test -f "$DEST$PREFIX/include/annals/methods.h"
check "libannals.so carries its soname" sh -c "readelf -d '$LIB/libannals.so' | grep -q 'SONAME.*libannals.so.0'"
check "libannals.so.0 is a link to the versioned file" test -L "$LIB/libannals.so.0"

nm -D --defined-only "$LIB/libannals.so" | awk '{print $3}' | grep -v -e '^annals_' -e '^annals__v1__' \
	-e '^ANNALS_0$' >"$CLI_TMP/stray" || true
check "libannals.so exports only annals_* and annals__v1__* ($(wc -l <"$CLI_TMP/stray") others)" \
	test ! -s "$CLI_TMP/stray"
nm -D --defined-only "$LIB/libannals.so" | grep -q ' annals_members@'
check "libannals.so exports the client API (annals_members)" test $? -eq 0

APP="$ANNALS_ROOT/clients/examples/registry_client.c"
# shellcheck disable=SC2046 # pkg-config's words are meant to split
cc -std=c11 "$APP" -o "$CLI_TMP/app" $(pkg-config --cflags --libs annals) 2>"$CLI_TMP/cc.log"
check "cc app.c \$(pkg-config --cflags --libs annals) builds ($(head -c 300 "$CLI_TMP/cc.log"))" test -x "$CLI_TMP/app"
# shellcheck disable=SC2046
cc -std=c11 "$APP" -o "$CLI_TMP/app-static" $(pkg-config --cflags annals) $(pkg-config --libs-only-L annals) \
	-Wl,-Bstatic -lannals -Wl,-Bdynamic $(pkg-config --static --libs-only-l annals | sed 's/-lannals//') \
	2>"$CLI_TMP/cc-static.log"
check "the same with pkg-config --static builds ($(head -c 300 "$CLI_TMP/cc-static.log"))" test -x "$CLI_TMP/app-static"
check "the static program does not need libannals.so" \
	sh -c "! readelf -d '$CLI_TMP/app-static' | grep -q 'NEEDED.*libannals'"

start_server
if [ -x "$CLI_TMP/app" ]; then
	expect_exit 0 env LD_LIBRARY_PATH="$LIB" "$CLI_TMP/app" "$URL"
	check "the shared-library program ran against annalsd" test -s "$OUT"
fi
if [ -x "$CLI_TMP/app-static" ]; then
	expect_exit 0 "$CLI_TMP/app-static" "$URL"
	check "the static program ran against annalsd" test -s "$OUT"
fi
finish
