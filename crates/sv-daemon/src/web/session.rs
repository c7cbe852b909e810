//! Per-session CSRF tokens for the page's own actions.
//!
//! A browser session is a random id in the `sv_session` cookie
//! (`HttpOnly`, `SameSite=Lax`), set by the first page it loads. The
//! page's forms carry `csrf = HMAC-SHA1(key, session id)`, where the key is
//! random per daemon run and never leaves the process. An action carrying a
//! `csrf` field is done only when that field matches the cookie's session;
//! another site cannot read the token, and (`SameSite=Lax`) its forms
//! posted here come without the cookie. `Lax` rather than `Strict`: a link
//! from another site to the page must not replace the session, which would
//! make the tokens of the tabs already open stale. Nothing is stored per session, so the
//! number of sessions costs nothing; a daemon restart invalidates every
//! token (the page then says to reload).

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, header};
use hmac::{KeyInit, Mac};

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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random session id (32 hex digits), or `None` without randomness.
pub fn new_id() -> Option<String> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).ok().map(|()| hex(&id))
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
    Some(hex(&mac.finalize().into_bytes()))
}

/// Whether `token` is the token of the request's session (constant time).
pub fn verify(headers: &HeaderMap, token: &str) -> bool {
    let Some(expected) = from_request(headers).and_then(|s| self::token(&s)) else {
        return false;
    };
    use subtle::ConstantTimeEq;
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
            hex(&mac.finalize().into_bytes()),
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
}
