//! The accept loops: each bound server served on the actor's runtime, one
//! task per connection, with a header-read timeout that `axum::serve`
//! cannot set (a few silent connections must not hold descriptors forever,
//! as they can in Supervisor).
//!
//! What a request gets is `super::handle`'s business.

use std::time::Duration;

use crate::rpc::Dispatcher;
use crate::supervisor::Bus;

use super::{App, Bound, Server};

/// How long a client may take to send a request's headers — counted from
/// the connection's start or the previous response, so it is also the
/// keep-alive idle limit — and then its body. Supervisor has none, so a few
/// silent connections can hold its descriptors forever.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

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
    let router = axum::Router::new().fallback(super::handle).with_state(app);
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
pub(super) fn client_timeout() -> Duration {
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
