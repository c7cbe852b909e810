//! Configuration changes at run time: `reloadConfig` (the reread diff) and
//! activating or removing process groups.

use sv_api::RpcError;
use sv_xmlrpc::Value;

use super::Dispatcher;
use crate::supervisor::Op;

/// Group names `reloadConfig` found added to, changed in and removed from
/// the configuration, compared with the running groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigChanges {
    /// Groups in the configuration that are not running.
    pub added: Vec<String>,
    /// Running groups whose configuration differs.
    pub changed: Vec<String>,
    /// Running groups no longer in the configuration.
    pub removed: Vec<String>,
}

/// `reloadConfig`'s wire form: `[[added, changed, removed]]`.
pub(super) fn changes_value(changes: ConfigChanges) -> Value {
    let list = |names: Vec<String>| Value::Array(names.into_iter().map(Value::from).collect());
    Value::Array(vec![Value::Array(vec![
        list(changes.added),
        list(changes.changed),
        list(changes.removed),
    ])])
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_one_triple_in_an_array() {
        let changes = ConfigChanges {
            added: vec!["a".into()],
            changed: vec![],
            removed: vec!["r1".into(), "r2".into()],
        };
        assert_eq!(
            changes_value(changes),
            Value::Array(vec![Value::Array(vec![
                Value::Array(vec![Value::from("a")]),
                Value::Array(vec![]),
                Value::Array(vec![Value::from("r1"), Value::from("r2")]),
            ])])
        );
    }
}
