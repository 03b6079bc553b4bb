//! The county operator's account page: township and operator accounts listed, added, given a
//! new password, disabled and enabled again (the same rules as `yingbao user add/reset`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::account::hash_new_password;
use super::auth;
use super::county::operator;
use super::html::{self, csrf_field, esc, page};
use super::signin::Viewer;
use super::{PortalError, PortalState};
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

async fn users_page(
    state: &PortalState,
    v: &Viewer,
    message: &str,
    ok: bool,
) -> Result<String, PortalError> {
    let users = state.store.users().await?;
    let csrf = csrf_field(&v.session.csrf);
    let mut rows = String::new();
    for u in &users {
        let name = esc(&u.username);
        let path: String = url::form_urlencoded::byte_serialize(u.username.as_bytes()).collect();
        let township = match (u.role, u.township_code.as_deref()) {
            (AccountRole::Operator, _) => "县级管理员".to_string(),
            (_, code) => state.township_name(code),
        };
        let toggle = if u.username == v.user.username {
            String::new()
        } else {
            format!(
                "<form method=\"post\" action=\"/users/{path}/disabled\">{csrf}\
                 <input type=\"hidden\" name=\"disabled\" value=\"{}\">\
                 <button type=\"submit\" class=\"toggle\">{}</button></form>",
                if u.disabled { "0" } else { "1" },
                if u.disabled { "启用" } else { "停用" }
            )
        };
        rows.push_str(&format!(
            "<tr class=\"user\" id=\"user-{name}\"><td>{name}</td><td>{display}</td><td>{township}</td>\
             <td>{sign}</td><td>{status}</td><td>\
             <form method=\"post\" action=\"/users/{path}/password\">{csrf}\
             <input name=\"password\" type=\"password\" autocomplete=\"new-password\" placeholder=\"新密码\" required>\
             <button type=\"submit\">重置密码</button></form>{toggle}</td></tr>",
            display = esc(&u.display_name),
            township = esc(&township),
            sign = if u.can_sign { "是" } else { "否" },
            status = if u.disabled { "已停用" } else { "正常" },
        ));
    }
    let msg = html::message(message, ok);
    let townships = html::township_options(&state.cfg().gazetteer);
    let body = format!(
        "<h1>账号管理</h1>{msg}\
         <table><thead><tr><th>用户名</th><th>姓名</th><th>乡镇</th><th>可签字</th><th>状态</th><th>操作</th></tr></thead>\
         <tbody>{rows}</tbody></table>\
         <div class=\"card\"><h2>新增账号</h2><form method=\"post\" action=\"/users\">{csrf}\
         <p><label>用户名<br><input name=\"username\" id=\"new-username\" required></label></p>\
         <p><label>姓名<br><input name=\"display_name\" id=\"new-display\"></label></p>\
         <p><label>乡镇<br><select name=\"township\" id=\"new-township\">\
         <option value=\"\">（县级管理员）</option>{townships}</select></label></p>\
         <p><label><input type=\"checkbox\" name=\"can_sign\" value=\"1\"> 乡镇领导（可签字确认核实结果）</label></p>\
         <p><label>初始密码（至少{min}个字符；请本人登录后修改）<br>\
         <input name=\"password\" id=\"new-password\" type=\"password\" autocomplete=\"new-password\" required></label></p>\
         <p><button type=\"submit\" id=\"add-user\">新增</button></p></form></div>",
        min = auth::password::MIN_PASSWORD_CHARS,
    );
    let line = v.line(state);
    Ok(page("账号管理", Some((&line, &v.session.csrf)), &body))
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
