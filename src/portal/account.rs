//! The signed-in person's own account: changing the password (the current one is asked for,
//! the policy applies, and every other session of the account is signed out).

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use chrono::Utc;
use serde::Deserialize;

use super::auth;
use super::html::{render, Frame};
use super::signin::{viewer, Viewer};
use super::{PortalError, PortalState};

/// `templates/portal/password.html`: the form to change one's own password.
#[derive(Template)]
#[template(path = "portal/password.html")]
struct PasswordPage<'a> {
    frame: Frame,
    message: &'a str,
    ok: bool,
    csrf: &'a str,
    min_chars: usize,
}

fn password_page(
    state: &PortalState,
    v: &Viewer,
    message: &str,
    ok: bool,
) -> Result<String, PortalError> {
    let line = v.line(state);
    render(&PasswordPage {
        frame: Frame::new("修改密码", Some((&line, &v.session.csrf))),
        message,
        ok,
        csrf: &v.session.csrf,
        min_chars: auth::password::MIN_PASSWORD_CHARS,
    })
}

pub async fn password_form(
    State(state): State<PortalState>,
    headers: HeaderMap,
) -> Result<Html<String>, PortalError> {
    let v = viewer(&state, &headers).await?;
    Ok(Html(password_page(&state, &v, "", false)?))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<PortalState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PortalError> {
    let v = viewer(&state, &headers).await?;
    v.check_csrf(&form.csrf)?;
    let now = Utc::now();
    let name = v.user.username.clone();
    // Guessing the current password from a stolen session meets the sign-in limit.
    // Counted before the check, in one step (as at sign-in).
    let attempt = match state
        .limiter
        .admit(&state.store, &name, peer.ip(), now)
        .await?
    {
        Ok(attempt) => attempt,
        Err(wait) => return refused(&state, &v, &wait.to_string()),
    };
    let stored = v.user.password_hash.clone();
    let current = form.current.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&current, &stored))
        .await
        .unwrap_or(false);
    if !ok {
        // Already counted by `admit`.
        tracing::info!(user = %name, ip = %peer.ip(), "password change refused: wrong current password");
        return refused(&state, &v, "当前密码不正确");
    }
    // The current password was right: this try is no failure.
    state.limiter.forget(&state.store, &attempt).await?;
    if form.new != form.confirm {
        return refused(&state, &v, "两次输入的新密码不一致");
    }
    if form.new == form.current {
        return refused(&state, &v, "新密码不能与当前密码相同");
    }
    if let Err(e) = auth::check_password_policy(&form.new, &name) {
        return refused(&state, &v, &e.to_string());
    }
    let hash = hash_new_password(form.new).await?;
    let signed_out = state
        .store
        .change_password(v.user.id, &hash, &v.session.token_hash)
        .await?;
    state.limiter.succeeded(&state.store, &attempt).await?;
    state
        .store
        .audit(
            &name,
            "password_change",
            &format!("user:{name}"),
            &serde_json::json!({ "ip": peer.ip().to_string(), "other_sessions_ended": signed_out }),
        )
        .await?;
    tracing::info!(user = %name, signed_out, "password changed");
    Ok(Html(password_page(
        &state,
        &v,
        "密码已修改，其他设备上的登录已退出",
        true,
    )?)
    .into_response())
}

/// Hashes a new password (argon2id, production parameters) off the async threads.
pub(super) async fn hash_new_password(password: String) -> Result<String, PortalError> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| PortalError::Invalid(format!("密码处理失败：{e}")))?
        .map_err(|e| PortalError::Invalid(e.to_string()))
}

/// The form again with why the change was refused (HTTP 400: nothing was changed).
fn refused(state: &PortalState, v: &Viewer, why: &str) -> Result<Response, PortalError> {
    Ok((
        axum::http::StatusCode::BAD_REQUEST,
        Html(password_page(state, v, why, false)?),
    )
        .into_response())
}
