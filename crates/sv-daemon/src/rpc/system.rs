//! `system.*`: the published method table (`listMethods`, `methodHelp`,
//! `methodSignature`) and `system.multicall`, which runs its calls one
//! after another and puts each fault in its call's place.

use sv_api::{MulticallEntry, Request, RpcError};
use sv_xmlrpc::Value;

use super::{Dispatcher, faults};

/// How much log text (bytes of the strings) the log reads of one
/// `system.multicall` may put in its reply before the rest are refused.
pub const MULTICALL_LOG_LIMIT: usize = 16 << 20;

/// `readLog`, `readProcess*Log`, `tailProcess*Log`: the calls whose reply
/// size the caller chooses.
fn reads_a_log(request: &Request) -> bool {
    matches!(
        request,
        Request::ReadLog { .. } | Request::ReadProcessLog { .. } | Request::TailProcessLog { .. }
    )
}

/// The bytes of text in a reply value (a log read's string, or the string
/// of a tail's `[text, offset, overflow]`).
fn text_bytes(value: &Value) -> usize {
    match value {
        Value::String(text) => text.len(),
        Value::Array(items) => items.iter().map(text_bytes).sum(),
        _ => 0,
    }
}

/// `system.methodHelp`: any name in the table, published or not.
pub(super) fn method_help(name: &str) -> Result<Value, RpcError> {
    sv_api::lookup(name)
        .map(|m| Value::from(m.help))
        .ok_or_else(faults::signature_unsupported)
}

/// `system.methodSignature`: `[return type, parameter types…]`.
pub(super) fn method_signature(name: &str) -> Result<Value, RpcError> {
    sv_api::lookup(name)
        .map(|m| m.signature_value())
        .ok_or_else(faults::signature_unsupported)
}

impl Dispatcher {
    /// `system.listMethods`: the whole table, or only `system.*` when
    /// `[rpcinterface:supervisor]` is not configured.
    pub(super) fn list_methods(&self) -> Value {
        Value::Array(
            sv_api::list_methods()
                .into_iter()
                .filter(|m| self.main_interface || m.starts_with("system."))
                .map(Value::from)
                .collect(),
        )
    }

    /// `system.multicall`: Supervisor's convention is a bare value for each
    /// call that succeeded and a `{faultCode, faultString}` struct for each
    /// that failed.
    ///
    /// Log reads share one budget ([`MULTICALL_LOG_LIMIT`]): once the log
    /// text already in the reply reaches it, each further log read gets a
    /// FAILED fault in its place and reads nothing, so one request cannot
    /// make the daemon build an arbitrarily large reply (Supervisor builds
    /// whatever is asked). A single call is not limited.
    pub(super) async fn multicall(&self, calls: &[MulticallEntry]) -> Value {
        let mut results = Vec::with_capacity(calls.len());
        let mut log_bytes = 0usize;
        for entry in calls {
            let result = match entry.call().and_then(|c| self.decode(&c.name, &c.params)) {
                // `entry.call()` already refuses a nested multicall by name;
                // this keeps the recursion impossible by construction.
                Ok(Request::Multicall { .. }) => Err(sv_api::request::recursive_multicall()),
                Ok(request) if reads_a_log(&request) => {
                    if log_bytes >= MULTICALL_LOG_LIMIT {
                        Err(faults::multicall_log_limit(MULTICALL_LOG_LIMIT))
                    } else {
                        let result = Box::pin(self.execute(request)).await;
                        if let Ok(value) = &result {
                            log_bytes = log_bytes.saturating_add(text_bytes(value));
                        }
                        result
                    }
                }
                Ok(request) => Box::pin(self.execute(request)).await,
                Err(fault) => Err(fault),
            };
            results.push(match result {
                Ok(value) => value,
                Err(fault) => fault.to_fault_struct(),
            });
        }
        Value::Array(results)
    }
}
