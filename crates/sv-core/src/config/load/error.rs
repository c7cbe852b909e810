//! What the loader reports: one [`ConfigError`] per problem, located by
//! file, line, section and option, and the [`LoadError`] that carries all
//! of them (the daemon refuses to start on any).

use std::fmt;

/// One problem in a config, located as precisely as it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file the problem is in, when known.
    pub file: Option<String>,
    /// The 1-based line, when the problem belongs to one line.
    pub line: Option<usize>,
    /// The section the problem is in, when it belongs to one.
    pub section: Option<String>,
    /// The option the problem is about, when it belongs to one.
    pub option: Option<String>,
    /// What is wrong, worded as Supervisor words it where it has a message.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            _ => {}
        }
        match (&self.section, &self.option) {
            (Some(section), Some(option)) => write!(f, "[{section}] {option}: ")?,
            (Some(section), None) => write!(f, "[{section}]: ")?,
            _ => {}
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a config; the daemon must not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// Each problem, in the order the loader met them.
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl LoadError {
    pub(super) fn single(message: String) -> Self {
        LoadError {
            errors: vec![ConfigError {
                file: None,
                line: None,
                section: None,
                option: None,
                message,
            }],
        }
    }
}
