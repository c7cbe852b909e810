//! Supervisor's wire vocabulary: process and supervisor state codes, fault
//! codes, the `ProcessInfo`/`ConfigInfo` records and method names, shared by
//! the daemon's method table and every client.
//!
//! Only the state codes live here so far; the records and fault table come
//! with the XML-RPC issue.
