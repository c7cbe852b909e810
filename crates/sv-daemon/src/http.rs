//! The HTTP servers of `[unix_http_server]` and `[inet_http_server]`:
//! binding (with Supervisor's stale-socket handling), basic auth, and the
//! endpoints clients use — `POST /RPC2`, the streaming `/logtail/<name>`
//! and `/mainlogtail` of `supervisorctl tail -f` / `maintail -f`,
//! `/ok.html`, and the web page (`/`, `/index.html`, `/tail.html`, rendered
//! by [`crate::web`], with its live `/events` stream and its script).
//!
//! Sockets are bound before the daemon forks (so a port in use is a start-up
//! error with Supervisor's message); the serving happens on the actor's
//! runtime, each request talking to the actor through the [`Dispatcher`].

use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use subtle::ConstantTimeEq;
use sv_core::config::{Listen, ServerConfig};
use sv_xmlrpc::Limits;

use crate::rpc::Dispatcher;
use crate::supervisor::Bus;

/// Largest XML-RPC request body accepted.
const MAX_BODY: usize = 32 << 20;
/// How long a client may take to send a request's headers — counted from
/// the connection's start or the previous response, so it is also the
/// keep-alive idle limit — and then its body. Supervisor has none, so a few
/// silent connections can hold its descriptors forever.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of a log `/logtail` sends before following it.
const TAIL_START: u64 = 1024;
/// How often a followed log is checked for new data.
const TAIL_POLL: Duration = Duration::from_millis(100);
/// Largest form body the web page accepts.
const MAX_FORM: usize = 64 << 10;

/// A bound, not yet serving, listener.
#[derive(Debug)]
pub enum Bound {
    Unix(std::os::unix::net::UnixListener, PathBuf),
    Tcp(std::net::TcpListener),
}

/// One configured server, bound.
#[derive(Debug)]
pub struct Server {
    pub section: String,
    pub bound: Bound,
    pub credentials: Option<(String, String)>,
}

const ADDRESS_IN_USE: &str = "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.";

fn set_backlog(fd: &impl std::os::fd::AsRawFd) {
    // Supervisor listens with a backlog of 1024; a second listen() only
    // changes the backlog.
    // SAFETY: listen on a socket we own.
    unsafe {
        libc::listen(fd.as_raw_fd(), 1024);
    }
}

/// Whether something answers HTTP on the unix socket `path`.
fn socket_alive(path: &Path) -> bool {
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(path) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    matches!(stream.read(&mut byte), Ok(n) if n > 0)
}

fn bind_unix(file: &str, chmod: u32, chown: (i64, i64)) -> Result<Bound, String> {
    let path = PathBuf::from(file);
    // Bind a private name, set its mode, then link it into place: the
    // socket never exists under its real name with the wrong mode.
    let temp = PathBuf::from(format!("{file}.{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let listener = std::os::unix::net::UnixListener::bind(&temp)
        .map_err(|e| format!("Cannot open an HTTP server: {e} ({file})"))?;
    let cleanup = || {
        let _ = std::fs::remove_file(&temp);
    };
    if let Err(e) = std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(chmod)) {
        cleanup();
        return Err(format!("Cannot set permissions of {file}: {e}"));
    }
    let mut attempts = 0;
    loop {
        match std::fs::hard_link(&temp, &path) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 3 => {
                attempts += 1;
                // Never delete a live daemon's socket: only a dead one.
                if socket_alive(&path) {
                    cleanup();
                    return Err(ADDRESS_IN_USE.to_string());
                }
                eprintln!("Unlinking stale socket {file}");
                let _ = std::fs::remove_file(&path);
                std::thread::sleep(Duration::from_millis(300));
            }
            Err(e) => {
                cleanup();
                return Err(format!("Cannot open an HTTP server: {e} ({file})"));
            }
        }
    }
    cleanup();
    if chown != (-1, -1) {
        let uid = (chown.0 >= 0).then(|| nix::unistd::Uid::from_raw(chown.0 as u32));
        let gid = (chown.1 >= 0).then(|| nix::unistd::Gid::from_raw(chown.1 as u32));
        if nix::unistd::chown(&path, uid, gid).is_err() {
            let _ = std::fs::remove_file(&path);
            return Err(format!(
                "Not permitted to chown {file} to uid/gid ({}, {}); adjust \"sockchown\" value in config file or on command line to values that the current user ({}) can successfully chown",
                chown.0,
                chown.1,
                crate::sys::euid()
            ));
        }
    }
    set_backlog(&listener);
    Ok(Bound::Unix(listener, path))
}

fn bind_tcp(host: &str, port: u16) -> Result<Bound, String> {
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    match std::net::TcpListener::bind((host, port)) {
        Ok(listener) => {
            set_backlog(&listener);
            Ok(Bound::Tcp(listener))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(ADDRESS_IN_USE.to_string()),
        Err(e) => Err(format!(
            "Cannot open an HTTP server: socket.error reported {e}"
        )),
    }
}

/// Bind every configured server (before daemonizing).
pub fn bind_all(configs: &[ServerConfig]) -> Result<Vec<Server>, String> {
    let mut servers = Vec::new();
    for config in configs {
        let bound = match &config.listen {
            Listen::Unix { file, chmod, chown } => bind_unix(file, *chmod, *chown),
            Listen::Inet { host, port } => bind_tcp(host, *port),
        };
        match bound {
            Ok(bound) => servers.push(Server {
                section: config.section.clone(),
                bound,
                credentials: config.username.clone().zip(config.password.clone()),
            }),
            Err(e) => {
                remove_sockets(&servers);
                return Err(e);
            }
        }
    }
    Ok(servers)
}

/// Remove the unix socket files (at exit).
pub fn remove_sockets(servers: &[Server]) {
    for server in servers {
        if let Bound::Unix(_, path) = &server.bound {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[derive(Clone)]
struct App {
    dispatcher: Dispatcher,
    credentials: Option<(String, String)>,
    /// Where requests arrive, for the web page's redirects.
    local: crate::web::Local,
    /// The actor's bus, which `/events` streams from.
    bus: Bus,
}

/// Serve `server` until the runtime stops.
pub fn spawn(server: &Server, dispatcher: Dispatcher, bus: Bus) -> std::io::Result<()> {
    let port = match &server.bound {
        Bound::Tcp(listener) => listener.local_addr().ok().map(|a| a.port()),
        Bound::Unix(..) => None,
    };
    let app = App {
        dispatcher,
        credentials: server.credentials.clone(),
        local: crate::web::Local { port },
        bus,
    };
    let router = axum::Router::new().fallback(handle).with_state(app);
    let timeout = client_timeout();
    match &server.bound {
        Bound::Unix(listener, _) => {
            let listener = listener.try_clone()?;
            listener.set_nonblocking(true)?;
            let listener = tokio::net::UnixListener::from_std(listener)?;
            tokio::spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => serve_connection(stream, router.clone(), timeout),
                        Err(_) => accept_backoff().await,
                    }
                }
            });
        }
        Bound::Tcp(listener) => {
            let listener = listener.try_clone()?;
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            tokio::spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => {
                            // Supervisor lacks TCP_NODELAY, which halves its
                            // RPC rate over TCP.
                            let _ = stream.set_nodelay(true);
                            serve_connection(stream, router.clone(), timeout);
                        }
                        Err(_) => accept_backoff().await,
                    }
                }
            });
        }
    }
    Ok(())
}

/// [`CLIENT_TIMEOUT`], or `SV_HTTP_CLIENT_TIMEOUT_MS` from the environment
/// (so tests need not wait 30 s to see a slow client dropped).
fn client_timeout() -> Duration {
    std::env::var("SV_HTTP_CLIENT_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(CLIENT_TIMEOUT, Duration::from_millis)
}

/// Out of descriptors (or another transient accept error): wait a little
/// rather than spin; connections already open keep being served.
async fn accept_backoff() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// One HTTP/1 connection on its own task, with the header-read timeout
/// that `axum::serve` cannot set.
fn serve_connection<S>(stream: S, router: axum::Router, timeout: Duration)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let service = hyper_util::service::TowerToHyperService::new(router);
        let _ = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(timeout)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await;
    });
}

/// Medusa's error page, which Supervisor's clients see on HTTP errors.
pub(crate) fn error(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let body = format!(
        "<head>\r\n<title>Error response</title>\r\n</head>\r\n<body>\r\n<h1>Error response</h1>\r\n<p>Error code {}.\r\n<p>Message: {reason}.\r\n</body>\r\n",
        status.as_u16()
    );
    (status, [(header::CONTENT_TYPE, "text/html")], body).into_response()
}

fn unauthorized() -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED);
    let headers = response.headers_mut();
    headers.insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"default\""),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Whether the request carries the configured credentials. `Err` is the
/// status to answer: 401, or 400 for undecodable credentials (as Medusa).
fn check_auth(headers: &HeaderMap, expected: &(String, String)) -> Result<(), StatusCode> {
    let denied = StatusCode::UNAUTHORIZED;
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(denied)?;
    let (scheme, encoded) = value.split_once(' ').ok_or(denied)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(denied);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let decoded = String::from_utf8_lossy(&decoded);
    // Supervisor answers 500 for credentials without a colon; 401 is right.
    let (user, password) = decoded.split_once(':').ok_or(denied)?;
    if password_matches(user, password, expected) {
        Ok(())
    } else {
        Err(denied)
    }
}

/// Plain or `{SHA}`-hashed password, compared in constant time.
fn password_matches(user: &str, password: &str, expected: &(String, String)) -> bool {
    let user_ok = user.as_bytes().ct_eq(expected.0.as_bytes());
    let password_ok = match expected.1.strip_prefix("{SHA}") {
        Some(hex) => {
            use sha1::Digest as _;
            let digest = sha1::Sha1::digest(password.as_bytes());
            let computed: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            computed.as_bytes().ct_eq(hex.as_bytes())
        }
        None => password.as_bytes().ct_eq(expected.1.as_bytes()),
    };
    bool::from(user_ok & password_ok)
}

/// `%XX` decoding of the request path (Medusa decodes before matching).
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
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

async fn handle(State(app): State<App>, request: Request) -> Response {
    if let Some(expected) = &app.credentials
        && let Err(status) = check_auth(request.headers(), expected)
    {
        return if status == StatusCode::UNAUTHORIZED {
            unauthorized()
        } else {
            error(status)
        };
    }
    // Repeated slashes (`http://h:9001//logtail/x`) match like single ones.
    let raw = percent_decode(request.uri().path());
    let mut path = String::with_capacity(raw.len());
    for c in raw.chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    if path.starts_with("/RPC2") {
        return rpc(app, request).await;
    }
    if let Some(rest) = path.strip_prefix("/logtail") {
        return logtail(app, request.method(), rest).await;
    }
    if path.starts_with("/mainlogtail") {
        if request.method() != Method::GET {
            return error(StatusCode::BAD_REQUEST);
        }
        let Some(info) = app.dispatcher.info().await else {
            return error(StatusCode::NOT_FOUND);
        };
        return match info.mainlog.filter(|p| p.exists()) {
            Some(path) => follow(path, false),
            None => error(StatusCode::NOT_FOUND),
        };
    }
    if path == "/ok.html" && matches!(*request.method(), Method::GET | Method::POST) {
        return ([(header::CONTENT_TYPE, "text/plain")], "OK").into_response();
    }
    if let Some(page) = crate::web::Page::from_path(&path) {
        if page == crate::web::Page::Action && request.method() != Method::POST {
            return error(StatusCode::METHOD_NOT_ALLOWED);
        }
        return web(app, page, request).await;
    }
    if path == "/stylesheets/supervisor.css" && request.method() == Method::GET {
        return crate::web::stylesheet();
    }
    if path == crate::web::SCRIPT_PATH && request.method() == Method::GET {
        return crate::web::script(crate::web::SCRIPT);
    }
    if path == crate::web::LOG_SCRIPT_PATH && request.method() == Method::GET {
        return crate::web::script(crate::web::LOG_SCRIPT);
    }
    if path == crate::web::live::EVENTS_PATH {
        if request.method() != Method::GET {
            return error(StatusCode::BAD_REQUEST);
        }
        // Like `/logtail`, the stream is exempt from the request timeouts
        // (they bound reading a request, not writing an answer).
        return crate::web::live::events(app.dispatcher.clone(), app.bus.subscribe());
    }
    error(StatusCode::NOT_FOUND)
}

/// The web page. Supervisor's page answers GET and POST; other methods
/// fall through to its static files (HEAD: not found, the rest: 400).
async fn web(app: App, page: crate::web::Page, request: Request) -> Response {
    match *request.method() {
        Method::GET | Method::POST => {}
        Method::HEAD => return error(StatusCode::NOT_FOUND),
        _ => return error(StatusCode::BAD_REQUEST),
    }
    let (parts, body) = request.into_parts();
    let body = if parts.method == Method::POST {
        let read = tokio::time::timeout(client_timeout(), axum::body::to_bytes(body, MAX_FORM));
        match read.await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) => return error(StatusCode::PAYLOAD_TOO_LARGE),
            Err(_) => return error(StatusCode::REQUEST_TIMEOUT),
        }
    } else {
        Bytes::new()
    };
    crate::web::serve(
        &app.dispatcher,
        page,
        &parts.headers,
        parts.method == Method::POST,
        parts.uri.query(),
        body,
        app.local,
    )
    .await
}

async fn rpc(app: App, request: Request) -> Response {
    if request.method() != Method::POST {
        return error(StatusCode::BAD_REQUEST);
    }
    let Some(length) = request.headers().get(header::CONTENT_LENGTH) else {
        return error(StatusCode::LENGTH_REQUIRED);
    };
    // Refuse an oversized body before reading any of it.
    let declared = length
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        None => return error(StatusCode::BAD_REQUEST),
        Some(n) if n > MAX_BODY as u64 => return error(StatusCode::PAYLOAD_TOO_LARGE),
        Some(_) => {}
    }
    let body = tokio::time::timeout(
        client_timeout(),
        axum::body::to_bytes(request.into_body(), MAX_BODY),
    );
    let body: Bytes = match body.await {
        Ok(Ok(body)) => body,
        Ok(Err(_)) => return error(StatusCode::PAYLOAD_TOO_LARGE),
        Err(_) => return error(StatusCode::REQUEST_TIMEOUT),
    };
    let limits = Limits {
        max_input_bytes: MAX_BODY,
        ..Limits::default()
    };
    let call = match sv_xmlrpc::decode_call(&body, &limits) {
        Ok(call) if !call.name.is_empty() => call,
        _ => return error(StatusCode::BAD_REQUEST),
    };
    let response = app.dispatcher.call(call).await;
    let xml = sv_xmlrpc::encode_response(&response);
    ([(header::CONTENT_TYPE, "text/xml")], xml).into_response()
}

async fn logtail(app: App, method: &Method, rest: &str) -> Response {
    if method != Method::GET {
        return error(StatusCode::BAD_REQUEST);
    }
    let rest = rest.trim_start_matches('/');
    if rest.is_empty() {
        // Supervisor answers 500 here.
        return error(StatusCode::NOT_FOUND);
    }
    let (spec, stderr) = match rest.rsplit_once('/') {
        Some((spec, "stdout")) => (spec, false),
        Some((spec, "stderr")) => (spec, true),
        Some(_) => return error(StatusCode::NOT_FOUND),
        None => (rest, false),
    };
    match app.dispatcher.log_path(spec, stderr).await {
        Ok(Some(path)) if path.exists() => follow(path, true),
        _ => error(StatusCode::NOT_FOUND),
    }
}

/// Stream the end of `path`, then whatever is appended, forever (until the
/// client goes away). A truncated file is announced and followed from its
/// start; a rotated one (a new inode under the name) is reopened.
fn follow(path: PathBuf, accel_buffering: bool) -> Response {
    struct Tail {
        path: PathBuf,
        file: Option<std::fs::File>,
        inode: u64,
        offset: u64,
        started: bool,
    }
    let modified = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .ok()
        .map(httpdate);
    let state = Tail {
        path,
        file: None,
        inode: 0,
        offset: 0,
        started: false,
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        loop {
            let Ok(meta) = std::fs::metadata(&st.path) else {
                tokio::time::sleep(TAIL_POLL).await;
                continue;
            };
            if st.file.is_none() || meta.ino() != st.inode {
                st.file = std::fs::File::open(&st.path).ok();
                st.inode = meta.ino();
                st.offset = if st.started {
                    0
                } else {
                    meta.len().saturating_sub(TAIL_START)
                };
                st.started = true;
            }
            let size = meta.len();
            if size < st.offset {
                st.offset = 0;
                return Some((
                    Ok::<Bytes, std::io::Error>(Bytes::from_static(b"==> File truncated <==\n")),
                    st,
                ));
            }
            if size > st.offset
                && let Some(file) = st.file.as_mut()
            {
                let want = (size - st.offset).min(1 << 20);
                let mut buf = vec![0u8; want as usize];
                let read = file
                    .seek(SeekFrom::Start(st.offset))
                    .and_then(|_| file.read(&mut buf));
                if let Ok(n) = read
                    && n > 0
                {
                    buf.truncate(n);
                    st.offset += n as u64;
                    return Some((Ok(Bytes::from(buf)), st));
                }
            }
            tokio::time::sleep(TAIL_POLL).await;
        }
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    if accel_buffering {
        headers.insert("X-Accel-Buffering", HeaderValue::from_static("no"));
    }
    if let Some(modified) = modified.and_then(|m| HeaderValue::from_str(&m).ok()) {
        headers.insert(header::LAST_MODIFIED, modified);
    }
    response
}

/// An HTTP date (RFC 1123, GMT).
fn httpdate(time: std::time::SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|ts| ts.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_plain_and_sha() {
        let plain = ("user".to_string(), "123".to_string());
        assert!(password_matches("user", "123", &plain));
        assert!(!password_matches("user", "1234", &plain));
        assert!(!password_matches("users", "123", &plain));
        // echo -n 123 | sha1sum
        let sha = (
            "user".to_string(),
            "{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef".to_string(),
        );
        assert!(password_matches("user", "123", &sha));
        assert!(!password_matches(
            "user",
            "{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef",
            &sha
        ));
    }

    #[test]
    fn auth_header_forms() {
        let creds = ("user".to_string(), "pw".to_string());
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            check_auth(&h, &creds)
        };
        let good = base64::engine::general_purpose::STANDARD.encode("user:pw");
        assert_eq!(with(&format!("Basic {good}")), Ok(()));
        assert_eq!(with(&format!("basic {good}")), Ok(()));
        assert_eq!(
            with("Basic dXNlcg=="),
            Err(StatusCode::UNAUTHORIZED),
            "no colon: 401, not 500"
        );
        assert_eq!(with("Basic !!!"), Err(StatusCode::BAD_REQUEST));
        assert_eq!(
            with(&format!("Bearer {good}")),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            check_auth(&HeaderMap::new(), &creds),
            Err(StatusCode::UNAUTHORIZED)
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/logtail/grp%3Aproc"), "/logtail/grp:proc");
        assert_eq!(percent_decode("/a%2"), "/a%2");
        assert_eq!(percent_decode("/plain"), "/plain");
    }
}
