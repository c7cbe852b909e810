//! The [`Client`] handle and its transport: one kept-alive HTTP/1.1
//! connection pooled per client, per-call deadlines, basic auth, and the
//! raw `call` every typed method goes through, plus the streamed `GET` used
//! by `tail -f`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use sv_xmlrpc::{Limits, MethodCall, Value};

use crate::{Endpoint, Error};

/// A client for one daemon. Cheap to clone (clones share the pooled
/// connection), `Send + Sync`, and safe to call from many tasks at once:
/// a call that finds the pooled connection busy opens its own.
#[derive(Debug, Clone)]
pub struct Client {
    shared: Arc<Shared>,
    /// Bound for connecting plus the whole answer of one call (for a
    /// stream: until its head arrives). `None`: wait forever, as
    /// supervisorctl does.
    deadline: Option<Duration>,
}

#[derive(Debug)]
struct Shared {
    url: String,
    endpoint: Endpoint,
    /// The whole `Authorization` header value, computed once.
    authorization: Option<String>,
    limits: Limits,
    /// The idle connection left by the last call that completed cleanly.
    /// One is enough: supervisorctl calls one at a time, and the hub's
    /// concurrent calls to one node are rare and may open their own. The
    /// lock is never held across an `.await`.
    idle: Mutex<Option<SendRequest<Full<Bytes>>>>,
}

impl Client {
    /// A client for `url` with optional basic-auth credentials. As
    /// Supervisor does, credentials are only sent when a username is set.
    pub fn new(url: &str, username: Option<&str>, password: Option<&str>) -> Result<Client, Error> {
        let endpoint = Endpoint::parse(url)?;
        let authorization = username.map(|user| {
            let token = format!("{user}:{}", password.unwrap_or(""));
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(token)
            )
        });
        Ok(Client {
            shared: Arc::new(Shared {
                url: url.to_string(),
                endpoint,
                authorization,
                limits: Limits {
                    // Log reads (`readLog(0, 0)`) may be big.
                    max_string_bytes: 1 << 30,
                    max_input_bytes: 1 << 30,
                    max_elements: 50_000_000,
                    ..Limits::default()
                },
                idle: Mutex::new(None),
            }),
            deadline: None,
        })
    }

    /// This client with every call (connect + answer) bounded by
    /// `deadline`; the pooled connection stays shared with `self`.
    pub fn with_deadline(&self, deadline: Option<Duration>) -> Client {
        Client {
            shared: Arc::clone(&self.shared),
            deadline,
        }
    }

    /// The server URL this client talks to.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// Call `method(params…)` and return its raw result; a fault comes
    /// back as [`Error::Fault`]. The typed methods are built on this.
    pub async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, Error> {
        self.call_method(&MethodCall {
            name: method.to_string(),
            params,
        })
        .await
    }

    /// As [`call`](Self::call), for an already built call.
    pub async fn call_method(&self, call: &MethodCall) -> Result<Value, Error> {
        let body = Bytes::from(sv_xmlrpc::encode_call(call));
        self.bounded(self.post_rpc(body)).await
    }

    /// `GET path` (e.g. `/logtail/cat/stdout`) on a connection of its own,
    /// returning the status, its reason phrase and the body as a stream,
    /// for `tail -f`.
    pub async fn get_stream(&self, path: &str) -> Result<(u16, String, Incoming), Error> {
        self.bounded(async {
            let mut sender = self.connect().await?;
            let response = sender
                .send_request(self.http_request("GET", path, None)?)
                .await?;
            let (status, reason) = status_of(&response);
            // The stream keeps its connection: `sender` may go, the
            // connection task lives on until the body ends.
            Ok((status.as_u16(), reason, response.into_body()))
        })
        .await
    }

    async fn bounded<T>(&self, work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match self.deadline {
            Some(limit) => tokio::time::timeout(limit, work)
                .await
                .map_err(|_| Error::Timeout)?,
            None => work.await,
        }
    }

    /// POST to `/RPC2` on the pooled connection when there is one, else on
    /// a fresh one. A pooled connection the server closed meanwhile is
    /// retried once on a fresh connection; errors on a fresh connection
    /// surface as they are, so "refused" or "no such file" reach the call
    /// that caused them.
    async fn post_rpc(&self, body: Bytes) -> Result<Value, Error> {
        if let Some(sender) = self.take_idle().await {
            match self.exchange(sender, body.clone()).await {
                Err(e) if e.is_stale_connection() => {}
                other => return other,
            }
        }
        let sender = self.connect().await?;
        self.exchange(sender, body).await
    }

    async fn exchange(
        &self,
        mut sender: SendRequest<Full<Bytes>>,
        body: Bytes,
    ) -> Result<Value, Error> {
        let response = sender
            .send_request(self.http_request("POST", "/RPC2", Some(body))?)
            .await?;
        let (status, reason) = status_of(&response);
        if status != StatusCode::OK {
            // The unread body makes the connection unusable: it goes.
            return Err(Error::Status {
                status: status.as_u16(),
                reason,
            });
        }
        let bytes = response.into_body().collect().await?.to_bytes();
        self.put_idle(sender);
        match sv_xmlrpc::decode_response(&bytes, &self.shared.limits)? {
            Ok(value) => Ok(value),
            Err(fault) => Err(Error::Fault(fault.into())),
        }
    }

    /// The pooled connection if it is still open and ready for a request.
    async fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut sender = self
            .shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        if sender.is_closed() {
            return None;
        }
        sender.ready().await.ok()?;
        Some(sender)
    }

    fn put_idle(&self, sender: SendRequest<Full<Bytes>>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self
            .shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if idle.is_none() {
            *idle = Some(sender);
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, Error> {
        match &self.shared.endpoint {
            Endpoint::Unix(path) => handshake(tokio::net::UnixStream::connect(path).await?).await,
            Endpoint::Tcp { host, port } => {
                let stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                // Requests are one write each; Nagle would only delay them.
                let _ = stream.set_nodelay(true);
                handshake(stream).await
            }
        }
    }

    fn http_request(
        &self,
        method: &str,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Request<Full<Bytes>>, Error> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("Host", self.shared.endpoint.host_header())
            .header("Accept", "*/*");
        if let Some(auth) = &self.shared.authorization {
            builder = builder.header("Authorization", auth.as_str());
        }
        if body.is_some() {
            builder = builder.header("Content-Type", "text/xml");
        }
        builder
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| Error::Io(std::io::Error::other(e)))
    }
}

/// The status and its reason phrase as the server sent it (Python's
/// `ProtocolError` shows the server's words, not the canonical ones).
fn status_of(response: &hyper::Response<Incoming>) -> (StatusCode, String) {
    let status = response.status();
    let reason = response
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .or_else(|| status.canonical_reason().map(str::to_string))
        .unwrap_or_default();
    (status, reason)
}

async fn handshake<S>(stream: S) -> Result<SendRequest<Full<Bytes>>, Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // The connection task ends when its `SendRequest` is dropped with no
    // exchange in flight, or when the peer goes.
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Read the next chunk of a streamed body; `Ok(None)` at its end.
pub async fn next_chunk(body: &mut Incoming) -> Result<Option<Bytes>, Error> {
    loop {
        match body.frame().await {
            None => return Ok(None),
            Some(Err(e)) => return Err(Error::Http(e)),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}
