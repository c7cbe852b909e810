//! The hub's page in a real browser: [`HubFleet`] is a `supervisor-hub`
//! ([`HubProc`]) in front of real nodes — two of our `supervisord`s and
//! one Supervisor 4.3.0 from the reference venv (all on unix sockets in
//! temp dirs, [`Daemon`]) — plus a dead node (a closed 127.0.0.1 port);
//! [`login`] signs a Chromium session in through the login form.
//!
//! ```ignore
//! let Some(browser) = Browser::launch().await else { return };
//! let fleet = HubFleet::start(hub_page::PROGRAMS);
//! fleet.add_user("val", "pw-val-1", 2);        // 0 admin, 1 operator, 2 viewer
//! login(&browser, &fleet, ADMIN, ADMIN_PASSWORD).await;
//! browser.goto(&fleet.url("/nodes/ours1")).await;
//! ```
//!
//! Node names: [`OURS1`], [`OURS2`] (environment `prod`), [`REFERENCE`]
//! (environment `staging`), [`DEAD`] (`staging`). The hub polls every
//! second (`[hub] poll_interval = 1`) with a 2 s deadline.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::json;

use super::browser::{Browser, DEADLINE};
use super::hub::{HubProc, Resp};
use super::pair::{Daemon, Impl, Options, free_port};

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "s3cret-admin";
pub const OURS1: &str = "ours1";
pub const OURS2: &str = "ours2";
pub const REFERENCE: &str = "ref";
pub const DEAD: &str = "dead";

/// The programs every node runs: group `web` (two processes), `worker`,
/// `manual` (not started).
pub const PROGRAMS: &str = "\
[program:web]
command=/bin/sh -c 'echo web says hello; exec sleep 1000'
process_name=%(program_name)s_%(process_num)s
numprocs=2
startsecs=0
stdout_logfile={dir}/%(program_name)s_%(process_num)s.out

[program:worker]
command=/bin/sh -c 'echo worker ready; echo worker warns >&2; exec sleep 1000'
startsecs=0
stdout_logfile={dir}/worker.out
stderr_logfile={dir}/worker.err

[program:manual]
command=/bin/sleep 1000
autostart=false
startsecs=0
";

/// A hub with three live nodes and a dead one.
pub struct HubFleet {
    pub hub: HubProc,
    pub ours1: Daemon,
    pub ours2: Daemon,
    pub reference: Daemon,
    /// Holds the hub's config, database and logs.
    pub dir: tempfile::TempDir,
}

impl HubFleet {
    /// Starts the three nodes with `programs` (`{dir}` is each node's temp
    /// dir) and the hub in front of them, with [`ADMIN`] seeded.
    pub fn start(programs: &str) -> HubFleet {
        HubFleet::start_with(programs, "")
    }

    /// [`HubFleet::start`] with more `[hub]` lines (e.g. `node_timeout = 1`).
    pub fn start_with(programs: &str, hub_extra: &str) -> HubFleet {
        let ours1 = Daemon::start(Impl::Ours, programs, Options::default());
        let ours2 = Daemon::start(Impl::Ours, programs, Options::default());
        let reference = Daemon::start(Impl::Reference, programs, Options::default());
        let dir = tempfile::tempdir().expect("temp dir");
        let node = |name: &str, env: &str, d: &Daemon| {
            format!(
                "[[nodes]]\nname = \"{name}\"\nenvironment = \"{env}\"\nurl = \"unix://{}\"\n\n",
                d.sock.display()
            )
        };
        let config = format!(
            "[cesi]\ndatabase = \"sqlite:///users.db\"\nactivity_log = \"activity.log\"\nadmin_username = \"{ADMIN}\"\nadmin_password = \"{ADMIN_PASSWORD}\"\n\n[hub]\npoll_interval = 1\nnode_timeout = 2\n{hub_extra}\n{}{}{}[[nodes]]\nname = \"{DEAD}\"\nenvironment = \"staging\"\nusername = \"\"\npassword = \"\"\nhost = \"127.0.0.1\"\nport = {}\n",
            node(OURS1, "prod", &ours1),
            node(OURS2, "prod", &ours2),
            node(REFERENCE, "staging", &reference),
            free_port(),
        );
        let hub = HubProc::start(dir.path(), &config);
        HubFleet {
            hub,
            ours1,
            ours2,
            reference,
            dir,
        }
    }

    /// The node daemon called `name`.
    pub fn node(&self, name: &str) -> &Daemon {
        match name {
            OURS1 => &self.ours1,
            OURS2 => &self.ours2,
            REFERENCE => &self.reference,
            other => panic!("no live node {other}"),
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.hub.port)
    }

    /// The admin's `Cookie` header, through the JSON API.
    pub fn admin_cookie(&self) -> String {
        self.hub.login(ADMIN, ADMIN_PASSWORD)
    }

    /// Adds a user through the API as the admin (`usertype`: 0 admin, 1
    /// operator, 2 viewer).
    pub fn add_user(&self, name: &str, password: &str, usertype: u8) {
        let cookie = self.admin_cookie();
        let body = json!({
            "username": name, "password": password, "confirmpassword": password,
            "usertype": usertype.to_string()
        })
        .to_string();
        let r: Resp = self.hub.send(
            "POST",
            "/api/v2/users/",
            &[("Cookie", &cookie)],
            Some(&body),
        );
        assert_eq!(r.status, 200, "add user {name}: {r:?}");
    }

    /// The state (`RUNNING`, `STOPPED` …) `supervisorctl status` reports
    /// on node `name` for `namespec`, asked over XML-RPC.
    pub fn state_of(&self, name: &str, namespec: &str) -> String {
        let info = self
            .node(name)
            .call("supervisor.getProcessInfo", json!([namespec]));
        info["ok"]["statename"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Signs `browser` in as `user` through the login form and waits for the
/// fleet overview.
pub async fn login(browser: &Browser, fleet: &HubFleet, user: &str, password: &str) {
    browser.goto(&fleet.url("/login")).await;
    fill(browser, "#username", user).await;
    fill(browser, "#password", password).await;
    browser.click("#login-submit").await;
    browser.wait_for("#fleet", DEADLINE).await;
}

/// Replaces the value of the input `css` with `text`.
pub async fn fill(browser: &Browser, css: &str, text: &str) {
    let input = browser.wait_for(css, DEADLINE).await;
    input.clear().await.expect("clear input");
    input.send_keys(text).await.expect("type into input");
}

/// How long a live change may take to reach the page (a poll a second
/// plus the stream).
pub const LIVE: Duration = Duration::from_secs(20);
