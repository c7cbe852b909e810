//! The page's node, process, users, profile and activity views.
//!
//! Each is a server-rendered shell (its layout, what the caller may do,
//! the names it is about in `data-` attributes, escaped by askama) and one
//! script that reads the JSON API and draws with `textContent` only:
//!
//! * `/nodes/<node>` (`node.js`): the node's health and its processes,
//!   live from `/api/v2/events/`, with per-process and node-level actions;
//! * `/nodes/<node>/processes/<uname>` (`process.js`): the process, its
//!   config summary, observed state history and activity, its actions,
//!   and its log — stdout/stderr tabs, whole-line windows, older lines,
//!   live follow, search with highlights, download;
//! * `/users` (`users.js`, admin only): create, change role and
//!   environments, reset password, revoke sessions and tokens, delete;
//! * `/profile` (`profile.js`): password, own sessions, own API tokens;
//! * `/activity` (`activity.js`): the activity log with filters, paged.
//!
//! Controls a role may not use are not rendered (`layout.can_operate()`,
//! `can_read_logs()`); the API refuses them anyway (the one guard).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::PageState;
use super::guard::PageUser;
use super::layout::{Layout, error_page_for, render};
use super::overview::SIGNALS;
use crate::api::guard::Admin;

/// The view routes.
pub fn routes() -> Router<PageState> {
    Router::new()
        .route("/nodes/{node}", get(node))
        .route("/nodes/{node}/processes/{uname}", get(process))
        .route("/users", get(users))
        .route("/profile", get(profile))
        .route("/activity", get(activity))
}

#[derive(Template)]
#[template(path = "node.html")]
struct NodePage {
    layout: Layout,
    node: String,
    environment: String,
}

#[derive(Template)]
#[template(path = "process.html")]
struct ProcessPage {
    layout: Layout,
    node: String,
    uname: String,
    signals: &'static [&'static str],
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    layout: Layout,
}

/// The node's environment if `user` may see it.
fn visible_node(state: &PageState, user: &PageUser, name: &str) -> Option<String> {
    state
        .fleet
        .node(name)
        .filter(|n| user.principal.sees_environment(n.environment()))
        .map(|n| n.environment().to_string())
}

/// The 404 page for a node `user` may not see or that does not exist
/// (the same page: a restricted user learns nothing of other nodes).
fn no_such_node(user: &PageUser, name: &str) -> Response {
    error_page_for(
        user.layout("No such node", "fleet"),
        StatusCode::NOT_FOUND,
        &format!("There is no node named {name:?}."),
    )
}

/// `GET /nodes/<node>`.
async fn node(
    user: PageUser,
    State(state): State<PageState>,
    Path(name): Path<String>,
) -> Response {
    let Some(environment) = visible_node(&state, &user, &name) else {
        return no_such_node(&user, &name);
    };
    let layout = user
        .layout(format!("Node {name}"), "fleet")
        .with_script("node.js");
    render(&NodePage {
        layout,
        node: name,
        environment,
    })
}

/// `GET /nodes/<node>/processes/<uname>`.
async fn process(
    user: PageUser,
    State(state): State<PageState>,
    Path((name, uname)): Path<(String, String)>,
) -> Response {
    if visible_node(&state, &user, &name).is_none() {
        return no_such_node(&user, &name);
    }
    let layout = user
        .layout(format!("{uname} on {name}"), "fleet")
        .with_script("process.js");
    render(&ProcessPage {
        layout,
        node: name,
        uname,
        signals: SIGNALS,
    })
}

/// `GET /users` (admin only).
async fn users(user: PageUser<Admin>) -> Response {
    let layout = user.layout("Users", "users").with_script("users.js");
    render(&UsersPage { layout })
}

/// `GET /profile`.
async fn profile(user: PageUser) -> Response {
    let layout = user.layout("Profile", "profile").with_script("profile.js");
    render(&ProfilePage { layout })
}

/// `GET /activity`.
async fn activity(user: PageUser) -> Response {
    let layout = user
        .layout("Activity", "activity")
        .with_script("activity.js");
    render(&ActivityPage { layout })
}
