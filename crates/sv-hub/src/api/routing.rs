//! What every route shares, around the routers: Cesi's 308 to the
//! trailing-slash form, 404 JSON for unknown paths, JSON for 405 (Cesi
//! sent HTML; a GET on a route that takes only other methods stays a 404,
//! as Cesi's catch-all route made it), and the request-body limit.
//!
//! [`finish`] is applied once, to the whole merged router.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use super::body::MAX_JSON_BODY;
use super::error::ApiError;

/// Adds the fallback, the JSON method errors, the cross-site refusal of
/// state-changing methods and the body limit.
pub fn finish(router: Router) -> Router {
    router
        .fallback(fallback)
        .layer(middleware::from_fn(json_method_errors))
        .layer(middleware::from_fn(refuse_cross_site))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
}

/// Whether a browser marked this request as coming from another site:
/// `Sec-Fetch-Site: cross-site` or `same-site`, or an `Origin` whose host
/// is not this request's `Host` (`Origin: null` included). Requests from
/// scripts carry neither header and pass.
pub fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && (site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site"))
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or("null");
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin_host, host) {
        (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h),
        _ => true,
    }
}

/// POST, PUT, DELETE … that a browser marks cross-site are refused before
/// any handler runs (the session cookie is `SameSite=Lax` as well; this
/// also stops a cross-site form from logging a browser in). GET state
/// changes are the node routes' own check.
async fn refuse_cross_site(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && is_cross_site(req.headers()) {
        return ApiError::Forbidden("Cross-site request refused".into()).into_response();
    }
    next.run(req).await
}

/// No route matched: `/api/v2/...` without its final `/` gets Cesi's 308
/// to the slash form (method and body kept); anything else 404 JSON.
async fn fallback(req: Request) -> Response {
    let uri = req.uri();
    let path = uri.path();
    if path.starts_with("/api/v2/") && !path.ends_with('/') {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()));
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        let location = match host {
            Some(host) => format!("http://{host}{path}/{query}"),
            None => format!("{path}/{query}"),
        };
        return redirect_308(&location);
    }
    ApiError::NotFound.into_response()
}

/// Werkzeug's redirect page, as Cesi sends it.
fn redirect_308(location: &str) -> Response {
    let escaped = location
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let body = format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to target URL: <a href=\"{escaped}\">{escaped}</a>.  If not click the link."
    );
    let mut response = (StatusCode::PERMANENT_REDIRECT, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    response
}

/// axum answers 405 with an empty body; the hub answers JSON (keeping
/// `Allow`), and 404 for GET/HEAD as Cesi did.
async fn json_method_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let response = next.run(req).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    if method == Method::GET || method == Method::HEAD {
        return ApiError::NotFound.into_response();
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut json = ApiError::MethodNotAllowed.into_response();
    if let Some(allow) = allow {
        json.headers_mut().insert(header::ALLOW, allow);
    }
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cross_site_marks() {
        assert!(!is_cross_site(&headers(&[("host", "hub:5000")])));
        assert!(!is_cross_site(&headers(&[
            ("host", "hub:5000"),
            ("origin", "http://hub:5000")
        ])));
        assert!(!is_cross_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(is_cross_site(&headers(&[
            ("host", "hub:5000"),
            ("origin", "http://evil.example")
        ])));
        assert!(is_cross_site(&headers(&[
            ("host", "hub:5000"),
            ("origin", "null")
        ])));
    }
}
