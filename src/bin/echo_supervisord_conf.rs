//! `echo_supervisord_conf`: print a complete, commented sample configuration.

use std::io::Write;

fn main() {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`echo_supervisord_conf | head`) is not an error.
    let _ = stdout.write_all(sv_core::config::SAMPLE_CONFIG.as_bytes());
}
