//! supervisor-hub's account side, through the real binary: Cesi's login,
//! logout, cookie, users, profile, password and activity-log answers
//! (bytes where the spec gives them), the role matrix, sessions across a
//! restart and across two instances on one PostgreSQL, tokens, proxy
//! sign-on, throttling, the setup token, SIGHUP.

mod support;

use std::process::Stdio;

use nix::sys::signal::{Signal, kill};
use serde_json::{Value, json};
use support::hub::{HubProc, Resp, SUPERVISOR_HUB, config};
use support::postgres::Postgres;

const NOT_FOUND: &str = "{\"message\":\"The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.\",\"status\":\"error\"}\n";
const CLEAR_COOKIE: &str = "session=; Expires=Thu, 01-Jan-1970 00:00:00 GMT; Max-Age=0; Path=/";

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn post(hub: &HubProc, path: &str, cookie: &str, body: Value) -> Resp {
    hub.send("POST", path, &[("Cookie", cookie)], Some(&body.to_string()))
}

fn add_user(hub: &HubProc, admin: &str, name: &str, usertype: &str) {
    let resp = post(
        hub,
        "/api/v2/users/",
        admin,
        json!({"username": name, "password": format!("pw-{name}"), "usertype": usertype}),
    );
    assert_eq!(
        resp.body,
        "{\"message\":\"User added\",\"status\":\"success\"}\n"
    );
}

#[test]
fn login_logout_and_the_cookie_behave_as_in_cesi() {
    let dir = tempdir();
    let hub = HubProc::start(dir.path(), &config(""));

    let v = hub.get("/api/version", &[]);
    assert_eq!(
        (v.status, v.body.as_str()),
        (200, "{\"status\":\"success\",\"version\":\"2.7.1\"}\n")
    );
    assert_eq!(v.header("content-type"), Some("application/json"));

    let anon = hub.get("/api/v2/profile/", &[]);
    assert_eq!(
        (anon.status, anon.body.as_str()),
        (
            401,
            "{\"message\":\"Session expired\",\"status\":\"error\"}\n"
        )
    );

    let login = |body: &str| hub.send("POST", "/api/v2/auth/login/", &[], Some(body));
    let r = login("{}");
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            400,
            "{\"message\":\"Please enter valid value for 'username,password' fields\",\"status\":\"error\"}\n"
        )
    );
    let r = login("{\"username\":\"admin\",\"password\":null}");
    assert_eq!(
        r.json()["message"],
        "Please enter valid value for 'password' fields"
    );
    let r = login("{\"username\":");
    assert_eq!(
        (r.status, r.json()["message"].clone()),
        (
            400,
            json!("The browser (or proxy) sent a request that this server could not understand.")
        )
    );
    let r = login("[]");
    assert_eq!(
        r.status, 400,
        "Cesi's 500 for a non-object body is a 400 here"
    );

    let wrong = login("{\"username\":\"admin\",\"password\":\"nope\"}");
    assert_eq!(
        (wrong.status, wrong.body.as_str()),
        (
            403,
            "{\"message\":\"Invalid username/password\",\"status\":\"error\"}\n"
        )
    );
    assert_eq!(wrong.header("set-cookie"), Some(CLEAR_COOKIE));

    let ok = login("{\"username\":\"admin\",\"password\":\"s3cret-admin\"}");
    assert_eq!(
        (ok.status, ok.body.as_str()),
        (
            200,
            "{\"message\":\"Valid username/password\",\"status\":\"success\"}\n"
        )
    );
    let set = ok.header("set-cookie").expect("cookie");
    assert!(set.ends_with("; HttpOnly; SameSite=Lax; Path=/"), "{set}");
    let cookie = ok.session_cookie();
    assert_eq!(cookie.len(), "session=".len() + 64);

    let me = hub.get("/api/v2/profile/", &[("Cookie", &cookie)]);
    assert_eq!(
        me.body,
        "{\"status\":\"success\",\"user\":{\"name\":\"admin\",\"type\":0}}\n"
    );

    // Routing answers: 404 for GET on a POST route, 308 to the slash form,
    // no slash after /api/version, JSON 405, the body limit.
    let r = hub.get("/api/v2/auth/login/", &[]);
    assert_eq!((r.status, r.body.as_str()), (404, NOT_FOUND));
    let r = hub.send("POST", "/api/v2/auth/login", &[], Some("{}"));
    assert_eq!(r.status, 308);
    assert_eq!(
        r.header("location"),
        Some(format!("http://127.0.0.1:{}/api/v2/auth/login/", hub.port).as_str())
    );
    assert!(r.body.contains("Redirecting..."));
    assert_eq!(hub.get("/api/version/", &[]).body, NOT_FOUND);
    assert_eq!(hub.get("/no/such/thing", &[]).status, 404);
    let r = hub.send("PUT", "/api/v2/users/", &[("Cookie", &cookie)], Some("{}"));
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["status"], "error");
    assert!(
        r.header("allow").is_some_and(|a| a.contains("POST")),
        "{r:?}"
    );
    for marks in [
        [("Origin", "http://evil.example")],
        [("Sec-Fetch-Site", "cross-site")],
    ] {
        let r = hub.send(
            "POST",
            "/api/v2/auth/login/",
            &marks,
            Some("{\"username\":\"admin\",\"password\":\"s3cret-admin\"}"),
        );
        assert_eq!(
            (r.status, r.body.as_str()),
            (
                403,
                "{\"message\":\"Cross-site request refused\",\"status\":\"error\"}\n"
            ),
            "{marks:?}"
        );
    }
    let same_origin = format!("http://127.0.0.1:{}", hub.port);
    let r = hub.send(
        "POST",
        "/api/v2/auth/login/",
        &[("Origin", &same_origin), ("Sec-Fetch-Site", "same-origin")],
        Some("{\"username\":\"admin\",\"password\":\"s3cret-admin\"}"),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let big = format!("{{\"username\":\"{}\"}}", "x".repeat(70 * 1024));
    assert_eq!(login(&big).status, 413);

    // Logout ends the session for good, even for a copy of the cookie.
    let out = hub.send("POST", "/api/v2/auth/logout/", &[("Cookie", &cookie)], None);
    assert_eq!(
        (out.status, out.body.as_str()),
        (200, "{\"message\":\"Logout\",\"status\":\"success\"}\n")
    );
    assert_eq!(out.header("set-cookie"), Some(CLEAR_COOKIE));
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Cookie", &cookie)]).status,
        401
    );
    let again = hub.send("POST", "/api/v2/auth/logout/", &[("Cookie", &cookie)], None);
    assert_eq!(
        (again.status, again.body.as_str()),
        (
            403,
            "{\"message\":\"You haven't already entered\",\"status\":\"error\"}\n"
        )
    );

    // Cesi's lines, in the database and in the file next to the config.
    let admin = hub.login("admin", "s3cret-admin");
    let logs = hub
        .get("/api/v2/activitylogs/", &[("Cookie", &admin)])
        .json();
    let lines: Vec<&str> = logs["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(
        lines[0].ends_with(" [INFO]: admin logged in.\n"),
        "{lines:?}"
    );
    assert!(
        lines[1].ends_with(" [ERROR]: admin logged out\n"),
        "{lines:?}"
    );
    let file = std::fs::read_to_string(dir.path().join("activity.log")).expect("activity.log");
    let mut from_file: Vec<&str> = file.split_inclusive('\n').collect();
    from_file.reverse();
    assert_eq!(from_file, lines);
    let stamp = &lines[0][..23];
    assert!(
        stamp.as_bytes()[19] == b',' && stamp[20..].bytes().all(|b| b.is_ascii_digit()),
        "{stamp}"
    );
    assert!(
        !hub.output().contains("s3cret-admin"),
        "a password reached the output"
    );
}

#[test]
fn users_profile_password_and_the_activity_log() {
    let dir = tempdir();
    let hub = HubProc::start(dir.path(), &config(""));
    let admin = hub.login("admin", "s3cret-admin");
    add_user(&hub, &admin, "alice", "1");
    add_user(&hub, &admin, "jürgen", "2");

    let users = |body: Value| post(&hub, "/api/v2/users/", &admin, body);
    let r = users(json!({"username": "alice", "password": "x", "usertype": 1}));
    assert_eq!(
        (r.status, r.json()["message"].clone()),
        (
            400,
            json!("'alice' username is not available. Please select different username")
        )
    );
    let r = users(json!({"password": null}));
    assert_eq!(
        r.json()["message"],
        "Please enter valid value for 'username,password,usertype' fields"
    );
    let r = users(json!({"username": "bob", "password": "x", "usertype": "admin"}));
    assert_eq!(r.status, 400);
    let r = users(json!({"username": "a-name-longer-than-16", "password": "x", "usertype": 1}));
    assert_eq!(
        (r.status, r.json()["message"].clone()),
        (400, json!("Username must be 1 to 16 characters"))
    );

    let list = hub.get("/api/v2/users/", &[("Cookie", &admin)]);
    assert_eq!(
        list.body,
        "{\"status\":\"success\",\"users\":[{\"name\":\"admin\",\"type\":0},{\"name\":\"alice\",\"type\":1},{\"name\":\"j\\u00fcrgen\",\"type\":2}]}\n"
    );

    let del = |who: &str| {
        hub.send(
            "DELETE",
            &format!("/api/v2/users/{who}/"),
            &[("Cookie", &admin)],
            None,
        )
    };
    let r = del("admin");
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            403,
            "{\"message\":\"Admin can't be deleted\",\"status\":\"error\"}\n"
        )
    );
    assert_eq!(del("ghost").body, NOT_FOUND);
    let alice = hub.login("alice", "pw-alice");
    assert_eq!(
        hub.get("/api/v2/users/alice/", &[("Cookie", &admin)])
            .status,
        404
    );
    let r = del("alice");
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "{\"status\":\"success\"}\n")
    );
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Cookie", &alice)]).status,
        401,
        "her session ended"
    );

    // Password change: Cesi's messages; other sessions end, this one stays.
    let other = hub.login("admin", "s3cret-admin");
    let change = |body: Value| {
        hub.send(
            "PUT",
            "/api/v2/profile/password/",
            &[("Cookie", &admin)],
            Some(&body.to_string()),
        )
    };
    let r = change(json!({"oldPassword": "", "newPassword": "x"}));
    assert_eq!(
        r.json()["message"],
        "Please enter valid value old password or new_password"
    );
    assert_eq!(change(json!({})).status, 400, "Cesi's 500 is a 400 here");
    let r = change(json!({"oldPassword": "bad", "newPassword": "n3w"}));
    assert_eq!(
        (r.status, r.json()["message"].clone()),
        (400, json!("Old password is wrong"))
    );
    let r = change(json!({"oldPassword": "s3cret-admin", "newPassword": "n3w-admin"}));
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "{\"status\":\"success\"}\n")
    );
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Cookie", &admin)]).status,
        200
    );
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Cookie", &other)]).status,
        401
    );
    hub.login("admin", "n3w-admin");

    // The activity log: limits, newest first, Cesi's texts; the clear is
    // admin-only and leaves its own line.
    let logs = |path: &str, cookie: &str| hub.get(path, &[("Cookie", cookie)]);
    let all = logs("/api/v2/activitylogs/0/", &admin).json();
    let texts: Vec<String> = all["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .map(|l| {
            l.as_str()
                .unwrap_or_default()
                .split_once("]: ")
                .map(|(_, text)| text.to_string())
                .unwrap_or_default()
        })
        .collect();
    for expected in [
        "'alice' user added by 'admin' user.\n",
        "'alice' username is not available for creating new user.\n",
        "'admin' user request for delete 'admin' user. Delete 'admin' user event fail.\n",
        "'alice' user deleted by 'admin' user.\n",
        "Old password is wrong to change admin 's password.\n",
        "admin user changed the own password.\n",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "missing {expected:?} in {texts:?}"
        );
    }
    let two = logs("/api/v2/activitylogs/2/", &admin).json();
    assert_eq!(two["logs"].as_array().map(Vec::len), Some(2));
    assert_eq!(two["logs"][0], all["logs"][0]);
    assert_eq!(logs("/api/v2/activitylogs/-1/", &admin).body, NOT_FOUND);
    assert_eq!(
        logs("/api/v2/activitylogs/x/", "").status,
        404,
        "routing before the session"
    );
    let viewer = hub.login("jürgen", "pw-jürgen");
    assert_eq!(
        hub.send(
            "DELETE",
            "/api/v2/activitylogs/",
            &[("Cookie", &viewer)],
            None
        )
        .status,
        403
    );
    let r = hub.send(
        "DELETE",
        "/api/v2/activitylogs/",
        &[("Cookie", &admin)],
        None,
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "{\"status\":\"success\"}\n")
    );
    let left = logs("/api/v2/activitylogs/", &viewer).json();
    let left = left["logs"].as_array().expect("logs");
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0]
            .as_str()
            .unwrap_or_default()
            .ends_with("[INFO]: 'admin' user cleared the activity log.\n")
    );
    let file = std::fs::read_to_string(dir.path().join("activity.log")).expect("file");
    assert_eq!(file.lines().count(), 1, "{file}");
    assert!(!hub.output().contains("pw-alice"));
}

/// One route of the matrix: what it needs, and a request that is safe to
/// repeat under every role.
struct Route {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    /// The weakest role allowed: 0 admin, 1 operator, 2 viewer.
    least: i64,
}

/// The account routes. The nodes side adds its rows here at merge.
const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/api/v2/profile/",
        body: None,
        least: 2,
    },
    Route {
        method: "PUT",
        path: "/api/v2/profile/password/",
        body: Some("{\"oldPassword\":\"wrong\",\"newPassword\":\"x\"}"),
        least: 2,
    },
    Route {
        method: "GET",
        path: "/api/v2/activitylogs/",
        body: None,
        least: 2,
    },
    Route {
        method: "GET",
        path: "/api/v2/activitylogs/5/",
        body: None,
        least: 2,
    },
    Route {
        method: "DELETE",
        path: "/api/v2/activitylogs/",
        body: None,
        least: 0,
    },
    Route {
        method: "GET",
        path: "/api/v2/users/",
        body: None,
        least: 0,
    },
    Route {
        method: "POST",
        path: "/api/v2/users/",
        body: Some("{\"username\":\"admin\",\"password\":\"x\",\"usertype\":1}"),
        least: 0,
    },
    Route {
        method: "DELETE",
        path: "/api/v2/users/ghost/",
        body: None,
        least: 0,
    },
    // Ours for the page's views: user administration (admin), one's own
    // sessions and tokens and the activity query (any signed-in user).
    // Every target is a ghost or harmless to repeat.
    Route {
        method: "GET",
        path: "/api/v2/users/?detail=1",
        body: None,
        least: 0,
    },
    Route {
        method: "PUT",
        path: "/api/v2/users/ghost/",
        body: Some("{\"usertype\":1}"),
        least: 0,
    },
    Route {
        method: "PUT",
        path: "/api/v2/users/ghost/password/",
        body: Some("{\"password\":\"x\"}"),
        least: 0,
    },
    Route {
        method: "POST",
        path: "/api/v2/users/ghost/revoke/",
        body: None,
        least: 0,
    },
    Route {
        method: "GET",
        path: "/api/v2/profile/sessions/",
        body: None,
        least: 2,
    },
    Route {
        method: "DELETE",
        path: "/api/v2/profile/sessions/",
        body: None,
        least: 2,
    },
    Route {
        method: "DELETE",
        path: "/api/v2/profile/sessions/0123456789abcdef/",
        body: None,
        least: 2,
    },
    Route {
        method: "GET",
        path: "/api/v2/profile/tokens/",
        body: None,
        least: 2,
    },
    Route {
        method: "POST",
        path: "/api/v2/profile/tokens/",
        body: Some("{\"name\":\"matrix\"}"),
        least: 2,
    },
    Route {
        method: "DELETE",
        path: "/api/v2/profile/tokens/ghost/",
        body: None,
        least: 2,
    },
    Route {
        method: "GET",
        path: "/api/v2/activity/?user=admin&result=ok",
        body: None,
        least: 2,
    },
    // Node overrides (admin only); the PUT's URL is refused (400), so
    // repeating it changes nothing.
    Route {
        method: "GET",
        path: "/api/v2/node-overrides/",
        body: None,
        least: 0,
    },
    Route {
        method: "PUT",
        path: "/api/v2/node-overrides/ghost/",
        body: Some("{\"environment\":\"e\",\"url\":\"ftp://x\"}"),
        least: 0,
    },
    Route {
        method: "DELETE",
        path: "/api/v2/node-overrides/ghost/",
        body: None,
        least: 0,
    },
];

#[test]
fn role_matrix_of_the_account_routes() {
    let dir = tempdir();
    let hub = HubProc::start(dir.path(), &config(""));
    let admin = hub.login("admin", "s3cret-admin");
    add_user(&hub, &admin, "op", "1");
    add_user(&hub, &admin, "view", "2");
    let callers: [(&str, Option<i64>, String); 4] = [
        ("admin", Some(0), admin.clone()),
        ("operator", Some(1), hub.login("op", "pw-op")),
        ("viewer", Some(2), hub.login("view", "pw-view")),
        ("anonymous", None, String::new()),
    ];
    let mut wrong = Vec::new();
    for route in ROUTES {
        for (who, role, cookie) in &callers {
            let headers: Vec<(&str, &str)> = if cookie.is_empty() {
                vec![]
            } else {
                vec![("Cookie", cookie.as_str())]
            };
            let r = hub.send(route.method, route.path, &headers, route.body);
            let ok = match role {
                None => r.status == 401,
                Some(role) if *role > route.least => r.status == 403,
                Some(_) => r.status != 401 && r.status != 403,
            };
            if !ok {
                wrong.push(format!(
                    "{} {} as {who}: {} {}",
                    route.method, route.path, r.status, r.body
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "role matrix:\n{}", wrong.join("\n"));
}

#[test]
fn a_session_survives_a_restart_of_the_hub() {
    let dir = tempdir();
    let hub = HubProc::start(dir.path(), &config(""));
    let cookie = hub.login("admin", "s3cret-admin");
    let path = hub.config.clone();
    hub.stop();
    let hub = HubProc::start_with(dir.path(), &path);
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Cookie", &cookie)]).status,
        200
    );
}

#[test]
fn two_instances_on_one_postgresql_share_users_sessions_and_activity() {
    let Some(pg) = Postgres::start() else { return };
    let url = pg.create_db("shared");
    let text = format!(
        "[cesi]\ndatabase = \"{url}\"\nactivity_log = \"activity.log\"\nadmin_username = \"admin\"\nadmin_password = \"s3cret-admin\"\n"
    );
    let (da, db) = (tempdir(), tempdir());
    let a = HubProc::start(da.path(), &text);
    let b = HubProc::start(db.path(), &text);
    let cookie = a.login("admin", "s3cret-admin");
    assert_eq!(
        b.get("/api/v2/profile/", &[("Cookie", &cookie)]).status,
        200,
        "session on B"
    );
    add_user(&b, &cookie, "carol", "2");
    let list = a.get("/api/v2/users/", &[("Cookie", &cookie)]).json();
    assert_eq!(list["users"][1], json!({"name": "carol", "type": 2}));
    let logs = a
        .get("/api/v2/activitylogs/1/", &[("Cookie", &cookie)])
        .json();
    assert!(
        logs["logs"][0]
            .as_str()
            .unwrap_or_default()
            .ends_with("'carol' user added by 'admin' user.\n"),
        "{logs}"
    );
    let out = b.send("POST", "/api/v2/auth/logout/", &[("Cookie", &cookie)], None);
    assert_eq!(out.status, 200);
    assert_eq!(
        a.get("/api/v2/profile/", &[("Cookie", &cookie)]).status,
        401,
        "logout on B ends it on A"
    );
    // No secret in what either instance printed.
    assert!(!a.output().contains("s3cret-admin") && !b.output().contains("s3cret-admin"));
}

fn run_cli(config: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write as _;
    let mut child = support::command::new(SUPERVISOR_HUB)
        .arg("-c")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run supervisor-hub");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_users_and_bearer_tokens() {
    let dir = tempdir();
    let hub = HubProc::start(dir.path(), &config(""));
    let conf = hub.config.clone();
    let (code, out, err) = run_cli(
        &conf,
        &["user", "add", "bob", "--role", "viewer"],
        "pw-bob\n",
    );
    assert_eq!(code, 0, "{out}{err}");
    let (_, out, _) = run_cli(&conf, &["user", "list"], "");
    assert_eq!(out, "admin\tadmin\t*\nbob\tviewer\t*\n");
    // Environment limits, from the shell and from the API.
    let (code, _, err) = run_cli(
        &conf,
        &[
            "user", "add", "eve", "--role", "operator", "--env", "prod,dev",
        ],
        "pw-eve\n",
    );
    assert_eq!(code, 0, "{err}");
    let admin = hub.login("admin", "s3cret-admin");
    let r = post(
        &hub,
        "/api/v2/users/",
        &admin,
        json!({"username": "finn", "password": "pw", "usertype": "2", "environments": ["staging"]}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let r = post(
        &hub,
        "/api/v2/users/",
        &admin,
        json!({"username": "gus", "password": "pw", "usertype": 2, "environments": "staging"}),
    );
    assert_eq!(r.status, 400, "{r:?}");
    let (_, out, _) = run_cli(&conf, &["user", "list"], "");
    assert_eq!(
        out,
        "admin\tadmin\t*\nbob\tviewer\t*\neve\toperator\tdev,prod\nfinn\tviewer\tstaging\n"
    );
    let (code, _, err) = run_cli(&conf, &["user", "add", "x", "--role", "boss"], "pw\n");
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "supervisor-hub: unknown role 'boss' (admin, operator, viewer)\n"
        )
    );
    let (code, token, _) = run_cli(&conf, &["token", "add", "ci", "--user", "bob"], "");
    assert_eq!(code, 0);
    let bearer = format!("Bearer {}", token.trim());
    let me = hub.get("/api/v2/profile/", &[("Authorization", &bearer)]);
    assert_eq!(
        me.body,
        "{\"status\":\"success\",\"user\":{\"name\":\"bob\",\"type\":2}}\n"
    );
    assert_eq!(
        hub.get("/api/v2/users/", &[("Authorization", &bearer)])
            .status,
        403
    );
    let bad = format!("Bearer {}", "0".repeat(64));
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Authorization", &bad)])
            .status,
        401
    );
    assert_eq!(run_cli(&conf, &["token", "revoke", "ci"], "").0, 0);
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Authorization", &bearer)])
            .status,
        401
    );

    let cookie = hub.login("bob", "pw-bob");
    assert_eq!(
        run_cli(&conf, &["user", "passwd", "bob"], "pw-bob-2\n").0,
        0
    );
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Cookie", &cookie)]).status,
        401
    );
    hub.login("bob", "pw-bob-2");
    assert_eq!(run_cli(&conf, &["user", "del", "bob"], "").0, 0);
    let (code, _, err) = run_cli(&conf, &["user", "del", "bob"], "");
    assert_eq!((code, err.as_str()), (1, "supervisor-hub: no user 'bob'\n"));
}

#[test]
fn config_checks_and_cesis_exit_messages() {
    let dir = tempdir();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[cesi]\ndatabase = \"sqlite:///users.db\"\nactivity_log = \"activity.log\"\nadmin_username = \"admin\"\nadmin_password = \"admin\"\n\n[[nodes]]\nname = \"live\"\nenvironment = \"prod\"\nusername = \"u\"\npassword = \"node-secret\"\nhost = \"127.0.0.1\"\nport = 9001\n",
    )
    .expect("write");
    let (code, out, err) = run_cli(&good, &["--check-config"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Loading config file...\n"), "{out}");
    assert!(
        out.contains(&format!(
            "database: sqlite file {}",
            dir.path().join("users.db").display()
        )),
        "{out}"
    );
    assert!(
        out.contains("live [prod] http://127.0.0.1:9001/RPC2 (with credentials"),
        "{out}"
    );
    assert!(!out.contains("node-secret") && !err.contains("node-secret"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[cesi]\ndatabase = \"sqlite://\"\nactivity_log = \"a\"\n\n[[nodes]]\nname = \"n\"\n",
    )
    .expect("write");
    let (code, _, err) = run_cli(&bad, &["--check-config"], "");
    assert_eq!(code, 1);
    let first = err.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        format!(
            "Failed to read '{}' configuration file. Problem is the nodes section",
            bad.display()
        )
    );
    assert!(err.contains(":5: key 'environment' is missing"), "{err}");

    let missing = dir.path().join("missing.toml");
    let (code, _, err) = run_cli(&missing, &[], "");
    assert_eq!(code, 1);
    assert_eq!(
        err.trim_end(),
        format!(
            "Failed to open/find {0} file. [Errno 2] No such file or directory: '{0}'",
            missing.display()
        )
    );

    let out = support::command::new(SUPERVISOR_HUB)
        .env_remove("CESI_CONFIG_PATH")
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(2),
        "no config file is a usage error"
    );
    let out = support::command::new(SUPERVISOR_HUB)
        .args(["--check-config", "--debug"])
        .env("CESI_CONFIG_PATH", &good)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "Cesi's WSGI variable names the file"
    );
    let out = support::command::new(SUPERVISOR_HUB)
        .arg("--version")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn proxy_sign_on_only_from_trusted_addresses() {
    let dir = tempdir();
    let hub = HubProc::start(
        dir.path(),
        &config(
            "[hub]\ntrusted_proxies = [\"127.0.0.1\"]\nproxy_user_header = \"X-Forwarded-User\"\n",
        ),
    );
    let r = hub.get("/api/v2/profile/", &[("X-Forwarded-User", "admin")]);
    assert_eq!(r.json()["user"]["name"], "admin");
    assert_eq!(
        hub.get("/api/v2/profile/", &[("X-Forwarded-User", "nobody")])
            .status,
        401
    );
    drop(hub);
    let dir = tempdir();
    let hub = HubProc::start(
        dir.path(),
        &config(
            "[hub]\ntrusted_proxies = [\"192.0.2.1\"]\nproxy_user_header = \"X-Forwarded-User\"\n",
        ),
    );
    assert_eq!(
        hub.get("/api/v2/profile/", &[("X-Forwarded-User", "admin")])
            .status,
        401
    );
}

#[test]
fn repeated_failed_logins_are_throttled_and_logged() {
    let dir = tempdir();
    let hub = HubProc::start(dir.path(), &config(""));
    let attempt = |pw: &str| {
        hub.send(
            "POST",
            "/api/v2/auth/login/",
            &[],
            Some(&json!({"username": "admin", "password": pw}).to_string()),
        )
    };
    for _ in 0..5 {
        assert_eq!(attempt("guess").status, 403);
    }
    let r = attempt("s3cret-admin");
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (429, json!("error"))
    );
    assert!(
        hub.output()
            .contains("failed login for user \"admin\" from 127.0.0.1")
    );
    assert!(
        !hub.output().contains("guess"),
        "passwords are never logged"
    );
}

#[test]
fn without_admin_keys_a_one_time_setup_token_creates_the_first_admin() {
    let dir = tempdir();
    let hub = HubProc::start(
        dir.path(),
        "[cesi]\ndatabase = \"sqlite:///users.db\"\nactivity_log = \"activity.log\"\n",
    );
    let out = hub.output();
    let token = out
        .split("\"token\":\"")
        .nth(1)
        .and_then(|s| s.get(..64))
        .unwrap_or_else(|| panic!("no setup token printed:\n{out}"))
        .to_string();
    let setup = |token: &str| {
        hub.send(
            "POST",
            "/api/v2/setup/",
            &[],
            Some(&json!({"token": token, "username": "root", "password": "first"}).to_string()),
        )
    };
    assert_eq!(setup(&"f".repeat(64)).status, 403);
    assert_eq!(setup(&token).status, 200);
    assert_eq!(setup(&token).status, 403, "one time only");
    let cookie = hub.login("root", "first");
    assert_eq!(
        hub.get("/api/v2/users/", &[("Cookie", &cookie)]).status,
        200
    );
}

#[test]
fn sighup_applies_a_good_file_and_keeps_the_old_one_on_a_bad_file() {
    let dir = tempdir();
    let hub = HubProc::start(dir.path(), &config(""));
    let cookie = hub.login("admin", "s3cret-admin");
    std::fs::write(&hub.config, "[cesi]\nbroken").expect("write");
    kill(hub.pid(), Signal::SIGHUP).expect("hup");
    hub.wait_for("the refusal", || hub.output().contains("reload refused"));
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Cookie", &cookie)]).status,
        200
    );

    std::fs::write(&hub.config, config("").replace("activity.log", "moved.log")).expect("write");
    kill(hub.pid(), Signal::SIGHUP).expect("hup");
    hub.wait_for("the reload", || {
        hub.output().contains("configuration reloaded")
    });
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Cookie", &cookie)]).status,
        200,
        "sessions survive"
    );
    hub.login("admin", "s3cret-admin");
    assert_eq!(
        hub.get("/api/v2/profile/", &[("X-Forwarded-User", "admin")])
            .status,
        401
    );
    let with_proxy = format!(
        "{}[hub]\ntrusted_proxies = [\"127.0.0.1\"]\nproxy_user_header = \"X-Forwarded-User\"\n",
        config("").replace("activity.log", "moved.log")
    );
    std::fs::write(&hub.config, with_proxy).expect("write");
    kill(hub.pid(), Signal::SIGHUP).expect("hup");
    hub.wait_for("proxy sign-on after the reload", || {
        hub.get("/api/v2/profile/", &[("X-Forwarded-User", "admin")])
            .status
            == 200
    });
    let moved = std::fs::read_to_string(dir.path().join("moved.log")).unwrap_or_default();
    assert!(moved.contains("admin logged in."), "{moved:?}");
}

#[test]
fn a_cesi_database_logs_in_and_its_hash_becomes_argon2id() {
    let dir = tempdir();
    let db = dir.path().join("users.db");
    let script = r#"
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE users (id INTEGER NOT NULL, username VARCHAR(16), password VARCHAR(120), usertype INTEGER, PRIMARY KEY (id))")
db.execute("CREATE UNIQUE INDEX ix_users_username ON users (username)")
h = hashlib.pbkdf2_hmac("sha256", b"admin", b"XfSZdgkj", 150000).hex()
db.execute("INSERT INTO users VALUES (1, 'admin', ?, 0)", ("pbkdf2:sha256:150000$XfSZdgkj$" + h,))
db.commit()
"#;
    let out = support::command::new("python3")
        .args(["-c", script])
        .arg(&db)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Cesi's sample file: its admin keys name the existing account.
    let hub = HubProc::start(
        dir.path(),
        "[cesi]\ndatabase = \"sqlite:///users.db\"\nactivity_log = \"activity.log\"\nadmin_username = \"admin\"\nadmin_password = \"admin\"\n",
    );
    hub.login("admin", "admin");
    let read = support::command::new("python3")
        .args(["-c", "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute('SELECT password FROM users').fetchone()[0])"])
        .arg(&db)
        .output()
        .expect("python3");
    assert!(String::from_utf8_lossy(&read.stdout).starts_with("$argon2id$"));
    hub.login("admin", "admin");
}

#[test]
fn behind_a_trusted_proxy_the_throttle_keys_on_the_forwarded_client() {
    let dir = tempdir();
    let hub = HubProc::start(
        dir.path(),
        &config(
            "[hub]\ntrusted_proxies = [\"127.0.0.1\"]\nproxy_user_header = \"X-Forwarded-User\"\n",
        ),
    );
    let attempt = |client: &str, user: &str, pw: &str| {
        let body = json!({"username": user, "password": pw}).to_string();
        hub.send(
            "POST",
            "/api/v2/auth/login/",
            &[("X-Forwarded-For", client)],
            Some(&body),
        )
        .status
    };
    for n in 0..5 {
        assert_eq!(attempt("198.51.100.7", &format!("ghost{n}"), "x"), 403);
    }
    assert_eq!(
        attempt("198.51.100.7", "admin", "s3cret-admin"),
        429,
        "that client is held off"
    );
    assert_eq!(
        attempt("198.51.100.8", "admin", "s3cret-admin"),
        200,
        "another client is not"
    );
}

#[test]
fn the_readme_example_config_serves() {
    let dir = tempdir();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cesi.conf.toml");
    let text = std::fs::read_to_string(&example).expect("examples/cesi.conf.toml");
    std::fs::create_dir(dir.path().join("run")).expect("run dir");
    let hub = HubProc::start(dir.path(), &text);
    hub.login("admin", "admin");
    assert!(
        hub.output()
            .contains("WARNING: creating user 'admin' with the password 'admin'")
    );
    assert!(
        dir.path().join("run/hub.db").exists(),
        "the database sits next to the config"
    );
}

#[test]
fn the_hub_can_listen_on_a_unix_socket() {
    use std::io::{Read as _, Write as _};
    use std::os::unix::net::UnixStream;
    let dir = tempdir();
    let conf = dir.path().join("cesi.conf.toml");
    std::fs::write(&conf, config("")).expect("write");
    let sock = dir.path().join("hub.sock");
    // A stale socket file from a crashed run is replaced.
    drop(std::os::unix::net::UnixListener::bind(&sock).expect("stale socket"));
    let log = std::fs::File::create(dir.path().join("hub.err")).expect("log");
    /// Stops the hub by pid however the test ends.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = kill(
                nix::unistd::Pid::from_raw(self.0.id() as i32),
                Signal::SIGTERM,
            );
            let _ = self.0.wait();
        }
    }
    let child = support::command::new(SUPERVISOR_HUB)
        .arg("-c")
        .arg(&conf)
        .arg("--host")
        .arg(format!("unix:{}", sock.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start");
    let mut child = Stop(child);
    let get = || -> Option<String> {
        let mut s = UnixStream::connect(&sock).ok()?;
        s.write_all(b"GET /api/version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        Some(text)
    };
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let answer = loop {
        if let Some(text) = get() {
            break text;
        }
        assert!(
            std::time::Instant::now() < end,
            "no answer on the unix socket"
        );
        assert!(child.0.try_wait().expect("wait").is_none(), "hub exited");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(child);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.ends_with("{\"status\":\"success\",\"version\":\"2.7.1\"}\n"),
        "{answer}"
    );
    assert!(!sock.exists(), "the socket file is removed at exit");
}

/// The binary starts the fleet from `[[nodes]]` and serves the node routes
/// beside the account routes (one router): an inet node with credentials
/// and a unix-socket node (our `url` key) are listed connected, an action
/// works and lands in the activity log, and SIGHUP's new node list is
/// served.
#[test]
fn the_binary_serves_its_configured_nodes() {
    use support::pair::{Daemon, Impl, Options};
    const PROGRAMS: &str =
        "[program:manual]\ncommand=/bin/sleep 1000\nautostart=false\nstartsecs=0\n";
    let inet = Daemon::start(Impl::Ours, PROGRAMS, Options::inet_auth("u", "p"));
    let unix = Daemon::start(Impl::Ours, PROGRAMS, Options::default());
    let nodes = format!(
        "[[nodes]]\nname = \"inet\"\nenvironment = \"prod\"\nusername = \"u\"\npassword = \"p\"\nhost = \"127.0.0.1\"\nport = {}\n",
        inet.port.expect("inet port")
    );
    let unix_node = format!(
        "[[nodes]]\nname = \"local\"\nenvironment = \"dev\"\nurl = \"unix://{}\"\n",
        unix.sock.display()
    );
    let dir = tempdir();
    let hub = HubProc::start(dir.path(), &config(&nodes));
    let admin = hub.login("admin", "s3cret-admin");
    let connected = |name: &str| {
        hub.get("/api/v2/nodes/", &[("Cookie", &admin)]).json()["nodes"]
            .as_array()
            .is_some_and(|nodes| {
                nodes
                    .iter()
                    .any(|n| n["general"]["name"] == name && n["general"]["connected"] == true)
            })
    };
    hub.wait_for("the inet node listed connected", || connected("inet"));

    let start = hub.get(
        "/api/v2/nodes/inet/processes/manual:manual/start/",
        &[("Cookie", &admin)],
    );
    assert_eq!(
        start.body,
        "{\"message\":\"inet manual:manual start event succesfully\",\"status\":\"success\"}\n"
    );
    let process = hub
        .get(
            "/api/v2/nodes/inet/processes/manual:manual/",
            &[("Cookie", &admin)],
        )
        .json();
    assert_eq!(process["process"]["statename"], "RUNNING");
    let log = std::fs::read_to_string(dir.path().join("activity.log")).expect("activity log");
    assert!(
        log.contains("[INFO]: admin started inet node's manual:manual process."),
        "{log}"
    );
    assert!(
        !hub.output().contains("\"p\""),
        "a node password was printed"
    );

    // SIGHUP: the unix-socket node joins, the sessions stay.
    std::fs::write(
        dir.path().join("cesi.conf.toml"),
        config(&format!("{nodes}{unix_node}")),
    )
    .expect("rewrite the config");
    kill(hub.pid(), Signal::SIGHUP).expect("SIGHUP");
    hub.wait_for("the unix node listed connected after SIGHUP", || {
        connected("local")
    });
}
