//! The client against tiny hand-written HTTP/1.1 servers on 127.0.0.1 and
//! on a unix socket in a temp dir: connection reuse, reconnecting after the
//! server closed the kept-alive connection, deadlines, basic auth, faults
//! and typed records.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sv_api::{FaultCode, ProcessInfo, ProcessResult, RpcError};
use sv_client::{AnyFaultCode, Client, Error};
use sv_xmlrpc::{Limits, MethodCall, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// What the tiny server does with a connection after answering.
#[derive(Clone, Copy, PartialEq)]
enum After {
    /// Keep it open for the next request.
    KeepAlive,
    /// Close it (no `Connection: close` header: the client learns it only
    /// from the socket).
    Close,
    /// Never answer at all.
    Hang,
    /// Answer the first request of a connection; at the second, close it
    /// unanswered (an idle connection closed just as the client reused it).
    DropSecond,
}

/// Counts what the server saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    requests: Mutex<Vec<String>>,
}

/// The answer for one decoded call.
type Answer = fn(&MethodCall) -> Result<Value, sv_xmlrpc::Fault>;

fn answer_version(call: &MethodCall) -> Result<Value, sv_xmlrpc::Fault> {
    match call.name.as_str() {
        "supervisor.getVersion" | "supervisor.getAPIVersion" => Ok(Value::from("3.0")),
        "supervisor.getProcessInfo" => Err(RpcError::with_detail(
            FaultCode::BadName,
            call.params
                .first()
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        )
        .into()),
        "supervisor.startAllProcesses" => {
            Ok(Value::Array(vec![ProcessResult::ok("a", "g").to_value()]))
        }
        "supervisor.getAllProcessInfo" => Ok(Value::Array(vec![
            ProcessInfo {
                name: "a".into(),
                group: "g".into(),
                state: 20,
                statename: "RUNNING".into(),
                pid: 42,
                ..ProcessInfo::default()
            }
            .to_value(),
        ])),
        "odd.fault" => Err(sv_xmlrpc::Fault {
            code: 999,
            string: "FOREIGN".into(),
        }),
        "odd.shape" => Ok(Value::Int(1)),
        _ => Err(RpcError::new(FaultCode::UnknownMethod).into()),
    }
}

async fn serve_connection<S>(mut stream: S, after: After, answer: Answer, seen: Arc<Seen>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = Vec::new();
    let mut served_here = 0;
    loop {
        // Head, then a body of Content-Length bytes.
        let head_end = loop {
            if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf.drain(..head_end + length).skip(head_end).collect();
        seen.requests.lock().unwrap().push(head.clone());
        if after == After::DropSecond && served_here == 1 {
            return;
        }
        served_here += 1;
        if after == After::Hang {
            std::future::pending::<()>().await;
        }
        let call = sv_xmlrpc::decode_call(&body, &Limits::default()).expect("a method call");
        let reply = sv_xmlrpc::encode_response(&answer(&call));
        let mut response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        )
        .into_bytes();
        response.extend_from_slice(&reply);
        if stream.write_all(&response).await.is_err() {
            return;
        }
        if after == After::Close {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// A server on 127.0.0.1; returns its URL and what it saw.
async fn tcp_server(after: After) -> (String, Arc<Seen>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = Arc::new(Seen::default());
    let counter = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve_connection(
                stream,
                after,
                answer_version,
                Arc::clone(&counter),
            ));
        }
    });
    (url, seen)
}

fn connections(seen: &Seen) -> usize {
    seen.connections.load(Ordering::SeqCst)
}

#[tokio::test]
async fn two_calls_reuse_one_connection() {
    let (url, seen) = tcp_server(After::KeepAlive).await;
    let client = Client::new(&url, None, None).unwrap();
    for _ in 0..3 {
        assert_eq!(client.get_version().await.unwrap(), "3.0");
    }
    // Clones share the pooled connection.
    assert_eq!(client.clone().get_api_version().await.unwrap(), "3.0");
    assert_eq!(connections(&seen), 1);
    assert_eq!(seen.requests.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn reconnects_after_the_server_closed_the_connection() {
    let (url, seen) = tcp_server(After::Close).await;
    let client = Client::new(&url, None, None).unwrap();
    assert_eq!(client.get_version().await.unwrap(), "3.0");
    // Whether the client notices the close before sending or only when
    // the reused connection fails, the call must succeed.
    assert_eq!(client.get_version().await.unwrap(), "3.0");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(client.get_version().await.unwrap(), "3.0");
    assert_eq!(connections(&seen), 3);
}

/// The race no check before sending can close: the server drops the
/// kept-alive connection as the request arrives. The call is made again on
/// a fresh connection, once, as Python's transport does.
#[tokio::test]
async fn resends_once_when_a_reused_connection_dies_unanswered() {
    let (url, seen) = tcp_server(After::DropSecond).await;
    let client = Client::new(&url, None, None).unwrap();
    assert_eq!(client.get_version().await.unwrap(), "3.0");
    assert_eq!(client.get_version().await.unwrap(), "3.0");
    assert_eq!(connections(&seen), 2);
    assert_eq!(seen.requests.lock().unwrap().len(), 3);
}

/// A fresh connection closed unanswered is the server's answer, not a
/// stale pool: it is reported, never resent.
#[tokio::test]
async fn a_fresh_connection_closed_unanswered_is_an_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut chunk = [0u8; 4096];
            let _ = stream.read(&mut chunk).await;
            drop(stream);
        }
    });
    let err = Client::new(&url, None, None)
        .unwrap()
        .get_version()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Http(e) if e.is_incomplete_message()),
        "{err:?}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn deadline_fires_when_the_server_never_answers() {
    let (url, seen) = tcp_server(After::Hang).await;
    let client = Client::new(&url, None, None)
        .unwrap()
        .with_deadline(Some(Duration::from_millis(200)));
    let started = std::time::Instant::now();
    let err = client.get_version().await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(connections(&seen), 1);
}

#[tokio::test]
async fn faults_are_typed_and_foreign_codes_kept() {
    let (url, _seen) = tcp_server(After::KeepAlive).await;
    let client = Client::new(&url, None, None).unwrap();
    let err = client.get_process_info("nosuch").await.unwrap_err();
    let fault = err.fault().expect("a fault");
    assert_eq!(fault.code, AnyFaultCode::Known(FaultCode::BadName));
    assert_eq!(fault.string, "BAD_NAME: nosuch");
    assert!(err.is_fault(FaultCode::BadName));
    let err = client.call("odd.fault", vec![]).await.unwrap_err();
    assert_eq!(err.fault().unwrap().code, AnyFaultCode::Unknown(999));
    // A fault does not spoil the kept-alive connection.
    assert_eq!(client.get_version().await.unwrap(), "3.0");
}

#[tokio::test]
async fn typed_records_and_shape_errors() {
    let (url, _seen) = tcp_server(After::KeepAlive).await;
    let client = Client::new(&url, None, None).unwrap();
    let infos = client.get_all_process_info().await.unwrap();
    assert_eq!(infos.len(), 1);
    assert_eq!((infos[0].name.as_str(), infos[0].pid), ("a", 42));
    let results = client.start_all_processes(true).await.unwrap();
    assert_eq!(results, vec![ProcessResult::ok("a", "g")]);
    assert!(results[0].status_code() == FaultCode::Success);
    let raw = client.call("odd.shape", vec![]).await.unwrap();
    assert_eq!(raw, Value::Int(1));
}

#[tokio::test]
async fn basic_auth_and_request_head() {
    let (url, seen) = tcp_server(After::KeepAlive).await;
    let client = Client::new(&url, Some("u"), Some("p")).unwrap();
    client.get_version().await.unwrap();
    let head = seen.requests.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.starts_with("post /rpc2 http/1.1\r\n"), "{head}");
    assert!(head.contains("authorization: basic dtpw\r\n"), "{head}");
    assert!(head.contains("content-type: text/xml\r\n"), "{head}");
    let port = url.rsplit(':').next().unwrap();
    assert!(
        head.contains(&format!("host: 127.0.0.1:{port}\r\n")),
        "{head}"
    );
}

#[tokio::test]
async fn concurrent_calls_from_many_tasks() {
    fn shareable<T: Clone + Send + Sync + 'static>(_: &T) {}
    let (url, seen) = tcp_server(After::KeepAlive).await;
    let client = Client::new(&url, None, None).unwrap();
    shareable(&client);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_version().await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "3.0");
    }
    assert_eq!(seen.requests.lock().unwrap().len(), 8);
    assert!(connections(&seen) >= 1);
}

#[tokio::test]
async fn unix_socket_transport_and_missing_socket() {
    let dir = std::env::temp_dir().join(format!("sv-client-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = format!("unix://{}/nope.sock", dir.display());
    let err = Client::new(&missing, None, None)
        .unwrap()
        .get_version()
        .await
        .unwrap_err();
    assert_eq!(err.errno(), Some(2), "{err:?}");

    let path = dir.join("s.sock");
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    let seen = Arc::new(Seen::default());
    let counter = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve_connection(
                stream,
                After::KeepAlive,
                answer_version,
                Arc::clone(&counter),
            ));
        }
    });
    let client = Client::new(&format!("unix://{}", path.display()), None, None).unwrap();
    assert_eq!(client.get_version().await.unwrap(), "3.0");
    assert_eq!(client.get_version().await.unwrap(), "3.0");
    assert_eq!(connections(&seen), 1);
    let head = seen.requests.lock().unwrap()[0].to_ascii_lowercase();
    assert!(head.contains("host: localhost\r\n"), "{head}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn refused_port_keeps_its_errno() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = Client::new(&format!("http://127.0.0.1:{port}"), None, None)
        .unwrap()
        .get_version()
        .await
        .unwrap_err();
    assert_eq!(err.errno(), Some(111), "{err:?}");
}
