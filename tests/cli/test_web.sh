#!/usr/bin/env bash
# The analyst page in headless Chromium (Debian's chromium, driven by
# playwright-core from clients/web/node_modules): a real annalsd serving the
# built-in data set and the page built by `make web` into $ANNALS_BIN/web.
# Screenshots go to $ANNALS_TEST_LOGDIR (or a temporary directory): artefacts,
# never committed. The checks are in tests/web/page.test.mjs.
. "$(dirname "$0")/lib.sh"
if [ ! -f "$ANNALS_BIN/web/index.html" ]; then
	fail "web: the page is built" "no $ANNALS_BIN/web/index.html: run make web (FLAVOR=...)"
	finish
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	fail "web: chromium is installed" "no ${CHROMIUM:-/usr/bin/chromium}: apt-get install chromium (make deps does)"
	finish
fi
port=$(free_port)
start_server --http-listen "http://127.0.0.1:$port"
# and one with tokens, for the page's token field
token="reader-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
printf 'reader %s\n' "$token" >"$CLI_TMP/tokens"
tport=$(free_port)
start_server --tokens "$CLI_TMP/tokens" --http-listen "http://127.0.0.1:$tport"
shots=${ANNALS_TEST_LOGDIR:-$CLI_TMP}/web-screenshots
mkdir -p "$shots"
node "$ANNALS_ROOT/tests/web/page.test.mjs" "http://127.0.0.1:$port" "$shots" "http://127.0.0.1:$tport" "$token"
[ $? -eq 0 ] || CLI_FAILS=$((CLI_FAILS + 1))
echo "screenshots: $shots"
finish
