//! Our additions to the web page, over raw HTTP (the browser tests in
//! `web_browser.rs` drive the same pages through Chromium):
//!
//! * `page_actions_need_the_session_token`: the status page sets the
//!   session cookie and puts the token in its forms; `POST /action` with
//!   cookie and token runs the action and answers JSON; without the
//!   cookie, with a wrong token, or cross-site it is refused (403) and
//!   nothing happens; `index.html` with a wrong `csrf` field is refused
//!   while Supervisor's token-less form post still works; `GET /action`
//!   is 405.
//! * `a_browser_that_says_nothing_is_asked_first`: a legacy GET action from
//!   a browser that sends neither `Sec-Fetch-Site` nor `Origin` (plain
//!   HTTP to a remote address; a forged link or image looks the same) gets
//!   a confirmation page instead of the action; confirming runs it. curl's
//!   GET runs at once; a TLS proxy's `https` Origin with the browser's
//!   `Sec-Fetch-Site: same-origin` is accepted.
//! * `group_and_signal_actions`: `startgroup` / `stopgroup` /
//!   `restartgroup`, `signal`, `startall`, and their messages for unknown
//!   names and bad signals.
//! * `log_view_windows_follow_and_download`: `log.html` shows the last N
//!   whole lines (escaped), says what has no log; `logevents` follows from
//!   the page's offset, announces a clear; `download` sends the whole file
//!   as an attachment; the main log has the same three.

mod support;

use std::io::Write as _;
use std::time::Duration;

use support::pair::{Daemon, Endpoint, HttpReply, Impl, Options};

const BODY: &str = r#"
[program:sleeper]
command=sleep 1000
startsecs=0

[program:pool]
command=sleep 1000
startsecs=0
numprocs=2
process_name=%(program_name)s_%(process_num)s

[program:lines]
command=sh -c 'i=0; while [ $i -lt 50 ]; do echo "line $i <b>"; i=$((i+1)); done; echo "err line" >&2; exec sleep 1000'
startsecs=0

[program:quiet]
command=sleep 1000
startsecs=0
stdout_logfile=NONE
"#;

const READ: Duration = Duration::from_secs(10);

fn request(daemon: &Daemon, method: &str, target: &str, headers: &str, body: &str) -> HttpReply {
    let text = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len}\r\n{headers}\r\n{body}",
        port = daemon.port.unwrap_or(0),
        len = body.len()
    );
    daemon
        .http(Endpoint::Inet, text.as_bytes(), READ)
        .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
}

fn get(daemon: &Daemon, target: &str) -> HttpReply {
    request(daemon, "GET", target, "", "")
}

fn state(daemon: &Daemon, namespec: &str) -> String {
    daemon
        .states()
        .into_iter()
        .find(|(name, _)| name == namespec)
        .map(|(_, state)| state)
        .unwrap_or_default()
}

/// The session cookie the page set and the token in its forms.
fn session(daemon: &Daemon) -> (String, String) {
    let page = get(daemon, "/index.html");
    let cookie = page
        .header("set-cookie")
        .expect("the page sets a session cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap_or("").to_string();
    let body = page.body_text();
    let marker = "name=\"csrf\" value=\"";
    let at = body.find(marker).expect("token in the forms") + marker.len();
    let token = body[at..].split('"').next().unwrap_or("").to_string();
    assert_eq!(token.len(), 40, "{token}");
    // A page loaded with the cookie keeps the session (no new cookie) and
    // the same token.
    let again = request(daemon, "GET", "/", &format!("Cookie: {pair}\r\n"), "");
    assert_eq!(again.header("set-cookie"), None);
    assert!(again.body_text().contains(&token));
    (pair, token)
}

#[test]
fn page_actions_need_the_session_token() {
    let daemon = Daemon::start(Impl::Ours, BODY, Options::inet_open());
    daemon
        .wait_states(&[("sleeper", "RUNNING")], READ)
        .expect("sleeper running");
    let (cookie, token) = session(&daemon);
    let with_cookie = format!("Cookie: {cookie}\r\n");
    let form = |csrf: &str| format!("csrf={csrf}&processname=sleeper&action=stop");

    // Refused: no cookie, wrong token, no token, cross-site.
    for (headers, body, what) in [
        (String::new(), form(&token), "no cookie"),
        (with_cookie.clone(), form(&"0".repeat(40)), "wrong token"),
        (
            with_cookie.clone(),
            "processname=sleeper&action=stop".into(),
            "no token",
        ),
        (
            format!("{with_cookie}Sec-Fetch-Site: cross-site\r\n"),
            form(&token),
            "cross-site",
        ),
    ] {
        let reply = request(&daemon, "POST", "/action", &headers, &body);
        assert_eq!(reply.status, 403, "{what}: {}", reply.body_text());
        assert!(reply.body_text().contains("Reload the page"), "{what}");
        assert_eq!(state(&daemon, "sleeper"), "RUNNING", "{what}");
    }
    let wrong = request(
        &daemon,
        "POST",
        "/index.html",
        &with_cookie,
        &form(&"0".repeat(40)),
    );
    assert_eq!(wrong.status, 403);
    assert_eq!(state(&daemon, "sleeper"), "RUNNING");

    // Accepted: cookie and token.
    let reply = request(&daemon, "POST", "/action", &with_cookie, &form(&token));
    assert_eq!(reply.status, 200, "{}", reply.body_text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let answer: serde_json::Value = serde_json::from_slice(&reply.body).expect("JSON");
    assert_eq!(answer["message"], "Process sleeper stopped");
    assert_eq!(state(&daemon, "sleeper"), "STOPPED");
    // The same through index.html: Supervisor's redirect.
    let body = format!("csrf={token}&processname=sleeper&action=start");
    let reply = request(&daemon, "POST", "/index.html", &with_cookie, &body);
    assert_eq!(reply.status, 301);
    // The page's own form: back to the page, relative.
    assert_eq!(
        reply.header("location"),
        Some("index.html?message=Process%20sleeper%20started")
    );
    // Supervisor's own form post, without any token, still works.
    let reply = request(
        &daemon,
        "POST",
        "/index.html",
        "",
        "processname=sleeper&action=stop",
    );
    assert_eq!(reply.status, 301);
    assert_eq!(state(&daemon, "sleeper"), "STOPPED");
    // Unknown action on /action: 400 with a message.
    let reply = request(
        &daemon,
        "POST",
        "/action",
        &with_cookie,
        &format!("csrf={token}&processname=sleeper&action=bogus"),
    );
    assert_eq!(reply.status, 400);
    assert_eq!(get(&daemon, "/action").status, 405);
}

#[test]
fn a_browser_that_says_nothing_is_asked_first() {
    let daemon = Daemon::start(Impl::Ours, BODY, Options::inet_open());
    daemon
        .wait_states(&[("sleeper", "RUNNING")], READ)
        .expect("sleeper running");
    let browser = "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/148.0\r\n\
                   Upgrade-Insecure-Requests: 1\r\n";
    let ask = request(
        &daemon,
        "GET",
        "/index.html?processname=sleeper&action=stop",
        browser,
        "",
    );
    assert_eq!(ask.status, 200);
    let page = ask.body_text();
    assert!(page.contains("Confirm: stop sleeper"), "{page}");
    assert_eq!(state(&daemon, "sleeper"), "RUNNING");
    // Confirming posts the same fields with the session's token.
    let cookie = ask
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_string();
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).expect("token") + marker.len();
    let token = page[at..].split('"').next().unwrap_or("");
    assert!(
        page.contains("name=\"processname\" value=\"sleeper\""),
        "{page}"
    );
    assert!(page.contains("name=\"action\" value=\"stop\""), "{page}");
    let confirm = request(
        &daemon,
        "POST",
        "/index.html",
        &format!(
            "{browser}Cookie: {cookie}\r\nOrigin: http://127.0.0.1:{}\r\n",
            daemon.port.unwrap_or(0)
        ),
        &format!("csrf={token}&processname=sleeper&action=stop"),
    );
    assert_eq!(confirm.status, 301);
    // Back to the page it came from, relative (proxies, prefixes, TLS).
    assert_eq!(
        confirm.header("location"),
        Some("index.html?message=Process%20sleeper%20stopped")
    );
    assert_eq!(state(&daemon, "sleeper"), "STOPPED");
    // Refresh changes nothing: no question asked.
    let refresh = request(&daemon, "GET", "/index.html?action=refresh", browser, "");
    assert_eq!(refresh.status, 301);
    // curl (no browser headers): at once, Supervisor's absolute redirect.
    let curl = request(
        &daemon,
        "GET",
        "/index.html?processname=sleeper&action=start",
        "User-Agent: curl/8.5.0\r\n",
        "",
    );
    assert_eq!(curl.status, 301);
    assert_eq!(state(&daemon, "sleeper"), "RUNNING");
    // Behind a TLS-terminating proxy: Origin https://…, Sec-Fetch-Site
    // same-origin.
    let (cookie, token) = session(&daemon);
    let reply = request(
        &daemon,
        "POST",
        "/action",
        &format!(
            "Cookie: {cookie}\r\nOrigin: https://sv.example.com\r\nSec-Fetch-Site: same-origin\r\n"
        ),
        &format!("csrf={token}&processname=sleeper&action=stop"),
    );
    assert_eq!(reply.status, 200, "{}", reply.body_text());
    assert_eq!(state(&daemon, "sleeper"), "STOPPED");
}

#[test]
fn group_and_signal_actions() {
    let daemon = Daemon::start(Impl::Ours, BODY, Options::inet_open());
    daemon
        .wait_states(
            &[("pool:pool_0", "RUNNING"), ("pool:pool_1", "RUNNING")],
            READ,
        )
        .expect("pool running");
    let (cookie, token) = session(&daemon);
    let with_cookie = format!("Cookie: {cookie}\r\n");
    let act = |fields: &str| {
        let reply = request(
            &daemon,
            "POST",
            "/action",
            &with_cookie,
            &format!("csrf={token}&{fields}"),
        );
        assert_eq!(reply.status, 200, "{fields}: {}", reply.body_text());
        let answer: serde_json::Value = serde_json::from_slice(&reply.body).expect("JSON");
        answer["message"].as_str().unwrap_or("").to_string()
    };
    assert_eq!(
        act("processname=pool&action=stopgroup"),
        "Group pool stopped"
    );
    assert_eq!(state(&daemon, "pool:pool_0"), "STOPPED");
    assert_eq!(state(&daemon, "pool:pool_1"), "STOPPED");
    assert_eq!(
        act("processname=pool&action=startgroup"),
        "Group pool started"
    );
    assert_eq!(state(&daemon, "pool:pool_1"), "RUNNING");
    let pid = |name: &str| {
        daemon.call("supervisor.getProcessInfo", serde_json::json!([name]))["ok"]["pid"]
            .as_i64()
            .unwrap_or(0)
    };
    let before = pid("pool:pool_0");
    assert_eq!(
        act("processname=pool&action=restartgroup"),
        "Group pool restarted"
    );
    assert_eq!(state(&daemon, "pool:pool_0"), "RUNNING");
    assert_ne!(pid("pool:pool_0"), before);
    assert_eq!(
        act("processname=nosuch&action=stopgroup"),
        "No such group named nosuch"
    );
    assert_eq!(
        act("processname=nosuch&action=restartgroup"),
        "No such group named nosuch"
    );
    assert_eq!(
        act("processname=sleeper&action=signal&signal=USR2"),
        "Signal USR2 sent to sleeper"
    );
    assert_eq!(
        act("processname=pool:pool_0&action=signal&signal=NOPE"),
        "ERROR: bad signal NOPE"
    );
    assert_eq!(
        act("processname=pool:pool_1&action=stop"),
        "Process pool:pool_1 stopped"
    );
    assert_eq!(
        act("processname=pool:pool_1&action=signal&signal=HUP"),
        "ERROR: Process pool:pool_1: not running"
    );
    assert!(act("action=startall").starts_with("All started at "));
    assert_eq!(state(&daemon, "pool:pool_1"), "RUNNING");
}

#[test]
fn log_view_windows_follow_and_download() {
    let daemon = Daemon::start(Impl::Ours, BODY, Options::inet_open());
    daemon
        .wait_states(&[("lines", "RUNNING")], READ)
        .expect("lines running");
    // Wait until the program's 50 lines are in its log.
    assert!(support::bin::wait_until(READ, || {
        get(&daemon, "/log.html?processname=lines&lines=100")
            .body_text()
            .contains("line 49 &#60;b&#62;")
    }));
    let page = get(&daemon, "/log.html?processname=lines&lines=10").body_text();
    let shown: Vec<&str> = page
        .lines()
        .filter(|l| l.starts_with("<div class=\"l\">"))
        .collect();
    assert_eq!(shown.len(), 10, "{page}");
    assert_eq!(shown[0], "<div class=\"l\">line 40 &#60;b&#62;</div>");
    assert!(page.contains("Loaded the last 10 lines"), "{page}");
    assert!(!page.contains("<b>"), "escaped: {page}");
    let all = get(&daemon, "/log.html?processname=lines&lines=500").body_text();
    assert!(all.contains("Loaded the whole log: 50 lines."), "{all}");
    let stderr = get(&daemon, "/log.html?processname=lines&channel=stderr").body_text();
    assert!(
        stderr.contains("<div class=\"l\">err line</div>"),
        "{stderr}"
    );
    for (target, message) in [
        ("/log.html?processname=quiet", "No stdout log for quiet"),
        (
            "/log.html?processname=nosuch",
            "No such process named nosuch",
        ),
        ("/log.html", "No process name found"),
        (
            "/log.html?processname=lines&channel=bogus",
            "Unknown channel",
        ),
    ] {
        let page = get(&daemon, target);
        assert_eq!(page.status, 200, "{target}");
        assert!(
            page.body_text().contains(message),
            "{target}: {}",
            page.body_text()
        );
    }

    // Follow from the page's offset: only what comes after it.
    let marker = "data-follow=\"";
    let at = all.find(marker).expect("follow URL") + marker.len();
    let follow = all[at..]
        .split('"')
        .next()
        .unwrap_or("")
        .replace("&amp;", "&");
    assert!(
        follow.starts_with("logevents?processname=lines&channel=stdout&offset="),
        "{follow}"
    );
    let offset: u64 = follow
        .rsplit('=')
        .next()
        .and_then(|o| o.parse().ok())
        .expect("offset");
    let stream = daemon
        .http(
            Endpoint::Inet,
            format!("GET /{follow} HTTP/1.0\r\n\r\n").as_bytes(),
            Duration::from_millis(600),
        )
        .expect("logevents");
    assert_eq!(stream.status, 200);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert!(
        !stream.body_text().contains("event: append"),
        "{}",
        stream.body_text()
    );
    // From an earlier offset: the rest of the file, with its end offset.
    let early = daemon
        .http(
            Endpoint::Inet,
            format!(
                "GET /logevents?processname=lines&offset={} HTTP/1.0\r\n\r\n",
                offset - 12
            )
            .as_bytes(),
            Duration::from_millis(600),
        )
        .expect("logevents");
    let text = early.body_text();
    assert!(
        text.contains(&format!(
            "event: append\ndata: {{\"text\":\"line 49 <b>\\n\",\"end\":{offset}}}"
        )),
        "{text}"
    );
    let download = get(&daemon, "/download?processname=lines");
    assert_eq!(download.status, 200);
    assert_eq!(
        download.header("content-disposition"),
        Some("attachment; filename=\"lines-stdout.log\"")
    );
    assert_eq!(download.body_text().lines().count(), 50);
    assert_eq!(get(&daemon, "/download?processname=quiet").status, 404);

    // The main log: window, follow, download.
    let main = get(&daemon, "/log.html?channel=main").body_text();
    assert!(
        main.contains("success: lines entered RUNNING state"),
        "{main}"
    );
    let main_download = get(&daemon, "/download?channel=main");
    assert_eq!(
        main_download.header("content-disposition"),
        Some("attachment; filename=\"supervisord.log\"")
    );

    // Following across a clear: `reset`, then the new file's text.
    let mut conn =
        std::net::TcpStream::connect(("127.0.0.1", daemon.port.unwrap_or(0))).expect("connect");
    conn.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    conn.write_all(b"GET /logevents?processname=lines HTTP/1.0\r\n\r\n")
        .expect("send");
    let mut seen = Vec::new();
    let mut read_until = |needle: &str| {
        support::bin::wait_until(READ, || {
            let mut buf = [0u8; 4096];
            if let Ok(n) = std::io::Read::read(&mut conn, &mut buf) {
                seen.extend_from_slice(&buf[..n]);
            }
            String::from_utf8_lossy(&seen).contains(needle)
        })
    };
    assert!(read_until(": log follow"), "stream opened");
    daemon.call("supervisor.clearProcessLogs", serde_json::json!(["lines"]));
    assert!(
        read_until("event: reset"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
}
