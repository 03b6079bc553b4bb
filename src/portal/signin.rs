//! Signing in and out, and who is asking: the session cookie (only its hash is stored), the
//! CSRF token of the session, and the rate limit on failed sign-ins.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use chrono::Utc;
use serde::Deserialize;

use super::auth::{self, SessionPolicy};
use super::html::{render, Frame};
use super::{PortalError, PortalState};
use crate::store::{StoredSession, User};

/// The signed-in person making a request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: User,
    pub session: StoredSession,
}

impl Viewer {
    /// Checks a submitted form's CSRF token against the session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), PortalError> {
        let ok = !self.session.csrf.is_empty()
            && auth::constant_time_eq(self.session.csrf.as_bytes(), submitted.as_bytes());
        if ok {
            Ok(())
        } else {
            Err(PortalError::Csrf)
        }
    }

    /// The user line of the page header.
    pub fn line(&self, state: &PortalState) -> String {
        match self.user.township_code.as_deref() {
            Some(code) if !self.user.is_operator() => {
                format!(
                    "{}（{}）",
                    self.user.display_name,
                    state.township_name(Some(code))
                )
            }
            _ => format!("{}（县级管理员）", self.user.display_name),
        }
    }
}

/// The viewer of a request, from its session cookie; `SignedOut` when there is none, it
/// expired, or the account is disabled.
pub async fn viewer(state: &PortalState, headers: &HeaderMap) -> Result<Viewer, PortalError> {
    let token = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::token_from_cookie_header)
        .ok_or(PortalError::SignedOut)?;
    let hash = auth::token_hash(&token);
    let session = state
        .store
        .session(&hash)
        .await?
        .ok_or(PortalError::SignedOut)?;
    let now = Utc::now();
    if !auth::is_valid(
        session.created_at,
        session.last_seen,
        now,
        &SessionPolicy::DEFAULT,
    ) {
        state.store.delete_session(&hash).await?;
        return Err(PortalError::SignedOut);
    }
    let user = state
        .store
        .user_by_id(session.user_id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(PortalError::SignedOut)?;
    // Idle time is counted in minutes: a write per minute is enough, not one per request.
    if now - session.last_seen > chrono::Duration::seconds(60) {
        state.store.touch_session(&hash, now).await?;
    }
    Ok(Viewer { user, session })
}

/// The cookie holding the sign-in form's own CSRF token (no session exists yet).
const LOGIN_COOKIE: &str = "yingbao_login";

fn login_cookie(token: &str, secure: bool) -> String {
    format!(
        "{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        if secure { "; Secure" } else { "" }
    )
}

fn login_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LOGIN_COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| auth::token::looks_like_token(v))
}

/// The sign-in page with a fresh form token (also set as a cookie: double submit).
fn login_response(state: &PortalState, status: StatusCode, message: &str) -> Response {
    let token = auth::new_token();
    match login_form(message, &token) {
        Ok(page) => (
            status,
            [(SET_COOKIE, login_cookie(&token, state.secure_cookies))],
            Html(page),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `templates/portal/login.html`: the sign-in form.
#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage<'a> {
    frame: Frame,
    message: &'a str,
    csrf: &'a str,
}

fn login_form(message: &str, csrf: &str) -> Result<String, PortalError> {
    render(&LoginPage {
        frame: Frame::new("登录", None),
        message,
        csrf,
    })
}

pub async fn login_page(State(state): State<PortalState>) -> Response {
    login_response(&state, StatusCode::OK, "")
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn login(
    State(state): State<PortalState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PortalError> {
    let now = Utc::now();
    // The form must come from our own sign-in page (login CSRF).
    let same = login_token(&headers).is_some_and(|t| {
        !form.csrf.is_empty() && auth::constant_time_eq(t.as_bytes(), form.csrf.as_bytes())
    });
    if !same {
        return Ok(login_response(
            &state,
            StatusCode::FORBIDDEN,
            "页面已过期，请重新登录",
        ));
    }
    let name = form.username.trim().to_string();
    // Counted before the password is checked, in one step: parallel tries past the limit are
    // refused without argon2, and the count is in the database, so a restart keeps it.
    let attempt = match state
        .limiter
        .admit(&state.store, &name, peer.ip(), now)
        .await?
    {
        Ok(attempt) => attempt,
        Err(wait) => {
            tracing::warn!(user = %name, ip = %peer.ip(), "sign-in rate limited");
            let mut response =
                login_response(&state, StatusCode::TOO_MANY_REQUESTS, &wait.to_string());
            if let Ok(v) = wait.secs_ceil().to_string().parse() {
                response.headers_mut().insert(RETRY_AFTER, v);
            }
            return Ok(response);
        }
    };
    let user = state
        .store
        .user_by_name(&name)
        .await?
        .filter(|u| !u.disabled);
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let password = form.password;
    let ok = tokio::task::spawn_blocking(move || {
        auth::verify_password_or_dummy(&password, stored.as_deref())
    })
    .await
    .unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        // Already counted by `admit`.
        tracing::info!(user = %name, ip = %peer.ip(), "sign-in refused");
        return Ok(login_response(&state, StatusCode::OK, "用户名或密码错误"));
    };
    state.limiter.succeeded(&state.store, &attempt).await?;
    let (token, session) = auth::new_session(user.id, now);
    state
        .store
        .save_session(&StoredSession {
            token_hash: session.token_hash,
            user_id: user.id,
            csrf: session.csrf,
            created_at: now,
            last_seen: now,
        })
        .await?;
    state
        .store
        .audit(
            &user.username,
            "sign_in",
            &format!("user:{}", user.username),
            &serde_json::json!({ "ip": peer.ip().to_string() }),
        )
        .await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                SET_COOKIE,
                auth::session_cookie(&token, state.secure_cookies),
            ),
            (LOCATION, "/leads".to_string()),
        ],
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    let v = viewer(&state, &headers).await?;
    v.check_csrf(&form.csrf)?;
    state.store.delete_session(&v.session.token_hash).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [
            (SET_COOKIE, auth::clear_cookie(state.secure_cookies)),
            (LOCATION, "/login".to_string()),
        ],
    )
        .into_response())
}
