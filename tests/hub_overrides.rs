//! Node overrides through the real binary: an admin adds a node at run
//! time (listed connected), replaces a config node, disables and
//! re-enables one (the stored node password kept), removes it; operators
//! and viewers get 403, a cross-site PUT too; the node password is never
//! returned or printed;
//! SIGHUP keeps the overrides; two instances on one PostgreSQL converge.

mod support;

use nix::sys::signal::{Signal, kill};
use serde_json::{Value, json};
use support::hub::{HubProc, Resp, config};
use support::pair::{Daemon, Impl, Options};
use support::postgres::Postgres;

const PROGRAMS: &str = "[program:manual]\ncommand=/bin/sleep 1000\nautostart=false\nstartsecs=0\n";
const NODE_PW: &str = "node-pw-7f3a";

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn put(hub: &HubProc, name: &str, cookie: &str, body: Value) -> Resp {
    hub.send(
        "PUT",
        &format!("/api/v2/node-overrides/{name}/"),
        &[("Cookie", cookie)],
        Some(&body.to_string()),
    )
}

fn add_user(hub: &HubProc, admin: &str, name: &str, usertype: i64) {
    let body = json!({"username": name, "password": format!("pw-{name}"), "usertype": usertype});
    let r = hub.send(
        "POST",
        "/api/v2/users/",
        &[("Cookie", admin)],
        Some(&body.to_string()),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

/// `Some(connected)` when `/api/v2/nodes/` lists `name`.
fn listed(hub: &HubProc, cookie: &str, name: &str) -> Option<bool> {
    hub.get("/api/v2/nodes/", &[("Cookie", cookie)]).json()["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["general"]["name"] == name)
        .map(|n| n["general"]["connected"] == true)
}

#[test]
fn an_admin_adds_replaces_disables_and_removes_nodes_at_run_time() {
    let daemon = Daemon::start(Impl::Ours, PROGRAMS, Options::inet_auth("u", NODE_PW));
    let url = format!("http://127.0.0.1:{}", daemon.port.expect("inet port"));
    // A config node nobody answers for; an override will replace it.
    let dir = tempdir();
    let nodes = "[[nodes]]\nname = \"cfg\"\nenvironment = \"prod\"\nurl = \"unix:///nonexistent/hub-test.sock\"\n";
    let hub = HubProc::start(dir.path(), &config(nodes));
    let admin = hub.login("admin", "s3cret-admin");
    add_user(&hub, &admin, "op", 1);
    add_user(&hub, &admin, "view", 2);
    let op = hub.login("op", "pw-op");
    let view = hub.login("view", "pw-view");

    let body = json!({"environment": "dev", "url": url, "username": "u", "password": NODE_PW, "timeout": 3});
    for cookie in [&op, &view] {
        assert_eq!(put(&hub, "extra", cookie, body.clone()).status, 403);
        let r = hub.get("/api/v2/node-overrides/", &[("Cookie", cookie)]);
        assert_eq!(r.status, 403);
        let r = hub.send(
            "DELETE",
            "/api/v2/node-overrides/extra/",
            &[("Cookie", cookie)],
            None,
        );
        assert_eq!(r.status, 403);
    }
    assert_eq!(hub.get("/api/v2/node-overrides/", &[]).status, 401);
    // A browser's cross-site PUT is refused before the handler: nothing stored.
    let r = hub.send(
        "PUT",
        "/api/v2/node-overrides/extra/",
        &[("Cookie", &admin), ("Origin", "http://evil.example")],
        Some(&body.to_string()),
    );
    assert_eq!(r.status, 403);
    let none = hub
        .get("/api/v2/node-overrides/", &[("Cookie", &admin)])
        .json();
    assert_eq!(none["overrides"], json!([]));

    // Added: listed connected.
    let r = put(&hub, "extra", &admin, body.clone());
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            200,
            "{\"message\":\"Node override 'extra' saved\",\"status\":\"success\"}\n"
        )
    );
    hub.wait_for("the added node listed connected", || {
        listed(&hub, &admin, "extra") == Some(true)
    });
    assert_eq!(listed(&hub, &admin, "cfg"), Some(false));
    let list = hub.get("/api/v2/node-overrides/", &[("Cookie", &admin)]);
    assert!(!list.body.contains(NODE_PW), "{}", list.body);
    let row = &list.json()["overrides"][0];
    assert_eq!(row["name"], "extra");
    assert_eq!(row["url"], format!("{url}/RPC2"));
    assert_eq!(
        (row["has_password"].clone(), row["timeout"].clone()),
        (json!(true), json!(3.0))
    );

    // A config node replaced by name.
    let r = put(&hub, "cfg", &admin, body.clone());
    assert_eq!(r.status, 200, "{r:?}");
    hub.wait_for("the config node replaced", || {
        listed(&hub, &admin, "cfg") == Some(true)
    });

    // Disabled, then enabled again without a password: the stored one is
    // kept (the node still accepts the hub).
    let no_pw = json!({"environment": "dev", "url": url, "username": "u", "disabled": true});
    assert_eq!(put(&hub, "extra", &admin, no_pw).status, 200);
    assert_eq!(listed(&hub, &admin, "extra"), None, "hidden at once");
    let no_pw = json!({"environment": "dev", "url": url, "username": "u"});
    assert_eq!(put(&hub, "extra", &admin, no_pw).status, 200);
    hub.wait_for("re-enabled, with the kept password", || {
        listed(&hub, &admin, "extra") == Some(true)
    });

    // A URL the config would refuse is refused here, with its reason.
    let r = put(
        &hub,
        "bad",
        &admin,
        json!({"environment": "dev", "url": "https://h:9001"}),
    );
    assert_eq!(r.status, 400);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("'url': https is not supported")
    );

    // SIGHUP recomputes from config + overrides: both stay.
    kill(hub.pid(), Signal::SIGHUP).expect("SIGHUP");
    hub.wait_for("the reload", || {
        hub.output().contains("configuration reloaded")
    });
    assert_eq!(listed(&hub, &admin, "extra"), Some(true));
    assert_eq!(listed(&hub, &admin, "cfg"), Some(true));

    // Removed: gone at once; the config node is back as configured.
    let del = |name: &str| {
        hub.send(
            "DELETE",
            &format!("/api/v2/node-overrides/{name}/"),
            &[("Cookie", &admin)],
            None,
        )
    };
    let r = del("extra");
    assert_eq!(
        r.body,
        "{\"message\":\"Node override 'extra' removed\",\"status\":\"success\"}\n"
    );
    assert_eq!(listed(&hub, &admin, "extra"), None);
    assert_eq!(del("extra").status, 404);
    assert_eq!(del("cfg").status, 200);
    assert_eq!(listed(&hub, &admin, "cfg"), Some(false));

    let log = std::fs::read_to_string(dir.path().join("activity.log")).expect("activity log");
    for line in [
        "'admin' user saved the node override 'extra'.",
        "'admin' user disabled the node override 'extra'.",
        "'admin' user removed the node override 'extra'.",
    ] {
        assert!(log.contains(line), "{line}\n{log}");
    }
    assert!(!log.contains(NODE_PW) && !hub.output().contains(NODE_PW));
}

#[test]
fn an_override_made_on_one_instance_appears_on_the_other() {
    let Some(pg) = Postgres::start() else { return };
    let daemon = Daemon::start(Impl::Ours, PROGRAMS, Options::default());
    let text = format!(
        "[cesi]\ndatabase = \"{}\"\nactivity_log = \"activity.log\"\nadmin_username = \"admin\"\nadmin_password = \"s3cret-admin\"\n[hub]\npoll_interval = 0.2\n",
        pg.create_db("overrides")
    );
    let (da, db) = (tempdir(), tempdir());
    let a = HubProc::start(da.path(), &text);
    let b = HubProc::start(db.path(), &text);
    let cookie = a.login("admin", "s3cret-admin");
    let body = json!({"environment": "dev", "url": daemon.serverurl()});
    assert_eq!(put(&a, "shared", &cookie, body).status, 200);
    b.wait_for("the override on B", || {
        listed(&b, &cookie, "shared") == Some(true)
    });
    let r = b.send(
        "DELETE",
        "/api/v2/node-overrides/shared/",
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(r.status, 200);
    a.wait_for("the removal on A", || {
        listed(&a, &cookie, "shared").is_none()
    });
}
