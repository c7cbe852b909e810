//! The two database engines behind one tiny interface: run a statement,
//! run a query, apply a batch in a transaction. Everything above it (the
//! store's methods, the migrations) is written once.
//!
//! SQL is written with PostgreSQL's `$1 …` placeholders; for sqlite they
//! become `?1 …` (same numbering). Integers travel as `i64` and are
//! narrowed for PostgreSQL's `INTEGER` columns (Cesi's `usertype`) by
//! [`Param`]'s own `ToSql`.

use std::sync::{Arc, Mutex};

use deadpool_postgres::{Manager, Pool};
use tokio_postgres::NoTls;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::StoreError;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// An integer (bound as the column's integer width on PostgreSQL).
    Int(i64),
    /// Text.
    Text(String),
    /// SQL NULL.
    Null,
}

impl From<i64> for Param {
    fn from(v: i64) -> Param {
        Param::Int(v)
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Param {
        Param::Text(v.to_string())
    }
}
impl From<String> for Param {
    fn from(v: String) -> Param {
        Param::Text(v)
    }
}
impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Param {
        v.map_or(Param::Null, Param::from)
    }
}

/// One cell of a result row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// An integer of any width.
    Int(i64),
    /// Text.
    Text(String),
    /// NULL.
    Null,
}

impl Cell {
    /// The integer, or 0 for anything else (columns are typed by schema).
    pub fn int(&self) -> i64 {
        match self {
            Cell::Int(v) => *v,
            Cell::Text(t) => t.trim().parse().unwrap_or(0),
            Cell::Null => 0,
        }
    }

    /// The text, or `""` for NULL.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Int(v) => v.to_string(),
            Cell::Null => String::new(),
        }
    }

    /// The text, `None` for NULL.
    pub fn opt_text(&self) -> Option<String> {
        match self {
            Cell::Null => None,
            other => Some(other.text()),
        }
    }
}

/// A result row.
pub type Row = Vec<Cell>;

/// An open database.
#[derive(Clone)]
pub enum Engine {
    /// One sqlite connection; every call runs on tokio's blocking pool
    /// (sqlite calls block on disk and on other processes' locks).
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// A small pool of PostgreSQL connections.
    Postgres(Pool),
}

/// How long sqlite waits for another process's lock (the CLI while the
/// hub runs, or Cesi sharing the file) before giving up.
const SQLITE_BUSY: std::time::Duration = std::time::Duration::from_secs(5);
/// Connections per hub instance; the hub's queries are short.
const PG_POOL_SIZE: usize = 8;

impl Engine {
    /// Opens an sqlite file (`None`: in memory).
    pub fn open_sqlite(path: Option<&std::path::Path>) -> Result<Engine, StoreError> {
        if let Some(p) = path {
            private_file(p)?;
        }
        let conn = match path {
            Some(p) => rusqlite::Connection::open(p),
            None => rusqlite::Connection::open_in_memory(),
        }
        .map_err(sqlite_err)?;
        conn.busy_timeout(SQLITE_BUSY).map_err(sqlite_err)?;
        Ok(Engine::Sqlite(Arc::new(Mutex::new(conn))))
    }

    /// Connects to PostgreSQL at `url` and checks one connection works.
    pub async fn open_postgres(url: &str) -> Result<Engine, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Config(e.to_string()))?;
        let manager = Manager::new(config, NoTls);
        let pool = Pool::builder(manager)
            .max_size(PG_POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        // Fail at start-up, not at the first login.
        drop(pool.get().await.map_err(pool_err)?);
        Ok(Engine::Postgres(pool))
    }

    /// Runs `sql`; returns the number of rows changed.
    pub async fn execute(&self, sql: &'static str, params: Vec<Param>) -> Result<u64, StoreError> {
        match self {
            Engine::Sqlite(conn) => {
                let conn = conn.clone();
                blocking(move || {
                    let conn = lock(&conn)?;
                    let n = conn
                        .execute(&to_sqlite(sql), rusqlite::params_from_iter(params.iter()))
                        .map_err(sqlite_err)?;
                    Ok(n as u64)
                })
                .await
            }
            Engine::Postgres(pool) => {
                let client = pool.get().await.map_err(pool_err)?;
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                client.execute(sql, &refs).await.map_err(pg_err)
            }
        }
    }

    /// Runs a query; every column is read as a [`Cell`].
    pub async fn query(
        &self,
        sql: &'static str,
        params: Vec<Param>,
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Engine::Sqlite(conn) => {
                let conn = conn.clone();
                blocking(move || {
                    let conn = lock(&conn)?;
                    let mut stmt = conn.prepare(&to_sqlite(sql)).map_err(sqlite_err)?;
                    let width = stmt.column_count();
                    let rows = stmt
                        .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                            (0..width)
                                .map(|i| {
                                    Ok(match row.get_ref(i)? {
                                        rusqlite::types::ValueRef::Null => Cell::Null,
                                        rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                                        rusqlite::types::ValueRef::Real(v) => Cell::Int(v as i64),
                                        rusqlite::types::ValueRef::Text(t)
                                        | rusqlite::types::ValueRef::Blob(t) => {
                                            Cell::Text(String::from_utf8_lossy(t).into_owned())
                                        }
                                    })
                                })
                                .collect::<Result<Row, rusqlite::Error>>()
                        })
                        .map_err(sqlite_err)?;
                    rows.collect::<Result<Vec<Row>, _>>().map_err(sqlite_err)
                })
                .await
            }
            Engine::Postgres(pool) => {
                let client = pool.get().await.map_err(pool_err)?;
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                let rows = client.query(sql, &refs).await.map_err(pg_err)?;
                rows.iter().map(pg_row).collect()
            }
        }
    }

    /// Applies the schema migrations not applied yet, each in its own
    /// transaction. On PostgreSQL an advisory lock serialises hub
    /// instances that start together.
    pub async fn migrate(
        &self,
        steps: &'static [super::migrations::Step],
    ) -> Result<(), StoreError> {
        match self {
            Engine::Sqlite(conn) => {
                let conn = conn.clone();
                blocking(move || {
                    let mut conn = lock(&conn)?;
                    conn.execute_batch(super::migrations::VERSION_TABLE)
                        .map_err(sqlite_err)?;
                    for (i, step) in steps.iter().enumerate() {
                        let version = i as i64 + 1;
                        let tx = conn.transaction().map_err(sqlite_err)?;
                        let done: i64 = tx
                            .query_row(
                                "SELECT COUNT(*) FROM schema_version WHERE version = ?1",
                                [version],
                                |r| r.get(0),
                            )
                            .map_err(sqlite_err)?;
                        if done == 0 {
                            tx.execute_batch(step.sqlite).map_err(sqlite_err)?;
                            tx.execute(
                                "INSERT INTO schema_version (version) VALUES (?1)",
                                [version],
                            )
                            .map_err(sqlite_err)?;
                        }
                        tx.commit().map_err(sqlite_err)?;
                    }
                    Ok(())
                })
                .await
            }
            Engine::Postgres(pool) => {
                let mut client = pool.get().await.map_err(pool_err)?;
                client
                    .batch_execute(super::migrations::VERSION_TABLE)
                    .await
                    .map_err(pg_err)?;
                for (i, step) in steps.iter().enumerate() {
                    let version = i as i64 + 1;
                    let tx = client.transaction().await.map_err(pg_err)?;
                    // Held until commit: a second instance waits here.
                    tx.execute("SELECT pg_advisory_xact_lock(7316001)", &[])
                        .await
                        .map_err(pg_err)?;
                    let done = tx
                        .query(
                            "SELECT version FROM schema_version WHERE version = $1",
                            &[&Param::Int(version)],
                        )
                        .await
                        .map_err(pg_err)?;
                    if done.is_empty() {
                        tx.batch_execute(step.postgres).await.map_err(pg_err)?;
                        tx.execute(
                            "INSERT INTO schema_version (version) VALUES ($1)",
                            &[&Param::Int(version)],
                        )
                        .await
                        .map_err(pg_err)?;
                    }
                    tx.commit().await.map_err(pg_err)?;
                }
                Ok(())
            }
        }
    }
}

/// Makes the sqlite file readable by its owner only: it holds password
/// hashes and node passwords (in clear, as Cesi's TOML holds them).
/// Created 0600 when absent, so there is no moment it is readable; an
/// existing file (a Cesi database) is tightened, with a note, when it can
/// be (a file of another owner is left as it is, with a warning).
fn private_file(path: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |e: std::io::Error| StoreError::Unavailable(format!("{}: {e}", path.display()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    let mode = file.metadata().map_err(io)?.permissions().mode();
    if mode & 0o077 != 0 {
        match file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700)) {
            Ok(()) => eprintln!(
                "supervisor-hub: {} was readable by others (mode {:o}); made it 0600",
                path.display(),
                mode & 0o777
            ),
            Err(e) => eprintln!(
                "supervisor-hub: WARNING: {} is readable by others (mode {:o}) and cannot be changed: {e}",
                path.display(),
                mode & 0o777
            ),
        }
    }
    Ok(())
}

fn to_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

fn lock(
    conn: &Mutex<rusqlite::Connection>,
) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>, StoreError> {
    // A panic while holding the lock cannot leave sqlite inconsistent
    // (statements are atomic), so a poisoned lock is still usable.
    Ok(conn.lock().unwrap_or_else(|p| p.into_inner()))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
}

fn sqlite_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(err, _) = &e
        && err.code == rusqlite::ErrorCode::ConstraintViolation
    {
        return StoreError::Conflict;
    }
    StoreError::Backend(e.to_string())
}

fn pg_err(e: tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        return StoreError::Conflict;
    }
    if e.is_closed() {
        return StoreError::Unavailable(e.to_string());
    }
    // The Display of a server error is only "db error"; the detail is in
    // the source.
    match e.as_db_error() {
        Some(db) => StoreError::Backend(db.message().to_string()),
        None => StoreError::Backend(e.to_string()),
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn pg_row(row: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let mut cells = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let cell = if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)
                .map(|v| v.map_or(Cell::Null, |v| Cell::Int(v.into())))
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)
                .map(|v| v.map_or(Cell::Null, |v| Cell::Int(v.into())))
        } else if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)
                .map(|v| v.map_or(Cell::Null, Cell::Int))
        } else {
            row.try_get::<_, Option<String>>(i)
                .map(|v| v.map_or(Cell::Null, Cell::Text))
        };
        cells.push(cell.map_err(pg_err)?);
    }
    Ok(cells)
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value};
        Ok(match self {
            Param::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Param::Text(t) => ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(t.as_bytes())),
            Param::Null => ToSqlOutput::Owned(Value::Null),
        })
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Int(v) if *ty == Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
            Param::Int(v) if *ty == Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
            Param::Int(v) => v.to_sql(ty, out),
            Param::Text(t) => t.to_sql(ty, out),
            Param::Null => Ok(IsNull::Yes),
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INT2
            || *ty == Type::INT4
            || *ty == Type::INT8
            || <String as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}
