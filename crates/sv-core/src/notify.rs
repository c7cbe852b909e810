//! systemd's notify protocol as a `Type=notify` child speaks it
//! (`sd_notify(3)`): one datagram of newline-separated `KEY=VALUE`
//! assignments. We understand `READY=1`, `STATUS=…`, `WATCHDOG=1`,
//! `STOPPING=1` and `MAINPID=…`; every other assignment (`RELOADING=1`,
//! `ERRNO=`, `BARRIER=1`, `FDSTORE=1`, …) is ignored, as systemd ignores
//! what a unit's settings do not ask for. Parsing only: the daemon
//! receives the datagram and checks who sent it.

/// The largest datagram read; systemd reads the same (`PIPE_BUF`) and
/// drops a longer one.
pub const MAX_DATAGRAM: usize = 4096;

/// The longest `STATUS=` text kept (longer ones are cut at a character
/// boundary), so a chatty child cannot grow its description.
pub const MAX_STATUS: usize = 256;

/// One assignment we act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// `READY=1`: start-up finished.
    Ready,
    /// `STATUS=…`: free-form status text (control characters dropped).
    Status(String),
    /// `WATCHDOG=1`: a keepalive.
    Watchdog,
    /// `STOPPING=1`: the child is shutting down.
    Stopping,
    /// `MAINPID=…`: the child says its main process is this pid.
    MainPid(u32),
}

/// The assignments of one datagram we act on, in order. Bytes that are not
/// UTF-8 are replaced, as the text only ever reaches a description.
pub fn parse(datagram: &[u8]) -> Vec<Notice> {
    let text = String::from_utf8_lossy(datagram);
    let mut notices = Vec::new();
    for line in text.split('\n') {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let notice = match (key, value) {
            ("READY", "1") => Notice::Ready,
            ("WATCHDOG", "1") => Notice::Watchdog,
            ("STOPPING", "1") => Notice::Stopping,
            ("STATUS", text) => Notice::Status(clean_status(text)),
            ("MAINPID", pid) => match pid.parse::<u32>() {
                Ok(pid) if pid > 0 => Notice::MainPid(pid),
                _ => continue,
            },
            _ => continue,
        };
        notices.push(notice);
    }
    notices
}

fn clean_status(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > MAX_STATUS {
            break;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_as_sd_notify_sends_them() {
        assert_eq!(
            parse(b"READY=1\nSTATUS=Accepting connections\nMAINPID=42\n"),
            vec![
                Notice::Ready,
                Notice::Status("Accepting connections".into()),
                Notice::MainPid(42)
            ]
        );
        assert_eq!(parse(b"WATCHDOG=1"), vec![Notice::Watchdog]);
        assert_eq!(
            parse(b"STOPPING=1\nBARRIER=1\nERRNO=2"),
            vec![Notice::Stopping]
        );
    }

    #[test]
    fn junk_is_ignored_and_status_is_bounded() {
        assert!(parse(b"READY=0\nREADY\nMAINPID=x\nMAINPID=0\n\xff\xfe").is_empty());
        let long = format!("STATUS={}\u{7}é", "a".repeat(300));
        match &parse(long.as_bytes())[0] {
            Notice::Status(s) => assert_eq!(s.len(), MAX_STATUS),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse(b"STATUS=a\x1b[31mb"),
            vec![Notice::Status("a[31mb".into())]
        );
    }
}
