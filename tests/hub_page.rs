//! supervisor-hub's page in real Chromium (harness: `support::browser`,
//! fixture: `support::hub_page` — a hub in front of two of our
//! supervisords, one Supervisor 4.3.0 and a dead node). The harness
//! installs Chromium on first use; where it cannot, these tests fail,
//! unless `SV_SKIP_BROWSER_TESTS=1` skips them (loudly).
//!
//! * `login_and_the_page_headers`: an anonymous visit is sent to the
//!   login form and back; a wrong password is refused on the form; the
//!   page's security headers; logout ends the session.

mod support;

use support::browser::{Browser, DEADLINE};
use support::hub_page::{ADMIN, ADMIN_PASSWORD, HubFleet, PROGRAMS, fill, login};

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
    browser.goto(&fleet.url("/login")).await;
    fill(&browser, "#username", ADMIN).await;
    fill(&browser, "#password", "wrong").await;
    browser.click("#login-submit").await;
    browser
        .wait_text("#login-error", "Invalid username or password", DEADLINE)
        .await;

    login(&browser, &fleet, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(browser.url().await, fleet.url("/"));
    browser.text_of("#whoami").await;

    // Headers of a page.
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

    // Log out: back to the login form, and the page asks again.
    browser.click("#logout").await;
    browser.wait_for("#login-submit", DEADLINE).await;
    browser.goto(&fleet.url("/")).await;
    browser.wait_for("#login-submit", DEADLINE).await;
    browser.close().await;
}
