//! The hub's store: one suite, run against sqlite and against a real
//! PostgreSQL server (tests/support/postgres.rs); plus opening an
//! existing Cesi sqlite database, whose werkzeug passwords still verify;
//! the sqlite file is private (0600).

mod support;

use std::time::Duration;

use support::postgres::Postgres;
use sv_hub::activity::{Activity, Level};
use sv_hub::auth::password::{self, Verdict};
use sv_hub::auth::token;
use sv_hub::config::Database;
use sv_hub::store::{
    ActivityEntry, ActivityFilter, ActivityRow, NodeOverride, OverridesVersion, Store, StoreError,
};

fn activity(n: i64, message: &str) -> ActivityRow {
    ActivityRow {
        time_ms: 1_796_514_766_000 + n,
        entry: Activity {
            level: if n % 2 == 0 {
                Level::Info
            } else {
                Level::Error
            },
            username: "admin".into(),
            action: "start".into(),
            node: Some("live".into()),
            process: (n % 2 == 0).then(|| "web:web".to_string()),
            ok: n % 3 != 0,
            message: message.into(),
        },
    }
}

/// Everything the hub asks of a store, on a fresh database.
async fn suite(store: &Store) {
    // Users: Cesi's table order, unique names, NULL-safe usertype.
    assert!(store.list_users().await.expect("list").is_empty());
    store.add_user("admin", "h0", 0).await.expect("add admin");
    store.add_user("alice", "h1", 1).await.expect("add alice");
    store.add_user("jürgen", "h2", 2).await.expect("add jürgen");
    assert_eq!(
        store.add_user("alice", "hx", 2).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        store.list_users().await.expect("list"),
        vec![
            ("admin".to_string(), 0),
            ("alice".to_string(), 1),
            ("jürgen".to_string(), 2)
        ]
    );
    assert_eq!(store.user_count().await.expect("count"), 3);
    let alice = store.user("alice").await.expect("get").expect("alice");
    assert_eq!((alice.password_hash.as_str(), alice.usertype), ("h1", 1));
    assert_eq!(alice.environments, None);
    store
        .set_user_environments("alice", &["prod".into(), "dev".into()])
        .await
        .expect("envs");
    let alice = store.user("alice").await.expect("get").expect("alice");
    assert_eq!(alice.environments, Some(vec!["dev".into(), "prod".into()]));
    assert!(store.set_password("alice", "h1b").await.expect("passwd"));
    assert!(!store.set_password("nobody", "h").await.expect("passwd"));
    assert!(store.user("nobody").await.expect("get").is_none());

    // Sessions: expire, end one, end all but one, purge.
    let now = 1_000_000;
    store
        .create_session("s1", "alice", now, now + 60)
        .await
        .expect("s1");
    store
        .create_session("s2", "alice", now, now + 60)
        .await
        .expect("s2");
    store
        .create_session("s3", "alice", now, now + 1)
        .await
        .expect("s3");
    assert_eq!(
        store.session_user("s1", now).await.expect("s1"),
        Some("alice".into())
    );
    assert_eq!(
        store.session_user("s3", now + 1).await.expect("s3"),
        None,
        "expired"
    );
    assert_eq!(store.session_user("nope", now).await.expect("nope"), None);
    assert!(store.delete_session("s1").await.expect("del"));
    assert!(!store.delete_session("s1").await.expect("del again"));
    store
        .create_session("s4", "alice", now, now + 60)
        .await
        .expect("s4");
    assert_eq!(
        store
            .delete_sessions_of("alice", Some("s4"))
            .await
            .expect("others"),
        2
    );
    assert_eq!(
        store.session_user("s4", now).await.expect("s4"),
        Some("alice".into())
    );
    assert_eq!(store.purge_sessions(now + 61).await.expect("purge"), 1);
    for n in 0..5 {
        let token = format!("t{n}");
        store
            .create_session(&token, "jürgen", now + n, now + 60)
            .await
            .expect("session");
    }
    assert_eq!(store.trim_sessions("jürgen", 2).await.expect("trim"), 3);
    assert_eq!(
        store.session_user("t4", now).await.expect("t4"),
        Some("jürgen".into())
    );
    assert_eq!(
        store.session_user("t2", now).await.expect("t2"),
        None,
        "oldest gone"
    );

    // API tokens.
    store
        .add_token("ci", "t1", "alice", now)
        .await
        .expect("token");
    assert_eq!(
        store.add_token("ci", "t2", "alice", now).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        store.token_user("t1").await.expect("tok"),
        Some("alice".into())
    );
    assert_eq!(store.list_tokens().await.expect("list")[0].name, "ci");
    assert!(store.revoke_token("ci").await.expect("revoke"));
    assert_eq!(store.token_user("t1").await.expect("tok"), None);

    // Deleting a user takes their sessions, tokens and environments.
    store
        .create_session("s5", "alice", now, now + 60)
        .await
        .expect("s5");
    store
        .add_token("ci2", "t3", "alice", now)
        .await
        .expect("token");
    assert!(store.delete_user("alice").await.expect("delete"));
    assert!(!store.delete_user("alice").await.expect("delete again"));
    assert_eq!(store.session_user("s5", now).await.expect("s5"), None);
    assert_eq!(store.token_user("t3").await.expect("t3"), None);

    // Activity: newest first, limits, optional fields, clear.
    for n in 0..5 {
        store
            .add_activity(&activity(n, &format!("line {n}")))
            .await
            .expect("activity");
    }
    let all = store.activity(None).await.expect("all");
    assert_eq!(all.len(), 5);
    assert_eq!(all[0], activity(4, "line 4"));
    assert_eq!(all[4], activity(0, "line 0"));
    let two = store.activity(Some(2)).await.expect("two");
    assert_eq!(
        two.iter()
            .map(|r| r.entry.message.as_str())
            .collect::<Vec<_>>(),
        ["line 4", "line 3"]
    );
    assert_eq!(store.activity(Some(99)).await.expect("many").len(), 5);
    store.clear_activity().await.expect("clear");
    assert!(store.activity(None).await.expect("empty").is_empty());

    // Settings: the first value wins; take removes once.
    assert_eq!(store.setting("secret").await.expect("get"), None);
    assert_eq!(store.init_setting("secret", "a").await.expect("init"), "a");
    assert_eq!(store.init_setting("secret", "b").await.expect("init"), "a");
    assert!(store.take_setting("secret").await.expect("take"));
    assert!(!store.take_setting("secret").await.expect("take again"));

    overrides(store).await;
    views(store).await;
}

/// What the page's account and activity screens need: role changes, a
/// user's sessions and tokens, and the filtered, paged activity query.
async fn views(store: &Store) {
    store.add_user("carol", "h", 2).await.expect("carol");
    let admins = store.admin_count().await.expect("admins");
    assert!(store.set_usertype("carol", 0).await.expect("promote"));
    assert_eq!(store.admin_count().await.expect("admins"), admins + 1);
    assert!(store.set_usertype("carol", 1).await.expect("demote"));
    assert!(!store.set_usertype("nobody", 1).await.expect("nobody"));
    assert_eq!(
        store.user("carol").await.expect("get").map(|u| u.usertype),
        Some(1)
    );

    // Sessions: live ones, newest first, named by a hash prefix.
    let now = 2_000_000;
    let hash = |n: u8| format!("{:064x}", u64::from(n) * 0x1111);
    store
        .create_session(&hash(1), "carol", now, now + 60)
        .await
        .expect("s1");
    store
        .create_session(&hash(2), "carol", now + 1, now + 60)
        .await
        .expect("s2");
    store
        .create_session(&hash(3), "carol", now, now + 1)
        .await
        .expect("expired");
    store
        .create_session(&hash(4), "dave", now, now + 60)
        .await
        .expect("other user");
    let sessions = store.sessions_of("carol", now + 2).await.expect("sessions");
    assert_eq!(
        sessions
            .iter()
            .map(|s| s.token_hash.clone())
            .collect::<Vec<_>>(),
        vec![hash(2), hash(1)]
    );
    assert_eq!(sessions[0].id, hash(2)[..16]);
    assert_eq!(
        (sessions[0].created, sessions[0].expires),
        (now + 1, now + 60)
    );
    assert!(
        !store
            .delete_session_of("carol", &hash(4))
            .await
            .expect("not hers")
    );
    assert!(
        store
            .delete_session_of("carol", &hash(1))
            .await
            .expect("hers")
    );
    assert_eq!(
        store
            .sessions_of("carol", now + 2)
            .await
            .expect("left")
            .len(),
        1
    );

    // Tokens: per user, revoked only by their owner's name, all at once.
    store
        .add_token("c1", "th1", "carol", now)
        .await
        .expect("c1");
    store
        .add_token("c2", "th2", "carol", now)
        .await
        .expect("c2");
    store.add_token("d1", "th3", "dave", now).await.expect("d1");
    let names: Vec<String> = store
        .tokens_of("carol")
        .await
        .expect("tokens")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["c1", "c2"]);
    assert!(
        !store
            .revoke_token_of("carol", "d1")
            .await
            .expect("not hers")
    );
    assert!(store.revoke_token_of("carol", "c1").await.expect("hers"));
    assert_eq!(store.delete_tokens_of("carol").await.expect("all"), 1);
    assert_eq!(
        store.token_user("th3").await.expect("dave's"),
        Some("dave".into())
    );
    assert!(store.revoke_token("d1").await.expect("cleanup"));
    store
        .delete_sessions_of("dave", None)
        .await
        .expect("cleanup");
    assert!(store.delete_user("carol").await.expect("cleanup"));

    // Activity: every filter, alone and together, and keyset paging.
    store.clear_activity().await.expect("clear");
    let entry =
        |n: i64, user: &str, action: &str, node: Option<&str>, process: Option<&str>, ok: bool| {
            ActivityRow {
                time_ms: 1_000 + n,
                entry: Activity {
                    level: Level::Info,
                    username: user.into(),
                    action: action.into(),
                    node: node.map(str::to_string),
                    process: process.map(str::to_string),
                    ok,
                    message: format!("entry {n}"),
                },
            }
        };
    let rows = [
        entry(0, "admin", "login", None, None, true),
        entry(1, "alice", "start", Some("n1"), Some("web"), true),
        entry(2, "alice", "stop", Some("n1"), Some("web:web"), false),
        entry(3, "bob", "start", Some("n2"), Some("my_app"), true),
        entry(4, "bob", "start", Some("n2"), Some("myXapp"), true),
        entry(5, "alice", "log", Some("n1"), Some("api:web"), true),
    ];
    for row in &rows {
        store.add_activity(row).await.expect("add");
    }
    let messages = |found: Vec<ActivityEntry>| -> Vec<String> {
        found.into_iter().map(|e| e.row.entry.message).collect()
    };
    let all = ActivityFilter {
        limit: 100,
        ..ActivityFilter::default()
    };
    let got = store.query_activity(&all).await.expect("all");
    assert_eq!(got.len(), 6);
    assert_eq!(got[0].row, rows[5], "newest first, every field kept");
    assert!(got[0].id > got[1].id);
    let q =
        |f: ActivityFilter| async move { messages(store.query_activity(&f).await.expect("query")) };
    assert_eq!(
        q(ActivityFilter {
            user: Some("alice".into()),
            ..all.clone()
        })
        .await,
        ["entry 5", "entry 2", "entry 1"]
    );
    assert_eq!(
        q(ActivityFilter {
            node: Some("n1".into()),
            process: Some("web".into()),
            ..all.clone()
        })
        .await,
        ["entry 5", "entry 2", "entry 1"],
        "a bare name finds it in any group"
    );
    assert_eq!(
        q(ActivityFilter {
            process: Some("web:web".into()),
            ..all.clone()
        })
        .await,
        ["entry 2"]
    );
    assert_eq!(
        q(ActivityFilter {
            process: Some("my_app".into()),
            ..all.clone()
        })
        .await,
        ["entry 3"],
        "LIKE wildcards in names are literal"
    );
    assert_eq!(
        q(ActivityFilter {
            action: Some("start".into()),
            ok: Some(true),
            ..all.clone()
        })
        .await,
        ["entry 4", "entry 3", "entry 1"]
    );
    assert_eq!(
        q(ActivityFilter {
            ok: Some(false),
            ..all.clone()
        })
        .await,
        ["entry 2"]
    );
    assert_eq!(
        q(ActivityFilter {
            since_ms: Some(1_002),
            until_ms: Some(1_004),
            ..all.clone()
        })
        .await,
        ["entry 3", "entry 2"]
    );
    let page1 = store
        .query_activity(&ActivityFilter {
            limit: 4,
            ..ActivityFilter::default()
        })
        .await
        .expect("page 1");
    assert_eq!(page1.len(), 4);
    let page2 = q(ActivityFilter {
        limit: 4,
        before_id: page1.last().map(|e| e.id),
        ..ActivityFilter::default()
    })
    .await;
    assert_eq!(page2, ["entry 1", "entry 0"]);
    let clamped = ActivityFilter {
        limit: 0,
        ..ActivityFilter::default()
    };
    assert_eq!(
        store.query_activity(&clamped).await.expect("clamped").len(),
        1
    );
    store.clear_activity().await.expect("clear");
}

fn node_override(name: &str, updated_at: i64) -> NodeOverride {
    NodeOverride {
        name: name.into(),
        environment: "prod".into(),
        url: format!("http://{name}:9001/RPC2"),
        username: "u".into(),
        password: "node-pw".into(),
        timeout: Some(Duration::from_millis(2500)),
        disabled: false,
        updated_at,
    }
}

/// Node overrides: by name, upsert, a kept password, a version that
/// moves with every change, delete.
async fn overrides(store: &Store) {
    let v0 = store.node_overrides_version().await.expect("version");
    assert_eq!(v0, OverridesVersion::default());
    assert!(store.list_node_overrides().await.expect("list").is_empty());
    store
        .upsert_node_override(&node_override("zeta", 10), false)
        .await
        .expect("zeta");
    store
        .upsert_node_override(&node_override("alpha", 20), true)
        .await
        .expect("alpha: keep_password on a new row stores the given one");
    let listed = store.list_node_overrides().await.expect("list");
    assert_eq!(
        listed,
        vec![node_override("alpha", 20), node_override("zeta", 10)]
    );
    let v1 = store.node_overrides_version().await.expect("version");
    assert_eq!((v1.count, v1.newest, v1.sum), (2, 20, 30));

    // An update without a password keeps the stored one; an older stamp
    // (another instance's clock) still moves the version.
    let mut changed = node_override("zeta", 5);
    changed.url = "unix:///run/zeta.sock".into();
    changed.password = String::new();
    changed.timeout = None;
    changed.disabled = true;
    store
        .upsert_node_override(&changed, true)
        .await
        .expect("update");
    let zeta = store.list_node_overrides().await.expect("list")[1].clone();
    assert_eq!(zeta.url, "unix:///run/zeta.sock");
    assert_eq!(zeta.password, "node-pw");
    assert_eq!((zeta.timeout, zeta.disabled), (None, true));
    let v2 = store.node_overrides_version().await.expect("version");
    assert_ne!(v2, v1);
    // With a password given, it replaces the stored one.
    store
        .upsert_node_override(&changed, false)
        .await
        .expect("update");
    assert_eq!(
        store.list_node_overrides().await.expect("list")[1].password,
        ""
    );

    assert!(store.delete_node_override("alpha").await.expect("delete"));
    assert!(!store.delete_node_override("alpha").await.expect("again"));
    let v3 = store.node_overrides_version().await.expect("version");
    assert_eq!((v3.count, v3.newest, v3.sum), (1, 5, 5));
}

#[tokio::test(flavor = "current_thread")]
async fn the_suite_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Database::SqliteFile(dir.path().join("hub.db"));
    let store = Store::open(&db).await.expect("open");
    assert_eq!(store.engine_name(), "sqlite");
    suite(&store).await;
    drop(store);
    // Reopening applies no migration twice and keeps the data.
    let store = Store::open(&db).await.expect("reopen");
    assert_eq!(store.user_count().await.expect("count"), 2);
    // The file holds password hashes and node passwords: owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("hub.db"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

#[tokio::test(flavor = "current_thread")]
async fn an_existing_sqlite_file_readable_by_others_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cesi.db");
    std::fs::write(&path, b"").expect("create");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let _store = Store::open(&Database::SqliteFile(path.clone()))
        .await
        .expect("open");
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
}

#[tokio::test(flavor = "current_thread")]
async fn the_suite_on_postgresql() {
    let Some(pg) = Postgres::start() else { return };
    let db = Database::Postgres(pg.create_db("suite"));
    let store = Store::open(&db).await.expect("open");
    assert_eq!(store.engine_name(), "postgresql");
    suite(&store).await;
    // A second instance opening the same database at the same time: the
    // migrations run once, both see the same rows.
    let (a, b) = tokio::join!(Store::open(&db), Store::open(&db));
    let (a, b) = (a.expect("a"), b.expect("b"));
    a.add_user("bob", "h", 2).await.expect("bob");
    assert_eq!(
        b.user("bob").await.expect("get").map(|u| u.usertype),
        Some(2)
    );
    // Cesi's 16-character limit is real on PostgreSQL.
    assert!(
        store
            .add_user("a-name-longer-than-16", "h", 1)
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_cesi_sqlite_database_opens_and_its_passwords_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.db");
    // Cesi's exact DDL and a werkzeug 1.0 row, made by Python as Cesi
    // would (hashlib's pbkdf2 is what werkzeug calls).
    let script = r#"
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE users (id INTEGER NOT NULL, username VARCHAR(16), password VARCHAR(120), usertype INTEGER, PRIMARY KEY (id))")
db.execute("CREATE UNIQUE INDEX ix_users_username ON users (username)")
h = hashlib.pbkdf2_hmac("sha256", b"admin", b"XfSZdgkj", 150000).hex()
db.execute("INSERT INTO users VALUES (1, 'admin', ?, 0)", ("pbkdf2:sha256:150000$XfSZdgkj$" + h,))
db.execute("INSERT INTO users VALUES (2, 'old', NULL, NULL)")
db.commit()
"#;
    let out = support::command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let store = Store::open(&Database::SqliteFile(path.clone()))
        .await
        .expect("open a Cesi db");
    assert_eq!(
        store.list_users().await.expect("list"),
        vec![("admin".to_string(), 0), ("old".to_string(), -1)]
    );
    let admin = store.user("admin").await.expect("get").expect("admin");
    assert_eq!(
        password::verify(&admin.password_hash, "admin"),
        Verdict::OkRehash
    );
    assert_eq!(
        password::verify(&admin.password_hash, "nope"),
        Verdict::Wrong
    );
    let old = store.user("old").await.expect("get").expect("old");
    assert_eq!(password::verify(&old.password_hash, ""), Verdict::Wrong);

    // Cesi itself can still read the table: its columns are untouched.
    let check = support::command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys;print(sqlite3.connect(sys.argv[1]).execute('SELECT id, username, usertype FROM users ORDER BY id').fetchall())",
        ])
        .arg(&path)
        .output()
        .expect("python3");
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).trim(),
        "[(1, 'admin', 0), (2, 'old', None)]"
    );
    assert!(token::is_well_formed(&token::new_token().expect("token")));
}
