#!/usr/bin/env bash
# Make sure the PostgreSQL 15 server binaries (initdb, pg_ctl, postgres) and pgbench exist, and
# that the unprivileged user the tests run the server as exists (initdb refuses to run as root).
set -euo pipefail

PG_USER="${PLACER_PG_USER:-placer-pg}"

have_all() {
    for name in initdb pg_ctl postgres pgbench; do
        command -v "$name" >/dev/null 2>&1 && continue
        ls /usr/lib/postgresql/*/bin/"$name" >/dev/null 2>&1 && continue
        return 1
    done
}

if ! have_all; then
    if [ "$(id -u)" -ne 0 ]; then
        # (a contributor's own machine: the tests that need PostgreSQL skip, saying so)
        echo "install-postgres: PostgreSQL binaries missing and not root, so not installed; the tests that need them will skip (as root this script installs postgresql-15 and postgresql-client-15)" >&2
        exit 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15 >/dev/null
fi
have_all || { echo "install-postgres: PostgreSQL binaries still missing" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ] && ! id "$PG_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
fi
echo "install-postgres: ok ($(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null || command -v postgres))"
