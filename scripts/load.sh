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
go build -o "$WORK/codeflow" ./scripts/codeflow
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

# gateway_run TARGET BASE DIR KEY TOKEN_URL: an API registered with the CLI,
# then GET /forward-auth with an API key (the gateway's question, JWT cached)
# and POST token exchange of the key for a 5-minute JWT for that API.
gateway_run() {
	local target=$1 base=$2 dir=$3 key=$4 token=$5 api="https://api.load.test"
	(cd "$dir" && "$BIN" resources create --identifier "$api" --name load --scope "users:read" >/dev/null 2>"$dir/cli.err") ||
		{ echo "(resources create failed; skipping gateway runs)"; return; }
	local lua="$WORK/forward.lua"
	cat >"$lua" <<LUA
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $key"
LUA
	echo "forward-auth answers: $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$base/forward-auth?resource=$api")"
	wrk_run "$target" "GET /forward-auth (API key, JWT cached)" "$base/forward-auth?resource=$api" "$lua"
	local client id secret basic
	client=$(cd "$dir" && "$BIN" clients create --name gateway --grant-type token_exchange 2>"$dir/cli.err") ||
		{ echo "(clients create --grant-type token_exchange failed; skipping token exchange)"; return; }
	id=$(grep -o '"client_id": *"[^"]*"' <<<"$client" | sed 's/.*"\([^"]*\)"$/\1/')
	secret=$(grep -o '"client_secret": *"[^"]*"' <<<"$client" | sed 's/.*"\([^"]*\)"$/\1/')
	basic=$(printf '%s:%s' "$id" "$secret" | base64 -w0)
	lua="$WORK/exchange.lua"
	cat >"$lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
wrk.body = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=$key&subject_token_type=urn%3Agatehouse%3Aparams%3Aoauth%3Atoken-type%3Aapi-key&resource=$api"
LUA
	wrk_run "$target" "POST token exchange (API key → JWT)" "$token" "$lua"
}

echo "== hello-world Go server (machine ceiling)"
"$WORK/hello" -addr "127.0.0.1:$HELLO_PORT" &
PIDS+=($!)
wait_ready "http://127.0.0.1:$HELLO_PORT/" "${PIDS[-1]}" "$(now_ms)" >/dev/null || die "hello server did not start"
wrk_run hello "GET /" "http://127.0.0.1:$HELLO_PORT/"

# authzen_run TARGET BASE DIR KEY: 1,000 roles and 10,000 rules (Casbin CSV
# import), a user with three of the roles, then POST /access/v1/evaluation
# twice: the same question every time (the decision cache answers) and a
# resource id that changes with every request (the cache misses).
authzen_run() {
	local target=$1 base=$2 dir=$3 key=$4 i j bad=0 code
	echo "creating 1,000 roles and importing 10,000 rules"
	for i in $(seq 1 1000); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
			-d "{\"name\":\"r$i\",\"description\":\"load role $i\"}" "$base/api/v1/roles" || true)
		[ "$code" = 201 ] || bad=$((bad + 1))
	done
	[ "$bad" = 0 ] || { echo "(creating roles failed $bad times; skipping AuthZEN)"; return 0; }
	local csv="$WORK/policies.csv"
	: >"$csv"
	for i in $(seq 1 1000); do
		for j in $(seq 1 10); do printf 'p, role:r%d, doc%d:*, read, allow, \n' "$i" "$j"; done
	done >"$csv"
	if ! curl -sf -o "$dir/import.out" -H "Authorization: Bearer $key" -H 'Content-Type: text/csv' \
		--data-binary "@$csv" "$base/api/v1/policies/import"; then
		echo "(policy import failed: $(cat "$dir/import.out" 2>/dev/null); skipping AuthZEN)"
		return 0
	fi
	echo "imported: $(cat "$dir/import.out")"
	local uid
	if ! uid=$(cd "$dir" && printf '%s\n' "authz-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" |
		"$BIN" users create --email authzen@example.com --role r1 --role r2 --role r3 --password-stdin 2>"$dir/cli.err"); then
		echo "(users create failed: $(cat "$dir/cli.err"); skipping AuthZEN)"
		return 0
	fi
	local body="{\"subject\":{\"type\":\"user\",\"id\":\"$uid\"},\"action\":{\"name\":\"read\"},\"resource\":{\"type\":\"doc3\",\"id\":\"x\"}}"
	local answer
	answer=$(curl -s -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body" "$base/access/v1/evaluation" || true)
	echo "evaluation answers: $answer"
	grep -q '"decision": *true' <<<"$answer" || echo "(warning: the decision is not true; the rows below measure a denial)"
	local lua="$WORK/authzen.lua"
	cat >"$lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
wrk.body = '$body'
LUA
	wrk_run "$target" "POST /access/v1/evaluation, cached (same question)" "$base/access/v1/evaluation" "$lua"
	lua="$WORK/authzen-varied.lua"
	cat >"$lua" <<LUA
-- every request asks about another resource id (thread number + counter),
-- so the decision cache never answers
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
function request()
	counter = counter + 1
	return wrk.format(nil, nil, nil,
		'{"subject":{"type":"user","id":"$uid"},"action":{"name":"read"},"resource":{"type":"doc3","id":"x' .. tostring(tid) .. '-' .. counter .. '"}}')
end
LUA
	wrk_run "$target" "POST /access/v1/evaluation, varied resource ids" "$base/access/v1/evaluation" "$lua"
}

# codeflow_row TARGET NAME CONNS ARGS... : one codeflow run, one table row.
codeflow_row() {
	local target=$1 name=$2 c=$3
	shift 3
	local out="$WORK/codeflow.out"
	if ! "$WORK/codeflow" -c "$c" -duration "$DURATION" "$@" >"$out" 2>&1; then
		echo "codeflow failed for $name:"; cat "$out"; return 0
	fi
	grep -v '^RESULT' "$out"
	local line rate p50 p99 errs thr note
	line=$(grep '^RESULT' "$out")
	rate=$(sed 's/.* rate=\([^ ]*\).*/\1/' <<<"$line")
	p50=$(sed 's/.* p50=\([^ ]*\).*/\1/' <<<"$line")
	p99=$(sed 's/.* p99=\([^ ]*\).*/\1/' <<<"$line")
	errs=$(sed 's/.* errors=\([^ ]*\).*/\1/' <<<"$line")
	thr=$(sed 's/.* throttled=\([^ ]*\).*/\1/' <<<"$line")
	note="$errs errors"
	[ "$thr" != 0 ] && note="$note, $thr throttled by the per-IP limit (429)"
	printf '| %s | %s | %s | %s flows/s | %s | %s | %s |\n' "$target" "$name" "$c" "$rate" "$p50" "$p99" "$note" | tee -a "$RESULTS"
}

# codeflow_run TARGET BASE DIR: the full authorization-code flow with a
# first-party client: re-using one session (no password step), then a fresh
# sign-in per flow from 127.0.0.1 (sign-in protection allows 60 attempts a
# minute per source address, so this is capped by design), then a fresh
# sign-in per flow spread over 64 loopback source addresses.
codeflow_run() {
	local target=$1 base=$2 dir=$3 client id secret pw
	if ! client=$(cd "$dir" && "$BIN" clients create --name flow --first-party --redirect-uri http://127.0.0.1:9/cb 2>"$dir/cli.err"); then
		echo "(clients create failed: $(cat "$dir/cli.err"); skipping the code flow)"
		return 0
	fi
	id=$(grep -o '"client_id": *"[^"]*"' <<<"$client" | sed 's/.*"\([^"]*\)"$/\1/')
	secret=$(grep -o '"client_secret": *"[^"]*"' <<<"$client" | sed 's/.*"\([^"]*\)"$/\1/')
	pw="flow-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	if ! (cd "$dir" && printf '%s\n' "$pw" | "$BIN" users create --email flow@example.com --name Flow --password-stdin >/dev/null 2>"$dir/cli.err"); then
		echo "(users create failed: $(cat "$dir/cli.err"); skipping the code flow)"
		return 0
	fi
	local args=(-issuer "$base" -client-id "$id" -client-secret "$secret" -redirect-uri http://127.0.0.1:9/cb
		-user flow@example.com -password "$pw")
	local c
	for c in $CONNS; do
		codeflow_row "$target" "code flow with an existing session" "$c" "${args[@]}" -session
	done
	for c in $CONNS; do
		codeflow_row "$target" "code flow (authorize, sign in, exchange)" "$c" "${args[@]}"
	done
	for c in $CONNS; do
		codeflow_row "$target" "code flow (authorize, sign in, exchange), 64 source addresses" "$c" "${args[@]}" -sources 64
	done
}

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
		key=""
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

	if [ -n "${key:-}" ]; then
		authzen_run "$label" "$base" "$dir" "$key"
	else
		echo "(no admin API key; skipping AuthZEN)"
	fi
	if [ -n "${key:-}" ] && [ -n "$token" ]; then
		gateway_run "$label" "$base" "$dir" "$key" "$token"
	fi
	if [ -n "$disc" ]; then
		codeflow_run "$label" "$base" "$dir"
	else
		echo "(no OIDC discovery; skipping the code flow)"
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
