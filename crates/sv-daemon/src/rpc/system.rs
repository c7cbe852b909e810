//! `system.*`: the published method table (`listMethods`, `methodHelp`,
//! `methodSignature`) and `system.multicall`, which runs its calls one
//! after another and puts each fault in its call's place.

use sv_api::{MulticallEntry, Request, RpcError};
use sv_xmlrpc::Value;

use super::{Dispatcher, faults};

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
    pub(super) async fn multicall(&self, calls: &[MulticallEntry]) -> Value {
        let mut results = Vec::with_capacity(calls.len());
        for entry in calls {
            let result = match entry.call().and_then(|c| self.decode(&c.name, &c.params)) {
                // `entry.call()` already refuses a nested multicall by name;
                // this keeps the recursion impossible by construction.
                Ok(Request::Multicall { .. }) => Err(sv_api::request::recursive_multicall()),
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
