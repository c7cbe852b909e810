//! Supervisor's wire vocabulary, shared by the daemon's method table and
//! every client: fault codes and the RPC error type, process / daemon /
//! event-listener state codes, the structs methods return
//! (`ProcessInfo`, `StateInfo`, `ProcessResult`, `ConfigInfo`,
//! `ConfigChanges`, `TailChunk`), each encoded with `to_value` and read back
//! with `from_value`, namespec parsing, the published method table (names,
//! signatures, help), the rules for reading method arguments, and the typed
//! [`Request`] every call decodes to (and clients encode from).
//!
//! This crate performs no I/O and reads no clock: callers supply `now` and
//! a local-time formatter, and values are `sv_xmlrpc::Value`s built here and
//! encoded elsewhere.

#![warn(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod faults;
pub mod methods;
pub mod namespec;
pub mod params;
pub mod records;
pub mod request;
pub mod states;

pub use faults::{AnyFaultCode, FaultCode, RpcError, name_for_code};
pub use methods::{METHODS, MethodInfo, list_methods, lookup};
pub use namespec::{make_namespec, split_namespec};
pub use params::{py_repr, py_str, truthy};
pub use records::{
    ConfigChanges, ConfigInfo, LogFile, ProcessInfo, ProcessResult, RecordError, StateInfo,
    TailChunk, array_from_value, capped_int, config_info_array, describe, encode_config_info_array,
    format_timedelta,
};
pub use request::{LogStream, MulticallEntry, Request, SignalArg};
pub use states::{EventListenerState, ProcessState, SupervisorState};

#[cfg(test)]
mod test_support {
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// Run a Python 3 script on `input` and return its stdout. Differential
    /// tests compare against Python itself; they must not pass silently
    /// when it is missing, so this panics instead.
    pub fn run_python(script: &str, input: &str) -> String {
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .env("PYTHONIOENCODING", "utf-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 is required by the differential tests but could not be started");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let input = input.to_owned();
        // Feed stdin from another thread: with large inputs both pipes fill
        // up and a single thread writing first would deadlock.
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().expect("python3 output");
        writer
            .join()
            .expect("stdin writer thread")
            .expect("write to python3");
        assert!(out.status.success(), "python3 failed: {:?}", out.status);
        String::from_utf8(out.stdout).expect("python3 printed UTF-8")
    }
}
