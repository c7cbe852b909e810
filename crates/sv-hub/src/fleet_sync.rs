//! Keeps the running [`Fleet`] equal to the effective fleet: the config's
//! nodes with the database's node overrides applied
//! ([`crate::nodes::overrides::effective_fleet`]).
//!
//! Three things recompute it: a change through this instance's API
//! ([`FleetSync::reload_overrides`], at once), SIGHUP
//! ([`FleetSync::set_config`] then a re-read), and a periodic check
//! ([`FleetSync::refresh`], every poll interval) that reads one cheap
//! aggregate of `hub_nodes` and re-reads the rows only when it changed —
//! so instances sharing one PostgreSQL converge on the same fleet.
//! `Fleet::replace` keeps unchanged nodes' caches and connections.

use std::sync::{Mutex, PoisonError};

use crate::nodes::overrides::effective_fleet;
use crate::nodes::{Fleet, FleetSettings, NodeSpec};
use crate::store::{NodeOverride, OverridesVersion, Store, StoreError};

/// The config's nodes and the last overrides read, applied to the fleet.
pub struct FleetSync {
    store: Store,
    fleet: Fleet,
    state: Mutex<State>,
}

struct State {
    config: Vec<NodeSpec>,
    overrides: Vec<NodeOverride>,
    version: OverridesVersion,
    /// Whether the last periodic check failed (log once per outage).
    failing: bool,
}

impl FleetSync {
    /// Reads the overrides and starts the fleet on the effective list.
    /// Must run inside a tokio runtime (the fleet spawns its tasks).
    pub async fn start(
        store: Store,
        config: Vec<NodeSpec>,
        settings: FleetSettings,
    ) -> Result<FleetSync, StoreError> {
        // Version first: a change landing between the two reads makes the
        // next check re-read, never miss it.
        let version = store.node_overrides_version().await?;
        let overrides = store.list_node_overrides().await?;
        let fleet = Fleet::start(effective_fleet(&config, &overrides), settings);
        Ok(FleetSync {
            store,
            fleet,
            state: Mutex::new(State {
                config,
                overrides,
                version,
                failing: false,
            }),
        })
    }

    /// The fleet kept in sync.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The store the overrides live in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// New config nodes (SIGHUP), applied with the overrides last read.
    pub fn set_config(&self, config: Vec<NodeSpec>) {
        let mut state = self.lock();
        state.config = config;
        self.fleet
            .replace(effective_fleet(&state.config, &state.overrides));
    }

    /// Re-reads the overrides whatever their version and applies them.
    pub async fn reload_overrides(&self) -> Result<(), StoreError> {
        let version = self.store.node_overrides_version().await?;
        let overrides = self.store.list_node_overrides().await?;
        self.apply(version, overrides);
        Ok(())
    }

    /// The periodic check: re-reads and applies the overrides only when
    /// their version changed. `true` when the fleet was recomputed.
    pub async fn refresh(&self) -> bool {
        let result = async {
            let version = self.store.node_overrides_version().await?;
            if version == self.lock().version {
                return Ok(false);
            }
            let overrides = self.store.list_node_overrides().await?;
            self.apply(version, overrides);
            Ok::<bool, StoreError>(true)
        }
        .await;
        let mut state = self.lock();
        match result {
            Ok(changed) => {
                if state.failing {
                    eprintln!("supervisor-hub: node overrides readable again");
                }
                state.failing = false;
                changed
            }
            Err(e) => {
                if !state.failing {
                    eprintln!(
                        "supervisor-hub: cannot read the node overrides (keeping the current fleet): {e}"
                    );
                }
                state.failing = true;
                false
            }
        }
    }

    fn apply(&self, version: OverridesVersion, overrides: Vec<NodeOverride>) {
        let mut state = self.lock();
        if state.version == version && state.overrides == overrides {
            return;
        }
        state.version = version;
        state.overrides = overrides;
        self.fleet
            .replace(effective_fleet(&state.config, &state.overrides));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is replaced whole under the lock; a poisoned one is
        // still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Database;

    fn names(sync: &FleetSync) -> Vec<String> {
        sync.fleet()
            .nodes()
            .iter()
            .map(|n| n.name().to_string())
            .collect()
    }

    fn row(name: &str, disabled: bool, updated_at: i64) -> NodeOverride {
        NodeOverride {
            name: name.into(),
            environment: "e".into(),
            url: "unix:///nonexistent/fleet-sync.sock".into(),
            username: String::new(),
            password: String::new(),
            timeout: None,
            disabled,
            updated_at,
        }
    }

    /// Another instance's writes (straight into the store) reach this
    /// fleet at the next check, and only a change re-reads.
    #[tokio::test]
    async fn the_periodic_check_applies_other_instances_changes() {
        let store = Store::open(&Database::SqliteMemory).await.expect("store");
        store
            .upsert_node_override(&row("late", false, 1), false)
            .await
            .expect("row");
        let config = vec![NodeSpec::new("cfg", "prod", "unix:///nonexistent/cfg.sock")];
        let sync = FleetSync::start(store.clone(), config, FleetSettings::default())
            .await
            .expect("start");
        assert_eq!(names(&sync), ["cfg", "late"]);
        assert!(!sync.refresh().await, "nothing changed");

        store
            .upsert_node_override(&row("cfg", true, 2), false)
            .await
            .expect("disable cfg");
        store
            .upsert_node_override(&row("early", false, 3), false)
            .await
            .expect("add");
        assert!(sync.refresh().await);
        assert_eq!(names(&sync), ["early", "late"]);

        store.delete_node_override("cfg").await.expect("delete");
        assert!(sync.refresh().await);
        assert_eq!(names(&sync), ["cfg", "early", "late"]);

        // SIGHUP's new config is applied with the overrides last read.
        sync.set_config(vec![NodeSpec::new(
            "new",
            "prod",
            "unix:///nonexistent/n.sock",
        )]);
        assert_eq!(names(&sync), ["new", "early", "late"]);
        sync.fleet().shutdown();
    }
}
