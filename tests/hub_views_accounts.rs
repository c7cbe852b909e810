//! The hub's account views through the real binary: user administration
//! (role and environments, password reset, revoking sessions and tokens,
//! the guard rails), one's own sessions and API tokens, and the activity
//! query's filters and paging — each action leaving its activity line.

mod support;

use serde_json::{Value, json};
use support::hub::{HubProc, Resp, config};

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn call(hub: &HubProc, method: &str, path: &str, cookie: &str, body: Option<Value>) -> Resp {
    let body = body.map(|b| b.to_string());
    hub.send(method, path, &[("Cookie", cookie)], body.as_deref())
}

fn user<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["users"]
        .as_array()
        .and_then(|l| l.iter().find(|u| u["name"] == name))
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

fn messages(hub: &HubProc, cookie: &str, query: &str) -> Vec<String> {
    let r = call(
        hub,
        "GET",
        &format!("/api/v2/activity/?{query}"),
        cookie,
        None,
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.json()["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn an_admin_manages_a_user_who_manages_their_sessions_and_tokens() {
    let dir = tempdir();
    let hub = HubProc::start(dir.path(), &config(""));
    let admin = hub.login("admin", "s3cret-admin");
    let r = call(
        &hub,
        "POST",
        "/api/v2/users/",
        &admin,
        Some(json!({"username": "bob", "password": "pw-bob", "usertype": 2})),
    );
    assert_eq!(r.status, 200, "{r:?}");

    // Cesi's list stays Cesi's; ?detail=1 adds ours.
    let plain = call(&hub, "GET", "/api/v2/users/", &admin, None);
    assert_eq!(
        plain.body,
        "{\"status\":\"success\",\"users\":[{\"name\":\"admin\",\"type\":0},{\"name\":\"bob\",\"type\":2}]}\n"
    );
    let r = call(
        &hub,
        "PUT",
        "/api/v2/users/bob/",
        &admin,
        Some(json!({"usertype": 1, "environments": ["prod", "dev"]})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let bob_cookie = hub.login("bob", "pw-bob");
    let list = call(&hub, "GET", "/api/v2/users/?detail=1", &admin, None).json();
    let bob = user(&list, "bob");
    assert_eq!(
        (
            bob["role"].clone(),
            bob["environments"].clone(),
            bob["sessions"].clone()
        ),
        (json!("operator"), json!(["dev", "prod"]), json!(1))
    );
    assert_eq!(user(&list, "admin")["protected"], true);
    let profile = call(&hub, "GET", "/api/v2/profile/", &bob_cookie, None).json();
    assert_eq!(profile["user"]["type"], 1, "the new role applies at once");

    // Bob's sessions: two, this one marked, never a token in the answer.
    let second = hub.login("bob", "pw-bob");
    let sessions = call(&hub, "GET", "/api/v2/profile/sessions/", &second, None);
    let list = sessions.json()["sessions"].clone();
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let current: Vec<bool> = list
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["current"] == true)
        .collect();
    assert_eq!(current.iter().filter(|c| **c).count(), 1);
    let token_of = |cookie: &str| cookie.trim_start_matches("session=").to_string();
    assert!(!sessions.body.contains(&token_of(&second)));
    assert!(!sessions.body.contains(&token_of(&bob_cookie)));
    // End the other one by its id; it no longer works, this one does.
    let other = list
        .as_array()
        .and_then(|l| l.iter().find(|s| s["current"] == false))
        .and_then(|s| s["id"].as_str())
        .expect("the other session")
        .to_string();
    let r = call(
        &hub,
        "DELETE",
        &format!("/api/v2/profile/sessions/{other}/"),
        &second,
        None,
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        call(&hub, "GET", "/api/v2/profile/", &bob_cookie, None).status,
        401
    );
    assert_eq!(
        call(&hub, "GET", "/api/v2/profile/", &second, None).status,
        200
    );
    // "Everywhere else".
    let third = hub.login("bob", "pw-bob");
    let r = call(&hub, "DELETE", "/api/v2/profile/sessions/", &third, None);
    assert_eq!(r.json()["ended"], 1, "{r:?}");
    assert_eq!(
        call(&hub, "GET", "/api/v2/profile/", &second, None).status,
        401
    );
    let bob_cookie = third;

    // Tokens: shown once, work as Bearer, listed by name, revoked.
    let r = call(
        &hub,
        "POST",
        "/api/v2/profile/tokens/",
        &bob_cookie,
        Some(json!({"name": "deploy"})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let value = r.json()["token"].as_str().expect("token").to_string();
    let bearer = format!("Bearer {value}");
    let me = hub.get("/api/v2/profile/", &[("Authorization", &bearer)]);
    assert_eq!(me.json()["user"]["name"], "bob");
    let listed = call(&hub, "GET", "/api/v2/profile/tokens/", &bob_cookie, None);
    assert_eq!(listed.json()["tokens"][0]["name"], "deploy");
    assert!(!listed.body.contains(&value), "never shown again");
    let dup = call(
        &hub,
        "POST",
        "/api/v2/profile/tokens/",
        &bob_cookie,
        Some(json!({"name": "deploy"})),
    );
    assert_eq!(dup.status, 400);
    assert_eq!(
        call(
            &hub,
            "DELETE",
            "/api/v2/profile/tokens/deploy/",
            &admin,
            None
        )
        .status,
        404,
        "only one's own tokens"
    );
    assert_eq!(
        call(
            &hub,
            "DELETE",
            "/api/v2/profile/tokens/deploy/",
            &bob_cookie,
            None
        )
        .status,
        200
    );
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Authorization", &bearer)])
            .status,
        401
    );

    // The admin resets Bob's password: his sessions end, the new one works.
    let r = call(
        &hub,
        "PUT",
        "/api/v2/users/bob/password/",
        &admin,
        Some(json!({"password": "new-bob"})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        call(&hub, "GET", "/api/v2/profile/", &bob_cookie, None).status,
        401
    );
    let bob_cookie = hub.login("bob", "new-bob");

    // Revoke: sessions and tokens at once.
    let r = call(
        &hub,
        "POST",
        "/api/v2/profile/tokens/",
        &bob_cookie,
        Some(json!({"name": "ci"})),
    );
    let ci = format!("Bearer {}", r.json()["token"].as_str().expect("token"));
    let r = call(&hub, "POST", "/api/v2/users/bob/revoke/", &admin, None);
    assert_eq!(
        r.json(),
        json!({"sessions": 1, "tokens": 1, "status": "success"})
    );
    assert_eq!(
        call(&hub, "GET", "/api/v2/profile/", &bob_cookie, None).status,
        401
    );
    assert_eq!(
        hub.get("/api/v2/profile/", &[("Authorization", &ci)])
            .status,
        401
    );
    assert_eq!(
        call(&hub, "GET", "/api/v2/profile/", &admin, None).status,
        200
    );

    // Guard rails.
    let own = call(
        &hub,
        "PUT",
        "/api/v2/users/admin/",
        &admin,
        Some(json!({"usertype": 1})),
    );
    assert_eq!(own.status, 400, "{own:?}");
    for body in [
        json!({"usertype": 7}),
        json!({}),
        json!({"environments": "prod"}),
    ] {
        let r = call(
            &hub,
            "PUT",
            "/api/v2/users/bob/",
            &admin,
            Some(body.clone()),
        );
        assert_eq!(r.status, 400, "{body}: {r:?}");
    }
    assert_eq!(
        call(
            &hub,
            "PUT",
            "/api/v2/users/ghost/",
            &admin,
            Some(json!({"usertype": 1}))
        )
        .status,
        404
    );
    call(
        &hub,
        "PUT",
        "/api/v2/users/bob/",
        &admin,
        Some(json!({"usertype": 0})),
    );
    let bob_admin = hub.login("bob", "new-bob");
    let r = call(
        &hub,
        "PUT",
        "/api/v2/users/admin/",
        &bob_admin,
        Some(json!({"usertype": 2})),
    );
    assert_eq!(r.status, 403, "the configured admin stays admin: {r:?}");
    let r = call(
        &hub,
        "PUT",
        "/api/v2/users/bob/",
        &admin,
        Some(json!({"usertype": 2, "environments": null})),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let list = call(&hub, "GET", "/api/v2/users/?detail=1", &admin, None).json();
    assert_eq!(user(&list, "bob")["environments"], Value::Null);
    let viewer = hub.login("bob", "new-bob");
    for (method, path) in [
        ("GET", "/api/v2/users/?detail=1"),
        ("PUT", "/api/v2/users/admin/password/"),
        ("POST", "/api/v2/users/admin/revoke/"),
    ] {
        let r = call(&hub, method, path, &viewer, Some(json!({"password": "x"})));
        assert_eq!(r.status, 403, "{method} {path}");
    }

    // Every action left its line; the query filters and pages.
    let by_admin = messages(&hub, &admin, "user=admin&action=user.role");
    assert_eq!(
        by_admin,
        [
            "'bob' user's role changed to viewer by 'admin' user.",
            "'bob' user's role changed to admin by 'admin' user.",
            "'bob' user's role changed to operator by 'admin' user.",
        ]
    );
    for (query, expected) in [
        (
            "action=user.environments",
            "'bob' user's environments set to all by 'admin' user.",
        ),
        (
            "action=user.password",
            "'bob' user's password reset by 'admin' user.",
        ),
        (
            "action=user.revoke",
            "'admin' user revoked 1 sessions and 1 tokens of 'bob' user.",
        ),
        (
            "action=token.add&user=bob",
            "bob created the API token 'ci'.",
        ),
        ("action=token.revoke", "bob revoked the API token 'deploy'."),
        (
            "action=session.revoke&limit=1",
            "bob ended 1 other own sessions.",
        ),
    ] {
        let got = messages(&hub, &admin, query);
        assert_eq!(
            got.first().map(String::as_str),
            Some(expected),
            "{query}: {got:?}"
        );
    }
    assert!(messages(&hub, &admin, "user=bob&action=login&result=failed").is_empty());
    let page = call(&hub, "GET", "/api/v2/activity/?limit=3", &admin, None).json();
    let next = page["next"].as_i64().expect("a next page");
    let page2 = call(
        &hub,
        "GET",
        &format!("/api/v2/activity/?limit=3&before={next}"),
        &admin,
        None,
    )
    .json();
    let ids = |p: &Value| -> Vec<i64> {
        p["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["id"].as_i64())
            .collect()
    };
    assert!(ids(&page2).iter().all(|id| *id < next));
    assert_eq!(ids(&page).len(), 3);
    let now_ms = page["entries"][0]["time"].as_i64().expect("time");
    assert!(messages(&hub, &admin, &format!("since={}", now_ms + 60_000)).is_empty());
    assert_eq!(
        call(&hub, "GET", "/api/v2/activity/?result=maybe", &admin, None).status,
        400
    );
    // The pages: users for admins only (a 403 page otherwise), profile and
    // activity for everybody signed in, the login form for the anonymous.
    for (path, cookie, status) in [
        ("/users", admin.as_str(), 200),
        ("/users", viewer.as_str(), 403),
        ("/profile", viewer.as_str(), 200),
        ("/activity", viewer.as_str(), 200),
        ("/users", "", 303),
        ("/activity", "", 303),
    ] {
        let r = call(&hub, "GET", path, cookie, None);
        assert_eq!(r.status, status, "{path} as {cookie:?}");
        if status == 200 {
            let csp = r.header("content-security-policy").unwrap_or_default();
            assert!(!csp.contains("unsafe-inline"), "{csp}");
            assert!(!r.body.contains(" style=") && !r.body.contains(" onclick="));
        }
    }
    assert_eq!(
        call(&hub, "GET", "/users", "", None).header("location"),
        Some("/login?next=/users")
    );

    // No token value in the activity log or the hub's output.
    let file = std::fs::read_to_string(dir.path().join("activity.log")).expect("activity.log");
    assert!(!file.contains(&value) && !hub.output().contains(&value));
}
