#!/usr/bin/env bash
# Load run on loopback with wrk: a hello-world Go server (the machine's
# ceiling), then Gatehouse on SQLite (fresh data dir) and, when reachable, on
# PostgreSQL (fresh schema). Prints req/s and p99 per endpoint and connection
# count, plus binary size, start-to-ready time and idle RSS.
#
#   scripts/load.sh                    # 16 and 64 connections, 10 s each
#   DURATION=5s CONNS="64" USERS=1000 scripts/load.sh
#
# Before the measured start the database is seeded with USERS users
# (default 100,000) so the user list is read from a realistic table.
#
# Every request goes to 127.0.0.1; every run is bounded by DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

DURATION="${DURATION:-10s}"
USERS="${USERS:-100000}"
CONNS="${CONNS:-16 64}"
THREADS="${THREADS:-2}"
PORT="${PORT:-18080}"
HELLO_PORT="${HELLO_PORT:-18090}"
PG_URL="${GATEHOUSE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"

die() { echo "load: $*" >&2; exit 1; }

if ! command -v wrk >/dev/null; then
	echo "load: installing wrk (apt-get)"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } >/dev/null ||
		die "wrk is missing and could not be installed"
fi
command -v curl >/dev/null || die "curl is required"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -n "${PG_SCHEMA:-}" ] && command -v psql >/dev/null; then
		psql -q "$PG_URL" -c "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE" >/dev/null 2>&1 || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

echo "== building"
make -s build
go build -o "$WORK/hello" ./scripts/hello
go build -o "$WORK/seedusers" ./scripts/seedusers
BIN="$PWD/bin/gatehouse"
SIZE=$(stat -c %s "$BIN")
MIB=$(awk -v s="$SIZE" 'BEGIN {printf "%.1f", s/1048576}')
echo "binary: bin/gatehouse, $SIZE bytes ($MIB MiB)"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$WORK/gatehouse-stripped" ./cmd/gatehouse
SSIZE=$(stat -c %s "$WORK/gatehouse-stripped")
SMIB=$(awk -v s="$SSIZE" 'BEGIN {printf "%.1f", s/1048576}')
echo "binary stripped (-s -w, as in the Dockerfile): $SSIZE bytes ($SMIB MiB)"

RESULTS="$WORK/results.md"
printf '| target | endpoint | conns | req/s | p50 | p99 | non-2xx |\n| --- | --- | --- | --- | --- | --- | --- |\n' >"$RESULTS"

# wrk_run TARGET NAME URL [LUA]
wrk_run() {
	local target=$1 name=$2 url=$3 lua=${4:-}
	for c in $CONNS; do
		local out="$WORK/wrk.out" args=(-t"$THREADS" -c"$c" -d"$DURATION" --latency)
		[ -n "$lua" ] && args+=(-s "$lua")
		wrk "${args[@]}" "$url" >"$out" 2>&1 || { echo "wrk failed for $name:"; cat "$out"; continue; }
		local rps p50 p99 bad
		rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
		p50=$(awk '$1=="50%" {print $2}' "$out")
		p99=$(awk '$1=="99%" {print $2}' "$out")
		bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out")
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$target" "$name" "$c" "$rps" "$p50" "$p99" "${bad:-0}" | tee -a "$RESULTS"
	done
}

# wait_ready URL PID → prints milliseconds from now until 200
now_ms() { date +%s%3N; }
wait_ready() {
	local url=$1 pid=$2 start=$3
	for _ in $(seq 1 3000); do
		kill -0 "$pid" 2>/dev/null || return 1
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ]; then
			echo $(($(now_ms) - start))
			return 0
		fi
		sleep 0.01
	done
	return 1
}

echo "== hello-world Go server (machine ceiling)"
"$WORK/hello" -addr "127.0.0.1:$HELLO_PORT" &
PIDS+=($!)
wait_ready "http://127.0.0.1:$HELLO_PORT/" "${PIDS[-1]}" "$(now_ms)" >/dev/null || die "hello server did not start"
wrk_run hello "GET /" "http://127.0.0.1:$HELLO_PORT/"

# bench_gatehouse LABEL DATABASE_URL
bench_gatehouse() {
	local label=$1 dburl=$2 dir="$WORK/$1"
	mkdir -p "$dir"
	local base="http://localhost:$PORT"
	export GATEHOUSE_ADDR="127.0.0.1:$PORT" GATEHOUSE_ISSUER="$base" GATEHOUSE_DATABASE_URL="$dburl"
	export GATEHOUSE_MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
	export GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL="admin@example.com"
	export GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD="load-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	export GATEHOUSE_LOG_FORMAT=json
	echo "== gatehouse on $label"
	local start pid ready first
	# The first start generates signing keys and hashes the bootstrap
	# admin's password; it is reported apart from an ordinary restart.
	start=$(now_ms)
	(cd "$dir" && exec "$BIN" serve >"$dir/first.log" 2>&1) &
	pid=$!
	first=$(wait_ready "$base/readyz" "$pid" "$start") || { tail -20 "$dir/first.log"; die "gatehouse ($label) did not become ready"; }
	kill "$pid"; wait "$pid" 2>/dev/null || true
	echo "seeding $USERS users"
	(cd "$dir" && "$WORK/seedusers" -n "$USERS" -database-url "$dburl") || die "seeding users failed"

	start=$(now_ms)
	(cd "$dir" && exec "$BIN" serve >"$dir/server.log" 2>&1) &
	pid=$!
	PIDS+=($pid)
	ready=$(wait_ready "$base/readyz" "$pid" "$start") || { tail -20 "$dir/server.log"; die "gatehouse ($label) did not become ready"; }
	sleep 2
	local rss anon
	rss=$(awk '/^VmRSS:/ {print $2, $3}' "/proc/$pid/status")
	anon=$(awk '/^RssAnon:/ {print $2, $3}' "/proc/$pid/status")
	echo "first start to ready: ${first} ms; restart to ready: ${ready} ms; idle RSS: $rss (anonymous $anon)" | tee -a "$WORK/facts"
	printf '| %s | first start to ready | | %s ms | | | |\n| %s | restart to ready (%s users) | | %s ms | | | |\n| %s | idle RSS (anonymous) | | %s (%s) | | | |\n' "$label" "$first" "$label" "$USERS" "$ready" "$label" "$rss" "$anon" >>"$RESULTS"

	wrk_run "$label" "GET /healthz" "$base/healthz"

	local disc jwks token introspect
	disc=$(curl -sf "$base/.well-known/openid-configuration" || true)
	if [ -n "$disc" ]; then
		wrk_run "$label" "GET /.well-known/openid-configuration" "$base/.well-known/openid-configuration"
		jwks=$(grep -o '"jwks_uri":"[^"]*"' <<<"$disc" | cut -d'"' -f4)
		[ -n "$jwks" ] && wrk_run "$label" "GET jwks ($(sed "s#$base##" <<<"$jwks"))" "$jwks"
	else
		echo "(no OIDC discovery: the oidc module is not wired; skipping OIDC endpoints)"
	fi

	local key
	if key=$(cd "$dir" && "$BIN" apikeys create --user admin@example.com --name load 2>"$dir/cli.err"); then
		for i in $(seq 1 60); do
			curl -s -o /dev/null -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
				-d "{\"email\":\"load$i@example.com\",\"name\":\"Load $i\"}" "$base/api/v1/users"
		done
		local lua="$WORK/api.lua"
		printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$key" >"$lua"
		wrk_run "$label" "GET /api/v1/users?page_size=50" "$base/api/v1/users?page_size=50" "$lua"
	else
		echo "(apikeys create failed: $(cat "$dir/cli.err"); skipping the API run)"
	fi

	token=$(grep -o '"token_endpoint":"[^"]*"' <<<"$disc" | cut -d'"' -f4 || true)
	introspect=$(grep -o '"introspection_endpoint":"[^"]*"' <<<"$disc" | cut -d'"' -f4 || true)
	local client
	if [ -n "$token" ] && client=$(cd "$dir" && "$BIN" clients create --name load --grant-type client_credentials 2>"$dir/cli.err"); then
		local id secret basic
		id=$(grep -o '"client_id": *"[^"]*"' <<<"$client" | sed 's/.*"\([^"]*\)"$/\1/')
		secret=$(grep -o '"client_secret": *"[^"]*"' <<<"$client" | sed 's/.*"\([^"]*\)"$/\1/')
		basic=$(printf '%s:%s' "$id" "$secret" | base64 -w0)
		local lua="$WORK/token.lua"
		cat >"$lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
wrk.body = "grant_type=client_credentials"
LUA
		wrk_run "$label" "POST token (client_credentials)" "$token" "$lua"
		local at
		at=$(curl -s -u "$id:$secret" -d grant_type=client_credentials "$token" | grep -o '"access_token":"[^"]*"' | cut -d'"' -f4 || true)
		if [ -n "$introspect" ] && [ -n "$at" ]; then
			lua="$WORK/introspect.lua"
			cat >"$lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
wrk.body = "token=$at"
LUA
			wrk_run "$label" "POST introspection" "$introspect" "$lua"
		fi
	else
		echo "(no token endpoint or clients create failed; skipping token/introspection)"
	fi

	kill -TERM "$pid"
	wait "$pid" || echo "gatehouse ($label) exited with $? after SIGTERM"
	unset GATEHOUSE_ADDR GATEHOUSE_ISSUER GATEHOUSE_DATABASE_URL GATEHOUSE_MASTER_KEY \
		GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD GATEHOUSE_LOG_FORMAT
}

bench_gatehouse sqlite "sqlite:$WORK/sqlite/data/gatehouse.db"

if command -v psql >/dev/null && psql -q "$PG_URL" -c 'select 1' >/dev/null 2>&1; then
	PG_SCHEMA="load_$$"
	psql -q "$PG_URL" -c "CREATE SCHEMA $PG_SCHEMA" >/dev/null
	sep='?'; [[ "$PG_URL" == *\?* ]] && sep='&'
	bench_gatehouse postgres "${PG_URL}${sep}search_path=$PG_SCHEMA"
else
	echo "(PostgreSQL not reachable at $PG_URL; skipping the PostgreSQL run)"
fi

echo
echo "== summary (binary $MIB MiB, stripped $SMIB MiB; wrk -t$THREADS, $DURATION per run)"
cat "$RESULTS"
