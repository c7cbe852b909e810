//! Where the daemon listens: a server URL (`unix:///path` or
//! `http://host[:port]`) parsed the way Supervisor reads it.

use std::path::PathBuf;

use crate::Error;

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

    /// The `Host` header: Python's transport sends `localhost` for a unix
    /// socket, and `host:port` otherwise.
    pub(crate) fn host_header(&self) -> String {
        match self {
            Endpoint::Unix(_) => "localhost".to_string(),
            Endpoint::Tcp { host, port } => format!("{host}:{port}"),
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
        assert_eq!(
            Endpoint::parse("http://user:pw@[::1]:9001/").ok(),
            Some(Endpoint::Tcp {
                host: "::1".into(),
                port: 9001
            })
        );
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://h:notaport").is_err());
        assert!(Endpoint::parse("http://").is_err());
    }
}
