#!/usr/bin/env bash
# Throwaway PostgreSQL clusters for tests and benchmarks, from Debian's packages.
#
#   scripts/pg.sh install            install PostgreSQL if missing (apt-get)
#   scripts/pg.sh start DIR PORT [-c setting=value ...]
#                                    create the cluster in DIR if needed, start it on 127.0.0.1:PORT
#   scripts/pg.sh stop DIR           stop it (fast shutdown), waiting until it is down
#   scripts/pg.sh bin                print the directory of the server binaries
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
set -euo pipefail

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] || return 1
  echo "$dir"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Closes every descriptor above stderr that this shell inherited, so that the server, which outlives this script,
# holds none of its caller's: a test process's sockets would stay open, and Foundation's Process, which sees a child
# exit when a socket it passed down is closed by every holder, would wait for the server to stop.
close_inherited() {
  local fd
  for fd in /proc/self/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

cmd=${1:-}
case "$cmd" in
  install)
    if pg_bin >/dev/null; then exit 0; fi
    echo "pg.sh: installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql postgresql-contrib >/dev/null
    pg_bin >/dev/null || { echo "pg.sh: PostgreSQL installed but initdb not found" >&2; exit 1; }
    ;;
  bin)
    pg_bin || { echo "pg.sh: PostgreSQL is not installed (run: scripts/pg.sh install)" >&2; exit 1; }
    ;;
  start)
    dir=${2:?usage: pg.sh start DIR PORT}; port=${3:?usage: pg.sh start DIR PORT}; shift 3
    bin=$(pg_bin) || { echo "pg.sh: PostgreSQL is not installed (run: scripts/pg.sh install)" >&2; exit 1; }
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir" && chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir" -U postgres -A trust --no-sync -E UTF8 >"$dir.initdb.log" 2>&1 ||
        { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    opts="-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=400"
    for extra in "$@"; do opts="$opts $extra"; done
    ( close_inherited; as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null ) ||
      { cat "$dir/server.log" >&2; exit 1; }
    ;;
  stop)
    dir=${2:?usage: pg.sh stop DIR}
    bin=$(pg_bin) || exit 0
    [ -f "$dir/postmaster.pid" ] || exit 0
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    ;;
  *)
    sed -n '2,11p' "$0" >&2
    exit 2
    ;;
esac
