#!/usr/bin/env bash
# Ensures what `make test` needs and a fresh machine may lack:
#   - Chromium at /usr/bin/chromium (Debian's package) for the browser tests;
#   - a PostgreSQL server for the dialect tests: GATEHOUSE_TEST_POSTGRES_URL, or
#     127.0.0.1:5432, started from the local cluster when it does not answer;
#   - axe-core (npm) in ~/.cache/gatehouse-axe for the console's accessibility
#     audit (the e2e test reads node_modules/axe-core/axe.min.js there);
#   - nginx and Caddy (Debian's packages) for the reverse-proxy and gateway
#     end-to-end tests, which run their own with their own configuration (no
#     service is left running);
#   - oauth2-proxy (built from the Go module proxy with `go install`) in
#     ~/.cache/gatehouse-bin for the browser-BFF end-to-end test.
# Either it ends with all of them available, or it stops with a one-line reason.
set -euo pipefail

die() { echo "test-deps: $*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi
}

# --- Chromium -------------------------------------------------------------
if [ ! -x /usr/bin/chromium ]; then
	command -v apt-get >/dev/null || die "Chromium is missing at /usr/bin/chromium and apt-get is not available to install it"
	echo "test-deps: installing chromium (apt-get)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
		die "apt-get update failed (root is needed to install chromium)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null ||
		die "apt-get install chromium failed"
	[ -x /usr/bin/chromium ] || die "chromium installed but /usr/bin/chromium is missing"
fi

# --- nginx ------------------------------------------------------------------
# e2e/proxy_test.go starts nginx itself as a reverse proxy in front of
# Gatehouse. Installing the package must not leave a service running on
# port 80, so one that the install started is stopped again.
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
	command -v apt-get >/dev/null || die "nginx is missing and apt-get is not available to install it"
	echo "test-deps: installing nginx (apt-get)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
		die "apt-get update failed (root is needed to install nginx)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null ||
		die "apt-get install nginx failed"
	[ -x /usr/sbin/nginx ] || die "nginx installed but /usr/sbin/nginx is missing"
	as_root /usr/sbin/nginx -s quit >/dev/null 2>&1 || true
fi

# --- Caddy ------------------------------------------------------------------
# e2e/gateway_test.go runs Caddy's forward_auth in front of an upstream, with
# its own Caddyfile; a caddy service the install may start is stopped again.
if ! command -v caddy >/dev/null; then
	command -v apt-get >/dev/null || die "caddy is missing and apt-get is not available to install it"
	echo "test-deps: installing caddy (apt-get)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
		die "apt-get update failed (root is needed to install caddy)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy >/dev/null ||
		die "apt-get install caddy failed"
	command -v caddy >/dev/null || die "caddy installed but not on PATH"
	as_root pkill -x caddy >/dev/null 2>&1 || true
fi

# --- oauth2-proxy -------------------------------------------------------------
# Not in Debian's packages: built once into a cache outside the repository
# (GATEHOUSE_BIN_DIR); e2e/oauth2proxy_test.go runs it from there and fails
# without it.
oauth2_proxy_version=v7.15.6
bin_dir="${GATEHOUSE_BIN_DIR:-$HOME/.cache/gatehouse-bin}"
# The module version recorded in the binary (its --version says "undefined"
# when built by go install).
if ! go version -m "$bin_dir/oauth2-proxy" 2>/dev/null | grep -qE "^\s+mod\s+github.com/oauth2-proxy/oauth2-proxy/v7\s+${oauth2_proxy_version}\s"; then
	command -v go >/dev/null || die "oauth2-proxy is missing in $bin_dir and go is not available to build it"
	echo "test-deps: building oauth2-proxy $oauth2_proxy_version (go install) into $bin_dir"
	mkdir -p "$bin_dir"
	GOBIN="$bin_dir" GOFLAGS=-mod=mod go install "github.com/oauth2-proxy/oauth2-proxy/v7@$oauth2_proxy_version" >/dev/null 2>&1 ||
		die "go install oauth2-proxy $oauth2_proxy_version failed"
	[ -x "$bin_dir/oauth2-proxy" ] || die "oauth2-proxy built but $bin_dir/oauth2-proxy is missing"
fi

# --- axe-core ---------------------------------------------------------------
# Outside the repository: the browser tests inject it into console pages.
axe_dir="${GATEHOUSE_AXE_DIR:-$HOME/.cache/gatehouse-axe}"
if [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
	command -v npm >/dev/null || die "axe-core is missing in $axe_dir and npm is not available to install it"
	echo "test-deps: installing axe-core (npm) into $axe_dir"
	mkdir -p "$axe_dir"
	npm install --prefix "$axe_dir" --no-audit --no-fund --silent axe-core@4 >/dev/null ||
		die "npm install axe-core failed"
	[ -f "$axe_dir/node_modules/axe-core/axe.min.js" ] || die "axe-core installed but axe.min.js is missing"
fi

# --- PostgreSQL -----------------------------------------------------------
answers() { # host port
	timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

if [ -n "${GATEHOUSE_TEST_POSTGRES_URL:-}" ]; then
	echo "test-deps: using GATEHOUSE_TEST_POSTGRES_URL"
elif answers 127.0.0.1 5432; then
	:
else
	command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ] ||
		die "no PostgreSQL answers on 127.0.0.1:5432 and no local cluster to start (set GATEHOUSE_TEST_POSTGRES_URL)"
	ver="$(ls /etc/postgresql | sort -V | tail -n1)"
	echo "test-deps: starting PostgreSQL $ver (pg_ctlcluster)"
	as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start ||
		die "pg_ctlcluster $ver main start failed"
	for _ in $(seq 1 60); do
		answers 127.0.0.1 5432 && break
		sleep 0.5
	done
	answers 127.0.0.1 5432 || die "PostgreSQL $ver started but 127.0.0.1:5432 does not answer"
fi
echo "test-deps: chromium, nginx, caddy, oauth2-proxy, axe-core and PostgreSQL ready"
