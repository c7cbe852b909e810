//! supervisor-hub's page in real Chromium (harness: `support::browser`,
//! fixture: `support::hub_page` — a hub in front of two of our
//! supervisords, one Supervisor 4.3.0 and a dead node). The harness
//! installs Chromium on first use; where it cannot, these tests fail,
//! unless `SV_SKIP_BROWSER_TESTS=1` skips them (loudly).
//!
//! * `login_and_the_page_headers`: an anonymous visit is sent to the
//!   login form and back; a wrong password is refused on the form; the
//!   page's security headers; logout ends the session, "log out
//!   everywhere" ends the user's other sessions too.
//! * `overview_shows_the_fleet_live_and_acts`: the dead node is badged
//!   within 2 s while the live nodes' processes are listed; typed filters,
//!   the environment selector and the counts; stopping a process on the
//!   third node (Supervisor 4.3.0) changes its row without a reload (a
//!   marker set in the page survives); a change made behind the hub's
//!   back arrives live; a group bulk-restarted across two nodes shows one
//!   result per node; screenshots light, dark (theme switch) and phone;
//!   a node that dies keeps its last known rows, greyed, and is badged;
//!   when the hub itself goes away the page says its data is stale.
//! * `viewer_sees_no_controls_and_forged_posts_are_refused`: a viewer's
//!   page has no action control and no user admin link; a browser's cookie
//!   POST without the page token, or with a wrong one, is refused (403) and
//!   nothing happens; a cross-site one too; the right token works.
//! * `page_answers_and_refusals_over_http` (no browser, always runs):
//!   redirects, the login form's answers and cookie, `next` kept on this
//!   site, the page token on the API (a browser's cookie POST needs it, a
//!   script's does not), the logout form's token, assets.
//! * `setup_page_creates_the_first_admin`: with no user, the login page
//!   leads to the setup form; a wrong token is refused; the right one
//!   creates the admin and signs them in; then the setup page is gone.

mod support;

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use serde_json::{Value, json};
use support::browser::{Browser, DEADLINE, exists, text_now};
use support::hub::HubProc;
use support::hub_page::{
    ADMIN, ADMIN_PASSWORD, DEAD, HubFleet, LIVE, OURS1, OURS2, PROGRAMS, REFERENCE, fill, login,
};

/// A browser's user agent, so the hub treats a request as a browser's.
const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0";

fn row(node: &str, uname: &str) -> String {
    format!(r#"tr.proc[data-node="{node}"][data-uname="{uname}"]"#)
}

async fn wait_row_state(browser: &Browser, node: &str, uname: &str, state: &str) {
    let css = format!("{} span.state", row(node, uname));
    browser
        .wait_until(
            async |c| text_now(c, &css).await.as_deref() == Some(state),
            LIVE,
            &format!("{uname} on {node} shown {state}"),
        )
        .await;
}

async fn count(browser: &Browser, css: &str) -> u64 {
    let script = format!("return document.querySelectorAll({css:?}).length;");
    browser.execute(&script, vec![]).await.as_u64().unwrap_or(0)
}

async fn marker_survives(browser: &Browser) -> bool {
    browser
        .execute("return window.__hubMarker === 7;", vec![])
        .await
        == json!(true)
}

/// The page token in a page's HTML.
fn page_token(html: &str) -> String {
    let (_, rest) = html
        .split_once(r#"<meta name="csrf-token" content=""#)
        .expect("csrf meta tag");
    rest.split('"').next().unwrap_or_default().to_string()
}

fn pid_of(fleet: &HubFleet, node: &str, namespec: &str) -> i64 {
    fleet
        .node(node)
        .call("supervisor.getProcessInfo", json!([namespec]))["ok"]["pid"]
        .as_i64()
        .unwrap_or(0)
}

#[tokio::test(flavor = "current_thread")]
async fn login_and_the_page_headers() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let fleet = HubFleet::start(PROGRAMS);
    // Anonymous: the page sends to the login form, the API answers 401.
    let page = fleet.hub.get("/", &[]);
    assert_eq!(page.status, 303, "{page:?}");
    assert_eq!(page.header("location"), Some("/login"));
    let api = fleet.hub.get("/api/v2/nodes/", &[]);
    assert_eq!(api.status, 401);
    let deep = fleet.hub.get("/?env=prod", &[]);
    assert_eq!(deep.header("location"), Some("/login?next=/%3Fenv%3Dprod"));

    // A wrong password stays on the form with a message.
    browser.goto(&fleet.url("/login?next=/%3Fenv%3Dprod")).await;
    fill(&browser, "#username", ADMIN).await;
    fill(&browser, "#password", "wrong").await;
    browser.click("#login-submit").await;
    browser
        .wait_text("#login-error", "Invalid username or password", DEADLINE)
        .await;
    // The right one goes where the visitor was going.
    fill(&browser, "#password", ADMIN_PASSWORD).await;
    browser.click("#login-submit").await;
    browser.wait_for("#fleet", DEADLINE).await;
    assert_eq!(browser.url().await, fleet.url("/?env=prod"));
    assert!(browser.text_of("#whoami").await.contains("admin"));

    // Headers of a page and of an asset.
    let cookie = fleet.admin_cookie();
    let page = fleet.hub.get("/", &[("Cookie", &cookie)]);
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("same-origin"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let (_, rest) = page
        .body
        .split_once("/static/hub.css?v=")
        .expect("css link");
    let hash = &rest[..16];
    let css = fleet.hub.get(&format!("/static/hub.css?v={hash}"), &[]);
    assert_eq!(css.status, 200);
    assert!(
        css.header("cache-control")
            .unwrap_or_default()
            .contains("immutable")
    );
    let etag = css.header("etag").unwrap_or_default().to_string();
    let again = fleet
        .hub
        .get("/static/hub.css", &[("If-None-Match", etag.as_str())]);
    assert_eq!(again.status, 304);

    // "Log out everywhere" ends the API session too.
    assert_eq!(
        fleet
            .hub
            .get("/api/v2/profile/", &[("Cookie", &cookie)])
            .status,
        200
    );
    browser.click("#logout-all").await;
    browser.wait_for("#login-submit", DEADLINE).await;
    assert_eq!(
        fleet
            .hub
            .get("/api/v2/profile/", &[("Cookie", &cookie)])
            .status,
        401
    );
    browser.goto(&fleet.url("/")).await;
    browser.wait_for("#login-submit", DEADLINE).await;

    // Plain logout ends only this browser's session.
    let other = fleet.admin_cookie();
    login(&browser, &fleet, ADMIN, ADMIN_PASSWORD).await;
    browser.click("#logout").await;
    browser.wait_for("#login-submit", DEADLINE).await;
    assert_eq!(
        fleet
            .hub
            .get("/api/v2/profile/", &[("Cookie", &other)])
            .status,
        200
    );
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn overview_shows_the_fleet_live_and_acts() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let fleet = HubFleet::start(PROGRAMS);
    login(&browser, &fleet, ADMIN, ADMIN_PASSWORD).await;

    // The dead node is badged quickly; the live nodes' processes are listed.
    let dead_badge = format!(r#"article.node-card[data-node="{DEAD}"] .health"#);
    browser
        .wait_until(
            async |c| text_now(c, &dead_badge).await.as_deref() == Some("unreachable"),
            Duration::from_secs(2),
            "the dead node badged unreachable",
        )
        .await;
    for node in [OURS1, OURS2, REFERENCE] {
        for uname in ["web:web_0", "web:web_1", "worker:worker"] {
            wait_row_state(&browser, node, uname, "running").await;
        }
        wait_row_state(&browser, node, "manual:manual", "stopped").await;
        let badge = format!(r#"article.node-card[data-node="{node}"] .health"#);
        assert_eq!(browser.text_of(&badge).await, "connected");
    }
    browser
        .wait_text("#shown", "12 processes on 4 nodes", DEADLINE)
        .await;
    browser.screenshot("hub-overview").await;
    browser.execute("window.__hubMarker = 7;", vec![]).await;

    // Typed filters and the environment selector; the counts follow.
    fill(&browser, "#filter", "state:stopped").await;
    browser
        .wait_text("#shown", "3 of 12 processes", DEADLINE)
        .await;
    assert_eq!(count(&browser, "tr.proc:not([hidden])").await, 3);
    fill(&browser, "#filter", "node:ours worker").await;
    browser
        .wait_text("#shown", "2 of 12 processes", DEADLINE)
        .await;
    fill(&browser, "#filter", "nothing-matches-this").await;
    browser.wait_for("#empty:not([hidden])", DEADLINE).await;
    fill(&browser, "#filter", "").await;
    browser
        .execute(
            "const s = document.getElementById('env'); s.value = 'staging'; \
             s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await;
    browser
        .wait_text("#shown", "4 of 12 processes", DEADLINE)
        .await;
    assert!(
        exists(
            browser.client(),
            &format!(r#"tbody[data-node="{DEAD}"]:not([hidden])"#)
        )
        .await
    );
    browser
        .execute(
            "const s = document.getElementById('env'); s.value = ''; \
             s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await;

    // Stop a process on the third node by clicking: its row changes
    // without a reload, and the node agrees.
    let worker = row(REFERENCE, "worker:worker");
    browser
        .click(&format!(r#"{worker} button[data-act="stop"]"#))
        .await;
    wait_row_state(&browser, REFERENCE, "worker:worker", "stopped").await;
    browser
        .wait_text(&format!("{worker} .result"), "stopped", DEADLINE)
        .await;
    assert_eq!(fleet.state_of(REFERENCE, "worker:worker"), "STOPPED");
    assert!(marker_survives(&browser).await, "the page was reloaded");

    // A change made behind the hub's back arrives through the stream.
    let started = fleet
        .node(OURS2)
        .call("supervisor.startProcess", json!(["manual:manual", true]));
    assert_eq!(started["ok"], json!(true), "{started}");
    wait_row_state(&browser, OURS2, "manual:manual", "running").await;
    assert!(marker_survives(&browser).await, "the page was reloaded");

    // Bulk: group `web` on the two `prod` nodes, restarted; one result
    // per node; the processes really restarted.
    let before: Vec<i64> = [OURS1, OURS2]
        .iter()
        .flat_map(|n| {
            [
                pid_of(&fleet, n, "web:web_0"),
                pid_of(&fleet, n, "web:web_1"),
            ]
        })
        .collect();
    browser
        .execute(
            "const s = document.getElementById('env'); s.value = 'prod'; \
             s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await;
    fill(&browser, "#filter", "group:web").await;
    browser
        .wait_text("#shown", "4 of 12 processes", DEADLINE)
        .await;
    browser.click("#select-shown").await;
    browser
        .wait_text("#selected", "4 selected on 2 nodes", DEADLINE)
        .await;
    browser.click(r#"#bulk button[data-bulk="restart"]"#).await;
    browser.wait_for("#ask[open]", DEADLINE).await;
    assert!(
        browser
            .text_of("#ask-text")
            .await
            .contains("4 processes on 2 nodes")
    );
    browser.click("#ask-ok").await;
    for node in [OURS1, OURS2] {
        let css = format!(r#"#results-list li[data-node="{node}"].ok"#);
        browser.wait_text(&css, "2 restarted", LIVE).await;
    }
    assert_eq!(count(&browser, "#results-list li").await, 2);
    let after: Vec<i64> = [OURS1, OURS2]
        .iter()
        .flat_map(|n| {
            [
                pid_of(&fleet, n, "web:web_0"),
                pid_of(&fleet, n, "web:web_1"),
            ]
        })
        .collect();
    for (b, a) in before.iter().zip(&after) {
        assert!(*a > 0 && a != b, "restarted: pids {before:?} → {after:?}");
    }
    assert!(marker_survives(&browser).await, "the page was reloaded");

    // Screenshots: dark through the theme switch (auto → light → dark),
    // then the phone width.
    fill(&browser, "#filter", "").await;
    browser
        .execute(
            "const s = document.getElementById('env'); s.value = ''; \
             s.dispatchEvent(new Event('change')); \
             document.getElementById('results').hidden = true;",
            vec![],
        )
        .await;
    browser.click("#theme-toggle").await;
    browser.click("#theme-toggle").await;
    let background = browser
        .execute(
            "return [document.documentElement.getAttribute('data-theme'), \
             getComputedStyle(document.body).backgroundColor];",
            vec![],
        )
        .await;
    assert_eq!(background, json!(["dark", "rgb(22, 25, 29)"]));
    browser.screenshot("hub-overview-dark").await;
    browser.click("#theme-toggle").await;
    browser.phone().await;
    browser
        .execute("document.getElementById('nodes').scrollIntoView();", vec![])
        .await;
    browser.screenshot("hub-overview-phone").await;
    browser.desktop().await;

    // A node that dies keeps its last known rows, greyed, and its badge
    // says why.
    let down = fleet.node(OURS2).call("supervisor.shutdown", json!([]));
    assert_eq!(down["ok"], json!(true), "{down}");
    let badge = format!(r#"article.node-card[data-node="{OURS2}"] .health"#);
    browser
        .wait_until(
            async |c| text_now(c, &badge).await.as_deref() == Some("unreachable"),
            LIVE,
            "the stopped node badged unreachable",
        )
        .await;
    browser
        .wait_for(&format!(r#"tbody.stale[data-node="{OURS2}"]"#), LIVE)
        .await;
    assert_eq!(
        count(&browser, &format!(r#"tbody[data-node="{OURS2}"] tr.proc"#)).await,
        4,
        "last known processes kept"
    );
    assert!(
        browser
            .text_of(&format!(r#"article.node-card[data-node="{OURS2}"] .age"#))
            .await
            .starts_with("last good answer")
    );

    // The hub itself goes away: the page says its data is stale and keeps
    // every row.
    kill(fleet.hub.pid(), Signal::SIGTERM).expect("SIGTERM the hub");
    browser
        .wait_text("#stale", "Live updates interrupted", LIVE)
        .await;
    assert_eq!(count(&browser, "tr.proc").await, 12);
    assert!(marker_survives(&browser).await, "the page was reloaded");
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn viewer_sees_no_controls_and_forged_posts_are_refused() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let fleet = HubFleet::start(PROGRAMS);
    fleet.add_user("val", "pw-val-1", 2);
    fleet.add_user("ops", "pw-ops-1", 1);

    // The viewer: rows, no controls, no user admin.
    login(&browser, &fleet, "val", "pw-val-1").await;
    wait_row_state(&browser, OURS1, "worker:worker", "running").await;
    for css in [
        "button[data-act]",
        "button[data-node-act]",
        "#bulk",
        "input[type=checkbox]",
        r#"nav a[href="/users"]"#,
    ] {
        assert_eq!(count(&browser, css).await, 0, "a viewer sees {css}");
    }
    // Its page token does not make it an operator.
    let viewer = fleet.hub.login("val", "pw-val-1");
    let token = page_token(&fleet.hub.get("/", &[("Cookie", &viewer)]).body);
    let stop = format!("/api/v2/nodes/{OURS1}/processes/worker:worker/stop/");
    let r = fleet.hub.send(
        "POST",
        &stop,
        &[
            ("Cookie", &viewer),
            ("User-Agent", BROWSER_UA),
            ("X-CSRF-Token", &token),
        ],
        None,
    );
    assert_eq!(r.status, 403, "{r:?}");

    // The operator: controls, still no user admin.
    browser.click("#logout").await;
    login(&browser, &fleet, "ops", "pw-ops-1").await;
    wait_row_state(&browser, OURS1, "worker:worker", "running").await;
    assert!(count(&browser, "button[data-act]").await > 0);
    assert_eq!(count(&browser, r#"nav a[href="/users"]"#).await, 0);

    // In the browser: a POST with the session cookie but without the page
    // token is refused; with it, it works (the page's own way).
    let forged = browser
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0], {method: 'POST', credentials: 'same-origin'}) \
               .then(r => done(r.status), e => done(String(e)));",
            vec![Value::from(stop.clone())],
        )
        .await
        .expect("fetch in the page");
    assert_eq!(forged, json!(403));
    assert_eq!(fleet.state_of(OURS1, "worker:worker"), "RUNNING");

    // Over HTTP, as a browser would send it: no token, a wrong one, a
    // token of another session, and a cross-site request with the right one.
    let ops = fleet.hub.login("ops", "pw-ops-1");
    let token = page_token(&fleet.hub.get("/", &[("Cookie", &ops)]).body);
    let admin_token = page_token(
        &fleet
            .hub
            .get("/", &[("Cookie", &fleet.admin_cookie())])
            .body,
    );
    let zeros = "0".repeat(64);
    for (what, extra) in [
        ("no token", vec![]),
        ("wrong token", vec![("X-CSRF-Token", zeros.as_str())]),
        (
            "another session's token",
            vec![("X-CSRF-Token", admin_token.as_str())],
        ),
        (
            "cross-site",
            vec![
                ("X-CSRF-Token", token.as_str()),
                ("Sec-Fetch-Site", "cross-site"),
                ("Origin", "http://evil.example"),
            ],
        ),
    ] {
        let mut headers = vec![("Cookie", ops.as_str()), ("User-Agent", BROWSER_UA)];
        headers.extend(extra);
        let r = fleet.hub.send("POST", &stop, &headers, None);
        assert_eq!(r.status, 403, "{what}: {r:?}");
        assert_eq!(fleet.state_of(OURS1, "worker:worker"), "RUNNING", "{what}");
    }
    // A logout form without the token is refused too.
    let r = fleet.hub.send(
        "POST",
        "/logout",
        &[
            ("Cookie", ops.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        Some("scope=all"),
    );
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(
        fleet
            .hub
            .get("/api/v2/profile/", &[("Cookie", &ops)])
            .status,
        200
    );
    // The right token, same origin: done.
    let r = fleet.hub.send(
        "POST",
        &stop,
        &[
            ("Cookie", ops.as_str()),
            ("User-Agent", BROWSER_UA),
            ("X-CSRF-Token", token.as_str()),
        ],
        None,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(fleet.state_of(OURS1, "worker:worker"), "STOPPED");
    wait_row_state(&browser, OURS1, "worker:worker", "stopped").await;
    browser.close().await;
}

fn form(hub: &HubProc, path: &str, cookie: &str, body: &str) -> support::hub::Resp {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if !cookie.is_empty() {
        headers.push(("Cookie", cookie));
    }
    hub.send("POST", path, &headers, Some(body))
}

#[test]
fn page_answers_and_refusals_over_http() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = HubProc::start(dir.path(), &support::hub::config(""));
    assert_eq!(hub.get("/", &[]).header("location"), Some("/login"));
    let login_page = hub.get("/login?next=/x", &[]);
    assert_eq!(login_page.status, 200);
    assert!(login_page.body.contains(r#"name="next" value="/x""#));
    assert!(login_page.header("content-security-policy").is_some());
    // Users exist: no setup page.
    assert_eq!(hub.get("/setup", &[]).header("location"), Some("/login"));

    let wrong = form(&hub, "/login", "", "username=admin&password=nope&next=%2F");
    assert_eq!(wrong.status, 403);
    assert!(wrong.body.contains("Invalid username or password"));
    assert!(wrong.header("set-cookie").is_none());
    let ok = form(
        &hub,
        "/login",
        "",
        "username=admin&password=s3cret-admin&next=%2F%2Fevil.example%2F",
    );
    assert_eq!(ok.status, 303, "{ok:?}");
    assert_eq!(ok.header("location"), Some("/"), "next stays on this site");
    let set = ok.header("set-cookie").unwrap_or_default().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let cookie = ok.session_cookie();
    let page = hub.get("/", &[("Cookie", &cookie)]);
    assert_eq!(page.status, 200);
    let token = page_token(&page.body);
    assert_eq!(token.len(), 64);
    // A signed-in visit of the login page goes on.
    assert_eq!(
        hub.get("/login?next=/y", &[("Cookie", &cookie)])
            .header("location"),
        Some("/y")
    );

    // The API and the page token.
    let add = |name: &str, extra: &[(&str, &str)]| {
        let body = json!({"username": name, "password": "pw-long-1", "confirmpassword": "pw-long-1", "usertype": "2"}).to_string();
        let mut headers = vec![("Cookie", cookie.as_str())];
        headers.extend_from_slice(extra);
        hub.send("POST", "/api/v2/users/", &headers, Some(&body))
    };
    assert_eq!(
        add("script", &[]).status,
        200,
        "a script keeps Cesi's cookie jar"
    );
    let r = add("nobrowser", &[("User-Agent", BROWSER_UA)]);
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.body.contains("CSRF"), "{r:?}");
    assert_eq!(
        add(
            "noorigin",
            &[("Origin", &format!("http://127.0.0.1:{}", hub.port))]
        )
        .status,
        403
    );
    assert_eq!(
        add(
            "withtoken",
            &[("User-Agent", BROWSER_UA), ("X-CSRF-Token", &token)]
        )
        .status,
        200
    );
    // Reads never need it.
    assert_eq!(
        hub.get(
            "/api/v2/users/",
            &[("Cookie", &cookie), ("User-Agent", BROWSER_UA)]
        )
        .status,
        200
    );

    // Assets.
    let js = hub.get("/static/hub.js", &[]);
    assert_eq!(js.status, 200);
    assert!(
        js.header("content-type")
            .unwrap_or_default()
            .starts_with("text/javascript")
    );
    assert_eq!(js.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(js.header("cache-control"), Some("no-cache"));
    assert_eq!(hub.get("/static/nope.js", &[]).status, 404);

    // The logout form needs the token; with it, "everywhere" ends every
    // session of the user.
    let other = hub.login("admin", "s3cret-admin");
    assert_eq!(form(&hub, "/logout", &cookie, "scope=all").status, 403);
    assert_eq!(
        form(
            &hub,
            "/logout",
            &cookie,
            &format!("scope=all&csrf={}", "0".repeat(64))
        )
        .status,
        403
    );
    let out = form(&hub, "/logout", &cookie, &format!("scope=all&csrf={token}"));
    assert_eq!(out.status, 303);
    assert_eq!(out.header("location"), Some("/login"));
    assert!(
        out.header("set-cookie")
            .unwrap_or_default()
            .starts_with("session=;")
    );
    for c in [&cookie, &other] {
        assert_eq!(hub.get("/api/v2/profile/", &[("Cookie", c)]).status, 401);
    }
}

/// The setup token the hub printed at start.
fn printed_setup_token(hub: &HubProc) -> String {
    let out = hub.output();
    let (_, rest) = out
        .split_once("\\\"token\\\":\\\"")
        .or_else(|| out.split_once("\"token\":\""))
        .unwrap_or_else(|| panic!("no setup token printed:\n{out}"));
    rest.chars().take(64).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn setup_page_creates_the_first_admin() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = HubProc::start(
        dir.path(),
        "[cesi]\ndatabase = \"sqlite:///users.db\"\nactivity_log = \"activity.log\"\n",
    );
    let token = printed_setup_token(&hub);
    let url = |p: &str| format!("http://127.0.0.1:{}{p}", hub.port);

    browser.goto(&url("/")).await;
    browser.wait_for("#setup-submit", DEADLINE).await;
    assert_eq!(browser.url().await, url("/setup"));
    fill(&browser, "#token", &"f".repeat(64)).await;
    fill(&browser, "#username", "root").await;
    fill(&browser, "#password", "first-pw-1").await;
    fill(&browser, "#confirm", "first-pw-1").await;
    browser.click("#setup-submit").await;
    browser
        .wait_text("#setup-error", "Invalid setup token", DEADLINE)
        .await;
    fill(&browser, "#token", &token).await;
    fill(&browser, "#password", "first-pw-1").await;
    fill(&browser, "#confirm", "first-pw-1").await;
    browser.click("#setup-submit").await;
    browser.wait_for("#fleet", DEADLINE).await;
    assert!(browser.text_of("#whoami").await.contains("root"));
    assert!(exists(browser.client(), r#"nav a[href="/users"]"#).await);
    // Setup is over: the form is gone, the API refuses the token.
    let gone = hub.get("/setup", &[]);
    assert_eq!(gone.status, 303);
    assert_eq!(gone.header("location"), Some("/login"));
    let again = hub.send(
        "POST",
        "/api/v2/setup/",
        &[],
        Some(&json!({"token": token, "username": "x", "password": "y-pw-long"}).to_string()),
    );
    assert_eq!(again.status, 403);
    browser.close().await;
}
