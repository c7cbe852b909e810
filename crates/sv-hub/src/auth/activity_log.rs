//! The real [`ActivitySink`]: each entry goes to the store (shared by
//! every hub instance) and, as Cesi's line, to the `activity_log` file:
//! `YYYY-MM-DD HH:MM:SS,mmm [LEVEL]: MESSAGE` in local time.
//!
//! `GET /activitylogs/` answers from the store, formatted as the same
//! lines, so every instance shows one log; the file is the familiar
//! artefact for `tail -f` and log shippers.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use crate::activity::{Activity, ActivitySink, Level};
use crate::store::{ActivityRow, Store, StoreError};

/// Store + file activity log.
pub struct ActivityLog {
    store: Store,
    // Swapped at SIGHUP (Cesi's readers and writer disagreed, D13).
    path: Mutex<PathBuf>,
}

impl ActivityLog {
    /// A log writing to `store` and the file at `path`.
    pub fn new(store: Store, path: PathBuf) -> Arc<ActivityLog> {
        Arc::new(ActivityLog {
            store,
            path: Mutex::new(path),
        })
    }

    /// The file now written.
    pub fn path(&self) -> PathBuf {
        self.path.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Writes to `path` from now on.
    pub fn set_path(&self, path: PathBuf) {
        *self.path.lock().unwrap_or_else(|p| p.into_inner()) = path;
    }

    /// Creates the file if missing (at start-up, as Cesi opens it), so a
    /// bad path is reported before the first action.
    pub fn touch(&self) -> std::io::Result<()> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path())
            .map(drop)
    }

    /// The newest `limit` lines (all for `None`), newest first, each with
    /// its trailing `\n` (Cesi's answer).
    pub async fn lines(&self, limit: Option<u64>) -> Result<Vec<String>, StoreError> {
        let rows = self.store.activity(limit).await?;
        Ok(rows.iter().map(format_line).collect())
    }

    /// Empties the log (store and file) and records who did it, so the
    /// clear leaves a trace (Cesi's D14).
    pub async fn clear(&self, by: &str) -> Result<(), StoreError> {
        self.store.clear_activity().await?;
        let path = self.path();
        let truncated = tokio::task::spawn_blocking(move || {
            std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(&path)
                .map(drop)
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .await;
        if let Ok(Err(e)) | Err(e) = truncated.map_err(|e| e.to_string()) {
            eprintln!("supervisor-hub: cannot truncate the activity log {e}");
        }
        self.record(Activity {
            level: Level::Info,
            username: by.to_string(),
            action: "activity.clear".into(),
            node: None,
            process: None,
            ok: true,
            message: format!("'{by}' user cleared the activity log."),
        })
        .await;
        Ok(())
    }
}

/// Cesi's line for a stored entry, in the hub's local time zone. Control
/// characters in the message (a process name from a URL can hold `%0A`)
/// are escaped, so one entry is always one line.
pub fn format_line(row: &ActivityRow) -> String {
    let stamp = jiff::Timestamp::from_millisecond(row.time_ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::system());
    format!(
        "{},{:03} [{}]: {}\n",
        stamp.strftime("%Y-%m-%d %H:%M:%S"),
        row.time_ms.rem_euclid(1000),
        row.entry.level.as_str(),
        one_line(&row.entry.message)
    )
}

fn one_line(message: &str) -> std::borrow::Cow<'_, str> {
    if !message.chars().any(char::is_control) {
        return message.into();
    }
    message
        .chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect::<String>()
        .into()
}

impl ActivitySink for ActivityLog {
    fn record(&self, entry: Activity) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let row = ActivityRow {
                time_ms: jiff::Timestamp::now().as_millisecond(),
                entry,
            };
            let line = format_line(&row);
            if let Err(e) = self.store.add_activity(&row).await {
                eprintln!("supervisor-hub: cannot store activity: {e}");
            }
            let path = self.path();
            let written = tokio::task::spawn_blocking(move || {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .and_then(|mut f| f.write_all(line.as_bytes()))
                    .map_err(|e| format!("{}: {e}", path.display()))
            })
            .await;
            if let Ok(Err(e)) | Err(e) = written.map_err(|e| e.to_string()) {
                eprintln!("supervisor-hub: cannot write the activity log {e}");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_cesis_shape() {
        let row = ActivityRow {
            time_ms: 1_796_514_766_670,
            entry: Activity {
                level: Level::Info,
                username: "admin".into(),
                action: "login".into(),
                node: None,
                process: None,
                ok: true,
                message: "admin logged in.".into(),
            },
        };
        let line = format_line(&row);
        // The date and hour depend on the machine's zone; the shape does not.
        let (stamp, rest) = line.split_at(23);
        assert_eq!(rest, " [INFO]: admin logged in.\n");
        assert!(stamp.ends_with(":46,670"), "{stamp}");
        assert_eq!(stamp.as_bytes()[4], b'-');
        assert_eq!(stamp.as_bytes()[10], b' ');
        let mut forged = row.clone();
        forged.entry.message =
            "admin started live node's x\n2026-01-01 00:00:00,000 [INFO]: y process.".into();
        let line = format_line(&forged);
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        assert!(line.contains("x\\n2026"), "{line}");
    }
}
