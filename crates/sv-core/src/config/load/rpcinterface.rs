//! `[rpcinterface:x]`: only Supervisor's own `supervisor.*` interface
//! exists here, so any other factory is refused, and so are extra keys
//! once an HTTP server would hand them to the factory.

use super::Loader;
use crate::config::{MAIN_RPCINTERFACE_FACTORY, RpcInterfaceConfig};
use crate::pyfmt::py_repr_str;

impl Loader<'_> {
    pub(super) fn rpcinterfaces(&mut self) -> Vec<RpcInterfaceConfig> {
        const FACTORY_KEY: &str = "supervisor.rpcinterface_factory";
        let scope = self.scope(&[]);
        let mut out = Vec::new();
        for section in self.section_names("rpcinterface:") {
            let name = section["rpcinterface:".len()..].to_string();
            let Ok(factory) = self.get(&section, FACTORY_KEY, None, &scope) else {
                continue;
            };
            let Some((factory, loc)) = factory else {
                self.section_error(
                    &section,
                    format!("section [{section}] does not specify a {FACTORY_KEY}"),
                );
                continue;
            };
            if factory != MAIN_RPCINTERFACE_FACTORY {
                self.error(
                    &loc,
                    &section,
                    Some(FACTORY_KEY),
                    format!(
                        "{factory} cannot be resolved within [{section}]: only Supervisor's own interface ({MAIN_RPCINTERFACE_FACTORY}) exists in supervisor-rs"
                    ),
                );
                continue;
            }
            let keys: Vec<String> = self
                .doc
                .options(&section)
                .into_iter()
                .filter(|k| *k != FACTORY_KEY)
                .map(str::to_string)
                .collect();
            let mut kwargs = Vec::new();
            for key in keys {
                if let Ok(Some((value, loc))) = self.get(&section, &key, None, &scope) {
                    self.factory_kwargs
                        .push((loc, section.clone(), key.clone()));
                    kwargs.push((key, value));
                }
            }
            out.push(RpcInterfaceConfig {
                name,
                factory,
                kwargs,
            });
        }
        out
    }

    /// Supervisor hands extra keys to the interface factory, which takes
    /// none, when it builds the HTTP servers: with any server configured
    /// the daemon dies at start-up. Refuse such a config up front instead.
    pub(super) fn refuse_factory_kwargs(&mut self) {
        for (loc, section, key) in std::mem::take(&mut self.factory_kwargs) {
            self.error(
                &loc,
                &section,
                Some(&key),
                format!(
                    "{MAIN_RPCINTERFACE_FACTORY} takes no option {} (options of [DEFAULT] also reach this section)",
                    py_repr_str(&key)
                ),
            );
        }
    }
}
