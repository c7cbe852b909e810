//! `[supervisorctl]`, as supervisorctl reads it: a separate, smaller
//! reading of the same file (no `[include]`, no `[supervisord]` needed).

use super::{LoadError, Loader};
use crate::config::host::Host;
use crate::pyfmt::Value;
use crate::pypath;

/// The `[supervisorctl]` section, as supervisorctl reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlConfig {
    /// `unix:///abs/path` (normalised) or `http://host:port`.
    pub serverurl: String,
    /// Sent with basic auth when set (with `password`).
    pub username: Option<String>,
    /// Sent with basic auth when set (with `username`).
    pub password: Option<String>,
    /// The interactive prompt is `<prompt>> `.
    pub prompt: String,
    /// Normalised path of the readline history, if any.
    pub history_file: Option<String>,
}

impl Default for CtlConfig {
    fn default() -> Self {
        CtlConfig {
            serverurl: "http://localhost:9001".to_string(),
            username: None,
            password: None,
            prompt: "supervisor".to_string(),
            history_file: None,
        }
    }
}

/// Load the `[supervisorctl]` section of `config_file` (Supervisor's
/// `ClientOptions.read_config`): no `[include]`, `%(here)s` only in
/// `serverurl` and `history_file`, `ENV_*` everywhere. `[ctlplugin:x]`
/// sections name Python plug-ins, which cannot load here: they are refused.
pub fn load_ctl(host: &dyn Host, config_file: &str) -> Result<CtlConfig, LoadError> {
    let cwd = host.cwd();
    let here = pypath::dirname(&pypath::abspath(&cwd, config_file)).to_string();
    if !host.exists(config_file) {
        return Err(LoadError::single(format!(
            "could not find config file {config_file}"
        )));
    }
    let text = host
        .read_to_string(config_file)
        .map_err(|e| LoadError::single(format!("could not read config file {config_file}: {e}")))?;
    let mut loader = Loader::new(host, config_file, here, cwd);
    if let Err(e) = loader.doc.read_str(&text, config_file) {
        loader.parse_error(&e);
        return Err(LoadError {
            errors: loader.errors,
        });
    }
    const S: &str = "supervisorctl";
    if !loader.doc.has_section(S) {
        return Err(LoadError::single(
            ".ini file does not include supervisorctl section".to_string(),
        ));
    }
    let defaults = CtlConfig::default();
    let env_scope = loader.scope(&[]);
    let here_scope = loader.scope(&[("here", Value::Str(loader.here.clone()))]);
    let serverurl = loader
        .get(S, "serverurl", Some(&defaults.serverurl), &here_scope)
        .ok()
        .flatten()
        .map(|(url, _)| match url.strip_prefix("unix://") {
            Some(path) => format!("unix://{}", loader.normalize_path(path)),
            None => url,
        });
    let prompt = loader.get(S, "prompt", Some(&defaults.prompt), &env_scope);
    let username = loader.get(S, "username", None, &env_scope);
    let password = loader.get(S, "password", None, &env_scope);
    let history_file = loader.get(S, "history_file", None, &here_scope);
    for section in loader.section_names("ctlplugin:") {
        let loc = loader.section_loc(&section);
        loader.error(
            &loc,
            &section,
            Some("supervisor.ctl_factory"),
            "supervisorctl plug-ins are Python code and cannot be loaded by supervisor-rs"
                .to_string(),
        );
    }
    let (Some(serverurl), Ok(prompt), Ok(username), Ok(password), Ok(history_file)) =
        (serverurl, prompt, username, password, history_file)
    else {
        return Err(LoadError {
            errors: loader.errors,
        });
    };
    if !loader.errors.is_empty() {
        return Err(LoadError {
            errors: loader.errors,
        });
    }
    Ok(CtlConfig {
        serverurl,
        username: username.map(|(v, _)| v),
        password: password.map(|(v, _)| v),
        prompt: prompt.map_or(defaults.prompt, |(v, _)| v),
        history_file: history_file
            .map(|(v, _)| v)
            .filter(|v| !v.is_empty())
            .map(|v| loader.normalize_path(&v)),
    })
}
