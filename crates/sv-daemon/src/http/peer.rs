//! Who is on the other end of a connection, as far as the daemon can tell:
//! the IP address of a TCP peer, the user id of a unix-socket peer
//! (`SO_PEERCRED`). The key of the failed-authentication limit
//! ([`super::ratelimit`]) and the name its warning gives.

use std::fmt;
use std::net::IpAddr;

/// A connection's peer, inserted into each of its requests' extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Peer {
    /// A TCP client, by address (not port: a client reconnects from many).
    Ip(IpAddr),
    /// A unix-socket client, by the user id the kernel reports.
    Uid(u32),
    /// A unix-socket client whose credentials could not be read.
    Unknown,
}

impl Peer {
    /// The peer of an accepted unix-socket connection.
    pub fn of_unix(stream: &tokio::net::UnixStream) -> Peer {
        stream
            .peer_cred()
            .map_or(Peer::Unknown, |cred| Peer::Uid(cred.uid()))
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // An IPv4 client of a dual-stack socket shows as itself.
            Peer::Ip(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => write!(f, "{v4}"),
                None => write!(f, "{v6}"),
            },
            Peer::Ip(ip) => write!(f, "{ip}"),
            Peer::Uid(uid) => write!(f, "uid {uid} on the unix socket"),
            Peer::Unknown => f.write_str("an unknown unix-socket peer"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_named_for_the_log() {
        let v4: IpAddr = "127.0.0.1".parse().expect("ip");
        assert_eq!(Peer::Ip(v4).to_string(), "127.0.0.1");
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().expect("ip");
        assert_eq!(Peer::Ip(mapped).to_string(), "10.0.0.7");
        let v6: IpAddr = "::1".parse().expect("ip");
        assert_eq!(Peer::Ip(v6).to_string(), "::1");
        assert_eq!(Peer::Uid(1000).to_string(), "uid 1000 on the unix socket");
    }
}
