//! The county operator's account page: township and operator accounts listed, added, given a
//! new password, disabled and enabled again (the same rules as `yingbao user add/reset`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::account::hash_new_password;
use super::auth;
use super::county::operator;
use super::html::{render, Frame};
use super::signin::Viewer;
use super::{PortalError, PortalState};
use crate::place::Township;
use crate::store::AccountRole;

/// Longest username accepted, in characters.
pub const MAX_USERNAME_CHARS: usize = 40;

/// Whether `name` can be a new username: 1 to [`MAX_USERNAME_CHARS`] letters (Chinese too),
/// digits, `_`, `.` or `-`.
pub fn valid_username(name: &str) -> bool {
    let n = name.chars().count();
    (1..=MAX_USERNAME_CHARS).contains(&n)
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// `GET /users`.
pub async fn list(
    State(state): State<PortalState>,
    headers: HeaderMap,
) -> Result<Html<String>, PortalError> {
    let v = operator(&state, &headers).await?;
    Ok(Html(users_page(&state, &v, "", true).await?))
}

/// One account as the operator's page lists it.
struct UserRow {
    username: String,
    /// The username as a URL path segment.
    path: String,
    display_name: String,
    /// The account's township, or 县级管理员.
    township: String,
    can_sign: bool,
    disabled: bool,
    /// The operator's own account: it cannot be disabled from here.
    is_self: bool,
}

/// `templates/portal/users.html`: the accounts and the form for a new one.
#[derive(Template)]
#[template(path = "portal/users.html")]
struct UsersPage<'a> {
    frame: Frame,
    message: &'a str,
    ok: bool,
    csrf: &'a str,
    rows: Vec<UserRow>,
    townships: &'a [Township],
    min_chars: usize,
}

async fn users_page(
    state: &PortalState,
    v: &Viewer,
    message: &str,
    ok: bool,
) -> Result<String, PortalError> {
    let rows = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            path: url::form_urlencoded::byte_serialize(u.username.as_bytes()).collect(),
            township: match (u.role, u.township_code.as_deref()) {
                (AccountRole::Operator, _) => "县级管理员".to_string(),
                (_, code) => state.township_name(code),
            },
            is_self: u.username == v.user.username,
            username: u.username,
            display_name: u.display_name,
            can_sign: u.can_sign,
            disabled: u.disabled,
        })
        .collect();
    let cfg = state.cfg();
    let line = v.line(state);
    render(&UsersPage {
        frame: Frame::new("账号管理", Some((&line, &v.session.csrf))),
        message,
        ok,
        csrf: &v.session.csrf,
        rows,
        townships: &cfg.gazetteer.townships,
        min_chars: auth::password::MIN_PASSWORD_CHARS,
    })
}

/// The page again with why nothing was changed (HTTP 400).
async fn refused(state: &PortalState, v: &Viewer, why: &str) -> Result<Response, PortalError> {
    Ok((
        StatusCode::BAD_REQUEST,
        Html(users_page(state, v, why, false).await?),
    )
        .into_response())
}

async fn done(state: &PortalState, v: &Viewer, what: &str) -> Result<Response, PortalError> {
    Ok(Html(users_page(state, v, what, true).await?).into_response())
}

#[derive(Deserialize)]
pub struct NewUser {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    /// Empty: a county operator account.
    #[serde(default)]
    township: String,
    #[serde(default)]
    can_sign: Option<String>,
    #[serde(default)]
    password: String,
}

/// `POST /users`: a new account.
pub async fn add(
    State(state): State<PortalState>,
    headers: HeaderMap,
    Form(form): Form<NewUser>,
) -> Result<Response, PortalError> {
    let v = operator(&state, &headers).await?;
    v.check_csrf(&form.csrf)?;
    let username = form.username.trim();
    if !valid_username(username) {
        return refused(
            &state,
            &v,
            &format!("用户名须为1到{MAX_USERNAME_CHARS}个字母、汉字、数字或 _ . -"),
        )
        .await;
    }
    if state.store.user_by_name(username).await?.is_some() {
        return refused(&state, &v, &format!("用户名“{username}”已存在")).await;
    }
    let township = form.township.trim();
    let cfg = state.cfg();
    if !township.is_empty() && !cfg.gazetteer.townships.iter().any(|t| t.code == township) {
        return refused(&state, &v, "所选乡镇不在本县乡镇名录中").await;
    }
    if let Err(e) = auth::check_password_policy(&form.password, username) {
        return refused(&state, &v, &e.to_string()).await;
    }
    let (role, township) = if township.is_empty() {
        (AccountRole::Operator, None)
    } else {
        (AccountRole::Township, Some(township))
    };
    let can_sign = township.is_some() && form.can_sign.is_some();
    let display = match form.display_name.trim() {
        "" => username,
        d => d,
    };
    let password_hash = hash_new_password(form.password).await?;
    state
        .store
        .add_user(username, display, role, township, can_sign, &password_hash)
        .await?;
    state
        .store
        .audit(
            &v.user.username,
            "user_add",
            &format!("user:{username}"),
            &serde_json::json!({ "role": role, "township": township, "can_sign": can_sign }),
        )
        .await?;
    tracing::info!(by = %v.user.username, user = %username, %role, "portal account added");
    done(&state, &v, &format!("已新增账号“{username}”")).await
}

#[derive(Deserialize)]
pub struct NewPassword {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

/// `POST /users/{name}/password`: a new password set by the operator; the account is signed
/// out everywhere.
pub async fn reset(
    State(state): State<PortalState>,
    Path(username): Path<String>,
    headers: HeaderMap,
    Form(form): Form<NewPassword>,
) -> Result<Response, PortalError> {
    let v = operator(&state, &headers).await?;
    v.check_csrf(&form.csrf)?;
    if state.store.user_by_name(&username).await?.is_none() {
        return Err(PortalError::NotFound);
    }
    if let Err(e) = auth::check_password_policy(&form.password, &username) {
        return refused(&state, &v, &e.to_string()).await;
    }
    let password_hash = hash_new_password(form.password).await?;
    state
        .store
        .reset_password(&username, &password_hash)
        .await?;
    state
        .store
        .audit(
            &v.user.username,
            "user_reset",
            &format!("user:{username}"),
            &serde_json::json!({}),
        )
        .await?;
    tracing::info!(by = %v.user.username, user = %username, "portal password reset");
    done(
        &state,
        &v,
        &format!("已重置“{username}”的密码，该账号已在所有设备上退出"),
    )
    .await
}

#[derive(Deserialize)]
pub struct Disable {
    #[serde(default)]
    csrf: String,
    /// `1` disables, `0` enables.
    #[serde(default)]
    disabled: String,
}

/// `POST /users/{name}/disabled`: disables (signing out everywhere) or enables an account;
/// never the operator's own.
pub async fn set_disabled(
    State(state): State<PortalState>,
    Path(username): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Disable>,
) -> Result<Response, PortalError> {
    let v = operator(&state, &headers).await?;
    v.check_csrf(&form.csrf)?;
    if username == v.user.username {
        return refused(&state, &v, "不能停用自己的账号").await;
    }
    let disabled = match form.disabled.as_str() {
        "1" => true,
        "0" => false,
        _ => return Err(PortalError::Invalid("disabled 只能是 1 或 0".into())),
    };
    if !state.store.set_user_disabled(&username, disabled).await? {
        return Err(PortalError::NotFound);
    }
    let action = if disabled {
        "user_disable"
    } else {
        "user_enable"
    };
    state
        .store
        .audit(
            &v.user.username,
            action,
            &format!("user:{username}"),
            &serde_json::json!({}),
        )
        .await?;
    tracing::info!(by = %v.user.username, user = %username, disabled, "portal account changed");
    let what = if disabled { "已停用" } else { "已启用" };
    done(&state, &v, &format!("{what}账号“{username}”")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_words_without_spaces_or_path_characters() {
        for ok in [
            "st",
            "水头镇_lead",
            "zhang.san-2",
            &"a".repeat(MAX_USERNAME_CHARS),
        ] {
            assert!(valid_username(ok), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a/b",
            "a?b",
            "a%2F",
            "<x>",
            &"a".repeat(MAX_USERNAME_CHARS + 1),
        ] {
            assert!(!valid_username(bad), "{bad}");
        }
    }
}
