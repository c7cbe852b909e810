//! Configuration changes at run time: `reloadConfig` (the reread diff) and
//! activating or removing process groups.

use sv_api::{ConfigChanges, RpcError};

use super::Dispatcher;
use crate::supervisor::Op;

impl Dispatcher {
    /// `reloadConfig`: read the configuration again and report what
    /// differs; nothing is started or stopped.
    pub async fn reload_config(&self) -> Result<ConfigChanges, RpcError> {
        let [added, changed, removed] = self.ask(Op::ReloadConfig).await?;
        Ok(ConfigChanges {
            added,
            changed,
            removed,
        })
    }

    /// `addProcessGroup`: activate a configured group.
    pub async fn add_process_group(&self, group: impl Into<String>) -> Result<(), RpcError> {
        let group = group.into();
        self.ask(|reply| Op::AddGroup(group, reply)).await
    }

    /// `removeProcessGroup`: drop a group whose processes are all stopped.
    pub async fn remove_process_group(&self, group: impl Into<String>) -> Result<(), RpcError> {
        let group = group.into();
        self.ask(|reply| Op::RemoveGroup(group, reply)).await
    }
}
