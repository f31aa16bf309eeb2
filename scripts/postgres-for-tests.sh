#!/usr/bin/env bash
# A PostgreSQL server on loopback for the test suite: Debian's postgresql package, its "main" cluster,
# and a throwaway database the tests wipe. Prints the SQLAlchemy URL on stdout, or nothing (with the
# reason on stderr) where it cannot install or start one.
set -euo pipefail
ROLE=absen_test
DATABASE=absen_test
PASSWORD=absen_test   # loopback only, a database that holds nothing but test data

if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "PostgreSQL tests need root or sudo to install and start the server; skipped" >&2
  exit 0
fi
as_postgres() { $SUDO runuser -u postgres -- "$@"; }

if ! command -v pg_ctlcluster >/dev/null; then
  if ! command -v apt-get >/dev/null; then
    echo "PostgreSQL tests: install PostgreSQL, then set ABSEN_TEST_DATABASE_URL yourself; skipped" >&2
    exit 0
  fi
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2
fi
VERSION=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk '{print $2}' | grep -qx main; then
  $SUDO pg_createcluster "$VERSION" main >&2
fi
if ! pg_lsclusters -h | awk '$2 == "main" {print $4}' | grep -qx online; then
  $SUDO pg_ctlcluster "$VERSION" main start >&2
fi
PORT=$(pg_lsclusters -h | awk '$2 == "main" {print $3}')
if [ -z "$(as_postgres psql -p "$PORT" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" ]; then
  as_postgres psql -p "$PORT" -qc "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'" >&2
fi
if [ -z "$(as_postgres psql -p "$PORT" -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]; then
  as_postgres createdb -p "$PORT" -O "$ROLE" "$DATABASE" >&2
fi
# The tests drop and recreate the public schema before each test: the role must own both.
as_postgres psql -p "$PORT" -qc "ALTER DATABASE $DATABASE OWNER TO $ROLE" >&2
as_postgres psql -p "$PORT" -d "$DATABASE" -qc "ALTER SCHEMA public OWNER TO $ROLE" >&2
echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE"
