-- Runs once, when the PostgreSQL volume is first initialised. Homeroom connects as `homeroom`, which owns its
-- database but is not a superuser: a superuser bypasses privileges, and the audit trail relies on the
-- UPDATE/DELETE/TRUNCATE its migrations revoke (the triggers refuse them too, but a superuser can disable those).
CREATE ROLE homeroom LOGIN PASSWORD 'homeroom' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE homeroom OWNER homeroom;
