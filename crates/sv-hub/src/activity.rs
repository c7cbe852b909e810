//! The activity record: who did what, to which node and process, when,
//! with what result. Every action and account change leaves one; the
//! store keeps it and the activity log file gets Cesi's line for it.

use futures_util::future::BoxFuture;

/// Cesi's two levels in the activity log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `[INFO]`.
    Info,
    /// `[ERROR]` (Cesi logs logout and a password change at this level).
    Error,
}

impl Level {
    /// The name in Cesi's line and in the store: `INFO` or `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Error => "ERROR",
        }
    }

    /// The level a stored name stands for (anything but `ERROR` reads as
    /// `INFO`).
    pub fn from_name(name: &str) -> Level {
        if name == "ERROR" {
            Level::Error
        } else {
            Level::Info
        }
    }
}

/// One activity entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// Level of the Cesi line.
    pub level: Level,
    /// The acting user (`""` for the hub itself).
    pub username: String,
    /// What was done, e.g. `start`, `stop`, `login`, `user.add`.
    pub action: String,
    /// The node acted on, if any.
    pub node: Option<String>,
    /// The process acted on, as given (`group:name`, bare name, `g:*`).
    pub process: Option<String>,
    /// `true` when the action succeeded.
    pub ok: bool,
    /// Cesi's message text for the log line (without time and level).
    pub message: String,
}

/// Where activity goes: the store and the activity log file.
pub trait ActivitySink: Send + Sync + 'static {
    /// Records `entry`. Failure to record is logged by the sink; it never
    /// fails the action that caused it.
    fn record(&self, entry: Activity) -> BoxFuture<'_, ()>;
}
