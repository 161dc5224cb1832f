#!/usr/bin/env bash
# Starts CxMesh all-in-one on this machine with a demo data set:
# Postgres (one database per service) and Redis under .data/, cxmesh-server on free loopback ports.
# Installs PostgreSQL and Redis with apt-get when run as root and they are missing.
# Ctrl-C stops everything it started. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
source scripts/servers.sh

DATA="$ROOT/.data"
SERVICES=(journey feedback scoring partner governance notifications)
mkdir -p "$DATA"

if [ -f "$DATA/run.pid" ] && kill -0 "$(cat "$DATA/run.pid")" 2>/dev/null; then
  cx_die "CxMesh is already running from this folder (run.sh pid $(cat "$DATA/run.pid")); stop it with Ctrl-C first"
fi
echo $$ > "$DATA/run.pid"

cx_ensure_dotnet
cx_ensure_postgres
cx_ensure_redis

SERVER_PID=""
SINK_PID=""
stop_all() {
  trap - INT TERM EXIT
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; fi
  cx_stop_redis "$DATA/redis"
  cx_stop_postgres "$DATA/pg"
  rm -f "$DATA/run.pid"
  cx_log "stopped"
}
trap stop_all INT TERM EXIT

# Builds a project, printing each project as it is done (a first build restores packages and takes minutes).
build() {
  local project=$1 status; shift
  set +e +o pipefail
  dotnet build "$project" -c Release -nologo -v minimal -clp:NoSummary "$@" 2>&1 | tee -a "$DATA/build.log" \
    | grep --line-buffered -E ' -> ' | sed -u -E 's#^ *([^ ]+) -> .*#    built \1#'
  status=${PIPESTATUS[0]}
  set -e -o pipefail
  [ "$status" -eq 0 ] || { grep -E 'error' "$DATA/build.log" >&2; cx_die "build failed (full log: .data/build.log)"; }
}
: > "$DATA/build.log"
cx_log "building cxmesh-server and cxmesh (the first build restores packages: a few minutes)"
build services/CxMesh.Host/CxMesh.Host.csproj -o "$DATA/bin/server"
build services/CxMesh.Cli/CxMesh.Cli.csproj -o "$DATA/bin/cli"
# The CLI as a .NET tool in .data/tools (on PATH below): a fresh version each build, so no stale package is reused.
CLI_VERSION="0.1.0-dev.$(date -u +%Y%m%d%H%M%S)"
cx_log "packing cxmesh as a .NET tool ($CLI_VERSION)"
rm -rf "$DATA/tools/nupkg"
dotnet pack services/CxMesh.Cli/CxMesh.Cli.csproj -c Release -nologo -v quiet -p:PackAsTool=true -p:Version="$CLI_VERSION" -o "$DATA/tools/nupkg" >>"$DATA/build.log" 2>&1 \
  || { tail -20 "$DATA/build.log" >&2; cx_die "dotnet pack failed"; }
dotnet tool update --tool-path "$DATA/tools/bin" --add-source "$DATA/tools/nupkg" --version "$CLI_VERSION" CxMesh.Cli >>"$DATA/build.log" 2>&1 \
  || { tail -20 "$DATA/build.log" >&2; cx_die "installing the cxmesh tool failed"; }

cx_log "starting PostgreSQL and Redis"
cx_start_postgres "$DATA/pg"
for s in "${SERVICES[@]}"; do cx_createdb "cxmesh_$s"; done
cx_start_redis "$DATA/redis"

# A development signing key, kept across runs so printed tokens stay valid.
[ -s "$DATA/dev-signing-key" ] || head -c 48 /dev/urandom | base64 | tr -d '\n' > "$DATA/dev-signing-key"
# The AES-256 key contact details are encrypted with, kept across runs so stored ones stay readable.
[ -s "$DATA/contact-key" ] || head -c 32 /dev/urandom | base64 | tr -d '\n' > "$DATA/contact-key"
[ -s "$DATA/pseudonym-key" ] || head -c 32 /dev/urandom | base64 | tr -d '\n' > "$DATA/pseudonym-key"
[ -s "$DATA/webhook-secret-key" ] || head -c 32 /dev/urandom | base64 | tr -d '\n' > "$DATA/webhook-secret-key"
# The demo's inbound connectors: a token for the review sources, an HMAC secret for the help desk's signed webhooks.
[ -s "$DATA/source-token" ] || head -c 24 /dev/urandom | base64 | tr -d '\n/+=' > "$DATA/source-token"
[ -s "$DATA/zendesk-secret" ] || head -c 24 /dev/urandom | base64 | tr -d '\n/+=' > "$DATA/zendesk-secret"

GRPC_PORT=$(cx_free_port)
HTTP_PORT=$(cx_free_port)
while [ "$HTTP_PORT" = "$GRPC_PORT" ]; do HTTP_PORT=$(cx_free_port); done
for s in "${SERVICES[@]}"; do
  export "ConnectionStrings__$s=Host=127.0.0.1;Port=$CX_PG_PORT;Username=postgres;Database=cxmesh_$s"
done
export ConnectionStrings__redis="127.0.0.1:$CX_REDIS_PORT"
export Auth__SigningKey="$(cat "$DATA/dev-signing-key")"
export Feedback__ActiveContactKey=dev1 Feedback__ContactKeys__dev1="$(cat "$DATA/contact-key")"
export Feedback__PseudonymKey="$(cat "$DATA/pseudonym-key")"
export Partner__ActiveSecretKey=dev1 Partner__SecretKeys__dev1="$(cat "$DATA/webhook-secret-key")"
export Feedback__Sources__zendesk__Mapping=zendesk-ticket Feedback__Sources__zendesk__Secret="$(cat "$DATA/zendesk-secret")"
export Feedback__Sources__reviews__Mapping=trustpilot-review Feedback__Sources__reviews__Token="$(cat "$DATA/source-token")"
export Feedback__Sources__appstore__Mapping=app-store-review Feedback__Sources__appstore__Token="$(cat "$DATA/source-token")"
export CxMesh__BindAddress=127.0.0.1 CxMesh__GrpcPort=$GRPC_PORT CxMesh__HttpPort=$HTTP_PORT
export ASPNETCORE_ENVIRONMENT=Development
# The console's development sign-in: pick a member of the demo programme (never on in production; OIDC there).
export Web__DevelopmentSignIn=true
# The demo courier's webhook goes to a local sink on loopback, which only allow-listed hosts may use.
export Partner__WebhookAllowList__0=127.0.0.1
# Notifications link into this console; e-mail channels need an SMTP relay (Notifications__Smtp__Host), chat ones only a URL.
export Notifications__ConsoleUrl="http://127.0.0.1:$HTTP_PORT"

# The sink keeps its port across runs: the courier was registered with its URL.
SINK_PORT=$(cat "$DATA/webhook-sink-port" 2>/dev/null || cx_free_port)
echo "$SINK_PORT" > "$DATA/webhook-sink-port"
dotnet "$DATA/bin/cli/cxmesh.dll" webhook-sink --port "$SINK_PORT" --secret-file "$DATA/demo-webhook-secret" --log "$DATA/webhooks.log" \
  >"$DATA/webhook-sink.out" 2>&1 &
SINK_PID=$!

cx_log "starting cxmesh-server (log: .data/server.log)"
dotnet "$DATA/bin/server/cxmesh-server.dll" --services all >"$DATA/server.log" 2>&1 &
SERVER_PID=$!

ready=""
for _ in $(seq 1 120); do
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$DATA/server.log" >&2; cx_die "cxmesh-server exited"; }
  if { exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT"; } 2>/dev/null; then
    printf 'GET /healthz/ready HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
    if head -1 <&3 | grep -q ' 200 '; then ready=1; fi
    exec 3>&- || true
    [ -n "$ready" ] && break
  fi
  sleep 0.5
done
[ -n "$ready" ] || { tail -30 "$DATA/server.log" >&2; cx_die "cxmesh-server did not become ready"; }

TOKENS=$(dotnet "$DATA/bin/server/cxmesh-server.dll" dev-tokens)
ADMIN_TOKEN=$(awk '$1 == "admin" { print $2 }' <<<"$TOKENS")
APPROVER_TOKEN=$(awk '$1 == "approver" { print $2 }' <<<"$TOKENS")
cx_log "loading demo data"
CXMESH_GRPC="http://127.0.0.1:$GRPC_PORT" CXMESH_TOKEN="$ADMIN_TOKEN" CXMESH_APPROVER_TOKEN="$APPROVER_TOKEN" dotnet "$DATA/bin/cli/cxmesh.dll" seed-demo \
  --courier-webhook "http://127.0.0.1:$SINK_PORT/hooks/cxmesh" --webhook-secret-file "$DATA/demo-webhook-secret" | tee "$DATA/demo.log"

echo
echo "CxMesh is up: grpc=http://127.0.0.1:$GRPC_PORT http=http://127.0.0.1:$HTTP_PORT"
echo
echo "CX console: open http://127.0.0.1:$HTTP_PORT/ and sign in as a member of the demo programme"
echo "Supplier portal: open http://127.0.0.1:$HTTP_PORT/portal and sign in as kofi.mensah (the demo courier's admin, partner"
echo "  'demo-partner') or lucia.mora (a farm's user): the courier's report, its answers and settings"
echo
echo "Development tokens (who, bearer token):"
dotnet "$DATA/bin/server/cxmesh-server.dll" dev-tokens
echo
echo "Try:"
echo "  export PATH=\"$DATA/tools/bin:\$PATH\"   # the cxmesh tool this run installed (or: dotnet tool install -g --add-source .data/tools/nupkg CxMesh.Cli --prerelease)"
echo "  export CXMESH_GRPC=http://127.0.0.1:$GRPC_PORT CXMESH_TOKEN=<the app or admin token>"
echo "  cxmesh submit --nps 9 --journey delivery"
echo "  cxmesh feedback list --journey delivery --limit 10     # newest first; cxmesh feedback get <id>"
echo "  cxmesh score --journey delivery -o json                # any read command prints JSON for scripts"
echo "  cxmesh funnel --journey coffee-subscription   # with the analyst or admin token"
echo "  cxmesh drivers                                 # with the analyst or admin token"
echo "  cxmesh value; cxmesh stages                    # what a promoter is worth; relationship stages (analyst or admin)"
echo "  cxmesh actions --journey delivery              # closed-loop actions from detractor alerts"
echo "  cxmesh sprint                                  # the running 12-week sprint's progress"
echo "  cxmesh audit-verify                            # with the admin token"
echo "  curl http://127.0.0.1:$HTTP_PORT/metrics | grep ^cxmesh_   # Prometheus metrics; the JSON API: http://127.0.0.1:$HTTP_PORT/openapi/ui"
echo "  curl -H \"Authorization: Bearer \$(cat .data/source-token)\" -H 'Content-Type: application/json' \\"
echo "    --data @samples/connectors/trustpilot-review.json http://127.0.0.1:$HTTP_PORT/v1/sources/reviews/events   # a review by webhook"
echo
echo "Partners: the demo courier is 'demo-partner', so the partner token above reads its reports:"
COURIER_REPORT=$(sed -n 's/.*(demo-partner): \([0-9a-f-]*\).*/\1/p' "$DATA/demo.log" | tail -1)
echo "  CXMESH_TOKEN=<partner token> cxmesh report --id ${COURIER_REPORT:-<report id>} --format html --out courier-report.html"
echo "  webhooks the courier received, with their signature checks: .data/webhooks.log"
echo
echo "Press Ctrl-C to stop."
wait "$SERVER_PID"
