//! Refusing actions forged by other sites (spec §9 item 27, which
//! Supervisor lacks): per-session tokens for the page's own forms, and what
//! a browser says about where a request comes from for Supervisor's
//! token-less form. Which requests need which check is decided by
//! [`super::actions`]; this module only answers the questions.
//!
//! # Session tokens
//!
//! A browser session is a random id in the `sv_session` cookie
//! (`HttpOnly`, `SameSite=Lax`), set by the first page it loads. The
//! page's forms carry `csrf = HMAC-SHA1(key, session id)`, where the key is
//! random per daemon run and never leaves the process. An action carrying a
//! `csrf` field is done only when that field matches the cookie's session;
//! another site cannot read the token, and (`SameSite=Lax`) its forms
//! posted here come without the cookie. `Lax` rather than `Strict`: a link
//! from another site to the page must not replace the session, which would
//! make the tokens of the tabs already open stale. Nothing is stored per
//! session, so the number of sessions costs nothing; a daemon restart
//! invalidates every token (the page then says to reload).
//!
//! # Where a request comes from
//!
//! Browsers say it (`Sec-Fetch-Site`, else `Origin` against `Host`);
//! scripts say nothing. [`provenance`] reads what was said,
//! [`looks_like_browser`] tells a silent browser from a script.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, header};
use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;

/// The cookie holding the session id.
pub const COOKIE: &str = "sv_session";

/// The form field holding the token.
pub const FIELD: &str = "csrf";

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// The per-run key. `None` when the system could not give randomness, in
/// which case no token ever verifies (page actions then fail closed with
/// 403; the legacy GET actions still work).
fn key() -> Option<&'static [u8; 32]> {
    static KEY: OnceLock<Option<[u8; 32]>> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).ok().map(|()| key)
    })
    .as_ref()
}

/// A new random session id (32 hex digits), or `None` without randomness.
pub fn new_id() -> Option<String> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).ok().map(|()| hex::encode(id))
}

/// Whether `id` has the shape of an id we hand out (so a cookie of another
/// application on the same host is replaced rather than trusted).
fn well_formed(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The session id in the request's cookies, when there is a well-formed one.
pub fn from_request(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && well_formed(value))
        .map(|(_, value)| value.to_string())
}

/// The token for a session.
pub fn token(session: &str) -> Option<String> {
    let mut mac = HmacSha1::new_from_slice(key()?).ok()?;
    mac.update(session.as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

/// Whether `token` is the token of the request's session (constant time).
pub fn verify(headers: &HeaderMap, token: &str) -> bool {
    let Some(expected) = from_request(headers).and_then(|s| self::token(&s)) else {
        return false;
    };
    expected.len() == token.len() && bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
}

/// The session of a page request, and the `Set-Cookie` to send when the
/// request had none.
pub fn for_page(headers: &HeaderMap) -> (Option<String>, Option<HeaderValue>) {
    if let Some(id) = from_request(headers) {
        return (Some(id), None);
    }
    let Some(id) = new_id() else {
        return (None, None);
    };
    // Path=/ so every page of this server shares it; no Secure flag since
    // the inet server speaks plain HTTP.
    let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax");
    (Some(id), HeaderValue::from_str(&cookie).ok())
}

/// Where a browser says a request comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// From a page of this server, or typed/bookmarked by the user.
    SameOrigin,
    /// On behalf of another site.
    CrossSite,
    /// The client said nothing: a script, or a browser talking plain HTTP
    /// to an address it does not trust (it then sends no
    /// `Sec-Fetch-Site`, and no `Origin` on a GET).
    Unknown,
}

/// `host[:port]` with the scheme's default port dropped, lower case.
fn authority(host: &str, scheme_default: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    match host.rsplit_once(':') {
        Some((name, port)) if port == scheme_default || port.is_empty() => name.to_string(),
        _ => host,
    }
}

/// What `Sec-Fetch-Site` says, or else what `Origin` against `Host` says.
/// The scheme is not compared: behind a TLS-terminating proxy the page is
/// `https://…` while this server speaks plain HTTP.
pub fn provenance(headers: &HeaderMap) -> Provenance {
    if let Some(site) = headers.get("sec-fetch-site") {
        return match site.to_str() {
            Ok("same-origin" | "none") => Provenance::SameOrigin,
            _ => Provenance::CrossSite,
        };
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Provenance::Unknown;
    };
    let origin = origin.to_str().unwrap_or("null");
    let (scheme, host) = origin.split_once("://").unwrap_or(("", ""));
    let default_port = if scheme == "https" { "443" } else { "80" };
    let ours = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match ours {
        Some(ours)
            if !host.is_empty()
                && (authority(host, default_port) == authority(ours, "80")
                    || authority(host, default_port) == authority(ours, "443")) =>
        {
            Provenance::SameOrigin
        }
        _ => Provenance::CrossSite,
    }
}

/// Whether a browser sent this request on behalf of another site. Only
/// browsers send `Sec-Fetch-Site` and `Origin`; `curl` and scripts send
/// neither and are never refused.
pub fn cross_site(headers: &HeaderMap) -> bool {
    provenance(headers) == Provenance::CrossSite
}

/// Whether the client looks like a browser (every browser's user agent
/// starts with `Mozilla/`; `curl`, `wget`, Python's clients do not).
pub fn looks_like_browser(headers: &HeaderMap) -> bool {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.starts_with("Mozilla/"))
        || headers.contains_key(header::UPGRADE_INSECURE_REQUESTS)
        || headers.contains_key("sec-ch-ua")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        // RFC 2202 test case 2: key "Jefe".
        let mut mac = HmacSha1::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn token_verifies_only_for_its_session() {
        let a = "0123456789abcdef0123456789abcdef";
        let b = "fedcba9876543210fedcba9876543210";
        let token = token(a).unwrap();
        assert!(verify(
            &with_cookie(&format!("other=1; {COOKIE}={a}")),
            &token
        ));
        assert!(!verify(&with_cookie(&format!("{COOKIE}={b}")), &token));
        assert!(!verify(&HeaderMap::new(), &token));
        assert!(!verify(&with_cookie(&format!("{COOKIE}={a}")), ""));
        assert!(!verify(&with_cookie(&format!("{COOKIE}={a}")), &token[1..]));
    }

    #[test]
    fn foreign_cookie_values_are_not_sessions() {
        assert_eq!(from_request(&with_cookie(&format!("{COOKIE}=abc"))), None);
        let (id, set) = for_page(&with_cookie(&format!("{COOKIE}=not-ours")));
        assert!(well_formed(&id.unwrap()));
        let set = set.unwrap();
        let set = set.to_str().unwrap();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
    }

    #[test]
    fn cross_site_detection() {
        let with = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9001"));
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_str(v).unwrap());
            }
            provenance(&h)
        };
        use Provenance::*;
        assert_eq!(with(&[]), Unknown, "curl sends neither header");
        assert_eq!(with(&[("sec-fetch-site", "cross-site")]), CrossSite);
        assert_eq!(with(&[("sec-fetch-site", "same-site")]), CrossSite);
        assert_eq!(with(&[("sec-fetch-site", "same-origin")]), SameOrigin);
        assert_eq!(with(&[("sec-fetch-site", "none")]), SameOrigin);
        assert_eq!(with(&[("origin", "http://evil.example")]), CrossSite);
        assert_eq!(with(&[("origin", "http://127.0.0.1:9002")]), CrossSite);
        assert_eq!(with(&[("origin", "null")]), CrossSite);
        assert_eq!(with(&[("origin", "http://127.0.0.1:9001")]), SameOrigin);
        // Sec-Fetch-Site wins over an Origin a TLS proxy makes differ.
        assert_eq!(
            with(&[
                ("origin", "https://127.0.0.1:9001"),
                ("sec-fetch-site", "same-origin")
            ]),
            SameOrigin
        );
        // Behind a TLS proxy that forwards Host: the scheme is not compared.
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("Sv.Example.com"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://sv.example.com"),
        );
        assert_eq!(provenance(&h), SameOrigin);
        h.insert(header::HOST, HeaderValue::from_static("sv.example.com:80"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://sv.example.com"),
        );
        assert_eq!(provenance(&h), SameOrigin);
    }

    #[test]
    fn browsers_are_told_from_scripts() {
        let ua = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::USER_AGENT, HeaderValue::from_static(v));
            looks_like_browser(&h)
        };
        assert!(ua(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/148.0"
        ));
        assert!(!ua("curl/8.5.0"));
        assert!(!ua("Wget/1.21.3"));
        assert!(!ua("Python-urllib/3.11"));
        assert!(!looks_like_browser(&HeaderMap::new()));
    }
}
