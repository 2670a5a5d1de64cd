#!/usr/bin/env bash
# The benchmark, out of process and on loopback: an upstream (nginx answering a small JSON body), nginx proxy_pass in
# front of it, anvil with the EIP-3009 test token, the official x402 facilitator, the gateway (published as deployed,
# standalone, SQLite, built-in facilitator) and the reference stack (@x402/express + the official facilitator), all driven by
# bench/load.mjs. Writes bench/results.md (the --smoke run writes to its own work directory and prints it).
#
#   bench/run.sh            full run
#   bench/run.sh --smoke    tiny counts, every row, a few seconds each (CI); fails only if a row cannot run at all
#   bench/run.sh --soak     the rows, then the soak: the credits-paid call for BENCH_SOAK_SECONDS (600) at half the peak
#                           rate measured in the same run, the gateway's RSS and p99 sampled each minute (not in CI)
#
# Knobs (environment): BENCH_PROXY_SECONDS and BENCH_PROXY_WARMUP_SECONDS (proxy rows, driven by wrk), BENCH_PAID_REQUESTS (credits, deferred),
# BENCH_SYNC_REQUESTS (sync and reference rows), BENCH_SECONDS (cap per row), BENCH_WARMUP (x402 rows), BENCH_PROXY_CONCURRENCY,
# BENCH_PROXY_MAX_REQUESTS (cap a proxy row's answers, for a tiny run on a shared machine: its req/s is then not shown),
# BENCH_SETTLE_WAIT (seconds to wait for deferred settlement), BENCH_CATALOGUE_LINKS (listed links seeded for the catalogue
# rows: 1000, --smoke 100), BENCH_TABLE (0: no Table Storage rows), BENCH_OUT,
# BENCH_ONLY (only some rows, e.g. "credits,sync"; see bench/load.mjs; "micro": the per-payment micro-benchmark table;
# "kestrel": Kestrel alone, also run with 402 or credits),
# BENCH_MULTICALL3 (0: no Multicall3 on the chain, so the gateway settles one transfer per transaction), BENCH_X402_GENERATOR (wrk, or node: the x402 rows from load.mjs's own node:http pool), BENCH_SOAK_SECONDS (a soak of that
# length after the rows; --soak sets 600).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
SMOKE=0
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    --soak) : "${BENCH_SOAK_SECONDS:=600}" ;;
    *) echo "bench: unknown argument $arg" >&2; exit 2 ;;
  esac
done
: "${BENCH_SOAK_SECONDS:=0}"
export BENCH_SOAK_SECONDS
die() { echo "bench: $*" >&2; exit 1; }

if [ "$SMOKE" = 1 ]; then
  : "${BENCH_PROXY_SECONDS:=2}" "${BENCH_PROXY_WARMUP_SECONDS:=1}" "${BENCH_PAID_REQUESTS:=60}" "${BENCH_SYNC_REQUESTS:=20}" "${BENCH_SECONDS:=4}"
  : "${BENCH_WARMUP:=10}" "${BENCH_SETTLE_WAIT:=60}" "${BENCH_CATALOGUE_LINKS:=100}"
else
  # Deferred rows: 4000 paid calls each, bounded by settlement rather than by the generator: their payments must settle
  # (one transfer each, ~40/s on anvil today) within BENCH_SETTLE_WAIT and the authorizations' 300 s validity.
  : "${BENCH_PROXY_SECONDS:=10}" "${BENCH_PROXY_WARMUP_SECONDS:=2}" "${BENCH_PAID_REQUESTS:=4000}" "${BENCH_SYNC_REQUESTS:=600}" "${BENCH_SECONDS:=20}"
  : "${BENCH_WARMUP:=200}" "${BENCH_SETTLE_WAIT:=240}" "${BENCH_CATALOGUE_LINKS:=1000}"
fi
: "${BENCH_PROXY_CONCURRENCY:=16}"
export BENCH_CATALOGUE_LINKS BENCH_PROXY_SECONDS BENCH_PROXY_WARMUP_SECONDS BENCH_PAID_REQUESTS BENCH_SYNC_REQUESTS BENCH_SECONDS BENCH_WARMUP BENCH_SETTLE_WAIT BENCH_PROXY_CONCURRENCY

# ---- what it needs: nginx and wrk (Debian), the npm peers, the .NET SDK ----
command -v dotnet >/dev/null || die "the .NET SDK is required"
command -v node >/dev/null && command -v npm >/dev/null || die "Node.js and npm are required"
apt_install() { # package...: from Debian, with sudo when not root
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then command -v sudo >/dev/null || die "$* missing, and installing needs root or sudo"; sudo="sudo"; fi
  echo "bench: installing $* from Debian"
  $sudo apt-get update -qq || die "apt-get update failed"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "could not install $* with apt-get"
}
NGINX="$(command -v nginx || true)"
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
if [ -z "$NGINX" ]; then
  apt_install nginx
  NGINX=/usr/sbin/nginx
  [ -x "$NGINX" ] || die "nginx did not install"
fi
WRK="$(command -v wrk || true)"
if [ -z "$WRK" ]; then apt_install wrk; WRK="$(command -v wrk)" || die "wrk did not install"; fi
PEERS="$ROOT/tests/peers"
ANVIL="$PEERS/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
if [ ! -x "$ANVIL" ] || [ ! -d "$PEERS/node_modules/@x402/express" ]; then
  echo "bench: installing the npm peers (npm ci in tests/peers)"
  (cd "$PEERS" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in tests/peers failed"
fi
[ -f "$PEERS/build/TestUSDC.json" ] || (cd "$PEERS" && node compile.mjs) || die "could not compile the test token"
# bench/*.mjs resolve their packages from the peers' install.
ln -sfn ../tests/peers/node_modules "$ROOT/bench/node_modules"

# ---- processes on loopback, all stopped on exit ----
WORK="$(mktemp -d /tmp/x402-bench.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ "${KEEP_WORK:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

# The gateway as it is deployed: the published folder (self-contained, ReadyToRun), its `handler` run directly.
echo "bench: publishing the gateway (Release)"
dotnet publish functions/X402Serverless.Handler -c Release -o "$WORK/gateway-app" -nologo -v q -clp:ErrorsOnly >"$WORK/publish.log" 2>&1 \
  || { tail -n 20 "$WORK/publish.log" >&2; die "the gateway did not publish"; }
HANDLER="$WORK/gateway-app/handler"
[ -x "$HANDLER" ] || die "no executable $HANDLER after the publish"
# Distinct free loopback ports, all held open while they are picked so none is handed out twice.
free_ports() { node -e "const n=+process.argv[1],net=require('net');const ss=[...Array(n)].map(()=>net.createServer());
  Promise.all(ss.map(s=>new Promise(r=>s.listen(0,'127.0.0.1',r)))).then(()=>{console.log(ss.map(s=>s.address().port).join(' '));ss.forEach(s=>s.close())})" "$1"; }
wait_http() { # url, name, pid
  for _ in $(seq 1 300); do
    curl -s -o /dev/null "$1" && return 0
    kill -0 "$3" 2>/dev/null || { tail -n 30 "$WORK/$2.log" >&2; die "$2 exited before answering"; }
    sleep 0.1
  done
  tail -n 30 "$WORK/$2.log" >&2; die "$2 did not answer at $1"
}
wait_line() { # file, prefix, name, pid -> prints the line
  for _ in $(seq 1 600); do
    if grep -q "^$2" "$1" 2>/dev/null; then grep -m1 "^$2" "$1"; return 0; fi
    kill -0 "$4" 2>/dev/null || { tail -n 30 "$1" >&2; die "$3 exited early"; }
    sleep 0.1
  done
  tail -n 30 "$1" >&2; die "$3 did not start"
}

read -r UPSTREAM_PORT NGINX_PORT RPC_PORT GATEWAY_PORT REF_PORT AZURITE_PORT GATEWAY_TABLE_PORT <<<"$(free_ports 7)"
nginx_conf() { # dir, body
  mkdir -p "$1"
  cat >"$1/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $1; proxy_temp_path $1; fastcgi_temp_path $1; uwsgi_temp_path $1; scgi_temp_path $1;
  $2
}
EOF
}
# The upstream: a small JSON answer, as a typical paid API returns.
nginx_conf "$WORK/upstream" "server { listen 127.0.0.1:$UPSTREAM_PORT; location = /quote { default_type application/json; return 200 '{\"symbol\":\"ABC\",\"price\":\"12.34\"}'; } }"
"$NGINX" -c "$WORK/upstream/nginx.conf" -p "$WORK/upstream" >"$WORK/upstream.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$UPSTREAM_PORT/quote" upstream "${PIDS[-1]}"
nginx_conf "$WORK/proxy" "upstream api { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$NGINX_PORT; location / { proxy_pass http://api; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
"$NGINX" -c "$WORK/proxy/nginx.conf" -p "$WORK/proxy" >"$WORK/nginx.log" 2>&1 & PIDS+=($!)
wait_http "http://127.0.0.1:$NGINX_PORT/quote" nginx "${PIDS[-1]}"

# anvil (chain 84532, automine; --prune-history: see results.md's footnote on the order of the x402 rows) and the token; account #0 deploys and pays the official facilitator's gas, account #1 is
# the gateway's gas wallet (anvil's public test keys).
DEPLOYER_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
GAS_KEY=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
RPC="http://127.0.0.1:$RPC_PORT"
"$ANVIL" --host 127.0.0.1 --port "$RPC_PORT" --chain-id 84532 --prune-history 64 --silent >"$WORK/anvil.log" 2>&1 & PIDS+=($!)
export ANVIL_PID="${PIDS[-1]}" # its CPU time per sync row goes in the report
for _ in $(seq 1 100); do curl -s -X POST -H 'content-type: application/json' --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$RPC" >/dev/null && break; sleep 0.1; done
TOKEN="$(cd "$PEERS" && node deploy.mjs "$RPC" "$DEPLOYER_KEY" 0x0000000000000000000000000000000000000001 0 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')" \
  || die "token deployment failed"
NETWORK=eip155:84532
# Multicall3 at its canonical address, as on Base and every public chain: the gateway's built-in facilitator settles the
# EIP-3009 transfers that arrive while it sends in one aggregate3 transaction (docs/settlement-batching.md).
# BENCH_MULTICALL3=0 leaves it out, so every settlement goes in a transaction of its own (the comparison).
if [ "${BENCH_MULTICALL3:-1}" != 0 ]; then
  (cd "$PEERS" && node deploy-multicall3.mjs "$RPC" "$DEPLOYER_KEY" >/dev/null) || die "Multicall3 placement failed"
fi

(cd "$ROOT/bench" && exec node facilitator.mjs "$RPC" "$DEPLOYER_KEY" "$NETWORK") >"$WORK/facilitator.log" 2>&1 & PIDS+=($!)
FACILITATOR="http://127.0.0.1:$(wait_line "$WORK/facilitator.log" listening facilitator "${PIDS[-1]}" | cut -d' ' -f2)"

# The gateway: standalone, configured only through its environment. The SQLite one, and (BENCH_TABLE=1, the default) the
# same on Table Storage (Azurite, in memory) with its own gas wallet (anvil account #2).
ADMIN_KEY="x402sk_bench_$(node -e 'console.log(require("crypto").randomBytes(16).toString("hex"))')"
start_gateway() { # name port gasKey [VAR=value...]
  local name="$1" port="$2" gas="$3"; shift 3
  (
    export ASPNETCORE_URLS="http://127.0.0.1:$port" X402_ADMIN_KEY="$ADMIN_KEY" Logging__LogLevel__Default=Warning
    export X402__DataDirectory="$WORK/$name-data" X402__FacilitatorUrl="$FACILITATOR"
    export X402__AllowedUpstreamRanges__0=127.0.0.0/8 X402__DefaultNetworks__0="$NETWORK"
    export X402__Networks__0__ChainId=84532 X402__Networks__0__RpcUrl="$RPC" X402__Networks__0__Asset="$TOKEN"
    export X402__Networks__0__TokenName="USD Coin" X402__Networks__0__TokenVersion=2
    export X402__Settlement__GasWalletKey="$gas" X402__Settlement__DeferredMaxInFlightPerPayer=0
    export X402__Settlement__FacilitatorRequestsPerMinute=1000000 # the facilitator row posts far more than 60 a minute
    for kv in "$@"; do export "${kv?}"; done
    exec "$HANDLER"
  ) >"$WORK/$name.log" 2>&1 & PIDS+=($!)
  wait_http "http://127.0.0.1:$port/" "$name" "${PIDS[-1]}"
}
start_gateway gateway "$GATEWAY_PORT" "$GAS_KEY"
GATEWAY_PID="${PIDS[-1]}" # the subshell exec'd the handler: the gateway's own pid, whose RSS the soak samples
GATEWAY="http://127.0.0.1:$GATEWAY_PORT"
GATEWAY_TABLE=""
if [ "${BENCH_TABLE:-1}" = 1 ]; then
  (cd "$PEERS" && exec node node_modules/azurite/dist/src/table/main.js --tableHost 127.0.0.1 --tablePort "$AZURITE_PORT" \
    --inMemoryPersistence --skipApiVersionCheck --disableProductStyleUrl) >"$WORK/azurite.log" 2>&1 & PIDS+=($!)
  wait_http "http://127.0.0.1:$AZURITE_PORT/" azurite "${PIDS[-1]}"
  # Azurite's well-known development account (public, emulator only).
  start_gateway gateway-table "$GATEWAY_TABLE_PORT" 0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a \
    X402__Storage__Kind=table X402__Storage__TableEndpoint="http://127.0.0.1:$AZURITE_PORT/devstoreaccount1" \
    X402__Storage__AccountName=devstoreaccount1 \
    X402__Storage__AccountKey='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
  GATEWAY_TABLE="http://127.0.0.1:$GATEWAY_TABLE_PORT"
fi

# The reference stack: @x402/express in front of the same upstream, official facilitator, same chain.
REF_PAYTOS="$(node -e 'const c=require("crypto");console.log([0,1].map(()=>"0x"+c.randomBytes(20).toString("hex")).join(","))')"
(cd "$ROOT/bench" && exec node reference-server.mjs "$REF_PORT" "$FACILITATOR" "$NETWORK" "$TOKEN" 1000 "http://127.0.0.1:$UPSTREAM_PORT" "$REF_PAYTOS") \
  >"$WORK/reference.log" 2>&1 & PIDS+=($!)
wait_line "$WORK/reference.log" listening reference "${PIDS[-1]}" >/dev/null

# The bench tool: Kestrel alone for the rows beside the proxy ones, the dashboard rows' bulk seed
# (bench/X402Serverless.Bench kestrel, seed-payments).
dotnet build bench/X402Serverless.Bench -c Release -nologo -v q -clp:ErrorsOnly >"$WORK/bench-tool.log" 2>&1 || die "the bench tool did not build (see $WORK/bench-tool.log)"
BENCH_TOOL="$ROOT/bench/X402Serverless.Bench/bin/Release/net10.0/X402Serverless.Bench.dll"

OUT="${BENCH_OUT:-}"
[ -z "$OUT" ] && { [ "$SMOKE" = 1 ] || [ -n "${BENCH_ONLY:-}" ] && OUT="$WORK/results.md" || OUT="$ROOT/bench/results.md"; }
node -e 'console.log(JSON.stringify({
  smoke: process.argv[1] === "1", out: process.argv[2], commit: process.argv[3], dotnet: process.argv[4], nginxVersion: process.argv[5],
  anvilVersion: process.argv[6], upstream: process.argv[7], nginx: process.argv[8], gateway: process.argv[9], reference: process.argv[10],
  rpcUrl: process.argv[11], token: process.argv[12], network: process.argv[13], adminKey: process.argv[14], deployerKey: process.argv[15],
  referencePayTos: process.argv[16].split(","), proxySeconds: +process.env.BENCH_PROXY_SECONDS, proxyWarmupSeconds: +process.env.BENCH_PROXY_WARMUP_SECONDS, proxyMaxRequests: +(process.env.BENCH_PROXY_MAX_REQUESTS ?? 0), wrk: process.argv[17], gatewayTable: process.argv[18], paidRequests: +process.env.BENCH_PAID_REQUESTS,
  syncRequests: +process.env.BENCH_SYNC_REQUESTS, seconds: +process.env.BENCH_SECONDS, warmup: +process.env.BENCH_WARMUP,
  settleWaitSeconds: +process.env.BENCH_SETTLE_WAIT, proxyConcurrency: +process.env.BENCH_PROXY_CONCURRENCY,
  x402Concurrency: [1, 16], payers: 16, catalogueLinks: +process.env.BENCH_CATALOGUE_LINKS, gatewayPid: +process.argv[19], anvilPid: +process.env.ANVIL_PID, soakSeconds: +process.env.BENCH_SOAK_SECONDS,
  gatewayData: process.argv[20], benchTool: process.argv[21] }))' \
  "$SMOKE" "$OUT" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with local changes)')" \
  "$(dotnet --version)" "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')" "$("$ANVIL" --version | head -n1 | awk '{print $3}')" \
  "http://127.0.0.1:$UPSTREAM_PORT" "http://127.0.0.1:$NGINX_PORT" "$GATEWAY" "http://127.0.0.1:$REF_PORT" \
  "$RPC" "$TOKEN" "$NETWORK" "$ADMIN_KEY" "$DEPLOYER_KEY" "$REF_PAYTOS" "$WRK" "$GATEWAY_TABLE" "$GATEWAY_PID" "$WORK/gateway-data" "$BENCH_TOOL" >"$WORK/config.json"

STATUS=0
(cd "$ROOT/bench" && node load.mjs "$WORK/config.json") || STATUS=$?

# The per-payment CPU work (signature recovery, header decode) and the forwarding hop to the upstream, in process and
# one call at a time, as a small table under the main one (BENCH_ONLY without "micro" leaves it out; --smoke: short).
if [ -z "${BENCH_ONLY:-}" ] || [[ ",${BENCH_ONLY}," == *,micro,* ]]; then
  echo "bench: per-payment micro-benchmark"
  if dotnet build bench/X402Serverless.Bench -c Release -nologo -v q -clp:ErrorsOnly >"$WORK/micro.log" 2>&1 \
    && dotnet bench/X402Serverless.Bench/bin/Release/net10.0/X402Serverless.Bench.dll micro "$([ "$SMOKE" = 1 ] && echo 200 || echo 2000)" "http://127.0.0.1:$UPSTREAM_PORT/quote" \
      >"$WORK/micro.md" 2>>"$WORK/micro.log" && [ -f "$OUT" ]; then
    { echo; echo "Per-payment work and the forwarding hop, in process (\`bench/X402Serverless.Bench -- micro\`), one call at a time: medians of"
      echo "several batches; µs of CPU time (the thread's; the process's for the hop) and of wall clock; bytes allocated per call."; echo; cat "$WORK/micro.md"; } >>"$OUT"
    cat "$WORK/micro.md"
  else
    tail -n 20 "$WORK/micro.log" >&2; STATUS=1; echo "bench: the micro-benchmark did not run" >&2
  fi
fi

# Cold starts of the published handler, each a new process on an empty store with the gateway's settings (same chain):
# what a scale-out instance costs before its first answer (BENCH_ONLY without "coldstart" leaves it out).
if [ -z "${BENCH_ONLY:-}" ] || [[ ",${BENCH_ONLY}," == *,coldstart,* ]]; then
  echo "bench: cold starts of the published handler"
  if (export X402__FacilitatorUrl="$FACILITATOR" X402__AllowedUpstreamRanges__0=127.0.0.0/8 X402__DefaultNetworks__0="$NETWORK" \
        X402__Networks__0__ChainId=84532 X402__Networks__0__RpcUrl="$RPC" X402__Networks__0__Asset="$TOKEN" \
        X402__Networks__0__TokenName="USD Coin" X402__Networks__0__TokenVersion=2
      cd "$ROOT/bench" && node cold-start.mjs "$HANDLER" "http://127.0.0.1:$UPSTREAM_PORT/quote" "$([ "$SMOKE" = 1 ] && echo 2 || echo 7)" "$WORK") \
      >"$WORK/coldstart.md" 2>"$WORK/coldstart.log" && [ -f "$OUT" ]; then
    { echo; echo "Cold start: the published handler (self-contained, ReadyToRun), started as the Functions host starts it, each start a"
      echo "new process on an empty SQLite store (its schema created), polled every 2 ms until it answers; then the first"
      echo "management call and the first 402s of the link it made (\`bench/cold-start.mjs\`). Medians, then each start."; echo; cat "$WORK/coldstart.md"; } >>"$OUT"
    cat "$WORK/coldstart.md"
  else
    tail -n 20 "$WORK/coldstart.log" >&2; STATUS=1; echo "bench: the cold starts did not run" >&2
  fi
fi

# What the gateways and the facilitator logged at warning or above, so errors under load are seen.
for name in gateway gateway-table; do
  [ -f "$WORK/$name.log" ] || continue
  WARN="$(grep -cE '^(warn|fail|crit):' "$WORK/$name.log" || true)"
  echo "bench: $name log entries at warning or above: $WARN"
  [ "$WARN" = 0 ] || grep -A1 -E '^(warn|fail|crit):' "$WORK/$name.log" | grep -vE '^(warn|fail|crit):|^--' \
    | sed -E 's/lnk_[A-Za-z0-9_-]+/lnk_…/g; s/pay_[0-9a-f]+/pay_…/g; s/0x[0-9a-fA-F]{8,}/0x…/g' | sort | uniq -c | sort -rn | head -n 12 >&2 || true
done
echo "bench: official facilitator: $(grep -c '^settle refused\|^error' "$WORK/facilitator.log" || true) refusals or errors"
[ "$STATUS" = 0 ] || { KEEP_WORK=1; die "a row could not run (see above); logs kept in $WORK"; }
[ "$SMOKE" = 1 ] || echo "bench: wrote $OUT"
