//! The accept loops: each bound server served on the actor's runtime, one
//! task per connection, with a header-read timeout that `axum::serve`
//! cannot set (a few silent connections must not hold descriptors forever,
//! as they can in Supervisor).
//!
//! Each server holds at most [`max_connections`] connections open at once
//! (streams included: a `/logtail` or `/events` stream holds its
//! connection); one past the cap is closed as soon as it is accepted, so
//! idle connections can neither exhaust the daemon's descriptors nor lock
//! out the other server, spawning or log files. A WARN line says so, at
//! most once a minute per server.
//!
//! Each request carries its connection's [`Peer`] (an extension), for the
//! failed-authentication limit.
//!
//! Each accept loop also holds a small reserve of descriptors, given back
//! when an accept fails for want of one: when child log files or pipes
//! have used every descriptor, a client can still connect (and, say, stop
//! what holds them).
//!
//! What a request gets is `super::handle`'s business.
//!
//! When the daemon stops, [`Drain`] lets every answer already under way
//! reach its client before the runtime goes away — `supervisor.shutdown`
//! is answered although the daemon exits right after, as in Supervisor —
//! while idle kept-alive connections are closed and no new ones accepted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::rpc::Dispatcher;
use crate::supervisor::Bus;

use super::peer::Peer;
use super::{App, Bound, Server};

/// How long a client may take to send a request's headers — counted from
/// the connection's start or the previous response, so it is also the
/// keep-alive idle limit — and then its body. Supervisor has none, so a few
/// silent connections can hold its descriptors forever.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Open connections per server unless `SV_HTTP_MAX_CONNECTIONS` says
/// otherwise; lowered further by the descriptor limit (see
/// [`max_connections`]).
const MAX_CONNECTIONS: usize = 512;

/// The least time between two "at the cap" warnings of one server.
const CAP_WARNING_EVERY: Duration = Duration::from_secs(60);

/// How long a stopping daemon waits for answers under way. Streams
/// (`/logtail`, `/events`) never finish by themselves; this bounds them.
const DRAIN_WAIT: Duration = Duration::from_secs(1);

/// Every accept loop and connection task of the daemon's servers, so they
/// can be told to stop and waited for (mini-redis's shutdown pattern: each
/// task holds a clone of one `mpsc::Sender`; when the last is dropped, all
/// have ended).
pub struct Drain {
    stop: watch::Sender<bool>,
    running: Option<Running>,
    ended: mpsc::Receiver<()>,
}

/// What each accept loop and connection task holds while it runs.
#[derive(Clone)]
struct Running {
    stop: watch::Receiver<bool>,
    _alive: mpsc::Sender<()>,
}

impl Running {
    /// Resolves once the daemon stops (or the [`Drain`] is gone).
    async fn stopping(&mut self) {
        let _ = self.stop.wait_for(|stop| *stop).await;
    }
}

impl Default for Drain {
    fn default() -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let (alive, ended) = mpsc::channel(1);
        Drain {
            stop,
            running: Some(Running {
                stop: stop_rx,
                _alive: alive,
            }),
            ended,
        }
    }
}

impl Drain {
    /// Stop accepting, close idle connections, and wait (at most
    /// [`DRAIN_WAIT`]) for the answers under way to be written. Nothing
    /// happens until the future is polled; a second call returns at once.
    pub async fn finish(&mut self) {
        if self.running.is_none() {
            // Finished already (the actor drained on shutdown): a stream
            // still open is not waited for twice.
            return;
        }
        let _ = self.stop.send(true);
        self.running = None;
        // `recv` gives `None` once every task's sender is dropped.
        let _ = tokio::time::timeout(DRAIN_WAIT, self.ended.recv()).await;
    }

    fn running(&self) -> Option<Running> {
        self.running.clone()
    }
}

/// Serve `server` until `drain` is finished.
pub fn spawn(
    server: &Server,
    dispatcher: Dispatcher,
    bus: Bus,
    drain: &Drain,
) -> std::io::Result<()> {
    let port = match &server.bound {
        Bound::Tcp(listener) => listener.local_addr().ok().map(|a| a.port()),
        Bound::Unix(..) => None,
    };
    let cap = max_connections(server.max_connections, nofile_limit());
    let at_cap = AtCap {
        dispatcher: dispatcher.clone(),
        section: server.section.clone(),
        cap,
        warned: None,
    };
    let app = App {
        dispatcher,
        credentials: server.credentials.clone(),
        local: crate::web::Local { port },
        bus,
        auth_failures: Arc::default(),
    };
    let router = router(app);
    let serving = Serving {
        router,
        timeout: client_timeout(),
        // One permit per open connection, held by its task until it ends.
        slots: Arc::new(Semaphore::new(cap)),
        at_cap,
    };
    let Some(running) = drain.running() else {
        return Err(std::io::Error::other("the daemon is stopping"));
    };
    // Taken now, before the actor opens any log file or pipe.
    let mut reserve = Reserve::default();
    reserve.refill();
    match &server.bound {
        Bound::Unix(listener, _) => {
            let listener = listener.try_clone()?;
            listener.set_nonblocking(true)?;
            let listener = tokio::net::UnixListener::from_std(listener)?;
            tokio::spawn(accept_loop(listener, serving, running, reserve));
        }
        Bound::Tcp(listener) => {
            let listener = listener.try_clone()?;
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            tokio::spawn(accept_loop(listener, serving, running, reserve));
        }
    }
    Ok(())
}

/// What one server's accept loop serves connections with.
struct Serving {
    router: axum::Router,
    timeout: Duration,
    slots: Arc<Semaphore>,
    at_cap: AtCap,
}

/// The throttled warning of a server refusing connections at its cap.
struct AtCap {
    dispatcher: Dispatcher,
    section: String,
    cap: usize,
    warned: Option<Instant>,
}

impl AtCap {
    /// A connection was refused at `now`: warn, unless warned within
    /// [`CAP_WARNING_EVERY`].
    fn refused(&mut self, now: Instant) {
        if self
            .warned
            .is_some_and(|t| now.saturating_duration_since(t) < CAP_WARNING_EVERY)
        {
            return;
        }
        self.warned = Some(now);
        self.dispatcher.warn(format!(
            "Server '{}' is at its max_connections of {}; closing new connections at once (warned at most once a minute)",
            self.section, self.cap
        ));
    }
}

/// Serve one already-open connection to its end, as an accepted one is
/// served (same routing, auth, limits and header timeout) but with no
/// listening socket, drain or cap: the fuzz harness drives the whole HTTP
/// request path — head parsing, body framing, routing — over an in-memory
/// stream with it, since hyper parses the head inside the connection.
pub async fn serve_stream<S>(
    stream: S,
    dispatcher: Dispatcher,
    bus: Bus,
    credentials: Option<(String, String)>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let app = App {
        dispatcher,
        credentials,
        local: crate::web::Local { port: None },
        bus,
        auth_failures: Arc::default(),
    };
    // No socket, so no peer to name: counted as a unix peer whose
    // credentials could not be read.
    let _ = connection(stream, Peer::Unknown, router(app), client_timeout()).await;
}

/// Every request of a server goes to `super::handle`.
fn router(app: App) -> axum::Router {
    axum::Router::new().fallback(super::handle).with_state(app)
}

/// hyper's HTTP/1 connection over `stream`, with the header-read timeout
/// that `axum::serve` cannot set; every request carries the connection's
/// `peer` (an extension) for the failed-authentication limit.
fn connection<S>(
    stream: S,
    peer: Peer,
    router: axum::Router,
    timeout: Duration,
) -> hyper::server::conn::http1::Connection<hyper_util::rt::TokioIo<S>, WithPeer>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = WithPeer {
        router: hyper_util::service::TowerToHyperService::new(router),
        peer,
    };
    hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeout)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
}

/// The router as hyper's service, putting the connection's [`Peer`] on
/// every request.
#[derive(Clone)]
struct WithPeer {
    router: hyper_util::service::TowerToHyperService<axum::Router>,
    peer: Peer,
}

type RouterService = hyper_util::service::TowerToHyperService<axum::Router>;
type Incoming = hyper::Request<hyper::body::Incoming>;

impl hyper::service::Service<Incoming> for WithPeer {
    type Response = <RouterService as hyper::service::Service<Incoming>>::Response;
    type Error = <RouterService as hyper::service::Service<Incoming>>::Error;
    type Future = <RouterService as hyper::service::Service<Incoming>>::Future;

    fn call(&self, mut request: Incoming) -> Self::Future {
        request.extensions_mut().insert(self.peer);
        self.router.call(request)
    }
}

/// A listening socket the accept loop takes connections from.
trait Accept: Send + 'static {
    /// One accepted connection.
    type Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static;

    /// The next connection, set up for serving, and who is on its other end.
    fn next(
        &self,
    ) -> impl std::future::Future<Output = std::io::Result<(Self::Stream, Peer)>> + Send;
}

impl Accept for tokio::net::UnixListener {
    type Stream = tokio::net::UnixStream;

    async fn next(&self) -> std::io::Result<(Self::Stream, Peer)> {
        let (stream, _) = self.accept().await?;
        let peer = Peer::of_unix(&stream);
        Ok((stream, peer))
    }
}

impl Accept for tokio::net::TcpListener {
    type Stream = tokio::net::TcpStream;

    async fn next(&self) -> std::io::Result<(Self::Stream, Peer)> {
        let (stream, address) = self.accept().await?;
        // Supervisor lacks TCP_NODELAY, which halves its RPC rate over TCP.
        let _ = stream.set_nodelay(true);
        Ok((stream, Peer::Ip(address.ip())))
    }
}

/// Accept connections until the daemon stops, each served on its own task
/// while it holds one of the slots; one past the cap is dropped, so closed
/// at once.
async fn accept_loop(
    listener: impl Accept,
    mut serving: Serving,
    mut running: Running,
    mut reserve: Reserve,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.next() => accepted,
            () = running.stopping() => return,
        };
        match accepted {
            Ok((stream, peer)) => {
                reserve.refill();
                let Ok(slot) = serving.slots.clone().try_acquire_owned() else {
                    serving.at_cap.refused(Instant::now());
                    continue;
                };
                let router = serving.router.clone();
                serve_connection(stream, peer, router, serving.timeout, running.clone(), slot);
            }
            // Out of descriptors: give back the reserve and accept again at
            // once (nothing else runs on this thread in between).
            Err(e) if Reserve::is_exhaustion(&e) && reserve.release() => {}
            Err(_) => accept_backoff().await,
        }
    }
}

/// Descriptors held back for the moment the daemon has none left (child
/// log files or pipes took them all): released so the accept loop can still
/// take a connection — local control keeps working, and a client can stop
/// what uses them — and taken back at the next accepted connection.
#[derive(Default)]
struct Reserve(Vec<std::fs::File>);

impl Reserve {
    /// How many descriptors each accept loop holds back: one for the
    /// connection, a few for what its call may open (a log to read).
    const SIZE: usize = 4;

    /// Take back what is missing, as far as descriptors allow.
    fn refill(&mut self) {
        while self.0.len() < Self::SIZE {
            // Opened close-on-exec: children never inherit them.
            match std::fs::File::open("/dev/null") {
                Ok(file) => self.0.push(file),
                Err(_) => break,
            }
        }
    }

    /// Close the reserve; whether there was anything to close.
    fn release(&mut self) -> bool {
        let had = !self.0.is_empty();
        self.0.clear();
        had
    }

    fn is_exhaustion(e: &std::io::Error) -> bool {
        matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
    }
}

/// [`CLIENT_TIMEOUT`], or `SV_HTTP_CLIENT_TIMEOUT_MS` from the environment
/// (so tests need not wait 30 s to see a slow client dropped).
pub(super) fn client_timeout() -> Duration {
    std::env::var("SV_HTTP_CLIENT_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(CLIENT_TIMEOUT, Duration::from_millis)
}

/// How many connections one server keeps open: its `max_connections`, else
/// `SV_HTTP_MAX_CONNECTIONS` from the environment, else
/// [`MAX_CONNECTIONS`]; but never more than a quarter of the descriptor
/// limit `nofile`. With two servers at most half
/// the descriptors go to clients; the rest stay for children's pipes, log
/// files and the other server, so a flood on the inet port cannot stop
/// local control through the unix socket or make spawns fail.
fn max_connections(configured: Option<usize>, nofile: u64) -> usize {
    let wanted = configured.unwrap_or_else(|| {
        std::env::var("SV_HTTP_MAX_CONNECTIONS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(MAX_CONNECTIONS)
    });
    cap(wanted, nofile)
}

/// `wanted`, at most a quarter of `nofile`, at least 1.
fn cap(wanted: usize, nofile: u64) -> usize {
    let quarter = usize::try_from(nofile / 4).unwrap_or(usize::MAX);
    wanted.min(quarter).max(1)
}

/// The daemon's soft descriptor limit (already raised by `minfds` and to
/// the hard limit at boot); 1024 if it cannot be read.
fn nofile_limit() -> u64 {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(1024, |(soft, _)| soft)
}

/// Out of descriptors (or another transient accept error): wait a little
/// rather than spin; connections already open keep being served.
async fn accept_backoff() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// One HTTP/1 connection on its own task, holding its `slot` of the
/// server's cap, with the header-read timeout that `axum::serve` cannot
/// set; each request carries `peer`. When the daemon stops, the connection
/// finishes the answer it is writing and then closes.
fn serve_connection<S>(
    stream: S,
    peer: Peer,
    router: axum::Router,
    timeout: Duration,
    mut running: Running,
    slot: OwnedSemaphorePermit,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        // Given back when the connection ends, however it ends.
        let _slot = slot;
        let connection = connection(stream, peer, router, timeout);
        let mut connection = std::pin::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => return,
            () = running.stopping() => {}
        }
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_cap_wins_over_the_environment_and_is_capped() {
        assert_eq!(max_connections(Some(7), 1 << 20), 7);
        assert_eq!(max_connections(Some(100_000), 1024), 256);
    }

    #[test]
    fn the_cap_leaves_three_quarters_of_the_descriptors() {
        assert_eq!(cap(MAX_CONNECTIONS, 1024), 256);
        assert_eq!(cap(MAX_CONNECTIONS, 128), 32);
        assert_eq!(cap(MAX_CONNECTIONS, 1 << 20), MAX_CONNECTIONS);
        assert_eq!(cap(3, 1024), 3, "configured below the quarter");
        assert_eq!(cap(MAX_CONNECTIONS, 2), 1, "never zero");
        assert_eq!(cap(0, 1024), 1, "never zero");
    }
}
