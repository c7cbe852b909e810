//! Request framing a front end could read differently from us: the
//! request-smuggling guard.
//!
//! hyper frames a body by `Transfer-Encoding: chunked` or `Content-Length`
//! and refuses the worst conflicts itself (both at once, `chunked` not
//! last, bad chunk sizes). It still takes `Transfer-Encoding: identity`
//! followed by a `chunked` header as chunked, which a proxy in front of
//! the daemon may frame otherwise; no client of ours sends a
//! `Transfer-Encoding` other than a single `chunked`, so anything else is
//! refused. And an error answered before the body was read must not let
//! the rest of that body be taken for the next request on the connection,
//! so such an answer closes the connection.

use axum::http::{HeaderMap, HeaderValue, Response, header};

/// Whether the request's framing is one a proxy could disagree about:
/// more than one `Transfer-Encoding` header, one that is not exactly
/// `chunked`, or `Transfer-Encoding` together with `Content-Length`.
pub(super) fn ambiguous(headers: &HeaderMap) -> bool {
    let mut codings = headers.get_all(header::TRANSFER_ENCODING).iter();
    match (codings.next(), codings.next()) {
        (None, _) => false,
        (Some(only), None) => {
            !only
                .as_bytes()
                .trim_ascii()
                .eq_ignore_ascii_case(b"chunked")
                || headers.contains_key(header::CONTENT_LENGTH)
        }
        (Some(_), Some(_)) => true,
    }
}

/// Whether the request says it carries a body (which an error answer may
/// have left unread).
pub(super) fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes().trim_ascii() != b"0")
}

/// Close the connection after `response` if it is an error answer to a
/// request with a body: what is left of the body is never parsed as a
/// request. (xmlrpc.client and supervisorctl close after an HTTP error
/// anyway.)
pub(super) fn close_after_error<B>(response: &mut Response<B>, had_body: bool) {
    let status = response.status();
    if had_body && (status.is_client_error() || status.is_server_error()) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in lines {
            h.append(
                header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        h
    }

    #[test]
    fn only_a_single_chunked_or_a_length_is_unambiguous() {
        assert!(!ambiguous(&headers(&[])));
        assert!(!ambiguous(&headers(&[("content-length", "12")])));
        assert!(!ambiguous(&headers(&[("transfer-encoding", "chunked")])));
        assert!(!ambiguous(&headers(&[("transfer-encoding", " Chunked ")])));
        assert!(ambiguous(&headers(&[
            ("transfer-encoding", "identity"),
            ("transfer-encoding", "chunked")
        ])));
        assert!(ambiguous(&headers(&[(
            "transfer-encoding",
            "identity, chunked"
        )])));
        assert!(ambiguous(&headers(&[("transfer-encoding", "gzip")])));
        assert!(ambiguous(&headers(&[
            ("transfer-encoding", "chunked"),
            ("content-length", "3")
        ])));
    }

    #[test]
    fn error_answers_to_requests_with_a_body_close() {
        let answer = |status: u16, had_body: bool| {
            let mut r = Response::builder()
                .status(status)
                .body(())
                .expect("response");
            close_after_error(&mut r, had_body);
            r.headers().get(header::CONNECTION).cloned()
        };
        assert_eq!(answer(411, true), Some(HeaderValue::from_static("close")));
        assert_eq!(answer(411, false), None);
        assert_eq!(answer(200, true), None);
        assert!(has_body(&headers(&[("content-length", "5")])));
        assert!(!has_body(&headers(&[("content-length", "0")])));
        assert!(has_body(&headers(&[("transfer-encoding", "chunked")])));
    }
}
