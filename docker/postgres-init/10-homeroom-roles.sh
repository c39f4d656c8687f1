#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (the image sources *.sh files in
# /docker-entrypoint-initdb.d). Two roles, neither a superuser (a superuser bypasses privileges and can disable
# the audit trail's triggers):
#   homeroom      owns the database and its tables; only the `migrate` service connects as it
#                 (DATABASE_MIGRATION_URL). An owner can grant itself anything on its tables, so the service
#                 must not run as it.
#   homeroom_app  the api and worker (DATABASE_URL); owns nothing. `homeroom migrate` grants it DML on the tables,
#                 and only SELECT and INSERT on the append-only audit tables.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$HOMEROOM_DB_OWNER_PASSWORD" -v app_password="$HOMEROOM_DB_APP_PASSWORD" <<'SQL'
CREATE ROLE homeroom LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE homeroom_app LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
CREATE DATABASE homeroom OWNER homeroom;
REVOKE ALL ON DATABASE homeroom FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE homeroom TO homeroom, homeroom_app;
\connect homeroom
-- PostgreSQL 15 and later already do this; on older servers PUBLIC could create tables in `public`.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
