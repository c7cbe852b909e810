//! The one mapping from a failed request to its status and JSON body.
//!
//! Cesi's texts are kept where Cesi sends JSON (`Wrong node name`,
//! `Node is not connected`, `Session expired`, …); where Cesi answers an
//! HTML page (405, unhandled 500) the hub answers JSON in the same
//! `{"message":…,"status":"error"}` envelope.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::json::CesiJson;

/// Cesi's not-found text, also used for a GET on a path that only takes
/// other methods (Cesi's catch-all static route answers those).
pub const NOT_FOUND_TEXT: &str = "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.";

/// Why a request failed. Each variant fixes the status; the message is
/// what the client sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400 with Cesi's or our own message (bad field, wrong node name …).
    #[error("{0}")]
    BadRequest(String),
    /// 401 `Session expired`: no valid session or token.
    #[error("Session expired")]
    Unauthenticated,
    /// 403: authenticated, but the role does not allow this; or a
    /// cross-site request refused.
    #[error("{0}")]
    Forbidden(String),
    /// 404 with Cesi's generic text.
    #[error("{NOT_FOUND_TEXT}")]
    NotFound,
    /// 405, JSON instead of Cesi's HTML page.
    #[error("The method is not allowed for the requested URL.")]
    MethodNotAllowed,
    /// 413: the body is larger than the hub accepts.
    #[error("Request body too large")]
    PayloadTooLarge,
    /// 429: too many failed logins from this peer or for this user.
    #[error("Too many failed logins; try again later")]
    TooManyRequests,
    /// 500 with a message: a node's fault string passed through (Cesi's
    /// `ALREADY_STARTED: web`), or an action that failed.
    #[error("{0}")]
    Action(String),
    /// 500: the store or another internal part failed; the detail is
    /// logged, not sent.
    #[error("Internal error")]
    Internal,
    /// 503: the store is unreachable.
    #[error("Service unavailable")]
    Unavailable,
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Action(_) | ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        CesiJson(
            self.status(),
            json!({"message": self.to_string(), "status": "error"}),
        )
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::json::to_cesi_string;

    #[test]
    fn errors_use_cesis_envelope_and_texts() {
        let body = json!({"message": ApiError::Unauthenticated.to_string(), "status": "error"});
        assert_eq!(
            to_cesi_string(&body),
            "{\"message\":\"Session expired\",\"status\":\"error\"}\n"
        );
        assert_eq!(ApiError::NotFound.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            ApiError::Action("x".into()).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
