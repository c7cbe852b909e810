//! Process and configuration information: `getProcessInfo`,
//! `getAllProcessInfo`, `getAllConfigInfo`.

use sv_api::{ConfigInfo, ProcessInfo, RpcError};

use super::Dispatcher;
use crate::supervisor::Op;

impl Dispatcher {
    /// `getProcessInfo`: one process's status (`spec` is `name` or
    /// `group:name`).
    pub async fn process_info(&self, spec: impl Into<String>) -> Result<ProcessInfo, RpcError> {
        let spec = spec.into();
        self.ask(|reply| Op::ProcessInfo(spec, reply)).await
    }

    /// `getAllProcessInfo`: every process, by group name then process name.
    pub async fn all_process_info(&self) -> Result<Vec<ProcessInfo>, RpcError> {
        self.ask(Op::AllProcessInfo).await
    }

    /// `getAllConfigInfo`'s entries in configuration order; the wire form
    /// ([`sv_api::config_info_array`]) sorts them by process name.
    pub async fn all_config_info(&self) -> Result<Vec<ConfigInfo>, RpcError> {
        self.ask(Op::ConfigInfo).await
    }
}
