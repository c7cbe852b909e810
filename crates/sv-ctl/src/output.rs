//! Buffered stdout for command output. A closed pipe (`supervisorctl
//! status | head`) ends the program quietly with exit 0 instead of an
//! error, as the issue asks.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// Where command output goes.
pub struct Out {
    buf: Vec<u8>,
    colour: bool,
    /// `None`: stdout. `Some`: collected for a test to read.
    captured: Option<Arc<Mutex<Vec<u8>>>>,
}

impl Out {
    /// `colour`: colour status lines (interactive, stdout a TTY, no
    /// `NO_COLOR`).
    pub fn new(colour: bool) -> Out {
        Out {
            buf: Vec::with_capacity(64 * 1024),
            colour,
            captured: None,
        }
    }

    /// Output collected into `into` instead of stdout, so commands can be
    /// tested in-process.
    pub fn capture(into: Arc<Mutex<Vec<u8>>>) -> Out {
        Out {
            buf: Vec::new(),
            colour: false,
            captured: Some(into),
        }
    }

    /// True when colour was asked for and the terminal can show it.
    pub fn colour(&self) -> bool {
        self.colour
    }

    pub fn set_colour(&mut self, on: bool) {
        self.colour = on;
    }

    /// One line plus `\n`.
    pub fn line(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
        self.buf.push(b'\n');
        if self.buf.len() > 60 * 1024 {
            self.flush();
        }
    }

    /// Bytes as they are.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() > 60 * 1024 {
            self.flush();
        }
    }

    /// Write out what is buffered; a broken pipe exits 0.
    pub fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if let Some(into) = &self.captured {
            into.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .append(&mut self.buf);
            return;
        }
        let mut out = std::io::stdout().lock();
        let r = out.write_all(&self.buf).and_then(|()| out.flush());
        self.buf.clear();
        if let Err(e) = r
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Colour is on for a TTY stdout unless `NO_COLOR` is set (non-empty).
pub fn colour_wanted() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
