//! Async XML-RPC client for supervisord over `unix://` and `http://` server
//! URLs (basic auth, timeouts, streaming `tail -f`), shared by
//! `supervisorctl` and the hub.
//!
//! One HTTP/1.1 connection per request (`hyper::client::conn::http1`), as
//! Supervisor's own transport does in effect: supervisord closes idle
//! connections, and a fresh connection makes every error (refused, socket
//! missing, permission denied) surface at the call that caused it, which is
//! what supervisorctl reports.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use sv_xmlrpc::{Fault, Limits, MethodCall, Value};

/// Where the daemon listens, parsed from a server URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `unix:///path/to/socket`.
    Unix(PathBuf),
    /// `http://host[:port]` (port 80 when absent, as Python's `http.client`).
    Tcp { host: String, port: u16 },
}

impl Endpoint {
    /// Parse `unix://…` or `http://…`; any path of an http URL is ignored
    /// (XML-RPC always goes to `/RPC2`), as Supervisor does.
    pub fn parse(url: &str) -> Result<Endpoint, Error> {
        if let Some(path) = url.strip_prefix("unix://") {
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(Error::BadUrl(url.to_string()));
        };
        let authority = rest.split('/').next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse::<u16>() {
                Ok(port) => (h, port),
                Err(_) if p.is_empty() => (h, 80),
                Err(_) => return Err(Error::BadUrl(url.to_string())),
            },
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(Error::BadUrl(url.to_string()));
        }
        Ok(Endpoint::Tcp {
            host: host.to_string(),
            port,
        })
    }
}

/// Everything a call can fail with. Socket errors keep their `io::Error`
/// so callers can tell "refused" and "no such file" (which supervisorctl
/// reports specially) from the rest.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("url must be http:// or unix://: {0}")]
    BadUrl(String),
    /// Connecting or talking to the socket failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The HTTP exchange itself failed (malformed answer, closed early).
    #[error("{0}")]
    Http(#[from] hyper::Error),
    /// A status other than 200.
    #[error("{status} {reason}")]
    Status { status: u16, reason: String },
    /// The answer was not a valid `<methodResponse>`.
    #[error("{0}")]
    Decode(#[from] sv_xmlrpc::DecodeError),
    /// The daemon answered with a fault.
    #[error("{0}")]
    Fault(Fault),
    /// No answer within the configured timeout.
    #[error("timed out")]
    Timeout,
}

impl Error {
    /// The OS error number of a socket error, if that is what this is.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Io(e) => e.raw_os_error(),
            _ => None,
        }
    }

    /// The fault, if the daemon answered with one.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Error::Fault(f) => Some(f),
            _ => None,
        }
    }
}

/// A client for one daemon. Cheap to clone; holds no connection.
#[derive(Debug, Clone)]
pub struct Client {
    url: String,
    endpoint: Endpoint,
    authorization: Option<String>,
    /// Bound for connecting plus the whole answer of one call (not for
    /// streams). `None`: wait forever, as supervisorctl does.
    timeout: Option<Duration>,
    limits: Limits,
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
            url: url.to_string(),
            endpoint,
            authorization,
            timeout: None,
            limits: Limits {
                // Log reads (`readLog(0, 0)`) may be big.
                max_string_bytes: 1 << 30,
                max_input_bytes: 1 << 30,
                max_elements: 50_000_000,
                ..Limits::default()
            },
        })
    }

    /// Bound every call (connect + answer) by `timeout`.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Client {
        self.timeout = timeout;
        self
    }

    /// The server URL this client talks to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Call `method(params…)`; a fault comes back as [`Error::Fault`].
    pub async fn call(&self, method: &str, params: Vec<Value>) -> Result<Value, Error> {
        let call = MethodCall {
            name: method.to_string(),
            params,
        };
        let body = sv_xmlrpc::encode_call(&call);
        let work = async {
            let (status, reason, incoming) = self.send("POST", "/RPC2", Some(body)).await?;
            if status != StatusCode::OK {
                return Err(Error::Status {
                    status: status.as_u16(),
                    reason,
                });
            }
            let bytes = incoming.collect().await?.to_bytes();
            match sv_xmlrpc::decode_response(&bytes, &self.limits)? {
                Ok(value) => Ok(value),
                Err(fault) => Err(Error::Fault(fault)),
            }
        };
        match self.timeout {
            Some(t) => tokio::time::timeout(t, work)
                .await
                .map_err(|_| Error::Timeout)?,
            None => work.await,
        }
    }

    /// `GET path` (e.g. `/logtail/cat/stdout`), returning the status, its
    /// reason phrase and the body as a stream, for `tail -f`.
    pub async fn get_stream(&self, path: &str) -> Result<(u16, String, Incoming), Error> {
        let (status, reason, body) = self.send("GET", path, None).await?;
        Ok((status.as_u16(), reason, body))
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, String, Incoming), Error> {
        let host = match &self.endpoint {
            Endpoint::Unix(_) => "localhost".to_string(),
            Endpoint::Tcp { host, port } => format!("{host}:{port}"),
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("Host", host)
            .header("Accept", "*/*");
        if let Some(auth) = &self.authorization {
            builder = builder.header("Authorization", auth.as_str());
        }
        if body.is_some() {
            builder = builder.header("Content-Type", "text/xml");
        }
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| Error::Io(io::Error::other(e)))?;
        let mut sender = match &self.endpoint {
            Endpoint::Unix(p) => {
                let stream = tokio::net::UnixStream::connect(p).await?;
                handshake(stream).await?
            }
            Endpoint::Tcp { host, port } => {
                let stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                let _ = stream.set_nodelay(true);
                handshake(stream).await?
            }
        };
        let response = sender.send_request(request).await?;
        let status = response.status();
        let reason = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .or_else(|| status.canonical_reason().map(str::to_string))
            .unwrap_or_default();
        Ok((status, reason, response.into_body()))
    }
}

async fn handshake<S>(
    stream: S,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // The connection task ends when the exchange is done or the peer goes.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_urls() {
        assert_eq!(
            Endpoint::parse("unix:///tmp/s.sock").ok(),
            Some(Endpoint::Unix(PathBuf::from("/tmp/s.sock")))
        );
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:9001").ok(),
            Some(Endpoint::Tcp {
                host: "127.0.0.1".into(),
                port: 9001
            })
        );
        assert_eq!(
            Endpoint::parse("http://localhost/RPC2").ok(),
            Some(Endpoint::Tcp {
                host: "localhost".into(),
                port: 80
            })
        );
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://h:notaport").is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn refused_and_missing_keep_their_errno() {
        let dir = std::env::temp_dir().join(format!("svc-{}", std::process::id()));
        let missing = format!("unix://{}/nope.sock", dir.display());
        let err = Client::new(&missing, None, None)
            .unwrap()
            .call("supervisor.getVersion", vec![])
            .await
            .unwrap_err();
        assert_eq!(err.errno(), Some(libc_enoent()));
    }

    fn libc_enoent() -> i32 {
        2
    }

    #[tokio::test(flavor = "current_thread")]
    async fn round_trip_against_a_tiny_server() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            while !got
                .windows(11)
                .any(|w| w == b"</methodCall>"[..11].as_ref())
            {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let body = "<?xml version='1.0'?><methodResponse><params><param><value><string>3.0</string></value></param></params></methodResponse>";
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/xml\r\n\r\n{body}",
                body.len()
            );
            s.write_all(reply.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&got).into_owned()
        });
        let client = Client::new(&format!("http://127.0.0.1:{port}"), Some("u"), Some("p"))
            .unwrap()
            .with_timeout(Some(Duration::from_secs(10)));
        let v = client.call("supervisor.getVersion", vec![]).await.unwrap();
        assert_eq!(v.as_str(), Some("3.0"));
        let request = server.await.unwrap();
        assert!(request.starts_with("POST /RPC2 HTTP/1.1"));
        assert!(
            request.contains("authorization: Basic dTpw")
                || request.contains("Authorization: Basic dTpw")
        );
    }
}
