//! The web page's endpoints, driven the way scripts drive Supervisor's:
//! raw HTTP requests as `curl` sends them.
//!
//! * `curl_script_matches_supervisor`: one script of requests — every
//!   action of `/index.html` by GET and by form POST, the all-process
//!   actions, unknown names and actions, `Host` handling, the unix socket,
//!   `/tail.html` with its `limit` — runs against ours and the reference
//!   Supervisor 4.3.0 on the same config. Compared: status codes, the
//!   `Location` of each redirect (the message in it, with `ctime()` dates
//!   and the port normalised), the process states right after each answer
//!   (an action answers only once it is done), the message shown by the
//!   page the redirect leads to, and the text of the tail page. The HTML
//!   around them is ours and not compared.
//! * `basic_auth_guards_the_page`: the inet server's credentials apply to
//!   the page and its actions, on both daemons.
//! * `cross_site_actions_are_refused`: ours only (Supervisor has no such
//!   check, spec §9 item 27) — a browser-marked cross-site action is 403,
//!   the same request from curl works.
//! * `hostile_values_are_escaped`: ours only — a process name, a log line
//!   and a `message` carrying markup come out escaped, and every page has
//!   a strict Content-Security-Policy.

mod support;

use std::time::{Duration, Instant};

use support::pair::{Daemon, Endpoint, HttpReply, Impl, Options, Pair, Report};

/// Upper bound for one HTTP exchange (an action waits for its result).
const HTTP_DEADLINE: Duration = Duration::from_secs(30);

const BODY: &str = r#"
[program:sleeper]
command=sleep 1000
startsecs=0

[program:writer]
command=sh -c 'printf "<b>hi & bye</b>\nsecond line\n"; exec sleep 1000'
startsecs=0

[program:bad]
command=/nonexistent/program
autostart=false

[program:quick]
command=false
autostart=false
startsecs=1
startretries=0

[program:slow]
command=sleep 1000
autostart=false
startsecs=1

[program:nolog]
command=sleep 1000
startsecs=0
stdout_logfile=NONE

[program:a]
command=sleep 1000
startsecs=0

[group:grp]
programs=a
"#;

/// A request as `curl` sends it (`Host`, `User-Agent`, `Accept`), plus
/// `Connection: close` and any `extra` header lines.
fn curl(daemon: &Daemon, endpoint: Endpoint, method: &str, target: &str, extra: &str) -> Vec<u8> {
    let host = match endpoint {
        Endpoint::Inet => format!("127.0.0.1:{}", daemon.port.unwrap_or(0)),
        Endpoint::Unix => "localhost".to_string(),
    };
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\
         Connection: close\r\n{extra}"
    );
    if !extra.contains("Host:") {
        request.push_str("\r\n");
    } else {
        // The step brings its own Host line: drop ours.
        request = request.replacen(&format!("Host: {host}\r\n"), "", 1);
        request.push_str("\r\n");
    }
    request.into_bytes()
}

/// `curl -d <form>`: a POST with a urlencoded body.
fn curl_form(daemon: &Daemon, endpoint: Endpoint, target: &str, form: &str) -> Vec<u8> {
    let mut request = curl(
        daemon,
        endpoint,
        "POST",
        target,
        &format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            form.len()
        ),
    );
    request.extend_from_slice(form.as_bytes());
    request
}

fn send(daemon: &Daemon, endpoint: Endpoint, request: &[u8]) -> HttpReply {
    daemon
        .http(endpoint, request, HTTP_DEADLINE)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", daemon.label(), daemon.diagnostics()))
}

/// `%XX` decoding (the messages are ASCII plus what the test put in).
fn unquote(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `text` is C `ctime()` output: `Fri Dec  4 13:56:36 2026`.
fn is_ctime(text: &str) -> bool {
    let parts: Vec<&str> = text.split(' ').filter(|p| !p.is_empty()).collect();
    let padded_day = text.get(8..10).is_some_and(|d| {
        d.trim_start().parse::<u8>().is_ok() && (d.starts_with(' ') || !d.starts_with('0'))
    });
    parts.len() == 5
        && parts[0].len() == 3
        && parts[1].len() == 3
        && padded_day
        && parts[3].len() == 8
        && parts[3].split(':').all(|p| p.len() == 2)
        && parts[4].len() == 4
        && text.len() == 24
}

/// The `Location` of a redirect with the daemon's port and a trailing
/// `ctime()` replaced by placeholders; a malformed date is left in place
/// (and so reported).
fn norm_location(daemon: &Daemon, location: &str) -> String {
    let mut location = location.to_string();
    if let Some(port) = daemon.port {
        location = location.replace(&format!(":{port}/"), ":{port}/");
    }
    if let Some((head, quoted)) = location.split_once("?message=") {
        let message = unquote(quoted);
        if let Some((text, date)) = message.rsplit_once(" at ")
            && is_ctime(date)
        {
            // The date must also be quoted as Python quotes it.
            let python_quoted = date.replace(' ', "%20").replace(':', "%3A");
            if quoted.ends_with(&python_quoted) {
                return format!("{head}?message={text} at <CTIME>");
            }
        }
        return format!("{head}?message={message}  [raw: {quoted}]");
    }
    location
}

/// Undo the entity escaping either page uses.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let entity = rest.find(';').map(|end| (&rest[1..end], end));
        let decoded = entity.and_then(|(name, end)| {
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "amp" => Some('&'),
                _ => match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
                    None => name
                        .strip_prefix('#')
                        .and_then(|n| n.parse().ok())
                        .and_then(char::from_u32),
                },
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of the page's only `<pre>` element (the tail page's log).
fn pre_text(body: &str) -> Option<String> {
    let start = body.find("<pre")?;
    let open_end = start + body[start..].find('>')? + 1;
    let close = open_end + body[open_end..].find("</pre>")?;
    Some(unescape(&body[open_end..close]))
}

/// Process states as `name=STATE` lines.
fn states(daemon: &Daemon) -> String {
    daemon
        .states()
        .into_iter()
        .map(|(name, state)| format!("{name}={state}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What one step is compared on.
#[derive(Debug)]
struct Seen {
    status: u16,
    content_type: String,
    location: String,
    /// The message shown by the page the redirect leads to, when the
    /// message is found in it (unescaped); `None` when it is not.
    shown: Option<bool>,
    states: String,
}

fn get(target: &'static str) -> impl Fn(&Daemon, Endpoint) -> Vec<u8> {
    move |d, ep| curl(d, ep, "GET", target, "")
}

fn run_step(daemon: &Daemon, endpoint: Endpoint, request: &[u8]) -> Seen {
    let reply = send(daemon, endpoint, request);
    // States right after the answer: an action answers once it is done.
    // Except for a program that exits at once: Supervisor answers "spawn
    // error" on the exit and takes BACKOFF -> FATAL on a later loop turn,
    // so there the settled state is compared.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut states = states(daemon);
    while (states.contains("quick=STARTING") || states.contains("quick=BACKOFF"))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
        states = self::states(daemon);
    }
    let location = reply.header("location").unwrap_or("").to_string();
    let mut shown = None;
    if let Some((_, quoted)) = location.split_once("/?message=") {
        // Follow the redirect as `curl -L` would, on the same socket.
        let follow = curl(daemon, endpoint, "GET", &format!("/?message={quoted}"), "");
        let page = send(daemon, endpoint, &follow);
        shown = Some(page.status == 200 && unescape(&page.body_text()).contains(&unquote(quoted)));
    }
    Seen {
        status: reply.status,
        content_type: reply.header("content-type").unwrap_or("").to_string(),
        location: norm_location(daemon, &location),
        shown,
        states,
    }
}

#[test]
fn curl_script_matches_supervisor() {
    let pair = Pair::start(BODY, Options::inet_open());
    let mut report = Report::new("web endpoints: a curl script against reference and ours");
    let steady = [
        ("sleeper", "RUNNING"),
        ("writer", "RUNNING"),
        ("nolog", "RUNNING"),
        ("grp:a", "RUNNING"),
    ];
    let (r, o) = pair.each(|d| d.wait_states(&steady, Duration::from_secs(20)));
    r.expect("reference start-up");
    o.expect("ours start-up");

    let inet = Endpoint::Inet;
    let unix = Endpoint::Unix;
    type Step = (
        &'static str,
        Endpoint,
        Box<dyn Fn(&Daemon, Endpoint) -> Vec<u8> + Sync>,
    );
    let steps: Vec<Step> = vec![
        ("status page", inet, Box::new(get("/"))),
        (
            "status page as index.html",
            inet,
            Box::new(get("/index.html")),
        ),
        (
            "stop sleeper",
            inet,
            Box::new(get("/index.html?processname=sleeper&action=stop")),
        ),
        (
            "stop sleeper again",
            inet,
            Box::new(get("/index.html?processname=sleeper&action=stop")),
        ),
        (
            "start sleeper",
            inet,
            Box::new(get("/index.html?processname=sleeper&action=start")),
        ),
        (
            "start sleeper again",
            inet,
            Box::new(get("/index.html?processname=sleeper&action=start")),
        ),
        (
            "start with startsecs=1 waits",
            inet,
            Box::new(get("/index.html?processname=slow&action=start")),
        ),
        (
            "start a missing command",
            inet,
            Box::new(get("/index.html?processname=bad&action=start")),
        ),
        (
            "start one that exits at once",
            inet,
            Box::new(get("/index.html?processname=quick&action=start")),
        ),
        (
            "start an unknown name",
            inet,
            Box::new(get("/index.html?processname=nosuch&action=start")),
        ),
        (
            "unknown action",
            inet,
            Box::new(get("/index.html?processname=sleeper&action=bogus")),
        ),
        (
            "unknown action, unknown name",
            inet,
            Box::new(get("/index.html?processname=nosuch&action=bogus")),
        ),
        (
            "action without a name",
            inet,
            Box::new(get("/index.html?action=start")),
        ),
        (
            "action with an empty name",
            inet,
            Box::new(get("/index.html?processname=&action=start")),
        ),
        (
            "empty action",
            inet,
            Box::new(get("/index.html?processname=sleeper&action=")),
        ),
        ("refresh", inet, Box::new(get("/?action=refresh"))),
        (
            "restart in a group",
            inet,
            Box::new(get("/index.html?processname=grp:a&action=restart")),
        ),
        (
            "restart grp:*",
            inet,
            Box::new(get("/index.html?processname=grp:*&action=restart")),
        ),
        (
            "stop with an encoded colon",
            inet,
            Box::new(get("/index.html?processname=grp%3Aa&action=stop")),
        ),
        (
            "duplicate fields: first wins",
            inet,
            Box::new(get(
                "/index.html?processname=grp:a&action=start&action=stop",
            )),
        ),
        (
            "clear a log",
            inet,
            Box::new(get("/index.html?processname=writer&action=clearlog")),
        ),
        (
            "clear an unknown log",
            inet,
            Box::new(get("/index.html?processname=nosuch&action=clearlog")),
        ),
        (
            "stop by form POST",
            inet,
            Box::new(|d: &Daemon, ep| {
                curl_form(d, ep, "/index.html", "processname=sleeper&action=stop")
            }),
        ),
        (
            "POST: the form overrides the query",
            inet,
            Box::new(|d: &Daemon, ep| {
                curl_form(
                    d,
                    ep,
                    "/index.html?processname=sleeper&action=stop",
                    "action=start",
                )
            }),
        ),
        (
            "stop all",
            inet,
            Box::new(get("/index.html?action=stopall")),
        ),
        (
            "restart all (a name is ignored)",
            inet,
            Box::new(get("/index.html?action=restartall&processname=nosuch")),
        ),
        (
            "Host with port 80",
            inet,
            Box::new(|d: &Daemon, ep| {
                curl(d, ep, "GET", "/?action=refresh", "Host: example.com:80\r\n")
            }),
        ),
        (
            "Host with another port",
            inet,
            Box::new(|d: &Daemon, ep| {
                curl(
                    d,
                    ep,
                    "GET",
                    "/?action=refresh",
                    "Host: example.com:8080\r\n",
                )
            }),
        ),
        (
            "over the unix socket",
            unix,
            Box::new(get("/index.html?processname=sleeper&action=restart")),
        ),
        ("status page over the unix socket", unix, Box::new(get("/"))),
        (
            "HEAD index.html",
            inet,
            Box::new(|d: &Daemon, ep| curl(d, ep, "HEAD", "/index.html", "")),
        ),
        (
            "PUT index.html",
            inet,
            Box::new(|d: &Daemon, ep| curl(d, ep, "PUT", "/index.html", "Content-Length: 0\r\n")),
        ),
    ];
    for (what, endpoint, build) in &steps {
        let (r, o) = pair.each(|d| run_step(d, *endpoint, &build(d, *endpoint)));
        let fields = |s: &Seen| {
            format!(
                "status {}\ncontent-type {}\nlocation {}\nmessage shown {:?}\nstates {}",
                s.status, s.content_type, s.location, s.shown, s.states
            )
        };
        if std::env::var_os("SV_COMPAT_TRACE").is_some() {
            eprintln!("--- {what}\n{}", fields(&o));
        }
        report.same_text(what, &fields(&r), &fields(&o));
        if *what == "start with startsecs=1 waits" {
            // The states are read right after the answer: RUNNING there
            // means the answer waited for startsecs (no clock involved).
            report.expect(
                "ours answers start only once startsecs has passed",
                o.states.contains("slow=RUNNING"),
                &format!("states right after the answer: {}", o.states),
            );
        }
    }

    // A message given directly (a bookmark of a redirect) is shown.
    let (r, o) = pair.each(|d| {
        let reply = send(
            d,
            inet,
            &curl(d, inet, "GET", "/?message=Hello+%3Cworld%3E%20%26+co", ""),
        );
        (
            reply.status,
            unescape(&reply.body_text()).contains("Hello <world> & co"),
        )
    });
    report.same_text(
        "a message in the query is shown",
        &format!("{r:?}"),
        &format!("{o:?}"),
    );

    // The tail page: status and the text in its <pre>.
    let tails = [
        "/tail.html",
        "/tail.html?processname=",
        "/tail.html?processname=writer",
        "/tail.html?processname=writer&limit=5",
        "/tail.html?processname=writer&limit=abc",
        "/tail.html?processname=writer&limit=-5",
        "/tail.html?processname=writer&limit=100000",
        "/tail.html?processname=nosuch",
        "/tail.html?processname=nolog",
        "/tail.html?processname=grp:*",
        "/tail.html?processname=grp%3Aa",
    ];
    // The writer's log was cleared above; "restart all" ran the writer
    // again since, and this restart runs it once more: wait until both
    // runs' output is in the log (Supervisor writes a child's output on its
    // next poll-loop turn, so "some output" could be seen before the
    // second copy and the tails compared with one copy on one side only).
    let (r, o) = pair.each(|d| {
        send(
            d,
            inet,
            &curl(
                d,
                inet,
                "GET",
                "/index.html?processname=writer&action=restart",
                "",
            ),
        );
        support::bin::wait_until(Duration::from_secs(10), || {
            let page = send(
                d,
                inet,
                &curl(d, inet, "GET", "/tail.html?processname=writer", ""),
            );
            pre_text(&page.body_text()).is_some_and(|t| t.matches("second line").count() >= 2)
        })
    });
    report.expect("reference writer output", r, "no output after restart");
    report.expect("ours writer output", o, "no output after restart");
    for target in tails {
        let (r, o) = pair.each(|d| {
            let reply = send(d, inet, &curl(d, inet, "GET", target, ""));
            format!(
                "status {}\ncontent-type {}\ntext {:?}",
                reply.status,
                reply.header("content-type").unwrap_or(""),
                pre_text(&reply.body_text())
            )
        });
        report.same_text(&format!("GET {target}"), &r, &o);
    }
    report.finish();
}

#[test]
fn basic_auth_guards_the_page() {
    let body = "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n";
    let pair = Pair::start(body, Options::inet_auth("user", "123"));
    let mut report = Report::new("web endpoints behind basic auth");
    // "user:123" and "user:wrong"
    let good = "Authorization: Basic dXNlcjoxMjM=\r\n";
    let bad = "Authorization: Basic dXNlcjp3cm9uZw==\r\n";
    let cases: [(&str, &str, &str); 5] = [
        ("no credentials", "/index.html", ""),
        ("wrong password", "/index.html", bad),
        (
            "action without credentials",
            "/index.html?processname=sleeper&action=stop",
            "",
        ),
        ("status page", "/index.html", good),
        (
            "action",
            "/index.html?processname=sleeper&action=stop",
            good,
        ),
    ];
    for (what, target, auth) in cases {
        let (r, o) = pair.each(|d| {
            let reply = send(
                d,
                Endpoint::Inet,
                &curl(d, Endpoint::Inet, "GET", target, auth),
            );
            format!(
                "status {}\nlocation {}\nstates {}",
                reply.status,
                norm_location(d, reply.header("location").unwrap_or("")),
                states(d)
            )
        });
        report.same_text(what, &r, &o);
    }
    report.finish();
}

const SIMPLE: &str = "[program:sleeper]\ncommand=sleep 1000\nstartsecs=0\n";

#[test]
fn cross_site_actions_are_refused() {
    let daemon = Daemon::start(Impl::Ours, SIMPLE, Options::inet_open());
    daemon
        .wait_states(&[("sleeper", "RUNNING")], Duration::from_secs(20))
        .expect("sleeper running");
    let port = daemon.port.expect("inet port");
    let own = format!("Origin: http://127.0.0.1:{port}\r\n");
    let stop = "/index.html?processname=sleeper&action=stop";
    let refused: [(&str, String); 4] = [
        (
            "Sec-Fetch-Site: cross-site",
            "Sec-Fetch-Site: cross-site\r\n".to_string(),
        ),
        (
            "Sec-Fetch-Site: same-site",
            "Sec-Fetch-Site: same-site\r\n".to_string(),
        ),
        (
            "a foreign Origin",
            "Origin: http://evil.example\r\n".to_string(),
        ),
        ("Origin: null", "Origin: null\r\n".to_string()),
    ];
    for (what, headers) in &refused {
        let get = curl(&daemon, Endpoint::Inet, "GET", stop, headers);
        // The form POST, with the same header after its request line.
        let post = String::from_utf8(curl_form(
            &daemon,
            Endpoint::Inet,
            "/index.html",
            "processname=sleeper&action=stop",
        ))
        .expect("ascii request")
        .replacen("\r\n", &format!("\r\n{headers}"), 1)
        .into_bytes();
        for request in [get, post] {
            let reply = send(&daemon, Endpoint::Inet, &request);
            assert_eq!(reply.status, 403, "{what}: {}", reply.body_text());
            assert_eq!(
                daemon.states(),
                vec![("sleeper".into(), "RUNNING".into())],
                "{what}"
            );
        }
    }
    // Viewing stays allowed cross-site (a link from another page).
    let view = send(
        &daemon,
        Endpoint::Inet,
        &curl(
            &daemon,
            Endpoint::Inet,
            "GET",
            "/index.html",
            "Sec-Fetch-Site: cross-site\r\n",
        ),
    );
    assert_eq!(view.status, 200);
    // A running process's row: its state (the stylesheet shows Restart
    // and Stop for it), its action form, its pid and uptime.
    let page = view.body_text();
    let pid = daemon.call("supervisor.getProcessInfo", serde_json::json!(["sleeper"]))["ok"]["pid"]
        .as_i64()
        .unwrap_or(0);
    for piece in [
        "<tr data-namespec=\"sleeper\" data-state=\"RUNNING\">".to_string(),
        "<input type=\"hidden\" name=\"processname\" value=\"sleeper\">".to_string(),
        "<button class=\"a-restart\" name=\"action\" value=\"restart\">".to_string(),
        "<button class=\"a-stop\" name=\"action\" value=\"stop\">".to_string(),
        format!("<td class=\"num pid\">{pid}</td>"),
        "<td class=\"num uptime\" data-uptime=\"".to_string(),
        "\">0:00:".to_string(),
    ] {
        assert!(page.contains(&piece), "{piece:?} missing from\n{page}");
    }
    // The page's own links (same origin), and curl with neither header.
    let same_origin = format!("Sec-Fetch-Site: same-origin\r\n{own}");
    let reply = send(
        &daemon,
        Endpoint::Inet,
        &curl(&daemon, Endpoint::Inet, "GET", stop, &same_origin),
    );
    assert_eq!(reply.status, 301, "same-origin: {}", reply.body_text());
    assert_eq!(daemon.states(), vec![("sleeper".into(), "STOPPED".into())]);
    let start = "/index.html?processname=sleeper&action=start";
    let reply = send(
        &daemon,
        Endpoint::Inet,
        &curl(&daemon, Endpoint::Inet, "GET", start, ""),
    );
    assert_eq!(reply.status, 301, "plain curl: {}", reply.body_text());
    assert_eq!(daemon.states(), vec![("sleeper".into(), "RUNNING".into())]);
}

#[test]
fn hostile_values_are_escaped() {
    let body = r#"
[program:x<i>"'&amp;]
command=sh -c 'printf "<script>alert(1)</script> \"q\" &amp;\n"; exec sleep 1000'
startsecs=0
"#;
    let daemon = Daemon::start(Impl::Ours, body, Options::inet_open());
    let name = r#"x<i>"'&amp;"#;
    daemon
        .wait_states(&[(name, "RUNNING")], Duration::from_secs(20))
        .expect("hostile program running");
    let get = |target: &str| {
        send(
            &daemon,
            Endpoint::Inet,
            &curl(&daemon, Endpoint::Inet, "GET", target, ""),
        )
    };
    let quoted = "x%3Ci%3E%22%27%26amp%3B";
    // Wait until the line is in the log.
    assert!(support::bin::wait_until(Duration::from_secs(10), || {
        pre_text(&get(&format!("/tail.html?processname={quoted}")).body_text())
            .is_some_and(|t| t.contains("alert(1)"))
    }));
    let pages = [
        "/index.html".to_string(),
        "/index.html?message=%3Cscript%3Ealert(2)%3C/script%3E".to_string(),
        format!("/tail.html?processname={quoted}"),
        "/tail.html?processname=%3Cscript%3Ealert(3)%3C/script%3E".to_string(),
    ];
    for target in &pages {
        let reply = get(target);
        assert_eq!(reply.status, 200, "{target}");
        let csp = reply.header("content-security-policy").unwrap_or("");
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{target}: CSP {csp:?}"
        );
        // The status page's own script tag is the only markup allowed.
        let body = reply.body_text().replace(
            &format!(
                "<script src=\"scripts/status.js?v={}\" defer></script>",
                env!("CARGO_PKG_VERSION")
            ),
            "",
        );
        for raw in ["<script", "<i>", "\"q\"", "&amp;]", "'&amp;"] {
            assert!(
                !body.contains(raw),
                "{target}: {raw:?} unescaped in\n{body}"
            );
        }
    }
    // Shown as text: escaped in the markup, the original once decoded.
    let status = get("/index.html").body_text();
    assert!(unescape(&status).contains("x<i>\"'&amp;"), "{status}");
    let tail = get(&format!("/tail.html?processname={quoted}")).body_text();
    assert!(
        unescape(&tail).contains("<script>alert(1)</script> \"q\" &amp;"),
        "{tail}"
    );
    // The action messages carry the name too: escaped on the page shown.
    let reply = get(&format!("/index.html?processname={quoted}&action=restart"));
    assert_eq!(reply.status, 301);
    let location = reply.header("location").unwrap_or("").to_string();
    let (_, message) = location
        .split_once("/?message=")
        .expect("message in Location");
    let page = get(&format!("/?message={message}")).body_text();
    assert!(
        unescape(&page).contains("Process x<i>\"'&amp; restarted") && !page.contains("x<i>"),
        "{page}"
    );
}
