# tools/lib.sh -- shared helpers for conductor's shell tools. Source it; do not run it.
# shellcheck shell=bash
#
#   say / warn / die        one-line messages on stderr, prefixed with the tool's name
#   ensure_deps             installs the Debian packages the build and the stack need,
#                           only when something is missing
#   ensure_test_deps        installs what only the tests need (the browser test's
#                           Chromium, the OpenAPI test's validator), only when something
#                           is missing; tools/check calls it, tools/up does not
#   build_tree DIR [ARGS]   autoreconf when needed, configure DIR out of tree (again when
#                           ARGS change), make
#   pg_bindir               the newest PostgreSQL server bin directory
#   as_pg CMD...            runs CMD as the user PostgreSQL runs as (postgres when we are root)
#   wait_until SECS CMD...  polls CMD every 0.1 s until it succeeds or SECS pass
#
# Rules: nothing here starts a server; paths of the machine are discovered at run
# time, never written down.

set -euo pipefail

CD_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CD_TOOL=${CD_TOOL:-$(basename "$0")}

# Debian packages that provide everything ensure_deps checks for.
CD_PACKAGES=(build-essential autoconf automake libtool pkg-config libpq-dev libhiredis-dev
	libjson-c-dev libcurl4-openssl-dev libcunit1-dev libfcgi-dev postgresql postgresql-client
	redis-server curl ca-certificates python3)
CD_PKG_MODULES=(libpq hiredis json-c libcurl cunit)
CD_COMMANDS=(autoreconf aclocal automake make cc pkg-config psql redis-server redis-cli nginx curl
	python3)

# Debian packages only the tests need: the status pages' browser test
# (tests/browser/) drives headless Chromium with python3-selenium.
CD_TEST_PACKAGES=(chromium chromium-driver python3-selenium)
# npm packages only the tests need, installed globally (npm install -g): the
# validator test_openapi checks GET /v1/openapi.json with (the official
# OpenAPI 3.1 JSON Schema, and Ajv; tests/http/validate_openapi.mjs). Node.js
# and npm come from Debian (CD_TEST_NODE) when the machine has none.
CD_TEST_NPM=(@seriousme/openapi-schema-validator@2.11.0)
CD_TEST_NODE=(nodejs npm)

say() { printf '%s: %s\n' "$CD_TOOL" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$CD_TOOL" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "$CD_TOOL" "$*" >&2
	exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }

# Runs "$@" as root: directly when we are root, else through sudo.
as_root() {
	if is_root; then
		"$@"
	elif have_cmd sudo; then
		sudo "$@"
	else
		die "need root for: $* (run as root or install sudo)"
	fi
}

# Prints the newest PostgreSQL server bin directory (Debian keeps one per major
# version), or the directory of an initdb on PATH; nothing when there is none.
pg_bindir() {
	local dir
	dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
		printf '%s\n' "$dir"
	elif have_cmd initdb && have_cmd pg_ctl; then
		dirname "$(command -v initdb)"
	fi
}

# PostgreSQL refuses to run as root: as root, run its programs as postgres.
as_pg() {
	if is_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# wait_until SECONDS CMD... -- true as soon as CMD succeeds, false after SECONDS.
wait_until() {
	local tries=$(($1 * 10))
	shift
	while ((tries-- > 0)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# Prints one line per missing tool, header or pkg-config module.
missing_deps() {
	local c
	for c in "${CD_COMMANDS[@]}"; do
		have_cmd "$c" || echo "command $c"
	done
	for c in "${CD_PKG_MODULES[@]}"; do
		have_cmd pkg-config && pkg-config --exists "$c" || echo "pkg-config module $c"
	done
	if ! have_cmd cc || ! printf '#include <fcgiapp.h>\n' | cc -E -x c - >/dev/null 2>&1; then
		echo "header fcgiapp.h"
	fi
	[ -n "$(pg_bindir)" ] || echo "PostgreSQL server (initdb, pg_ctl)"
	if is_root && ! id postgres >/dev/null 2>&1; then echo "user postgres"; fi
	return 0
}

# nginx-light where the release still has it (bookworm), else nginx.
nginx_package() {
	if apt-cache show nginx-light >/dev/null 2>&1; then echo nginx-light; else echo nginx; fi
}


# Installs the packages when anything the build or the stack needs is missing.
ensure_deps() {
	local missing
	missing=$(missing_deps)
	[ -n "$missing" ] || return 0
	say "missing: $(printf '%s' "$missing" | paste -sd ',' | sed 's/,/, /g')"
	have_cmd apt-get || die "no apt-get here: install the above by hand (see README.md)"
	say "installing packages with apt-get"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update
	as_root env DEBIAN_FRONTEND=noninteractive apt-get -q install -y \
		--no-install-recommends "${CD_PACKAGES[@]}" "$(nginx_package)"
	hash -r
	missing=$(missing_deps)
	[ -z "$missing" ] || die "still missing after apt-get install: $(printf '%s' "$missing" | paste -sd ',')"
}

# Prints one line per missing test-only tool.
missing_test_deps() {
	local py ok=""
	have_cmd chromium || echo "command chromium"
	have_cmd chromedriver || echo "command chromedriver"
	for py in python3 /usr/bin/python3; do
		have_cmd "$py" && "$py" -c 'import selenium' 2>/dev/null && ok=1
	done
	[ -n "$ok" ] || echo "python3 module selenium"
	missing_test_npm
	return 0
}

# Prints one line per npm package of CD_TEST_NPM not installed globally at
# its version (or "command npm" when there is no npm).
missing_test_npm() {
	local root spec name
	if ! have_cmd npm || ! have_cmd node; then
		echo "command npm"
		return 0
	fi
	root=$(npm root -g 2>/dev/null) || root=""
	for spec in "${CD_TEST_NPM[@]}"; do
		name=${spec%@*}
		grep -qs "\"version\": *\"${spec##*@}\"" "$root/$name/package.json" || echo "npm package $spec"
	done
}

# Installs the test-only packages when one is missing.
ensure_test_deps() {
	local missing
	missing=$(missing_test_deps)
	[ -n "$missing" ] || return 0
	say "missing for the tests: $(printf '%s' "$missing" | paste -sd ',' | sed 's/,/, /g')"
	if printf '%s\n' "$missing" | grep -qv '^npm package '; then
		have_cmd apt-get || die "no apt-get here: install ${CD_TEST_PACKAGES[*]} by hand (see README.md)"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update
		as_root env DEBIAN_FRONTEND=noninteractive apt-get -q install -y \
			--no-install-recommends "${CD_TEST_PACKAGES[@]}"
		have_cmd npm || as_root env DEBIAN_FRONTEND=noninteractive apt-get -q install -y \
			--no-install-recommends "${CD_TEST_NODE[@]}"
		hash -r
	fi
	if [ -n "$(missing_test_npm)" ]; then
		as_root npm install -g --no-fund --no-audit "${CD_TEST_NPM[@]}"
	fi
	missing=$(missing_test_deps)
	[ -z "$missing" ] || die "still missing after apt-get install: $(printf '%s' "$missing" | paste -sd ',')"
}

# Runs autoreconf in the repository when configure is missing or older than
# what it is generated from.
autoreconf_if_needed() {
	if [ ! -x "$CD_REPO/configure" ] || [ "$CD_REPO/configure.ac" -nt "$CD_REPO/configure" ] ||
		[ ! -f "$CD_REPO/Makefile.in" ] || [ "$CD_REPO/Makefile.am" -nt "$CD_REPO/Makefile.in" ]; then
		say "autoreconf -fi"
		(cd "$CD_REPO" && autoreconf -fi)
	fi
}

# build_tree DIR [CONFIGURE ARGS...] -- an out-of-tree build in DIR. configure
# runs when DIR has no Makefile or ARGS differ from the last run's (kept in
# DIR/.configure-args); then make.
build_tree() {
	local dir=$1 want have=""
	shift
	autoreconf_if_needed
	mkdir -p "$dir"
	want="${*:-}"
	[ -f "$dir/.configure-args" ] && have=$(cat "$dir/.configure-args")
	if [ ! -f "$dir/Makefile" ] || [ ! -f "$dir/.configure-args" ] || [ "$have" != "$want" ]; then
		# Objects do not depend on configure's flags: clean, or objects built
		# with the old flags (say, sanitizers) would be linked with the new.
		if [ -f "$dir/Makefile" ]; then make -C "$dir" -s clean >/dev/null 2>&1 || true; fi
		say "configure ${want:-(no arguments)} in $dir"
		rm -f "$dir/.configure-args"
		if ! (cd "$dir" && "$CD_REPO/configure" "$@" >configure.out 2>&1); then
			tail -n 20 "$dir/configure.out" >&2
			die "configure failed: see $dir/configure.out and $dir/config.log"
		fi
		printf '%s\n' "$want" >"$dir/.configure-args"
	fi
	say "make in $dir"
	make -C "$dir" -j2
}
