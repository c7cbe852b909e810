//! The hub's store: users (Cesi's table, kept compatible), sessions, API
//! tokens, the activity log, settings, node overrides ([`overrides`]) — in sqlite (embedded default) or
//! PostgreSQL (several hub instances on one database).
//!
//! One [`Store`] type with async methods, written once over
//! [`engine::Engine`]; the schema is versioned ([`migrations`]) and
//! applied at open. Secrets never reach the store in clear: passwords are
//! argon2id (or Cesi's werkzeug pbkdf2 until the next login), session and
//! API tokens are stored as SHA-256 hashes.

pub mod accounts;
pub mod activity_query;
pub mod engine;
pub mod migrations;
pub mod overrides;

use engine::{Cell, Engine};

pub use accounts::SessionInfo;
pub use activity_query::{ActivityEntry, ActivityFilter};
pub use overrides::{NodeOverride, OverridesVersion};

use crate::activity::{Activity, Level};
use crate::config::Database;

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A unique key already exists (duplicate user or token name).
    #[error("already exists")]
    Conflict,
    /// The database URL or pool settings are invalid.
    #[error("database settings: {0}")]
    Config(String),
    /// The database cannot be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Backend(String),
}

/// A user row with what the hub adds to it.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Cesi's `username`.
    pub username: String,
    /// Cesi's `password`: a werkzeug pbkdf2 hash or our argon2id PHC string.
    pub password_hash: String,
    /// Cesi's `usertype` (0 admin, 1 operator, 2 viewer; NULL reads as -1).
    pub usertype: i64,
    /// Environments the user is limited to; `None` means all.
    pub environments: Option<Vec<String>>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("usertype", &self.usertype)
            .field("environments", &self.environments)
            .finish_non_exhaustive()
    }
}

/// One stored activity entry: the record and when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRow {
    /// Milliseconds since the epoch.
    pub time_ms: i64,
    /// The record.
    pub entry: Activity,
}

/// An API token as listed (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The token's name.
    pub name: String,
    /// The user it acts as.
    pub username: String,
    /// Creation time, seconds since the epoch.
    pub created: i64,
}

/// The hub's store.
#[derive(Clone)]
pub struct Store {
    engine: Engine,
}

impl Store {
    /// Opens `database` and applies the migrations it lacks.
    pub async fn open(database: &Database) -> Result<Store, StoreError> {
        let engine = match database {
            Database::SqliteFile(path) => Engine::open_sqlite(Some(path))?,
            Database::SqliteMemory => Engine::open_sqlite(None)?,
            Database::Postgres(url) => Engine::open_postgres(url).await?,
        };
        engine.migrate(migrations::STEPS).await?;
        Ok(Store { engine })
    }

    /// `sqlite` or `postgresql`.
    pub fn engine_name(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite(_) => "sqlite",
            Engine::Postgres(_) => "postgresql",
        }
    }

    // ---- users -------------------------------------------------------

    /// Every user as `(username, usertype)`, in database order.
    pub async fn list_users(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self
            .engine
            .query("SELECT username, usertype FROM users ORDER BY id", vec![])
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r[0].text(), usertype(&r[1])))
            .collect())
    }

    /// How many users exist.
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        let rows = self
            .engine
            .query("SELECT COUNT(*) FROM users", vec![])
            .await?;
        Ok(rows.first().map_or(0, |r| r[0].int()))
    }

    /// The user named `username`.
    pub async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let rows = self
            .engine
            .query(
                "SELECT username, password, usertype FROM users WHERE username = $1",
                vec![username.into()],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let envs = self
            .engine
            .query(
                "SELECT environment FROM hub_user_environments WHERE username = $1 ORDER BY environment",
                vec![username.into()],
            )
            .await?;
        Ok(Some(User {
            username: row[0].text(),
            password_hash: row[1].text(),
            usertype: usertype(&row[2]),
            environments: (!envs.is_empty()).then(|| envs.iter().map(|r| r[0].text()).collect()),
        }))
    }

    /// Adds a user; [`StoreError::Conflict`] if the name is taken.
    pub async fn add_user(
        &self,
        username: &str,
        hash: &str,
        usertype: i64,
    ) -> Result<(), StoreError> {
        self.engine
            .execute(
                "INSERT INTO users (username, password, usertype) VALUES ($1, $2, $3)",
                vec![username.into(), hash.into(), usertype.into()],
            )
            .await
            .map(drop)
    }

    /// Deletes a user with their sessions, tokens and environments;
    /// `false` if there was no such user.
    pub async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let n = self
            .engine
            .execute(
                "DELETE FROM users WHERE username = $1",
                vec![username.into()],
            )
            .await?;
        for sql in [
            "DELETE FROM hub_sessions WHERE username = $1",
            "DELETE FROM hub_tokens WHERE username = $1",
            "DELETE FROM hub_user_environments WHERE username = $1",
        ] {
            self.engine.execute(sql, vec![username.into()]).await?;
        }
        Ok(n > 0)
    }

    /// Replaces a user's password hash; `false` if there is no such user.
    pub async fn set_password(&self, username: &str, hash: &str) -> Result<bool, StoreError> {
        let n = self
            .engine
            .execute(
                "UPDATE users SET password = $1 WHERE username = $2",
                vec![hash.into(), username.into()],
            )
            .await?;
        Ok(n > 0)
    }

    /// Limits a user to `environments` (empty: no limit).
    pub async fn set_user_environments(
        &self,
        username: &str,
        environments: &[String],
    ) -> Result<(), StoreError> {
        self.engine
            .execute(
                "DELETE FROM hub_user_environments WHERE username = $1",
                vec![username.into()],
            )
            .await?;
        for env in environments {
            self.engine
                .execute(
                    "INSERT INTO hub_user_environments (username, environment) VALUES ($1, $2)",
                    vec![username.into(), env.as_str().into()],
                )
                .await?;
        }
        Ok(())
    }

    // ---- sessions ----------------------------------------------------

    /// Stores a session (its token's hash) for `username`.
    pub async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        created: i64,
        expires: i64,
    ) -> Result<(), StoreError> {
        self.engine
            .execute(
                "INSERT INTO hub_sessions (token_hash, username, created, expires) VALUES ($1, $2, $3, $4)",
                vec![token_hash.into(), username.into(), created.into(), expires.into()],
            )
            .await
            .map(drop)
    }

    /// Keeps only the newest `keep` sessions of `username`, so logging in
    /// in a loop cannot grow the table without bound.
    pub async fn trim_sessions(&self, username: &str, keep: i64) -> Result<u64, StoreError> {
        self.engine
            .execute(
                "DELETE FROM hub_sessions WHERE username = $1 AND token_hash NOT IN (SELECT token_hash FROM hub_sessions WHERE username = $1 ORDER BY created DESC, token_hash LIMIT $2)",
                vec![username.into(), keep.into()],
            )
            .await
    }

    /// The user of a live session.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let rows = self
            .engine
            .query(
                "SELECT username FROM hub_sessions WHERE token_hash = $1 AND expires > $2",
                vec![token_hash.into(), now.into()],
            )
            .await?;
        Ok(rows.first().map(|r| r[0].text()))
    }

    /// Ends one session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<bool, StoreError> {
        let n = self
            .engine
            .execute(
                "DELETE FROM hub_sessions WHERE token_hash = $1",
                vec![token_hash.into()],
            )
            .await?;
        Ok(n > 0)
    }

    /// Ends every session of `username` except `keep` (a token hash).
    pub async fn delete_sessions_of(
        &self,
        username: &str,
        keep: Option<&str>,
    ) -> Result<u64, StoreError> {
        self.engine
            .execute(
                "DELETE FROM hub_sessions WHERE username = $1 AND token_hash <> $2",
                vec![username.into(), keep.unwrap_or("").into()],
            )
            .await
    }

    /// Forgets expired sessions.
    pub async fn purge_sessions(&self, now: i64) -> Result<u64, StoreError> {
        self.engine
            .execute(
                "DELETE FROM hub_sessions WHERE expires <= $1",
                vec![now.into()],
            )
            .await
    }

    // ---- API tokens --------------------------------------------------

    /// Stores an API token (its hash) named `name` acting as `username`.
    pub async fn add_token(
        &self,
        name: &str,
        token_hash: &str,
        username: &str,
        created: i64,
    ) -> Result<(), StoreError> {
        self.engine
            .execute(
                "INSERT INTO hub_tokens (name, token_hash, username, created) VALUES ($1, $2, $3, $4)",
                vec![name.into(), token_hash.into(), username.into(), created.into()],
            )
            .await
            .map(drop)
    }

    /// Revokes the token named `name`; `false` if there was none.
    pub async fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .engine
            .execute("DELETE FROM hub_tokens WHERE name = $1", vec![name.into()])
            .await?;
        Ok(n > 0)
    }

    /// The user an API token acts as.
    pub async fn token_user(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        let rows = self
            .engine
            .query(
                "SELECT username FROM hub_tokens WHERE token_hash = $1",
                vec![token_hash.into()],
            )
            .await?;
        Ok(rows.first().map(|r| r[0].text()))
    }

    /// Every API token, by name.
    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = self
            .engine
            .query(
                "SELECT name, username, created FROM hub_tokens ORDER BY name",
                vec![],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| TokenInfo {
                name: r[0].text(),
                username: r[1].text(),
                created: r[2].int(),
            })
            .collect())
    }

    // ---- activity ----------------------------------------------------

    /// Appends an activity entry.
    pub async fn add_activity(&self, row: &ActivityRow) -> Result<(), StoreError> {
        self.engine
            .execute(
                "INSERT INTO hub_activity (time_ms, level, username, action, node, process, ok, message) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    row.time_ms.into(),
                    row.entry.level.as_str().into(),
                    row.entry.username.as_str().into(),
                    row.entry.action.as_str().into(),
                    row.entry.node.as_deref().into(),
                    row.entry.process.as_deref().into(),
                    i64::from(row.entry.ok).into(),
                    row.entry.message.as_str().into(),
                ],
            )
            .await
            .map(drop)
    }

    /// The newest `limit` entries (all for `None`), newest first.
    pub async fn activity(&self, limit: Option<u64>) -> Result<Vec<ActivityRow>, StoreError> {
        let rows = match limit {
            Some(n) => {
                self.engine
                    .query(
                        "SELECT time_ms, level, username, action, node, process, ok, message FROM hub_activity ORDER BY id DESC LIMIT $1",
                        vec![i64::try_from(n).unwrap_or(i64::MAX).into()],
                    )
                    .await?
            }
            None => {
                self.engine
                    .query(
                        "SELECT time_ms, level, username, action, node, process, ok, message FROM hub_activity ORDER BY id DESC",
                        vec![],
                    )
                    .await?
            }
        };
        Ok(rows.iter().map(|r| activity_row(r)).collect())
    }

    /// Deletes every activity entry.
    pub async fn clear_activity(&self) -> Result<(), StoreError> {
        self.engine
            .execute("DELETE FROM hub_activity", vec![])
            .await
            .map(drop)
    }

    // ---- settings ----------------------------------------------------

    /// A stored setting.
    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let rows = self
            .engine
            .query(
                "SELECT value FROM hub_settings WHERE name = $1",
                vec![name.into()],
            )
            .await?;
        Ok(rows.first().map(|r| r[0].text()))
    }

    /// Stores `value` under `name` unless a value is there already; returns
    /// the stored value (so concurrent instances agree on one).
    pub async fn init_setting(&self, name: &str, value: &str) -> Result<String, StoreError> {
        self.engine
            .execute(
                "INSERT INTO hub_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                vec![name.into(), value.into()],
            )
            .await?;
        Ok(self
            .setting(name)
            .await?
            .unwrap_or_else(|| value.to_string()))
    }

    /// Deletes a setting; `true` if it existed (used once: the setup token).
    pub async fn take_setting(&self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .engine
            .execute(
                "DELETE FROM hub_settings WHERE name = $1",
                vec![name.into()],
            )
            .await?;
        Ok(n > 0)
    }
}

fn usertype(cell: &Cell) -> i64 {
    match cell {
        Cell::Null => -1,
        other => other.int(),
    }
}

fn activity_row(r: &[Cell]) -> ActivityRow {
    ActivityRow {
        time_ms: r[0].int(),
        entry: Activity {
            level: Level::from_name(&r[1].text()),
            username: r[2].text(),
            action: r[3].text(),
            node: r[4].opt_text(),
            process: r[5].opt_text(),
            ok: r[6].int() != 0,
            message: r[7].text(),
        },
    }
}
