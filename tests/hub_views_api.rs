//! The hub's server side of the page's node, process, user, profile and
//! activity views, through the real binary against real nodes (our
//! supervisord and Supervisor 4.3.0): log windows in lines, older
//! windows, live follow by offset, search, download, the process detail
//! with its config and observed state history; user administration,
//! one's sessions and API tokens, the filtered activity query. Waits are
//! conditions with deadlines; nothing asserts a duration.

mod support;

use serde_json::{Value, json};
use support::hub::{HubProc, Resp, config};
use support::pair::{Daemon, Impl, Options};

const PROGRAMS: &str = "\
[program:chatty]
command=/bin/sh -c 'i=1; while [ $i -le 300 ]; do echo \"line $i\"; i=$((i+1)); done; for j in 1 2 3 4 5; do echo \"err $j\" >&2; done; exec sleep 1000'
startsecs=0
stdout_logfile={dir}/chatty.out
stderr_logfile={dir}/chatty.err

[program:ticker]
command=/bin/sh -c 'i=1; while true; do echo \"tick $i\"; i=$((i+1)); sleep 0.1; done'
startsecs=0
stdout_logfile={dir}/ticker.out

[program:merged]
command=/bin/sh -c 'echo merged out; echo merged err >&2; exec sleep 1000'
startsecs=0
redirect_stderr=true
stdout_logfile={dir}/merged.out
";

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn nodes(list: &[(&str, &Daemon)]) -> String {
    list.iter()
        .map(|(name, d)| {
            format!(
                "[[nodes]]\nname = \"{name}\"\nenvironment = \"prod\"\nurl = \"{}\"\n",
                d.serverurl()
            )
        })
        .collect()
}

fn get(hub: &HubProc, path: &str, cookie: &str) -> Resp {
    hub.get(path, &[("Cookie", cookie)])
}

fn lines(v: &Value) -> Vec<String> {
    v["log"]["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines in {v}"))
        .iter()
        .map(|l| l.as_str().unwrap_or_default().to_string())
        .collect()
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn dechunk(raw: &str) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

fn numbered(prefix: &str, range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|i| format!("{prefix} {i}")).collect()
}

/// Waits until the node's process is listed RUNNING by the hub.
fn wait_running(hub: &HubProc, cookie: &str, node: &str, name: &str) {
    hub.wait_for(&format!("{node} {name} RUNNING"), || {
        let r = get(hub, &format!("/api/v2/nodes/{node}/processes/"), cookie);
        r.status == 200
            && r.json()["processes"].as_array().is_some_and(|l| {
                l.iter()
                    .any(|p| p["name"] == name && p["statename"] == "RUNNING")
            })
    });
}

fn wait_log_lines(hub: &HubProc, cookie: &str, path: &str, want: usize) {
    hub.wait_for(&format!("{want} lines at {path}"), || {
        let r = get(hub, path, cookie);
        r.status == 200 && lines(&r.json()).len() >= want
    });
}

/// Log windows, older windows, search, download, on one node of each kind.
#[test]
fn log_windows_search_and_download_on_ours_and_supervisor() {
    let ours = Daemon::start(Impl::Ours, PROGRAMS, Options::default());
    let reference = Daemon::start(Impl::Reference, PROGRAMS, Options::default());
    let dir = tempdir();
    let hub = HubProc::start(
        dir.path(),
        &config(&nodes(&[("ours", &ours), ("ref", &reference)])),
    );
    let admin = hub.login("admin", "s3cret-admin");
    for node in ["ours", "ref"] {
        wait_running(&hub, &admin, node, "chatty");
        let base = format!("/api/v2/nodes/{node}/processes/chatty/log");
        wait_log_lines(&hub, &admin, &format!("{base}/stderr/"), 5);
        wait_log_lines(&hub, &admin, &format!("{base}/stdout/?lines=300"), 300);

        // The last 50 lines, whole, with their byte offsets.
        let tail = get(&hub, &format!("{base}/stdout/?lines=50"), &admin).json();
        assert_eq!(lines(&tail), numbered("line", 251..=300), "{node}");
        let file = std::fs::read_to_string(if node == "ours" {
            ours.path("chatty.out")
        } else {
            reference.path("chatty.out")
        })
        .expect("the log file");
        let (start, end) = (tail["log"]["start"].as_i64(), tail["log"]["end"].as_i64());
        assert_eq!(end, Some(file.len() as i64), "{node}: {tail}");
        assert_eq!(tail["log"]["size"].as_i64(), Some(file.len() as i64));
        assert_eq!(
            start,
            file.find("line 251\n").map(|i| i as i64),
            "{node}: {tail}"
        );

        // Older: the 100 lines before, then back to the file's start.
        let older = get(
            &hub,
            &format!("{base}/stdout/?lines=100&before={}", start.unwrap_or(0)),
            &admin,
        )
        .json();
        assert_eq!(lines(&older), numbered("line", 151..=250), "{node}");
        assert_eq!(older["log"]["end"].as_i64(), start);
        let first = get(
            &hub,
            &format!(
                "{base}/stdout/?lines=10000&before={}",
                older["log"]["start"].as_i64().unwrap_or(0)
            ),
            &admin,
        )
        .json();
        assert_eq!(lines(&first), numbered("line", 1..=150), "{node}");
        assert_eq!(first["log"]["start"], 0);

        // stderr, and a process whose stderr goes to stdout.
        let err = get(&hub, &format!("{base}/stderr/"), &admin).json();
        assert_eq!(lines(&err), numbered("err", 1..=5), "{node}");
        let merged = get(
            &hub,
            &format!("/api/v2/nodes/{node}/processes/merged/log/stderr/"),
            &admin,
        );
        assert_eq!(merged.status, 200, "{node}: {merged:?}");
        let merged = merged.json();
        assert!(
            merged["log"]["missing"]
                .as_str()
                .is_some_and(|m| m.contains("NO_FILE"))
                || lines(&merged).is_empty(),
            "{node}: {merged}"
        );

        // Search: case ignored unless asked, offsets of line starts.
        let found = get(&hub, &format!("{base}/stdout/search/?q=LINE%2029"), &admin).json();
        let hits: Vec<&str> = found["log"]["matches"]
            .as_array()
            .expect("matches")
            .iter()
            .map(|m| m["line"].as_str().unwrap_or_default())
            .collect();
        let mut want = vec!["line 29".to_string()];
        want.extend(numbered("line", 290..=299));
        assert_eq!(hits, want, "{node}");
        assert_eq!(
            found["log"]["matches"][0]["offset"].as_i64(),
            file.find("line 29\n").map(|i| i as i64)
        );
        assert_eq!(found["log"]["from"], 0);
        let exact = get(
            &hub,
            &format!("{base}/stdout/search/?q=LINE%2029&case=1"),
            &admin,
        )
        .json();
        assert_eq!(exact["log"]["matches"], json!([]));

        // Download: the whole file, as an attachment.
        let dl = get(&hub, &format!("{base}/stdout/download/"), &admin);
        assert_eq!(dl.status, 200);
        assert_eq!(
            dl.header("content-disposition"),
            Some(format!("attachment; filename=\"{node}-chatty-stdout.log\"").as_str())
        );
        assert_eq!(dl.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(dl.header("transfer-encoding"), Some("chunked"), "streamed");
        assert_eq!(dechunk(&dl.body), file, "{node}");

        // What a client may ask is bounded and checked.
        for (query, status) in [
            ("stdout/?lines=0", 400),
            ("stdout/?lines=10001", 400),
            ("stdout/?length=2000000&after=0", 400),
            ("stdout/?after=1&before=2", 400),
            ("stdout/?after=-1", 400),
            ("stdout/search/", 400),
            ("stdout/search/?window=0&q=x", 400),
            ("other/", 404),
        ] {
            let r = get(&hub, &format!("{base}/{query}"), &admin);
            assert_eq!(r.status, status, "{node} {query}: {r:?}");
        }
        let r = get(
            &hub,
            &format!("/api/v2/nodes/{node}/processes/nosuch/log/stdout/"),
            &admin,
        );
        assert_eq!(
            (r.status, r.json()["message"].clone()),
            (400, json!("Wrong process name"))
        );

        // Cleared under a follower (chatty writes no more): a reset, from
        // the new end. (Supervisor clears the logs of a running process
        // only: a stopped one has no log dispatchers.)
        let clear = hub.send(
            "POST",
            &format!("/api/v2/nodes/{node}/processes/chatty/clear/"),
            &[("Cookie", &admin)],
            None,
        );
        assert_eq!(clear.status, 200, "{clear:?}");
        let r = get(
            &hub,
            &format!("{base}/stdout/?after={}", end.unwrap_or(0)),
            &admin,
        )
        .json();
        assert_eq!(r["log"]["reset"], true, "{node}: {r}");
        assert_eq!((r["log"]["end"].clone(), lines(&r).len()), (json!(0), 0));
    }

    // Opening a log, a search and a download are in the activity log;
    // paging is not.
    let acts = get(&hub, "/api/v2/activity/?node=ours&process=chatty", &admin).json();
    let actions: Vec<&str> = acts["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    assert!(actions.contains(&"log.download"), "{acts}");
    assert!(actions.contains(&"log.search"), "{acts}");
    assert!(actions.contains(&"log"), "{acts}");
}

/// Following a growing log by offset: every line once, in order.
#[test]
fn following_a_log_sees_every_new_line_once() {
    let ours = Daemon::start(Impl::Ours, PROGRAMS, Options::default());
    let reference = Daemon::start(Impl::Reference, PROGRAMS, Options::default());
    let dir = tempdir();
    let hub = HubProc::start(
        dir.path(),
        &config(&nodes(&[("ours", &ours), ("ref", &reference)])),
    );
    let admin = hub.login("admin", "s3cret-admin");
    for node in ["ours", "ref"] {
        wait_running(&hub, &admin, node, "ticker");
        let base = format!("/api/v2/nodes/{node}/processes/ticker/log/stdout/");
        wait_log_lines(&hub, &admin, &base, 3);
        let before = get(&hub, "/api/v2/activity/?action=log", &admin).json()["entries"]
            .as_array()
            .map_or(0, Vec::len);
        let first = get(&hub, &format!("{base}?lines=5"), &admin).json();
        let mut seen = lines(&first);
        let mut end = first["log"]["end"].as_i64().expect("end");
        let number = |l: &str| -> u32 {
            l.strip_prefix("tick ")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("not a tick: {l:?}"))
        };
        let start_at = number(seen.last().expect("a line"));
        hub.wait_for("20 more ticks", || {
            let r = get(&hub, &format!("{base}?after={end}"), &admin).json();
            assert_eq!(r["log"]["gap"], false, "{r}");
            assert_eq!(r["log"]["reset"], false, "{r}");
            assert!(r["log"]["start"].as_i64() == Some(end) || lines(&r).is_empty());
            seen.extend(lines(&r));
            end = r["log"]["end"].as_i64().expect("end");
            number(seen.last().expect("a line")) >= start_at + 20
        });
        let numbers: Vec<u32> = seen.iter().map(|l| number(l)).collect();
        let expected: Vec<u32> = (numbers[0]..numbers[0] + numbers.len() as u32).collect();
        assert_eq!(numbers, expected, "{node}: every line once, in order");
        let after = get(&hub, "/api/v2/activity/?action=log", &admin).json()["entries"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(after, before + 1, "only opening the log is recorded");
    }
}

/// The process detail: state, config summary (roles that read logs),
/// history observed by the hub.
#[test]
fn process_detail_has_config_and_observed_history() {
    let ours = Daemon::start(Impl::Ours, PROGRAMS, Options::default());
    let reference = Daemon::start(Impl::Reference, PROGRAMS, Options::default());
    let dir = tempdir();
    let hub = HubProc::start(
        dir.path(),
        &config(&nodes(&[("ours", &ours), ("ref", &reference)])),
    );
    let admin = hub.login("admin", "s3cret-admin");
    for (name, usertype) in [("vic", "2"), ("rita", "5")] {
        let r = hub.send(
            "POST",
            "/api/v2/users/",
            &[("Cookie", &admin)],
            Some(&json!({"username": name, "password": "pw", "usertype": usertype}).to_string()),
        );
        assert_eq!(r.status, 200, "{r:?}");
    }
    let viewer = hub.login("vic", "pw");
    let restricted = hub.login("rita", "pw");
    for node in ["ours", "ref"] {
        wait_running(&hub, &admin, node, "chatty");
        let path = format!("/api/v2/nodes/{node}/processes/chatty/detail/");
        let d = get(&hub, &path, &admin).json();
        assert_eq!(d["process"]["statename"], "RUNNING", "{d}");
        assert_eq!(d["namespec"], "chatty:chatty");
        assert_eq!(d["live"], true);
        assert!(
            d["config"]["command"]
                .as_str()
                .is_some_and(|c| c.contains("line $i")),
            "{node}: {d}"
        );
        assert_eq!(d["config"]["startsecs"], 0);
        assert_eq!(d["config"]["redirect_stderr"], false);
        assert_eq!(d["history"][0]["to"], "RUNNING", "{node}: {d}");
        assert_eq!(d["history"][0]["from"], Value::Null);

        let v = get(&hub, &path, &viewer).json();
        assert!(v["config"].is_object(), "a viewer reads logs, so config");
        let r = get(&hub, &path, &restricted).json();
        assert_eq!(r["config"], Value::Null, "no logs, no config");
        assert_eq!(r["process"]["statename"], "RUNNING");

        let stop = hub.send(
            "POST",
            &format!("/api/v2/nodes/{node}/processes/chatty/stop/"),
            &[("Cookie", &admin)],
            None,
        );
        assert_eq!(stop.status, 200, "{stop:?}");
        let d = get(&hub, &path, &admin).json();
        let last = d["history"].as_array().and_then(|h| h.last()).cloned();
        assert_eq!(
            last.map(|t| (t["from"].clone(), t["to"].clone())),
            Some((json!("RUNNING"), json!("STOPPED"))),
            "{node}: {d}"
        );
        let nosuch = get(
            &hub,
            &format!("/api/v2/nodes/{node}/processes/nosuch/detail/"),
            &admin,
        );
        assert_eq!(nosuch.status, 400);

        // The page: names from the URL are escaped; controls follow the role.
        let page = get(
            &hub,
            &format!("/nodes/{node}/processes/%3Cscript%3Ex%22y"),
            &admin,
        );
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("<script>x"), "escaped");
        assert!(
            page.body.contains("&#60;script&#62;x&#34;y"),
            "{}",
            page.body
        );
        assert!(page.body.contains("data-act=\"stop\""));
        let as_viewer = get(
            &hub,
            &format!("/nodes/{node}/processes/chatty%3Achatty"),
            &viewer,
        );
        assert!(
            !as_viewer.body.contains("data-act="),
            "no actions for a viewer"
        );
        assert!(
            as_viewer.body.contains("id=\"log-text\""),
            "a viewer reads logs"
        );
        let as_restricted = get(
            &hub,
            &format!("/nodes/{node}/processes/chatty%3Achatty"),
            &restricted,
        );
        assert!(
            !as_restricted.body.contains("id=\"log-text\""),
            "no log without the right"
        );
        assert_eq!(get(&hub, "/nodes/nosuch", &admin).status, 404);
    }
}
