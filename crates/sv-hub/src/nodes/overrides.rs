//! The effective fleet: the config's `[[nodes]]` with the database's node
//! overrides applied by name (pure, so every rule is unit-tested here).
//!
//! * an override of a config node replaces all its fields, in the
//!   config's position;
//! * a disabled override hides the node (config or not);
//! * override-only nodes follow the config nodes, in name order.

use crate::nodes::NodeSpec;
use crate::store::NodeOverride;

/// The node an override describes.
pub fn spec_of(ov: &NodeOverride) -> NodeSpec {
    let mut spec = NodeSpec::new(&ov.name, &ov.environment, &ov.url)
        .with_credentials(&ov.username, &ov.password);
    spec.timeout = ov.timeout;
    spec
}

/// The nodes to poll: `config` (in its order) with `overrides` applied.
pub fn effective_fleet(config: &[NodeSpec], overrides: &[NodeOverride]) -> Vec<NodeSpec> {
    let by_name = |name: &str| overrides.iter().find(|o| o.name == name);
    let mut fleet: Vec<NodeSpec> = config
        .iter()
        .filter_map(|spec| match by_name(&spec.name) {
            None => Some(spec.clone()),
            Some(ov) if ov.disabled => None,
            Some(ov) => Some(spec_of(ov)),
        })
        .collect();
    let mut extra: Vec<&NodeOverride> = overrides
        .iter()
        .filter(|o| !o.disabled && !config.iter().any(|c| c.name == o.name))
        .collect();
    extra.sort_by(|a, b| a.name.cmp(&b.name));
    fleet.extend(extra.into_iter().map(spec_of));
    fleet
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ov(name: &str, url: &str, disabled: bool) -> NodeOverride {
        NodeOverride {
            name: name.into(),
            environment: "ov".into(),
            url: url.into(),
            username: "u".into(),
            password: "p".into(),
            timeout: Some(Duration::from_millis(1500)),
            disabled,
            updated_at: 1,
        }
    }

    fn names(specs: &[NodeSpec]) -> Vec<&str> {
        specs.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn without_overrides_the_config_is_the_fleet() {
        let config = vec![
            NodeSpec::new("b", "prod", "http://b:1/RPC2"),
            NodeSpec::new("a", "prod", "http://a:1/RPC2"),
        ];
        assert_eq!(effective_fleet(&config, &[]), config);
    }

    #[test]
    fn an_override_replaces_a_config_node_in_place() {
        let config = vec![
            NodeSpec::new("b", "prod", "http://b:1/RPC2"),
            NodeSpec::new("a", "prod", "http://a:1/RPC2"),
        ];
        let fleet = effective_fleet(&config, &[ov("b", "unix:///b.sock", false)]);
        assert_eq!(names(&fleet), ["b", "a"]);
        assert_eq!(fleet[0].url, "unix:///b.sock");
        assert_eq!(fleet[0].environment, "ov");
        assert_eq!(fleet[0].password.as_deref(), Some("p"));
        assert_eq!(fleet[0].timeout, Some(Duration::from_millis(1500)));
        assert_eq!(fleet[1], config[1]);
    }

    #[test]
    fn disabled_hides_config_and_override_nodes() {
        let config = vec![
            NodeSpec::new("a", "prod", "http://a:1/RPC2"),
            NodeSpec::new("b", "prod", "http://b:1/RPC2"),
        ];
        let fleet = effective_fleet(
            &config,
            &[
                ov("a", "http://x:1/RPC2", true),
                ov("z", "http://z:1/RPC2", true),
            ],
        );
        assert_eq!(names(&fleet), ["b"]);
    }

    #[test]
    fn override_only_nodes_follow_in_name_order() {
        let config = vec![NodeSpec::new("m", "prod", "http://m:1/RPC2")];
        let fleet = effective_fleet(
            &config,
            &[
                ov("zeta", "http://z:1/RPC2", false),
                ov("alpha", "http://a:1/RPC2", false),
            ],
        );
        assert_eq!(names(&fleet), ["m", "alpha", "zeta"]);
    }

    #[test]
    fn empty_credentials_send_none() {
        let mut o = ov("a", "http://a:1/RPC2", false);
        o.username.clear();
        o.password.clear();
        let spec = spec_of(&o);
        assert_eq!((spec.username, spec.password), (None, None));
    }
}
