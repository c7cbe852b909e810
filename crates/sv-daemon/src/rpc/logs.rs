//! The logs: `readLog` and `clearLog` for the daemon's main log,
//! `readProcess*Log`, `tailProcess*Log`, `clearProcessLogs` and
//! `clearAllProcessLogs` for the processes' logs.
//!
//! Reading a file may block (a slow disk, a huge window), so every read
//! runs on tokio's blocking pool, never on a runtime worker thread that
//! other connections and the actor share. Clearing goes through the actor,
//! which owns the open log files.

use std::path::PathBuf;

use sv_api::{LogStream, ProcessResult, RpcError, TailChunk};

use super::{Dispatcher, faults};
use crate::logread;
use crate::supervisor::Op;

/// Run a file read on the blocking pool.
async fn off_the_runtime<T: Send + 'static>(
    read: impl FnOnce() -> T + Send + 'static,
) -> Result<T, RpcError> {
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|_| faults::read_interrupted())
}

impl Dispatcher {
    /// `readLog`: part of the daemon's main log (NO_FILE `syslog` when the
    /// daemon logs to syslog).
    pub async fn read_log(&self, offset: i64, length: i64) -> Result<String, RpcError> {
        let info = self.running_info().await?;
        let path = info.mainlog.ok_or_else(faults::main_log_is_syslog)?;
        off_the_runtime(move || logread::read_log(Some(&path), offset, length))
            .await?
            .map_err(RpcError::from)
    }

    /// `clearLog`: start the main log afresh.
    pub async fn clear_log(&self) -> Result<(), RpcError> {
        self.ask(Op::ClearLog).await
    }

    /// `readProcessStdoutLog` / `readProcessStderrLog`: part of a
    /// process's log.
    pub async fn read_process_log(
        &self,
        spec: &str,
        stream: LogStream,
        offset: i64,
        length: i64,
    ) -> Result<String, RpcError> {
        let path = self.process_log_path(spec, stream).await?;
        off_the_runtime(move || logread::read_log(path.as_deref(), offset, length))
            .await?
            .map_err(RpcError::from)
    }

    /// `tailProcessStdoutLog` / `tailProcessStderrLog`: the end of a
    /// process's log from `offset`, at most `length` bytes (see
    /// [`logread::tail_log`]).
    pub async fn tail_process_log(
        &self,
        spec: &str,
        stream: LogStream,
        offset: i64,
        length: i64,
    ) -> Result<TailChunk, RpcError> {
        let path = self.process_log_path(spec, stream).await?;
        off_the_runtime(move || logread::tail_log(path.as_deref(), offset, length)).await
    }

    /// `clearProcessLogs`: empty one process's stdout and stderr logs.
    pub async fn clear_process_logs(&self, spec: impl Into<String>) -> Result<(), RpcError> {
        let spec = spec.into();
        self.ask(|reply| Op::ClearProcessLogs { spec, reply }).await
    }

    /// `clearAllProcessLogs`: every process's logs, one process at a time,
    /// one result per process.
    pub async fn clear_all_process_logs(&self) -> Result<Vec<ProcessResult>, RpcError> {
        let selected = self.ask(|reply| Op::Select { group: None, reply }).await?;
        let mut results = Vec::with_capacity(selected.len());
        for s in selected {
            let spec = sv_api::make_namespec(&s.group, &s.name);
            let outcome = self.clear_process_logs(spec).await;
            results.push(ProcessResult::from_outcome(&s.name, &s.group, &outcome));
        }
        Ok(results)
    }

    async fn process_log_path(
        &self,
        spec: &str,
        stream: LogStream,
    ) -> Result<Option<PathBuf>, RpcError> {
        self.log_path(spec, stream == LogStream::Stderr).await
    }
}
