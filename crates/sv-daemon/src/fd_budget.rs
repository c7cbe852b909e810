//! How many descriptors a configuration needs, and the start-up warning
//! when the daemon's RLIMIT_NOFILE cannot hold them all.
//!
//! The daemon raises its own soft limit to the hard one at start
//! (`sys::raise_rlimits`; children get the limit they had before back). A
//! config can still ask for more than the hard limit allows, and then the
//! spawns past the limit fail with "too many open files" one by one, late.
//! Saying so at start, with the number of programs that do fit, turns that
//! into one line an operator can act on.

use sv_core::config::{GroupConfig, GroupKind, LogFile, ProcessConfig};

/// Descriptors supervisord keeps for itself: main log, epoll, signal and
/// event pipes, HTTP sockets, the accept loops' reserve and a few
/// connections (an idle daemon holds about 25).
pub const RESERVED: u64 = 32;

/// What one running process holds in the daemon: our ends of its pipes
/// (stdin unless an fcgi socket is its stdin, stdout, stderr unless
/// redirected) and its open log files.
pub fn per_process(process: &ProcessConfig, fcgi: bool) -> u64 {
    let stdin = u64::from(!fcgi);
    let stderr_separate = !process.redirect_stderr;
    let stdout_log = u64::from(process.stdout.logfile != LogFile::None);
    let stderr_log = u64::from(stderr_separate && process.stderr.logfile != LogFile::None);
    stdin + 1 + u64::from(stderr_separate) + stdout_log + stderr_log
}

/// The descriptors the configured `groups` need with every process running,
/// and how many processes there are.
pub fn needed(groups: &[GroupConfig]) -> (u64, usize) {
    let mut total = RESERVED;
    let mut count = 0;
    for group in groups {
        let fcgi = matches!(group.kind, GroupKind::FastCgi { .. });
        // An fcgi group's listening socket.
        total += u64::from(fcgi);
        for process in &group.processes {
            total += per_process(process, fcgi);
            count += 1;
        }
    }
    (total, count)
}

/// The warning to log at start when `limit` (the daemon's own soft
/// RLIMIT_NOFILE after raising it, `hard` its hard limit) is smaller than
/// what `groups` need; `None` when everything fits.
pub fn warning(groups: &[GroupConfig], limit: u64, hard: u64) -> Option<String> {
    let (needed, count) = needed(groups);
    if needed <= limit || count == 0 {
        return None;
    }
    let average = (needed - RESERVED).div_ceil(count as u64).max(1);
    let fit = limit.saturating_sub(RESERVED) / average;
    let hard = if hard == u64::MAX {
        "unlimited".to_string()
    } else {
        hard.to_string()
    };
    Some(format!(
        "RLIMIT_NOFILE is {limit} (hard limit {hard}): enough for about {fit} of the {count} \
         processes configured, which need up to {needed} descriptors with all running \
         ({average} per process for pipes and log files, {RESERVED} for supervisord); \
         spawns past that fail with 'too many open files'. Raise the hard limit \
         (ulimit -Hn, systemd LimitNOFILE=) and minfds, or run fewer processes"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(processes: usize, redirect: bool) -> Vec<GroupConfig> {
        let mut group = GroupConfig {
            name: "g".into(),
            priority: 999,
            kind: GroupKind::Process,
            processes: Vec::new(),
        };
        for i in 0..processes {
            let mut p = ProcessConfig::with_defaults(&format!("p{i}"), "/bin/cat");
            p.redirect_stderr = redirect;
            if redirect {
                p.stderr.logfile = LogFile::None;
            }
            group.processes.push(p);
        }
        vec![group]
    }

    #[test]
    fn a_process_costs_its_pipes_and_logs() {
        let c = config(1, false);
        // stdin, stdout, stderr pipes + two AUTO logs.
        assert_eq!(per_process(&c[0].processes[0], false), 5);
        assert_eq!(per_process(&c[0].processes[0], true), 4);
        let r = config(1, true);
        // stdin, stdout pipes + the stdout log.
        assert_eq!(per_process(&r[0].processes[0], false), 3);
    }

    #[test]
    fn the_warning_says_how_many_fit() {
        let c = config(1000, false);
        assert_eq!(needed(&c), (RESERVED + 5000, 1000));
        assert_eq!(warning(&c, 8192, 8192), None);
        let text = warning(&c, 1024, 4096).unwrap();
        assert!(
            text.starts_with(
                "RLIMIT_NOFILE is 1024 (hard limit 4096): enough for about 198 of the 1000 processes"
            ),
            "{text}"
        );
        assert!(text.contains("up to 5032 descriptors"), "{text}");
        assert_eq!(warning(&config(0, false), 10, 10), None);
    }
}
