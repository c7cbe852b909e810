//! The node routes served on 127.0.0.1 with a fake authenticator (the
//! `x-test-user: name:role[:env,env]` header; no header is anonymous) and
//! an activity sink that collects, plus a tiny HTTP/1.1 client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::http::request::Parts;
use futures_util::future::BoxFuture;
use sv_hub::activity::{Activity, ActivitySink};
use sv_hub::api::error::ApiError;
use sv_hub::api::guard::{Authenticator, Principal, Role};
use sv_hub::nodes::Fleet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Reads the caller from `x-test-user`.
pub struct FakeAuth;

impl Authenticator for FakeAuth {
    fn authenticate<'a>(
        &'a self,
        parts: &'a Parts,
        _peer: Option<SocketAddr>,
    ) -> BoxFuture<'a, Result<Option<Principal>, ApiError>> {
        Box::pin(async move {
            let Some(value) = parts.headers.get("x-test-user") else {
                return Ok(None);
            };
            let text = value.to_str().unwrap_or_default();
            let mut fields = text.split(':');
            let username = fields.next().unwrap_or_default().to_string();
            let role = match fields.next().unwrap_or_default() {
                "admin" => Role::Admin,
                "operator" => Role::Operator,
                "viewer" => Role::Viewer,
                _ => Role::Restricted,
            };
            let environments = fields
                .next()
                .map(|envs| envs.split(',').map(str::to_string).collect());
            Ok(Some(Principal {
                username,
                role,
                environments,
            }))
        })
    }
}

/// Keeps every activity entry.
#[derive(Default)]
pub struct Collect(pub Mutex<Vec<Activity>>);

impl ActivitySink for Collect {
    fn record(&self, entry: Activity) -> BoxFuture<'_, ()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(entry);
        Box::pin(async {})
    }
}

impl Collect {
    pub fn messages(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|a| a.message.clone())
            .collect()
    }
}

/// The node routes of `fleet`, served on a free port.
pub struct Hub {
    pub addr: SocketAddr,
    pub activity: Arc<Collect>,
    pub fleet: Fleet,
    task: JoinHandle<()>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
        self.fleet.shutdown();
    }
}

impl Hub {
    pub async fn serve(fleet: Fleet) -> Hub {
        let activity = Arc::new(Collect::default());
        let sink: Arc<dyn ActivitySink> = activity.clone();
        let app = sv_hub::nodes::routes::router(fleet.clone(), Arc::new(FakeAuth), sink);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Hub {
            addr,
            activity,
            fleet,
            task,
        }
    }

    /// `method path` as `user` (`None`: anonymous) with extra headers.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        user: Option<&str>,
        extra: &[(&str, &str)],
    ) -> (u16, String) {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n",
            self.addr
        );
        if let Some(user) = user {
            head.push_str(&format!("x-test-user: {user}\r\n"));
        }
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        stream.write_all(head.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read");
        parse(&raw)
    }

    pub async fn get(&self, path: &str, user: &str) -> (u16, String) {
        self.call("GET", path, Some(user), &[]).await
    }

    pub async fn post(&self, path: &str, user: &str) -> (u16, String) {
        self.call("POST", path, Some(user), &[]).await
    }

    /// Open `path` as a stream and return the text received until
    /// `done(text)` holds (or the deadline passes).
    pub async fn stream_until(
        &self,
        path: &str,
        user: &str,
        deadline: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let mut stream = self.open_stream(path, user).await;
        stream.read_until(deadline, done).await
    }

    /// Open `path` as a stream, read with [`Streaming::read_until`].
    pub async fn open_stream(&self, path: &str, user: &str) -> Streaming {
        let mut stream = TcpStream::connect(self.addr).await.expect("connect");
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nx-test-user: {user}\r\n\r\n",
            self.addr
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        Streaming {
            stream,
            text: String::new(),
        }
    }
}

/// An open streamed answer and everything received so far.
pub struct Streaming {
    stream: TcpStream,
    pub text: String,
}

impl Streaming {
    /// Read until `done(everything received)` holds or `deadline` passes;
    /// everything received so far.
    pub async fn read_until(&mut self, deadline: Duration, done: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + deadline;
        let mut buf = [0u8; 65536];
        while !done(&self.text) && Instant::now() < end {
            let left = end.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.stream.read(&mut buf)).await {
                Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
                Ok(Ok(n)) => self.text.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
        self.text.clone()
    }
}

/// Status and (de-chunked) body of a whole HTTP/1.1 answer.
fn parse(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
        return (status, out);
    }
    (status, body.to_string())
}

/// Poll `cond` until it holds or `deadline` passes.
pub async fn eventually<F, Fut>(deadline: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + deadline;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
