//! Cesi's process object and log lines, pure: Supervisor's 14-key
//! process-info struct plus `start_hr`, `stop_hr`, `now_hr` (the hub's
//! local time, `HH:MM:SS`) and `uptime` (a string for RUNNING, the integer
//! `0` otherwise — spec §4.4).
//!
//! Deliberate fixes (spec D11, Q5): uptime is computed from `now - start`
//! rather than cut out of the description, so a day or more reads
//! `"2 days, 3:04:05"` instead of `"2"`; one process entry that does not
//! parse is skipped instead of emptying the whole list.

use jiff::tz::TimeZone;
use serde_json::{Value, json};
use sv_api::ProcessInfo;
use sv_api::records::format_timedelta;

/// Supervisor's RUNNING state code.
pub const RUNNING: i32 = 20;

/// The process object Cesi answers for `info`, times in `tz`.
pub fn process_json(info: &ProcessInfo, tz: &TimeZone) -> Value {
    json!({
        "description": info.description,
        "exitstatus": info.exitstatus,
        "group": info.group,
        "logfile": info.stdout_logfile,
        "name": info.name,
        "now": info.now,
        "now_hr": clock(info.now, tz),
        "pid": info.pid,
        "spawnerr": info.spawnerr,
        "start": info.start,
        "start_hr": clock(info.start, tz),
        "state": info.state,
        "statename": info.statename,
        "stderr_logfile": info.stderr_logfile,
        "stdout_logfile": info.stdout_logfile,
        "stop": info.stop,
        "stop_hr": clock(info.stop, tz),
        "uptime": uptime(info),
    })
}

/// `epoch` as `HH:MM:SS` in `tz`, the date dropped (0 is midnight of
/// 1970-01-01 there, as in Cesi).
pub fn clock(epoch: i64, tz: &TimeZone) -> String {
    match jiff::Timestamp::from_second(epoch) {
        Ok(ts) => ts.to_zoned(tz.clone()).strftime("%H:%M:%S").to_string(),
        Err(_) => "00:00:00".to_string(),
    }
}

/// `"H:MM:SS"` (or `"N days, H:MM:SS"`) for a RUNNING process, else `0`.
pub fn uptime(info: &ProcessInfo) -> Value {
    if info.state == RUNNING {
        Value::from(format_timedelta((info.now - info.start).max(0)))
    } else {
        Value::from(0)
    }
}

/// `getAllProcessInfo`'s answer, each entry parsed on its own: the entries
/// that parse, and how many did not.
pub fn parse_list(value: &sv_xmlrpc::Value) -> Result<(Vec<ProcessInfo>, usize), String> {
    let sv_xmlrpc::Value::Array(items) = value else {
        return Err(format!(
            "getAllProcessInfo answered {}, not an array",
            value.type_name()
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    let mut bad = 0;
    for item in items {
        match ProcessInfo::from_value(item) {
            Ok(info) => out.push(info),
            Err(_) => bad += 1,
        }
    }
    Ok((out, bad))
}

/// Cesi's log lines: the text split on `\n`, the first and the last piece
/// dropped (the first may be cut by the 500-byte window; the last follows
/// the final newline). Kept even when the first line is whole (spec Q3).
pub fn cesi_log_lines(text: &str) -> Vec<String> {
    let pieces: Vec<&str> = text.split('\n').collect();
    if pieces.len() <= 2 {
        return Vec::new();
    }
    pieces[1..pieces.len() - 1]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Lines of a read from an explicit offset (our addition): split on `\n`,
/// only the piece after the last newline dropped (the read starts where
/// the caller asked, so its first line is whole when the offset was a
/// line start).
pub fn lines_from_offset(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = text.split('\n').map(str::to_string).collect();
    pieces.pop();
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(now: i64, start: i64) -> ProcessInfo {
        ProcessInfo {
            name: "worker".into(),
            group: "batch".into(),
            start,
            stop: 0,
            now,
            state: RUNNING,
            statename: "RUNNING".into(),
            spawnerr: String::new(),
            exitstatus: 0,
            stdout_logfile: "/srv/sv/worker.out".into(),
            stderr_logfile: String::new(),
            pid: 32235,
            description: "pid 32235, uptime 0:00:02".into(),
        }
    }

    #[test]
    fn the_process_object_matches_cesis_bytes() {
        let info = running(1796514766, 1796514764);
        let text = crate::api::json::to_cesi_string(&process_json(&info, &TimeZone::UTC));
        assert_eq!(
            text,
            "{\"description\":\"pid 32235, uptime 0:00:02\",\"exitstatus\":0,\"group\":\"batch\",\"logfile\":\"/srv/sv/worker.out\",\
\"name\":\"worker\",\"now\":1796514766,\"now_hr\":\"23:52:46\",\"pid\":32235,\"spawnerr\":\"\",\"start\":1796514764,\
\"start_hr\":\"23:52:44\",\"state\":20,\"statename\":\"RUNNING\",\"stderr_logfile\":\"\",\
\"stdout_logfile\":\"/srv/sv/worker.out\",\"stop\":0,\"stop_hr\":\"00:00:00\",\"uptime\":\"0:00:02\"}\n"
        );
    }

    #[test]
    fn uptime_is_zero_unless_running_and_counts_days() {
        assert_eq!(uptime(&running(100, 97)), json!("0:00:03"));
        assert_eq!(
            uptime(&running(2 * 86_400 + 3 * 3600 + 4 * 60 + 5, 0)),
            json!("2 days, 3:04:05")
        );
        let mut stopped = running(100, 97);
        stopped.state = 0;
        assert_eq!(uptime(&stopped), json!(0));
    }

    #[test]
    fn log_lines_drop_the_first_and_last_pieces() {
        assert_eq!(
            cesi_log_lines("partial line\nfull 1\nfull 2\nno newline at end"),
            vec!["full 1", "full 2"]
        );
        assert!(cesi_log_lines("one line\n").is_empty());
        assert!(cesi_log_lines("").is_empty());
        assert_eq!(lines_from_offset("a\nb\nc"), vec!["a", "b"]);
        assert_eq!(lines_from_offset("a\nb\n"), vec!["a", "b"]);
    }

    #[test]
    fn one_bad_entry_does_not_empty_the_list() {
        use sv_xmlrpc::Value as X;
        let good = running(2, 1).to_value();
        let bad = X::Struct(vec![("name".into(), X::from("x"))]);
        let (list, skipped) = parse_list(&X::Array(vec![good, bad])).expect("an array");
        assert_eq!((list.len(), skipped), (1, 1));
        assert!(parse_list(&X::from("no")).is_err());
    }
}
