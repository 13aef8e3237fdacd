#!/usr/bin/env bash
# Load run on loopback: a hello-world Go server (the machine's ceiling, GET
# and POST), then Gatehouse on SQLite (fresh data dir) and, when reachable,
# on PostgreSQL (fresh schema). For every endpoint and connection count it
# prints req/s, p50, p99 and the server's CPU per request: the process's
# utime+stime (/proc/<pid>/stat) over the run divided by the requests
# served, and that CPU as a multiple of hello's measured in the same run.
# CPU per request is the figure to compare on a shared machine: req/s and
# latency move with whatever else runs, CPU µs/request much less.
#
#   scripts/load.sh                                  # defaults below
#   DURATION=5s CONNS="16 64" USERS=20000 SOAK=10m scripts/load.sh
#
# Knobs:
#   DURATION  length of each measured run (default 10s)
#   CONNS     connection counts, each endpoint runs once per count ("16 64")
#   USERS     users seeded before the measured start, so the user list reads
#             a realistic table (default 100000)
#   TOKENS    distinct access tokens pre-issued for the introspection run
#             over many tokens (default 60000)
#   SETTLE    seconds to wait after the sign-in burst before reading RSS
#             again (default 60)
#   SOAK      sign-in soak after that: steady sign-ins for this long with
#             RSS sampled ten times (default 0 = off; SOAK=10m for the full
#             soak)
#   PROFILE   a directory: run a binary built with -tags pprof and save a
#             CPU profile of each endpoint's first run and heap profiles at
#             each RSS reading there, for `go tool pprof` (default off;
#             profiling costs a little CPU, so the figures of a profiled run
#             are not the ones to report)
#
# The load generator is wrk (Debian's package, installed when missing; its
# request script is scripts/load.lua); the code flow is scripts/codeflow. Every request goes to 127.0.0.1 or
# localhost; every run is bounded by DURATION.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

DURATION="${DURATION:-10s}"
USERS="${USERS:-100000}"
CONNS="${CONNS:-16 64}"
THREADS="${THREADS:-2}"
TOKENS="${TOKENS:-60000}"
SETTLE="${SETTLE:-60}"
SOAK="${SOAK:-0}"
PROFILE="${PROFILE:-}"
PPROF_ADDR="127.0.0.1:${PPROF_PORT:-18095}"
PORT="${PORT:-18080}"
HELLO_PORT="${HELLO_PORT:-18090}"
PG_URL="${GATEHOUSE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
CLK_TCK=$(getconf CLK_TCK)

die() { echo "load: $*" >&2; exit 1; }
command -v curl >/dev/null || die "curl is required"
if ! command -v wrk >/dev/null; then
	echo "load: installing wrk (apt-get)"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } >/dev/null ||
		die "wrk is missing and could not be installed"
fi

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
go build -o "$WORK/issuetokens" ./scripts/issuetokens
BIN="$PWD/bin/gatehouse"
SIZE=$(stat -c %s "$BIN")
MIB=$(awk -v s="$SIZE" 'BEGIN {printf "%.1f", s/1048576}')
echo "binary: bin/gatehouse, $SIZE bytes ($MIB MiB)"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$WORK/gatehouse-stripped" ./cmd/gatehouse
SERVE_BIN="$BIN"
if [ -n "$PROFILE" ]; then
	mkdir -p "$PROFILE"
	PROFILE="$(cd "$PROFILE" && pwd)"
	go build -tags pprof -o "$WORK/gatehouse-pprof" ./cmd/gatehouse
	SERVE_BIN="$WORK/gatehouse-pprof"
	echo "profiles go to $PROFILE (server built with -tags pprof)"
fi
SSIZE=$(stat -c %s "$WORK/gatehouse-stripped")
SMIB=$(awk -v s="$SSIZE" 'BEGIN {printf "%.1f", s/1048576}')
echo "binary stripped (-s -w, as in the Dockerfile): $SSIZE bytes ($SMIB MiB)"

RESULTS="$WORK/results.md"
printf '| target | endpoint | conns | req/s | p50 | p99 | failed | CPU µs/req | × hello | goal |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n' >"$RESULTS"

# cpu_ticks PID: user+system CPU of the process so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

declare -A HELLO_CPU=()

# goal_text KIND C CPU GOAL: "≤ N µs met" for GOAL "x1.25" (times hello),
# "+45" (hello plus µs) or "=250" (absolute µs); empty without a goal.
goal_text() {
	local kind=$1 c=$2 cpu=$3 goal=${4:-} hello=${HELLO_CPU[$1-$2]:-}
	[ -n "$goal" ] && [ "$cpu" != "?" ] || return 0
	awk -v g="$goal" -v h="${hello:-0}" -v cpu="$cpu" 'BEGIN {
		op = substr(g, 1, 1); v = substr(g, 2) + 0
		if (op == "x") lim = h * v; else if (op == "+") lim = h + v; else lim = v
		printf "≤ %.0f µs: %s", lim, (cpu <= lim ? "met" : "NOT met")
	}'
}

# wrk_gen CONNS OUT ARGS...: one wrk run of DURATION writing its report to
# OUT. ARGS: -url URL, -method M, -H 'Name: value' (repeatable), -body B
# ({n} becomes a per-request number), -body-file F with -body-format
# 'x=%s' (one line of F per request) — carried to scripts/load.lua.
wrk_gen() {
	local c=$1 out=$2
	shift 2
	local url="" hdrs=() method=GET body="" bfile="" bformat="%s"
	while [ $# -gt 0 ]; do
		case $1 in
		-url) url=$2 ;;
		-method) method=$2 ;;
		-H) hdrs+=(-H "$2") ;;
		-body) body=$2 ;;
		-body-file) bfile=$2 ;;
		-body-format) bformat=$2 ;;
		*) echo "wrk_gen: unknown argument $1" >&2; return 1 ;;
		esac
		shift 2
	done
	LOAD_METHOD=$method LOAD_BODY=$body LOAD_BODY_FILE=$bfile LOAD_BODY_FORMAT=$bformat \
		wrk -t"$THREADS" -c"$c" -d"$DURATION" --latency -s scripts/load.lua "${hdrs[@]}" "$url" >"$out" 2>&1
}

# load_run TARGET NAME PID KIND GOAL WRK-GEN-ARGS...: one row per connection
# count. KIND (GET or POST) picks the hello figure the CPU is divided by.
load_run() {
	local target=$1 name=$2 pid=$3 kind=$4 goal=$5
	shift 5
	local c out="$WORK/load.out" profiled=""
	for c in $CONNS; do
		local t0 t1 prof=""
		if [ -n "$PROFILE" ] && [ "$target" != hello ] && [ -z "$profiled" ]; then
			profiled=1
			cpu_profile "$PROFILE/$target-$(slug "$name").cpu.prof" &
			prof=$!
		fi
		t0=$(cpu_ticks "$pid")
		wrk_gen "$c" "$out" "$@" || { echo "wrk failed for $name:"; cat "$out"; continue; }
		t1=$(cpu_ticks "$pid")
		[ -z "$prof" ] || wait "$prof" || true
		local req rate p50 p99 failed cpu ratio hello
		req=$(awk '/ requests in / {print $1}' "$out")
		rate=$(awk '/^Requests\/sec:/ {printf "%.1f", $2}' "$out")
		p50=$(awk '$1 == "50%" {print $2}' "$out")
		p99=$(awk '$1 == "99%" {print $2}' "$out")
		failed=$(awk '/Non-2xx or 3xx responses:/ {n += $5} /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
		cpu="?"
		[ "$req" -gt 0 ] && cpu=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$req" 'BEGIN {printf "%.1f", d * 1e6 / hz / n}')
		if [ "$target" = hello ]; then
			HELLO_CPU[$kind-$c]=$cpu
		fi
		hello=${HELLO_CPU[$kind-$c]:-}
		ratio=""
		[ -n "$hello" ] && [ "$cpu" != "?" ] && ratio=$(awk -v a="$cpu" -v b="$hello" 'BEGIN {if (b > 0) printf "%.2f×", a / b}')
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$target" "$name" "$c" "$rate" "$p50" "$p99" "$failed" "$cpu" "$ratio" \
			"$(goal_text "$kind" "$c" "$cpu" "$goal")" | tee -a "$RESULTS"
	done
}

# slug TEXT: a file-name-safe form of an endpoint's name.
slug() { tr -c 'A-Za-z0-9\n' '-' <<<"$1" | tr -s '-' | sed 's/^-//; s/-$//' | cut -c1-80; }

# cpu_profile FILE: a CPU profile of the server over DURATION less a second.
cpu_profile() {
	local secs
	secs=$(awk -v s="$DURATION" 'BEGIN {n = s + 0; if (s ~ /m$/) n *= 60; print (n > 2 ? int(n) - 1 : 1)}')
	curl -s -o "$1" "http://$PPROF_ADDR/debug/pprof/profile?seconds=$secs" || echo "(CPU profile failed: $1)"
}

# heap_profile NAME: the server's heap (after a GC) as NAME.heap.prof.
heap_profile() {
	[ -n "$PROFILE" ] || return 0
	curl -s -o "$PROFILE/$1.heap.prof" "http://$PPROF_ADDR/debug/pprof/heap?gc=1" || echo "(heap profile failed: $1)"
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

# gateway_run TARGET BASE DIR PID KEY TOKEN_URL: an API registered with the
# CLI, then GET /forward-auth with an API key (the gateway's question, JWT
# cached) and POST token exchange of the key for a 5-minute JWT for that API.
gateway_run() {
	local target=$1 base=$2 dir=$3 pid=$4 key=$5 token=$6 api="https://api.load.test"
	(cd "$dir" && "$BIN" resources create --identifier "$api" --name load --scope "users:read" >/dev/null 2>"$dir/cli.err") ||
		{ echo "(resources create failed; skipping gateway runs)"; return 0; }
	echo "forward-auth answers: $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$base/forward-auth?resource=$api")"
	load_run "$target" "GET /forward-auth (API key, JWT cached)" "$pid" GET "" \
		-url "$base/forward-auth?resource=$api" -H "Authorization: Bearer $key"
	local client id secret
	client=$(cd "$dir" && "$BIN" clients create --name gateway --grant-type token_exchange 2>"$dir/cli.err") ||
		{ echo "(clients create --grant-type token_exchange failed; skipping token exchange)"; return 0; }
	id=$(json_field client_id <<<"$client")
	secret=$(json_field client_secret <<<"$client")
	load_run "$target" "POST token exchange (API key → JWT)" "$pid" POST "" -url "$token" -method POST \
		-H "Authorization: Basic $(printf '%s:%s' "$id" "$secret" | base64 -w0)" -H 'Content-Type: application/x-www-form-urlencoded' \
		-body "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=$key&subject_token_type=urn%3Agatehouse%3Aparams%3Aoauth%3Atoken-type%3Aapi-key&resource=$api"
}

# json_field NAME < JSON: the string value of NAME.
json_field() { grep -o "\"$1\": *\"[^\"]*\"" | head -1 | sed 's/.*"\([^"]*\)"$/\1/'; }

# authzen_run TARGET BASE DIR PID KEY: 1,000 roles and 10,000 rules (Casbin
# CSV import), a user with three of the roles, then POST
# /access/v1/evaluation twice: the same question every time (the decision
# cache answers) and a resource id that changes with every request (the
# cache misses).
authzen_run() {
	local target=$1 base=$2 dir=$3 pid=$4 key=$5 i j bad=0 code
	echo "creating 1,000 roles and importing 10,000 rules"
	for i in $(seq 1 1000); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
			-d "{\"name\":\"r$i\",\"description\":\"load role $i\"}" "$base/api/v1/roles" || true)
		[ "$code" = 201 ] || bad=$((bad + 1))
	done
	[ "$bad" = 0 ] || { echo "(creating roles failed $bad times; skipping AuthZEN)"; return 0; }
	local csv="$WORK/policies.csv"
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
	local args=(-url "$base/access/v1/evaluation" -method POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json')
	load_run "$target" "POST /access/v1/evaluation, cached (same question)" "$pid" POST +15 "${args[@]}" -body "$body"
	load_run "$target" "POST /access/v1/evaluation, varied resource ids (10,000 rules, 1,000 roles)" "$pid" POST +15 "${args[@]}" \
		-body "{\"subject\":{\"type\":\"user\",\"id\":\"$uid\"},\"action\":{\"name\":\"read\"},\"resource\":{\"type\":\"doc3\",\"id\":\"x{n}\"}}"
}

# codeflow_row TARGET NAME CONNS PID ARGS... : one codeflow run, one table row.
codeflow_row() {
	local target=$1 name=$2 c=$3 pid=$4
	shift 4
	local out="$WORK/codeflow.out" t0 t1
	t0=$(cpu_ticks "$pid")
	if ! "$WORK/codeflow" -c "$c" -duration "$DURATION" "$@" >"$out" 2>&1; then
		echo "codeflow failed for $name:"; cat "$out"; return 0
	fi
	t1=$(cpu_ticks "$pid")
	grep -v '^RESULT' "$out"
	local line flows rate p50 p99 errs thr note cpu="?"
	line=$(grep '^RESULT' "$out")
	flows=$(sed 's/.*flows=\([^ ]*\).*/\1/' <<<"$line")
	rate=$(sed 's/.* rate=\([^ ]*\).*/\1/' <<<"$line")
	p50=$(sed 's/.* p50=\([^ ]*\).*/\1/' <<<"$line")
	p99=$(sed 's/.* p99=\([^ ]*\).*/\1/' <<<"$line")
	errs=$(sed 's/.* errors=\([^ ]*\).*/\1/' <<<"$line")
	thr=$(sed 's/.* throttled=\([^ ]*\).*/\1/' <<<"$line")
	note="$errs"
	[ "$thr" != 0 ] && note="$note, $thr throttled (429)"
	[ "${flows:-0}" -gt 0 ] && cpu=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$flows" 'BEGIN {printf "%.0f per flow", d * 1e6 / hz / n}')
	printf '| %s | %s | %s | %s flows/s | %s | %s | %s | %s | | |\n' "$target" "$name" "$c" "$rate" "$p50" "$p99" "$note" "$cpu" | tee -a "$RESULTS"
}

# rss PID: resident set size in MiB, and the live heap after the last
# garbage collection (the server runs with GODEBUG=gctrace=1; its trace
# lines "gc N @…: … X->Y->Z MB" are in the server log, Z is the live heap).
rss() {
	awk '/^VmRSS:/ {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"
	local live
	live=$(grep -o '[0-9]*->[0-9]*->[0-9]* MB' "${SERVER_LOG:-/dev/null}" 2>/dev/null | tail -1 | sed 's/.*->\([0-9]*\) MB/\1/' || true)
	[ -n "$live" ] && printf ' (live heap %s MB at the last GC)' "$live"
	return 0
}

fact() { printf '| %s | %s | | %s | | | | | | %s |\n' "$1" "$2" "$3" "${4:-}" | tee -a "$RESULTS"; }

# codeflow_run TARGET BASE DIR PID: the full authorization-code flow with a
# first-party client re-using one session (no password step), then password
# sign-ins: a fresh sign-in per flow spread over 64 loopback source
# addresses (sign-in protection allows 60 attempts a minute per address),
# argon2id-bound. That burst is followed by RSS readings (right after, and
# SETTLE seconds later) and, when SOAK is set, a steady sign-in soak.
codeflow_run() {
	local target=$1 base=$2 dir=$3 pid=$4 client id secret pw
	if ! client=$(cd "$dir" && "$BIN" clients create --name flow --first-party --redirect-uri http://127.0.0.1:9/cb 2>"$dir/cli.err"); then
		echo "(clients create failed: $(cat "$dir/cli.err"); skipping the code flow)"
		return 0
	fi
	id=$(json_field client_id <<<"$client")
	secret=$(json_field client_secret <<<"$client")
	pw="flow-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	if ! (cd "$dir" && printf '%s\n' "$pw" | "$BIN" users create --email flow@example.com --name Flow --password-stdin >/dev/null 2>"$dir/cli.err"); then
		echo "(users create failed: $(cat "$dir/cli.err"); skipping the code flow)"
		return 0
	fi
	local args=(-issuer "$base" -client-id "$id" -client-secret "$secret" -redirect-uri http://127.0.0.1:9/cb
		-user flow@example.com -password "$pw")
	local c
	for c in $CONNS; do
		codeflow_row "$target" "code flow with an existing session" "$c" "$pid" "${args[@]}" -session
	done
	fact "$target" "RSS after the endpoint load" "$(rss "$pid")"
	heap_profile "$target-after-endpoints"
	for c in $CONNS; do
		codeflow_row "$target" "password sign-ins (code flow, fresh sign-in, 64 source addresses)" "$c" "$pid" "${args[@]}" -sources 64
	done
	fact "$target" "RSS right after the sign-in burst" "$(rss "$pid")"
	heap_profile "$target-after-burst"
	sleep "$SETTLE"
	local settled
	settled=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
	fact "$target" "RSS ${SETTLE} s after the sign-in burst" "$(rss "$pid")" \
		"$(awk -v k="$settled" 'BEGIN {printf "≤ 64 MiB: %s", (k <= 65536 ? "met" : "NOT met")}')"
	heap_profile "$target-settled"
	if [ "$SOAK" != 0 ]; then
		local secs samples=() cf
		secs=$(awk -v s="$SOAK" 'BEGIN {n = s + 0; if (s ~ /m$/) n *= 60; if (s ~ /h$/) n *= 3600; print int(n)}')
		echo "soak: password sign-ins at 4 connections for $SOAK, RSS every $((secs / 10)) s"
		"$WORK/codeflow" -c 4 -duration "${secs}s" -sources 64 "${args[@]}" >"$WORK/soak.out" 2>&1 &
		cf=$!
		for _ in $(seq 1 10); do
			sleep $((secs / 10))
			samples+=("$(awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")")
		done
		wait "$cf" || true
		grep '^RESULT' "$WORK/soak.out" || true
		fact "$target" "RSS during a $SOAK sign-in soak (MiB, ten samples)" "${samples[*]}"
		sleep "$SETTLE"
		fact "$target" "RSS ${SETTLE} s after the soak" "$(rss "$pid")"
	fi
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
	# The first start (empty database) migrates, generates signing keys and
	# hashes the bootstrap admin's password; reported apart from a restart.
	start=$(now_ms)
	(cd "$dir" && exec "$BIN" serve >"$dir/first.log" 2>&1) &
	pid=$!
	first=$(wait_ready "$base/readyz" "$pid" "$start") || { tail -20 "$dir/first.log"; die "gatehouse ($label) did not become ready"; }
	kill "$pid"; wait "$pid" 2>/dev/null || true
	echo "seeding $USERS users"
	(cd "$dir" && "$WORK/seedusers" -n "$USERS" -database-url "$dburl") || die "seeding users failed"

	start=$(now_ms)
	SERVER_LOG="$dir/server.log"
	(cd "$dir" && GATEHOUSE_PPROF_ADDR=$PPROF_ADDR GODEBUG=gctrace=1 exec "$SERVE_BIN" serve >"$SERVER_LOG" 2>&1) &
	pid=$!
	PIDS+=($pid)
	ready=$(wait_ready "$base/readyz" "$pid" "$start") || { tail -20 "$dir/server.log"; die "gatehouse ($label) did not become ready"; }
	sleep 2
	fact "$label" "first start to ready (empty database)" "$first ms" "$(awk -v m="$first" 'BEGIN {printf "≤ 150 ms: %s", (m <= 150 ? "met" : "NOT met")}')"
	fact "$label" "restart to ready ($USERS users)" "$ready ms"
	fact "$label" "idle RSS" "$(rss "$pid")"

	load_run "$label" "GET /healthz" "$pid" GET "" -url "$base/healthz"

	local disc jwks etag
	disc=$(curl -sf "$base/.well-known/openid-configuration" || true)
	[ -n "$disc" ] || die "no OIDC discovery at $base"
	load_run "$label" "GET /.well-known/openid-configuration" "$pid" GET x1.25 -url "$base/.well-known/openid-configuration"
	jwks=$(grep -o '"jwks_uri":"[^"]*"' <<<"$disc" | cut -d'"' -f4)
	load_run "$label" "GET jwks ($(sed "s#$base##" <<<"$jwks"))" "$pid" GET x1.25 -url "$jwks"
	etag=$(curl -s -D - -o /dev/null "$jwks" | awk -F': ' 'tolower($1) == "etag" {print $2}' | tr -d '\r')
	load_run "$label" "GET jwks, If-None-Match (304)" "$pid" GET x1.25 -url "$jwks" -H "If-None-Match: $etag"

	local key
	key=$(cd "$dir" && "$BIN" apikeys create --user admin@example.com --name load 2>"$dir/cli.err") ||
		die "apikeys create failed: $(cat "$dir/cli.err")"
	load_run "$label" "GET /api/v1/users?page_size=50 ($USERS+ users)" "$pid" GET =250 \
		-url "$base/api/v1/users?page_size=50" -H "Authorization: Bearer $key"

	local token introspect
	token=$(grep -o '"token_endpoint":"[^"]*"' <<<"$disc" | cut -d'"' -f4)
	introspect=$(grep -o '"introspection_endpoint":"[^"]*"' <<<"$disc" | cut -d'"' -f4)
	local alg client id secret basic
	for alg in ES256 RS256 EdDSA; do
		client=$(cd "$dir" && "$BIN" clients create --name "load $alg" --grant-type client_credentials --access-token-alg "$alg" 2>"$dir/cli.err") ||
			die "clients create failed: $(cat "$dir/cli.err")"
		id=$(json_field client_id <<<"$client")
		secret=$(json_field client_secret <<<"$client")
		basic=$(printf '%s:%s' "$id" "$secret" | base64 -w0)
		local form=(-method POST -H "Authorization: Basic $basic" -H 'Content-Type: application/x-www-form-urlencoded')
		local goal=""
		[ "$alg" = ES256 ] && goal=+45
		load_run "$label" "POST token (client_credentials, $alg)" "$pid" POST "$goal" -url "$token" "${form[@]}" -body grant_type=client_credentials
		local at
		at=$(curl -s -u "$id:$secret" -d grant_type=client_credentials "$token" | grep -o '"access_token":"[^"]*"' | cut -d'"' -f4)
		goal=""
		[ "$alg" = ES256 ] && goal=+15
		load_run "$label" "POST introspection ($alg, one token repeated)" "$pid" POST "$goal" -url "$introspect" "${form[@]}" -body "token=$at"
		if [ "$alg" = ES256 ]; then
			echo "issuing $TOKENS distinct ES256 tokens"
			"$WORK/issuetokens" -token-url "$token" -client-id "$id" -client-secret "$secret" -n "$TOKENS" -out "$WORK/tokens.txt" ||
				die "issuing tokens failed"
			load_run "$label" "POST introspection ($TOKENS different tokens)" "$pid" POST +100 -url "$introspect" "${form[@]}" \
				-body-file "$WORK/tokens.txt" -body-format 'token=%s'
		fi
	done

	authzen_run "$label" "$base" "$dir" "$pid" "$key"
	gateway_run "$label" "$base" "$dir" "$pid" "$key" "$token"
	codeflow_run "$label" "$base" "$dir" "$pid"

	kill -TERM "$pid"
	wait "$pid" || echo "gatehouse ($label) exited with $? after SIGTERM"
	unset GATEHOUSE_ADDR GATEHOUSE_ISSUER GATEHOUSE_DATABASE_URL GATEHOUSE_MASTER_KEY \
		GATEHOUSE_BOOTSTRAP_ADMIN_EMAIL GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD GATEHOUSE_LOG_FORMAT
}

echo "== hello-world Go server (machine ceiling)"
"$WORK/hello" -addr "127.0.0.1:$HELLO_PORT" &
HELLO_PID=$!
PIDS+=($HELLO_PID)
wait_ready "http://127.0.0.1:$HELLO_PORT/" "$HELLO_PID" "$(now_ms)" >/dev/null || die "hello server did not start"
load_run hello "GET /" "$HELLO_PID" GET "" -url "http://127.0.0.1:$HELLO_PORT/"
load_run hello "POST / (form body)" "$HELLO_PID" POST "" -url "http://127.0.0.1:$HELLO_PORT/" -method POST \
	-H 'Content-Type: application/x-www-form-urlencoded' -body grant_type=client_credentials
fact hello "RSS after the load" "$(rss "$HELLO_PID")"

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
echo "== summary (binary $MIB MiB, stripped $SMIB MiB; wrk -t$THREADS, $DURATION per run; $(nproc) cores; CPU µs/req = server utime+stime ÷ requests)"
cat "$RESULTS"
