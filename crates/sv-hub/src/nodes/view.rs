//! Environments and groups computed from the cache (spec §5), pure.
//!
//! * Environments: the distinct `environment` labels in config
//!   first-appearance order (Cesi's order is a hash set's — spec Q15 fix),
//!   members in config order, dead ones included.
//! * Groups: built from live data — for each connected node in config
//!   order, each process's group files the node under the node's
//!   environment, once per (group, environment); first-seen order.

/// One group: its name and, per environment, the node names having it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    /// Supervisor's process group.
    pub name: String,
    /// `(environment, member node names)` in first-seen order.
    pub environments: Vec<(String, Vec<String>)>,
}

/// What the group computation needs from one node.
pub struct NodeGroups<'a> {
    /// Node name.
    pub name: &'a str,
    /// Its environment.
    pub environment: &'a str,
    /// Group of each process, in Supervisor's order (empty when the node
    /// is not connected).
    pub groups: Vec<&'a str>,
}

/// Cesi's groups list.
pub fn groups(nodes: &[NodeGroups<'_>]) -> Vec<GroupView> {
    let mut out: Vec<GroupView> = Vec::new();
    for node in nodes {
        for group in &node.groups {
            let index = match out.iter().position(|g| g.name == *group) {
                Some(i) => i,
                None => {
                    out.push(GroupView {
                        name: group.to_string(),
                        environments: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let envs = &mut out[index].environments;
            let env = match envs.iter().position(|(e, _)| e == node.environment) {
                Some(i) => i,
                None => {
                    envs.push((node.environment.to_string(), Vec::new()));
                    envs.len() - 1
                }
            };
            let members = &mut envs[env].1;
            if !members.iter().any(|m| m == node.name) {
                members.push(node.name.to_string());
            }
        }
    }
    out
}

/// Distinct environments in first-appearance order.
pub fn environments<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for label in labels {
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

impl GroupView {
    /// The group's JSON: `{"environments":[{"members":[…],"name":…}…],"name":…}`.
    pub fn to_json(&self) -> serde_json::Value {
        let envs: Vec<serde_json::Value> = self
            .environments
            .iter()
            .map(|(name, members)| serde_json::json!({"members": members, "name": name}))
            .collect();
        serde_json::json!({"environments": envs, "name": self.name})
    }

    /// Whether `node` is a member in any environment.
    pub fn has_member(&self, node: &str) -> bool {
        self.environments
            .iter()
            .any(|(_, members)| members.iter().any(|m| m == node))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_keep_first_seen_order_and_list_each_node_once() {
        let nodes = [
            NodeGroups {
                name: "live",
                environment: "prod",
                groups: vec!["batch", "batch", "manual", "web"],
            },
            NodeGroups {
                name: "dead",
                environment: "staging",
                groups: vec![],
            },
            NodeGroups {
                name: "live2",
                environment: "prod",
                groups: vec!["web"],
            },
            NodeGroups {
                name: "other",
                environment: "test",
                groups: vec!["web"],
            },
        ];
        let out = groups(&nodes);
        let names: Vec<&str> = out.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["batch", "manual", "web"]);
        assert_eq!(
            out[2].environments,
            vec![
                (
                    "prod".to_string(),
                    vec!["live".to_string(), "live2".to_string()]
                ),
                ("test".to_string(), vec!["other".to_string()]),
            ]
        );
        assert_eq!(
            crate::nodes::render::piece(&out[0].to_json()),
            "{\"environments\":[{\"members\":[\"live\"],\"name\":\"prod\"}],\"name\":\"batch\"}"
        );
        assert!(out[2].has_member("other") && !out[0].has_member("other"));
    }

    #[test]
    fn environments_in_first_appearance_order() {
        assert_eq!(
            environments(["staging", "prod", "staging", ""].into_iter()),
            vec!["staging", "prod", ""]
        );
    }
}
