//! Node overrides: nodes added, changed, disabled or removed by admins at
//! run time (`hub_nodes`), shared by every hub instance on the database.
//!
//! A node password is stored in clear, as Cesi keeps it in its TOML: the
//! hub must send it to the node. The database is the secret store (an
//! sqlite file is made mode 0600 by the engine); the password never
//! leaves it through logs, `Debug` or the API.

use std::time::Duration;

use super::engine::Row;
use super::{Store, StoreError};

/// One stored override.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeOverride {
    /// The node's name (the key; a config node of this name is replaced).
    pub name: String,
    /// Its environment.
    pub environment: String,
    /// `unix:///…` or `http://…/RPC2`, already checked.
    pub url: String,
    /// Basic-auth user (`""` with an empty password: no credentials).
    pub username: String,
    /// Basic-auth password, in clear (see the module docs).
    pub password: String,
    /// Its own poll deadline; `None`: the fleet's.
    pub timeout: Option<Duration>,
    /// Hidden from the fleet (a config node of this name included).
    pub disabled: bool,
    /// Last change, milliseconds since the epoch.
    pub updated_at: i64,
}

/// Shows everything but the password.
impl std::fmt::Debug for NodeOverride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeOverride")
            .field("name", &self.name)
            .field("environment", &self.environment)
            .field("url", &crate::nodes::spec::redact_url(&self.url))
            .field("username", &self.username)
            .field("has_password", &!self.password.is_empty())
            .field("timeout", &self.timeout)
            .field("disabled", &self.disabled)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// What changes when any instance edits the overrides: the row count,
/// the newest `updated_at` and the sum of them all (so an update stamped
/// by an instance whose clock is behind is still seen). One cheap
/// aggregate, read at every poll interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OverridesVersion {
    /// How many rows.
    pub count: i64,
    /// The newest `updated_at` (0 when empty).
    pub newest: i64,
    /// The sum of every `updated_at`.
    pub sum: i64,
}

impl Store {
    /// Every override, by name.
    pub async fn list_node_overrides(&self) -> Result<Vec<NodeOverride>, StoreError> {
        let rows = self
            .engine
            .query(
                "SELECT name, environment, url, username, password, timeout_ms, disabled, updated_at FROM hub_nodes ORDER BY name",
                vec![],
            )
            .await?;
        Ok(rows.iter().map(override_row).collect())
    }

    /// Inserts or replaces the override named `ov.name`. `ov.password` is
    /// ignored when `keep_password` is set and a row exists (an update
    /// that leaves the stored password as it is).
    pub async fn upsert_node_override(
        &self,
        ov: &NodeOverride,
        keep_password: bool,
    ) -> Result<(), StoreError> {
        let timeout = ov.timeout.map_or(super::engine::Param::Null, |t| {
            (t.as_millis() as i64).into()
        });
        self.engine
            .execute(
                "INSERT INTO hub_nodes (name, environment, url, username, password, timeout_ms, disabled, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (name) DO UPDATE SET environment = excluded.environment, url = excluded.url, username = excluded.username, \
                 password = CASE WHEN $9 = 1 THEN hub_nodes.password ELSE excluded.password END, \
                 timeout_ms = excluded.timeout_ms, disabled = excluded.disabled, updated_at = excluded.updated_at",
                vec![
                    ov.name.as_str().into(),
                    ov.environment.as_str().into(),
                    ov.url.as_str().into(),
                    ov.username.as_str().into(),
                    ov.password.as_str().into(),
                    timeout,
                    i64::from(ov.disabled).into(),
                    ov.updated_at.into(),
                    i64::from(keep_password).into(),
                ],
            )
            .await
            .map(drop)
    }

    /// Removes the override named `name`; `false` if there was none.
    pub async fn delete_node_override(&self, name: &str) -> Result<bool, StoreError> {
        let n = self
            .engine
            .execute("DELETE FROM hub_nodes WHERE name = $1", vec![name.into()])
            .await?;
        Ok(n > 0)
    }

    /// The overrides' [`OverridesVersion`].
    pub async fn node_overrides_version(&self) -> Result<OverridesVersion, StoreError> {
        let rows = self
            .engine
            .query(
                // PostgreSQL's SUM of BIGINT is NUMERIC: cast back.
                "SELECT COUNT(*), COALESCE(MAX(updated_at), 0), CAST(COALESCE(SUM(updated_at), 0) AS BIGINT) FROM hub_nodes",
                vec![],
            )
            .await?;
        Ok(rows
            .first()
            .map_or_else(OverridesVersion::default, |r| OverridesVersion {
                count: r[0].int(),
                newest: r[1].int(),
                sum: r[2].int(),
            }))
    }
}

fn override_row(r: &Row) -> NodeOverride {
    NodeOverride {
        name: r[0].text(),
        environment: r[1].text(),
        url: r[2].text(),
        username: r[3].text(),
        password: r[4].text(),
        timeout: match &r[5] {
            super::engine::Cell::Null => None,
            cell => u64::try_from(cell.int()).ok().map(Duration::from_millis),
        },
        disabled: r[6].int() != 0,
        updated_at: r[7].int(),
    }
}
