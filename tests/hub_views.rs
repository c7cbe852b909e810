//! supervisor-hub's node, process, users, profile and activity views in
//! real Chromium (fixture: `support::hub_page` — a hub in front of two of
//! our supervisords, one Supervisor 4.3.0 and a dead node). The harness
//! installs Chromium on first use; where it cannot, these tests fail,
//! unless `SV_SKIP_BROWSER_TESTS=1` skips them (loudly).
//!
//! * `a_log_is_tailed_live_and_searched`: a child prints a line (fed on
//!   its stdin) and it appears in the open log view without a reload;
//!   search highlights it; the process view shows config and history and
//!   its state changes live after Stop; the node view lists its
//!   processes; screenshot of the log view.
//! * `an_admin_creates_a_viewer_who_logs_in_sees_no_actions_and_manages_tokens`:
//!   the users page adds a viewer, who logs in through the form, sees no
//!   action control on the process and node views (the log yes), creates
//!   and revokes an API token on the profile page; the activity page's
//!   filters find both.

mod support;

use serde_json::{Value, json};
use support::browser::{Browser, DEADLINE};
use support::hub_page::{
    ADMIN, ADMIN_PASSWORD, HubFleet, LIVE, OURS1, PROGRAMS, REFERENCE, fill, login,
};

/// A child that prints what it is fed on stdin.
const ECHO: &str = "
[program:echo]
command=/bin/sh -c 'echo echo ready; while read line; do echo \"got $line\"; done'
startsecs=0
stdout_logfile={dir}/echo.out
";

async fn text(browser: &Browser, css: &str) -> String {
    browser.text_of(css).await
}

#[tokio::test(flavor = "current_thread")]
async fn a_log_is_tailed_live_and_searched() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let fleet = HubFleet::start(&format!("{PROGRAMS}{ECHO}"));
    login(&browser, &fleet, ADMIN, ADMIN_PASSWORD).await;

    for node in [OURS1, REFERENCE] {
        browser
            .goto(&fleet.url(&format!("/nodes/{node}/processes/echo%3Aecho")))
            .await;
        browser.wait_text("#log-text", "echo ready", LIVE).await;
        browser
            .execute("window.svStay = 'still here'; return true;", vec![])
            .await;
        let line = format!("hello from the test on {node}");
        let fed = fleet.node(node).call(
            "supervisor.sendProcessStdin",
            json!(["echo:echo", format!("{line}\n")]),
        );
        assert_eq!(fed["ok"], json!(true), "{fed}");
        browser
            .wait_text("#log-text", &format!("got {line}"), LIVE)
            .await;
        assert_eq!(
            browser
                .execute("return window.svStay || null;", vec![])
                .await,
            json!("still here"),
            "the line arrived without a reload"
        );
        browser
            .wait_text("#proc-config", "startsecs", DEADLINE)
            .await;
        browser
            .wait_text("#proc-history", "RUNNING", DEADLINE)
            .await;

        // Search: the match is highlighted; back to the followed log.
        fill(&browser, "#log-q", "HELLO FROM").await;
        browser.click("#log-search button[type=submit]").await;
        browser
            .wait_text("#log-text mark", "hello from", DEADLINE)
            .await;
        browser
            .wait_text("#log-status", "1 matching line in", DEADLINE)
            .await;
        if node == OURS1 {
            browser.screenshot("hub-log-search").await;
        }
        browser.click("#log-search-clear").await;
        browser.wait_text("#log-text", "echo ready", DEADLINE).await;
        assert!(browser.find("#log-text mark").await.is_none());
        if node == OURS1 {
            for n in 1..=12 {
                let fed = fleet.node(node).call(
                    "supervisor.sendProcessStdin",
                    json!([
                        "echo:echo",
                        format!("request {n} served in {} ms\n", 3 * n + 7)
                    ]),
                );
                assert_eq!(fed["ok"], json!(true), "{fed}");
            }
            browser
                .wait_text("#log-text", "request 12 served", LIVE)
                .await;
            browser
                .execute("window.scrollTo(0, 0); return true;", vec![])
                .await;
            browser.screenshot("hub-log-view").await;
        }

        // Stop: the state and the history change in place.
        browser.click("#proc-actions button[data-act=stop]").await;
        browser.wait_text("#proc-state", "STOPPED", LIVE).await;
        browser
            .wait_text("#proc-history", "RUNNING → STOPPED", LIVE)
            .await;
        browser.wait_text("#proc-activity", "stopped", LIVE).await;
        browser.click("#proc-actions button[data-act=start]").await;
        browser.wait_text("#proc-state", "RUNNING", LIVE).await;
    }

    // The node view: health and processes, and node-level actions.
    browser.goto(&fleet.url(&format!("/nodes/{OURS1}"))).await;
    browser
        .wait_for("#node-rows tr[data-namespec='web:web_0']", LIVE)
        .await;
    browser.wait_text("#node-health", "connected", LIVE).await;
    assert!(
        browser
            .find("button[data-node-act=restart]")
            .await
            .is_some()
    );
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn an_admin_creates_a_viewer_who_logs_in_sees_no_actions_and_manages_tokens() {
    let Some(browser) = Browser::launch().await else {
        return;
    };
    let fleet = HubFleet::start(&format!("{PROGRAMS}{ECHO}"));
    login(&browser, &fleet, ADMIN, ADMIN_PASSWORD).await;

    // The admin adds a viewer on the users page.
    browser.goto(&fleet.url("/users")).await;
    browser
        .wait_for("#user-rows tr[data-user=admin]", LIVE)
        .await;
    fill(&browser, "#add-name", "vera").await;
    fill(&browser, "#add-password", "pw-vera-1").await;
    browser.click("#user-add button[type=submit]").await;
    browser
        .wait_for("#user-rows tr[data-user=vera]", LIVE)
        .await;
    browser
        .wait_text("#users-result", "Added vera", DEADLINE)
        .await;

    // Vera logs in after the admin logs out.
    browser.click("#logout").await;
    browser.wait_for("#login-submit", DEADLINE).await;
    login(&browser, &fleet, "vera", "pw-vera-1").await;
    assert!(
        browser.find("nav.main a[href='/users']").await.is_none(),
        "a viewer has no user admin"
    );

    // The process view: state and log, no action control.
    browser
        .goto(&fleet.url(&format!("/nodes/{OURS1}/processes/worker%3Aworker")))
        .await;
    browser.wait_text("#log-text", "worker ready", LIVE).await;
    browser.wait_text("#proc-state", "RUNNING", LIVE).await;
    for css in ["#proc-actions", "button[data-act]", "#proc-signal"] {
        assert!(browser.find(css).await.is_none(), "{css} shown to a viewer");
    }
    browser.click("#tab-stderr").await;
    browser.wait_text("#log-text", "worker warns", LIVE).await;
    browser.goto(&fleet.url(&format!("/nodes/{OURS1}"))).await;
    browser
        .wait_for("#node-rows tr[data-namespec='worker:worker']", LIVE)
        .await;
    for css in ["button[data-node-act]", ".row-acts", "td.acts"] {
        assert!(browser.find(css).await.is_none(), "{css} shown to a viewer");
    }

    // Profile: this session is marked; a token is created, works, is revoked.
    browser.goto(&fleet.url("/profile")).await;
    browser
        .wait_text("#sessions li.current", "this session", LIVE)
        .await;
    fill(&browser, "#token-name", "vera-ci").await;
    browser.click("#token-add button[type=submit]").await;
    browser
        .wait_for("#tokens li[data-token='vera-ci']", LIVE)
        .await;
    let token = text(&browser, "#token-value").await;
    assert_eq!(token.len(), 64, "{token:?}");
    let bearer = format!("Bearer {token}");
    let me = fleet
        .hub
        .get("/api/v2/profile/", &[("Authorization", &bearer)]);
    assert_eq!(me.json()["user"]["name"], "vera", "{me:?}");
    browser
        .click("#tokens li[data-token='vera-ci'] button")
        .await;
    browser
        .client()
        .accept_alert()
        .await
        .expect("confirm the revocation");
    browser
        .wait_until(
            async |c| !support::browser::exists(c, "#tokens li[data-token='vera-ci']").await,
            LIVE,
            "the revoked token to leave the list",
        )
        .await;
    let gone = fleet
        .hub
        .get("/api/v2/profile/", &[("Authorization", &bearer)]);
    assert_eq!(gone.status, 401);

    // Activity: a filtered link, then the form.
    browser
        .goto(&fleet.url("/activity?user=vera&action=token.add"))
        .await;
    browser
        .wait_text(
            "#activity-rows",
            "vera created the API token 'vera-ci'.",
            LIVE,
        )
        .await;
    fill(&browser, "#f-action", "token.revoke").await;
    browser.click("#activity-filter button[type=submit]").await;
    browser
        .wait_text(
            "#activity-rows",
            "vera revoked the API token 'vera-ci'.",
            LIVE,
        )
        .await;
    let rows = browser
        .execute(
            "return document.querySelectorAll('#activity-rows tr').length;",
            vec![],
        )
        .await;
    assert_eq!(rows, Value::from(1));
    assert!(!text(&browser, "#activity-rows").await.contains("created"));
    browser.close().await;
}
