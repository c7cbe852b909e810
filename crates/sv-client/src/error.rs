//! What a call can fail with: the transport (socket, HTTP, deadline), the
//! daemon's answer (a fault, a status other than 200, XML that does not
//! decode, a result that is not the record the method returns).

use std::io;

use sv_api::{AnyFaultCode, FaultCode, RecordError};

/// A fault the daemon answered with, its code typed (foreign numbers kept).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fault {}: {string}", code.number())]
pub struct Fault {
    /// `faultCode`.
    pub code: AnyFaultCode,
    /// `faultString`, e.g. `BAD_NAME: nosuch`.
    pub string: String,
}

impl Fault {
    /// Whether this is Supervisor's fault `code`.
    pub fn is(&self, code: FaultCode) -> bool {
        self.code == code
    }
}

impl From<sv_xmlrpc::Fault> for Fault {
    fn from(fault: sv_xmlrpc::Fault) -> Self {
        Fault {
            code: AnyFaultCode::from_number(fault.code),
            string: fault.string,
        }
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
    /// The answer decoded, but is not what the method returns.
    #[error("{0}")]
    Record(#[from] RecordError),
    /// The daemon answered with a fault.
    #[error("{0}")]
    Fault(Fault),
    /// No answer within the call's deadline.
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

    /// Whether the daemon answered with Supervisor's fault `code`.
    pub fn is_fault(&self, code: FaultCode) -> bool {
        self.fault().is_some_and(|f| f.is(code))
    }

    /// A kept-alive connection the server closed before answering: the
    /// request may be sent again on a fresh one. Python's `xmlrpc.client`
    /// transport retries exactly these (`RemoteDisconnected`, reset, broken
    /// pipe) once, and servers close idle connections whenever they like.
    pub(crate) fn is_stale_connection(&self) -> bool {
        let Error::Http(e) = self else {
            return false;
        };
        if e.is_canceled() || e.is_closed() || e.is_incomplete_message() {
            return true;
        }
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<io::Error>() {
                return matches!(
                    io.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::BrokenPipe
                        | io::ErrorKind::ConnectionAborted
                );
            }
            source = cause.source();
        }
        false
    }
}
