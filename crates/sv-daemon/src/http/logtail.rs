//! The `tail -f` streams of `supervisorctl tail -f` and `maintail -f`:
//! `GET /logtail/<namespec>[/stdout|/stderr]` and `GET /mainlogtail`.
//!
//! Each answer is the last [`TAIL_START`] bytes of the log, then whatever is
//! appended, for as long as the client stays; a clear is announced with
//! Supervisor's `==> File truncated <==` line, a rotation is followed into
//! the new file silently. The file watching itself is the shared
//! [`Follower`]; this module owns only the routes and the raw wire format.

use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::follow::{Event, Follower, Start, Waited};
use crate::rpc::Dispatcher;

/// How much of a log `/logtail` sends before following it.
const TAIL_START: u64 = 1024;
/// The most bytes one chunk of the stream carries.
const MAX_CHUNK: usize = 1 << 20;
/// What a clear looks like in the stream (Supervisor's words).
const TRUNCATED: &[u8] = b"==> File truncated <==\n";

/// `/logtail<rest>`: a process's stdout (the default) or stderr log.
pub(super) async fn process_log(dispatcher: &Dispatcher, method: &Method, rest: &str) -> Response {
    if method != Method::GET {
        return super::error(StatusCode::BAD_REQUEST);
    }
    let rest = rest.trim_start_matches('/');
    if rest.is_empty() {
        // Supervisor answers 500 here.
        return super::error(StatusCode::NOT_FOUND);
    }
    let (spec, stderr) = match rest.rsplit_once('/') {
        Some((spec, "stdout")) => (spec, false),
        Some((spec, "stderr")) => (spec, true),
        Some(_) => return super::error(StatusCode::NOT_FOUND),
        None => (rest, false),
    };
    match dispatcher.log_path(spec, stderr).await {
        Ok(Some(path)) if path.exists() => stream(path, true),
        _ => super::error(StatusCode::NOT_FOUND),
    }
}

/// `/mainlogtail`: supervisord's own log.
pub(super) async fn main_log(dispatcher: &Dispatcher, method: &Method) -> Response {
    if method != Method::GET {
        return super::error(StatusCode::BAD_REQUEST);
    }
    let Some(info) = dispatcher.info().await else {
        return super::error(StatusCode::NOT_FOUND);
    };
    match info.mainlog.filter(|p| p.exists()) {
        Some(path) => stream(path, false),
        None => super::error(StatusCode::NOT_FOUND),
    }
}

/// Stream the end of `path`, then whatever is appended, until the client
/// goes away.
fn stream(path: PathBuf, accel_buffering: bool) -> Response {
    let modified = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .ok()
        .map(httpdate);
    let follower = Follower::new(path, Start::LastBytes(TAIL_START), MAX_CHUNK);
    let stream = futures_util::stream::unfold(follower, |mut follower| async move {
        loop {
            let (back, waited) = follower.next(None).await?;
            follower = back;
            let chunk = match waited {
                Waited::Event(Event::Data(bytes)) => bytes,
                Waited::Event(Event::Truncated) => Bytes::from_static(TRUNCATED),
                // The new file follows at once, from its start.
                Waited::Event(Event::Rotated) | Waited::Idle => continue,
            };
            return Some((Ok::<Bytes, std::io::Error>(chunk), follower));
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

    /// The next chunk of a streamed answer.
    async fn next_chunk(body: &mut axum::body::BodyDataStream) -> Bytes {
        use futures_util::StreamExt as _;
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), body.next());
        next.await
            .expect("a chunk within 5 s")
            .expect("the stream goes on")
            .expect("no error")
    }

    #[tokio::test]
    async fn the_end_then_growth_then_a_clear_then_a_rotation() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let mut content = vec![b'a'; 2000];
        content.extend_from_slice(b"END\n");
        std::fs::write(&path, &content).unwrap();
        let response = stream(path.clone(), true);
        assert_eq!(response.headers()["x-accel-buffering"], "no");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/plain;charset=utf-8"
        );
        let mut body = response.into_body().into_data_stream();
        let first = next_chunk(&mut body).await;
        assert_eq!(first.len(), TAIL_START as usize, "the last 1024 bytes");
        assert!(first.ends_with(b"END\n"));
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"more\n")
            .unwrap();
        assert_eq!(next_chunk(&mut body).await, "more\n");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(next_chunk(&mut body).await, TRUNCATED);
        // Rotated: the old file's last words, then the new file, no notice.
        let mut old = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        old.write_all(b"last\n").unwrap();
        std::fs::rename(&path, dir.path().join("x.log.1")).unwrap();
        std::fs::write(&path, b"new\n").unwrap();
        let mut rest = next_chunk(&mut body).await.to_vec();
        while rest.len() < b"last\nnew\n".len() {
            rest.extend_from_slice(&next_chunk(&mut body).await);
        }
        assert_eq!(rest, b"last\nnew\n");
    }

    #[test]
    fn http_dates_are_rfc_1123() {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
        assert_eq!(httpdate(time), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
