//! The HTTP surface: Cesi's `/api/v2` paths, plus the hub's additions.
//!
//! Each route module owns one resource and its handlers; all of them share
//! [`json`] for bodies, [`error::ApiError`] for failures and
//! [`guard::Require`] for authentication and roles.

pub mod accounts;
pub mod body;
pub mod error;
pub mod guard;
pub mod json;
pub mod overrides;
pub mod routing;
