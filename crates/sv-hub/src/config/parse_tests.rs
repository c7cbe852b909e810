//! Tests of the config reader: Cesi's files accepted, Cesi's messages for
//! its own keys, file:line:key for every error, our additions.

use super::*;

const CESI_DEFAULT: &str = r#"
[cesi]
database = "sqlite:///users.db"
activity_log = "activity.log"
admin_username = "admin"
admin_password = "admin"

[[nodes]]
name = "live"
environment = "prod"
username = "svuser"
password = "svpass"
host = "127.0.0.1"
port = "9001"

[[nodes]]
name = "other"
environment = ""
username = ""
password = ""
host = "https://example.invalid/sub/"
port = 9001
"#;

fn parse(text: &str) -> Result<HubConfig, ConfigError> {
    parse_str(text, Path::new("/etc/hub/cesi.conf.toml"))
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn cesis_sample_file_is_read_and_resolved_next_to_the_file() {
    let text = CESI_DEFAULT.replace("https://example.invalid/sub/", "example.invalid/sub/");
    let config = parse(&text).expect("valid");
    assert_eq!(
        config.database,
        Database::SqliteFile("/etc/hub/users.db".into())
    );
    assert_eq!(config.activity_log, PathBuf::from("/etc/hub/activity.log"));
    assert_eq!(
        config.admin,
        Some(AdminSeed {
            username: "admin".into(),
            password: "admin".into()
        })
    );
    assert_eq!(config.nodes.len(), 2);
    assert_eq!(config.nodes[0].endpoint, "http://127.0.0.1:9001/RPC2");
    assert_eq!(config.nodes[0].username, "svuser");
    assert_eq!(
        config.nodes[1].endpoint,
        "http://example.invalid:9001/sub/RPC2"
    );
    assert_eq!(config.nodes[1].environment, "");
    assert_eq!(config.nodes[1].line, 16);
}

#[test]
fn cesis_own_sample_with_an_https_host_loads() {
    // Cesi's defaults/cesi.conf.toml names an https host; a drop-in must
    // read it. The fleet then shows that node unreachable, with the reason.
    let config = parse(CESI_DEFAULT).unwrap_or_else(|e| panic!("{e}"));
    let https = config
        .nodes
        .iter()
        .find(|n| n.endpoint.starts_with("https://"));
    assert_eq!(
        https.map(|n| n.endpoint.as_str()),
        Some("https://example.invalid:9001/sub/RPC2")
    );
}

#[test]
fn cesi_section_messages_are_cesis() {
    let e = err("[cesi]\ndatabase = \"sqlite://\"\n");
    assert_eq!(
        e,
        "Failed to read '/etc/hub/cesi.conf.toml' configuration file. Problem is the cesi section.\n  /etc/hub/cesi.conf.toml:1: key 'activity_log' is missing"
    );
    let e = err("[cesi]\ndatabase = \"sqlite://\"\nactivity_log = \"a\"\ncolour = \"x\"\n");
    assert!(e.ends_with("cesi.conf.toml:4: unknown key 'colour'"), "{e}");
    let e = err("[cesi]\ndatabase = 5\nactivity_log = \"a\"\n");
    assert!(e.ends_with(":2: key 'database' must be a string"), "{e}");
    let e = err("[cesi]\ndatabase = \"mysql://u:pw@h/db\"\nactivity_log = \"a\"\n");
    assert!(
        e.contains(":2: key 'database': unsupported database"),
        "{e}"
    );
    let e = err("[cesi]\ndatabase = \"sqlite://\"\nactivity_log = \"a\"\nadmin_username = \"x\"\n");
    assert!(e.contains("go together"), "{e}");
}

#[test]
fn nodes_section_messages_are_cesis() {
    let base = "[cesi]\ndatabase = \"sqlite://\"\nactivity_log = \"a\"\n";
    let e = err(&format!(
        "{base}[[nodes]]\nname = \"n\"\nenvironment = \"\"\nusername = \"\"\npassword = \"\"\nhost = \"h\"\n"
    ));
    assert_eq!(
        e,
        "Failed to read '/etc/hub/cesi.conf.toml' configuration file. Problem is the nodes section\n  /etc/hub/cesi.conf.toml:4: key 'port' is missing"
    );
    let e = err(&format!(
        "{base}[[nodes]]\nname = \"n\"\nenvironment = \"\"\nurl = \"unix:///s.sock\"\nhost = \"h\"\n"
    ));
    assert!(
        e.ends_with(":8: key 'host' cannot be given with 'url'"),
        "{e}"
    );
    let e = err(&format!(
        "{base}[[nodes]]\nname = \"n\"\nenvironment = \"\"\nurl = \"unix://rel.sock\"\n"
    ));
    assert!(
        e.contains(":7: key 'url': a unix socket path must be absolute"),
        "{e}"
    );
    let e = err(&format!(
        "{base}[[nodes]]\nname = \"n\"\nenvironment = \"e\"\nurl = \"http://h:1\"\ntimeout = -1\n"
    ));
    assert!(
        e.ends_with(":8: key 'timeout' must be a positive number of seconds"),
        "{e}"
    );
    let e = err(&format!(
        "{base}[[nodes]]\nname = \"n\"\nenvironment = \"e\"\nurl = \"http://h:1\"\nzone = 1\n"
    ));
    assert!(e.ends_with(":8: unknown key 'zone'"), "{e}");
}

#[test]
fn other_top_level_names_and_a_missing_cesi_table() {
    let e = err("[cesi]\ndatabase = \"sqlite://\"\nactivity_log = \"a\"\n[extra]\nx = 1\n");
    assert_eq!(
        e,
        "Failed to read /etc/hub/cesi.conf.toml configuration file. Unknown 'extra' section name\n  /etc/hub/cesi.conf.toml:4: unknown key 'extra'"
    );
    let e = err("[[nodes]]\nname = \"n\"\nenvironment = \"e\"\nurl = \"http://h:1\"\n");
    assert_eq!(
        e,
        "Failed to read '/etc/hub/cesi.conf.toml' configuration file. You must write 'cesi' section."
    );
}

#[test]
fn toml_syntax_errors_and_missing_files_use_cesis_open_message() {
    let e = err("[cesi\n");
    assert!(
        e.starts_with(
            "Failed to open/find /etc/hub/cesi.conf.toml file. TOML parse error at line 1 col"
        ),
        "{e}"
    );
    let missing = Path::new("/nonexistent/dir/cesi.conf.toml");
    let e = load(missing)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        e,
        "Failed to open/find /nonexistent/dir/cesi.conf.toml file. [Errno 2] No such file or directory: '/nonexistent/dir/cesi.conf.toml'"
    );
}

#[test]
fn our_additions_are_optional_and_checked() {
    let text = r#"
[cesi]
database = "postgres://hub:pw@db/hub"
activity_log = "/var/log/hub.log"

[hub]
poll_interval = 5
node_timeout = 0.5
cookie_secure = true
session_ttl = 3600
trusted_proxies = ["127.0.0.1", "::1"]
proxy_user_header = "X-Forwarded-User"

[[nodes]]
name = "local"
environment = "dev"
url = "unix:///run/supervisor.sock"
timeout = 3
"#;
    let config = parse(text).expect("valid");
    assert!(config.admin.is_none());
    assert_eq!(config.hub.poll_interval, Duration::from_secs(5));
    assert_eq!(config.hub.node_timeout, Duration::from_millis(500));
    assert!(config.hub.cookie_secure);
    assert_eq!(config.hub.trusted_proxies.len(), 2);
    assert_eq!(config.nodes[0].endpoint, "unix:///run/supervisor.sock");
    assert_eq!(config.nodes[0].timeout, Some(Duration::from_secs(3)));
    let summary = config.summary();
    assert!(!summary.contains("pw@"), "{summary}");
    assert!(
        summary.contains("local [dev] unix:///run/supervisor.sock"),
        "{summary}"
    );

    let e = err(
        "[cesi]\ndatabase = \"sqlite://\"\nactivity_log = \"a\"\n[hub]\nproxy_user_header = \"X-User\"\n",
    );
    assert!(e.contains("needs 'trusted_proxies'"), "{e}");
    let e = err(
        "[cesi]\ndatabase = \"sqlite://\"\nactivity_log = \"a\"\n[hub]\ntrusted_proxies = [\"nope\"]\n",
    );
    assert!(
        e.ends_with(":5: key 'trusted_proxies' must be a list of IP addresses"),
        "{e}"
    );
}

#[test]
fn passwords_never_show_in_debug_or_summary() {
    let text = CESI_DEFAULT.replace("https://example.invalid/sub/", "h");
    let config = parse(&text).expect("valid");
    let shown = format!("{config:?}{}", config.summary());
    assert!(!shown.contains("svpass"), "{shown}");
}
