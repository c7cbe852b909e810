//! Async XML-RPC client for supervisord over `unix://` and `http://` server
//! URLs (basic auth, timeouts, streaming `tail -f`), shared by
//! `supervisorctl` and the hub.
//!
//! Filled in with the XML-RPC and supervisorctl issues.
