//! The schema, as an ordered list of steps; step N is schema version N,
//! recorded in `schema_version` when applied. Steps are only ever
//! appended: an existing database is upgraded at start by the steps it
//! lacks.
//!
//! Cesi's `users` table is created exactly as Cesi's SQLAlchemy model
//! does, and only if absent, so a Cesi database opens unchanged and Cesi
//! can still read it. Everything the hub adds lives in tables of its own.

/// One schema step, in both dialects.
pub struct Step {
    /// SQL for sqlite (a batch).
    pub sqlite: &'static str,
    /// SQL for PostgreSQL (a batch).
    pub postgres: &'static str,
}

/// Created before any step: the record of applied steps.
pub const VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY);";

/// Every step, oldest first.
pub const STEPS: &[Step] = &[
    // 1: Cesi's users and the hub's accounts.
    Step {
        sqlite: "
CREATE TABLE IF NOT EXISTS users (id INTEGER NOT NULL, username VARCHAR(16), password VARCHAR(120), usertype INTEGER, PRIMARY KEY (id));
CREATE UNIQUE INDEX IF NOT EXISTS ix_users_username ON users (username);
CREATE TABLE hub_user_environments (username TEXT NOT NULL, environment TEXT NOT NULL, PRIMARY KEY (username, environment));
CREATE TABLE hub_sessions (token_hash TEXT NOT NULL PRIMARY KEY, username TEXT NOT NULL, created BIGINT NOT NULL, expires BIGINT NOT NULL);
CREATE INDEX hub_sessions_user ON hub_sessions (username);
CREATE TABLE hub_tokens (name TEXT NOT NULL PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, username TEXT NOT NULL, created BIGINT NOT NULL);
CREATE TABLE hub_activity (id INTEGER PRIMARY KEY AUTOINCREMENT, time_ms BIGINT NOT NULL, level TEXT NOT NULL, username TEXT NOT NULL, action TEXT NOT NULL, node TEXT, process TEXT, ok INTEGER NOT NULL, message TEXT NOT NULL);
CREATE TABLE hub_settings (name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
",
    postgres: "
CREATE TABLE IF NOT EXISTS users (id SERIAL PRIMARY KEY, username VARCHAR(16), password VARCHAR(120), usertype INTEGER);
CREATE UNIQUE INDEX IF NOT EXISTS ix_users_username ON users (username);
CREATE TABLE hub_user_environments (username TEXT NOT NULL, environment TEXT NOT NULL, PRIMARY KEY (username, environment));
CREATE TABLE hub_sessions (token_hash TEXT NOT NULL PRIMARY KEY, username TEXT NOT NULL, created BIGINT NOT NULL, expires BIGINT NOT NULL);
CREATE INDEX hub_sessions_user ON hub_sessions (username);
CREATE TABLE hub_tokens (name TEXT NOT NULL PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, username TEXT NOT NULL, created BIGINT NOT NULL);
CREATE TABLE hub_activity (id BIGSERIAL PRIMARY KEY, time_ms BIGINT NOT NULL, level TEXT NOT NULL, username TEXT NOT NULL, action TEXT NOT NULL, node TEXT, process TEXT, ok INTEGER NOT NULL, message TEXT NOT NULL);
CREATE TABLE hub_settings (name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
",
    },
    // 2: node overrides (admins add, change, disable and remove nodes at
    // run time; every instance on the database sees the same fleet).
    // Timeouts in milliseconds: the config takes fractional seconds.
    Step {
        sqlite: "
CREATE TABLE hub_nodes (name TEXT NOT NULL PRIMARY KEY, environment TEXT NOT NULL, url TEXT NOT NULL, username TEXT NOT NULL, password TEXT NOT NULL, timeout_ms BIGINT, disabled INTEGER NOT NULL, updated_at BIGINT NOT NULL);
",
        postgres: "
CREATE TABLE hub_nodes (name TEXT NOT NULL PRIMARY KEY, environment TEXT NOT NULL, url TEXT NOT NULL, username TEXT NOT NULL, password TEXT NOT NULL, timeout_ms BIGINT, disabled INTEGER NOT NULL, updated_at BIGINT NOT NULL);
",
    },
];
