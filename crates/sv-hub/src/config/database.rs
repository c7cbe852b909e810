//! Cesi's `database` URI (SQLAlchemy's forms) turned into the store to
//! open: an sqlite file, sqlite in memory, or a PostgreSQL URL.

use std::path::{Path, PathBuf};

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// `sqlite:///relative.db` (resolved against the config file's
    /// directory) or `sqlite:////absolute.db`.
    SqliteFile(PathBuf),
    /// `sqlite://`: in memory, lost at exit (as in Cesi).
    SqliteMemory,
    /// `postgres://…` or `postgresql://…`, passed to the driver as given.
    Postgres(String),
}

/// Why a `database` value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUriError {
    /// MySQL and other SQLAlchemy dialects.
    #[error(
        "unsupported database '{0}': the hub stores in sqlite (sqlite:///file.db) or PostgreSQL (postgres://user:pass@host/db)"
    )]
    Unsupported(String),
}

impl Database {
    /// Reads `uri` as Cesi's SQLAlchemy URI; relative sqlite paths are
    /// taken relative to `base` (the config file's directory).
    pub fn from_uri(uri: &str, base: &Path) -> Result<Database, DatabaseUriError> {
        if uri == "sqlite://" || uri == "sqlite:///:memory:" {
            return Ok(Database::SqliteMemory);
        }
        if let Some(rest) = uri.strip_prefix("sqlite:///") {
            // `sqlite:////abs` leaves `/abs`; `sqlite:///rel` leaves `rel`.
            let path = Path::new(rest);
            return Ok(Database::SqliteFile(if path.is_absolute() {
                path.to_path_buf()
            } else {
                base.join(path)
            }));
        }
        let lower = uri.to_ascii_lowercase();
        if lower.starts_with("postgres://")
            || lower.starts_with("postgresql://")
            || lower.starts_with("postgresql+psycopg2://")
        {
            // SQLAlchemy's driver suffix means nothing to tokio-postgres.
            let url = match uri.find("://") {
                Some(at) => format!("postgresql{}", &uri[at..]),
                None => uri.to_string(),
            };
            return Ok(Database::Postgres(url));
        }
        Err(DatabaseUriError::Unsupported(redact_url(uri)))
    }

    /// The database as `--check-config` and log lines show it: a URL's
    /// password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Database::SqliteFile(path) => format!("sqlite file {}", path.display()),
            Database::SqliteMemory => "sqlite in memory (lost at exit)".to_string(),
            Database::Postgres(url) => format!("postgresql {}", redact_url(url)),
        }
    }
}

/// `scheme://user:secret@host/db` → `scheme://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_forms_resolve_against_the_config_directory() {
        let base = Path::new("/etc/hub");
        assert_eq!(
            Database::from_uri("sqlite:///users.db", base),
            Ok(Database::SqliteFile("/etc/hub/users.db".into()))
        );
        assert_eq!(
            Database::from_uri("sqlite:////var/lib/users.db", base),
            Ok(Database::SqliteFile("/var/lib/users.db".into()))
        );
        assert_eq!(
            Database::from_uri("sqlite://", base),
            Ok(Database::SqliteMemory)
        );
    }

    #[test]
    fn postgres_urls_pass_and_their_passwords_never_show() {
        let db = Database::from_uri("postgres://hub:s3cret@db.example/hub", Path::new("/"));
        assert_eq!(
            db,
            Ok(Database::Postgres(
                "postgresql://hub:s3cret@db.example/hub".into()
            ))
        );
        let shown = db.map(|d| d.redacted()).unwrap_or_default();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("hub:***@db.example"), "{shown}");
    }

    #[test]
    fn mysql_is_refused_without_its_password() {
        let err = Database::from_uri("mysql+pymysql://u:pw@h:3306/db", Path::new("/"));
        let text = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("unsupported database"), "{text}");
        assert!(!text.contains("pw@"), "{text}");
    }
}
