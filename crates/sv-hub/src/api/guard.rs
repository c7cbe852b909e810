//! The one place a request's caller is identified and their role checked.
//!
//! A handler states what it needs by taking [`Require<P>`] as an argument
//! (`Require<Operate>`, `Require<Admin>` …). Extraction asks the
//! [`Authenticator`] (sessions, bearer tokens, the trusted proxy header —
//! implemented by the store side) who is calling, then
//! [`Role::allows`] decides. The role matrix test walks every route through
//! this one function.

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use futures_util::future::BoxFuture;

use super::error::ApiError;

/// What a user may do. Cesi's `usertype` column is kept: 0 is admin, 1 is
/// Cesi's "normal user" (our operator), 2 our viewer; any other stored
/// value is a viewer who may not read logs (Cesi's one enforced check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Users, nodes, everything.
    Admin,
    /// Start, stop, restart, signal, clear logs; reads.
    Operator,
    /// Reads only (process logs included).
    Viewer,
    /// Reads only, process logs excluded (a Cesi usertype other than 0–2).
    Restricted,
}

impl Role {
    /// The role a Cesi `usertype` value stands for.
    pub fn from_usertype(usertype: i64) -> Role {
        match usertype {
            0 => Role::Admin,
            1 => Role::Operator,
            2 => Role::Viewer,
            _ => Role::Restricted,
        }
    }

    /// Whether this role grants `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        match permission {
            Permission::Read => true,
            Permission::ReadLogs => self != Role::Restricted,
            Permission::Operate => matches!(self, Role::Admin | Role::Operator),
            Permission::Admin => self == Role::Admin,
        }
    }
}

/// What a route needs from its caller (anonymous routes take no guard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Any signed-in user: nodes, processes, environments, groups, profile.
    Read,
    /// Process logs.
    ReadLogs,
    /// Process actions: start, stop, restart, signal, clear logs.
    Operate,
    /// Users, tokens, the activity log's deletion, node overrides.
    Admin,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user name, as the activity log writes it.
    pub username: String,
    /// Their role.
    pub role: Role,
    /// Environments this user is limited to; `None` means all.
    pub environments: Option<Vec<String>>,
}

impl Principal {
    /// Whether this user may see or act on a node of `environment`.
    pub fn sees_environment(&self, environment: &str) -> bool {
        match &self.environments {
            None => true,
            Some(list) => list.iter().any(|e| e == environment),
        }
    }
}

/// Identifies the caller of a request: a session cookie, a bearer token,
/// or a trusted proxy's user header. `Ok(None)` means anonymous.
pub trait Authenticator: Send + Sync + 'static {
    /// Who sent the request with these parts, arriving from `peer`
    /// (`None` on a unix socket).
    fn authenticate<'a>(
        &'a self,
        parts: &'a Parts,
        peer: Option<SocketAddr>,
    ) -> BoxFuture<'a, Result<Option<Principal>, ApiError>>;
}

/// The authenticator as router state holds it.
pub type SharedAuthenticator = Arc<dyn Authenticator>;

/// A permission as a type, so a handler's signature states what it needs.
pub trait Needs: Send + Sync + 'static {
    /// The permission this marker stands for.
    const PERMISSION: Permission;
}

/// Marker for [`Permission::Read`].
pub struct Read;
/// Marker for [`Permission::ReadLogs`].
pub struct ReadLogs;
/// Marker for [`Permission::Operate`].
pub struct Operate;
/// Marker for [`Permission::Admin`].
pub struct Admin;

impl Needs for Read {
    const PERMISSION: Permission = Permission::Read;
}
impl Needs for ReadLogs {
    const PERMISSION: Permission = Permission::ReadLogs;
}
impl Needs for Operate {
    const PERMISSION: Permission = Permission::Operate;
}
impl Needs for Admin {
    const PERMISSION: Permission = Permission::Admin;
}

/// An authenticated caller whose role grants `P`. Extraction answers 401
/// (`Session expired`) for anonymous callers and 403 for a role that does
/// not allow `P`.
pub struct Require<P: Needs> {
    /// The caller.
    pub principal: Principal,
    _needs: PhantomData<P>,
}

/// The peer address of a TCP request, put into the request extensions by
/// the server's accept loop (absent on unix sockets).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl<S, P> FromRequestParts<S> for Require<P>
where
    S: Send + Sync,
    SharedAuthenticator: FromRef<S>,
    P: Needs,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = SharedAuthenticator::from_ref(state);
        let peer = parts.extensions.get::<Peer>().map(|p| p.0);
        let principal = auth
            .authenticate(parts, peer)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if !principal.role.allows(P::PERMISSION) {
            return Err(ApiError::Forbidden(
                "You are not authorized for this action".into(),
            ));
        }
        Ok(Require {
            principal,
            _needs: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_their_names_say() {
        use Permission::*;
        let table = [
            (Role::Admin, [true, true, true, true]),
            (Role::Operator, [true, true, true, false]),
            (Role::Viewer, [true, true, false, false]),
            (Role::Restricted, [true, false, false, false]),
        ];
        for (role, expected) in table {
            for (permission, want) in [Read, ReadLogs, Operate, Admin].into_iter().zip(expected) {
                assert_eq!(role.allows(permission), want, "{role:?} {permission:?}");
            }
        }
    }

    #[test]
    fn cesi_usertypes_map_to_roles() {
        assert_eq!(Role::from_usertype(0), Role::Admin);
        assert_eq!(Role::from_usertype(1), Role::Operator);
        assert_eq!(Role::from_usertype(2), Role::Viewer);
        assert_eq!(Role::from_usertype(5), Role::Restricted);
    }
}
