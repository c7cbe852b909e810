//! `Client::live_events` against tiny hand-written servers on 127.0.0.1:
//! events split anywhere across writes, comments and heartbeats skipped,
//! the end of the stream, and a daemon without the stream (404).

use sv_client::{Client, LiveEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server answering one request with `head`, then each of `pieces` in
/// its own write, then closing.
async fn server(head: &'static str, pieces: &'static [&'static str]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        assert!(request.starts_with(b"GET /events HTTP/1.1\r\n"));
        let _ = stream.write_all(head.as_bytes()).await;
        for piece in pieces {
            let _ = stream.write_all(piece.as_bytes()).await;
            let _ = stream.flush().await;
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn events_are_parsed_across_writes_and_the_end_is_seen() {
    let url = server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n",
        &[
            "retry: 3000\n: hello\n\n",
            "event: sta",
            "te\ndata: {\"changes\":[]}\n",
            "\n: heartbeat\n\nevent: resync\ndata: {}\n\n",
            "event: other\r\ndata: x\r\n\r\n",
        ],
    )
    .await;
    let client = Client::new(&url, None, None).expect("client");
    let mut stream = client
        .live_events()
        .await
        .expect("opened")
        .expect("a stream");
    assert_eq!(
        stream.next().await.expect("event"),
        Some(LiveEvent::State("{\"changes\":[]}".into()))
    );
    assert_eq!(stream.next().await.expect("event"), Some(LiveEvent::Resync));
    assert_eq!(
        stream.next().await.expect("event"),
        Some(LiveEvent::Other {
            name: "other".into(),
            data: "x".into()
        })
    );
    assert_eq!(stream.next().await.expect("the end"), None);
}

#[tokio::test]
async fn a_daemon_without_the_stream_says_none() {
    let url = server(
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        &[],
    )
    .await;
    let client = Client::new(&url, None, None).expect("client");
    assert!(client.live_events().await.expect("answered").is_none());
}
