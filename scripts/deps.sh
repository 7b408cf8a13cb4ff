#!/bin/sh
# Installs the Debian packages annals builds and tests with, when missing.
# As root it runs apt-get; otherwise it says what to install and stops.
set -eu
PKGS="build-essential pkg-config clang libclang-rt-14-dev libnng-dev libprotobuf-c-dev protobuf-c-compiler \
liblmdb-dev lmdb-utils libjansson-dev libcurl4-openssl-dev etcd-server nng-utils protobuf-compiler libprotobuf-dev openssl python3 valgrind chromium"
# make bench also runs Debian's Redis as its durable-write baseline
[ "${ANNALS_DEPS_BENCH:-0}" = 1 ] && PKGS="$PKGS redis-server redis-tools"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# the web page's build runs npm; a Node.js from elsewhere (nodesource) is
# fine, and Debian's npm would conflict with it: only when there is none
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "annals: these Debian packages are missing:$missing" >&2
	echo "annals: install them with: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "annals: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
