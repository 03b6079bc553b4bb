//! Portal commands: `user add`/`user reset` (passwords from YINGBAO_PASSWORD or standard
//! input, hashed with argon2id), `token add` (a township API token, shown once) and `portal`.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::config::Config;
use crate::portal::auth;
use crate::store::{AccountRole, Store};

/// The new password: `YINGBAO_PASSWORD`, else the first line of standard input.
fn read_password(username: &str) -> Result<String> {
    let password = match std::env::var("YINGBAO_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            eprintln!("password for {username} (one line on standard input):");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password")?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    auth::check_password_policy(&password, username).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(password)
}

#[allow(clippy::too_many_arguments)]
pub async fn add_user(
    cfg: &Config,
    store: &Store,
    username: &str,
    display_name: Option<&str>,
    township: Option<&str>,
    operator: bool,
    can_sign: bool,
) -> Result<ExitCode> {
    if operator == township.is_some() {
        bail!("give either --township <code> or --operator");
    }
    if let Some(code) = township {
        if !cfg.gazetteer.townships.iter().any(|t| t.code == code) {
            bail!("township `{code}` is not in the county's gazetteer (see county.townships)");
        }
    }
    if !crate::portal::users::valid_username(username) {
        bail!(
            "`{username}` cannot be a username: use 1 to {} letters (Chinese too), digits, `_`, `.` or `-`",
            crate::portal::users::MAX_USERNAME_CHARS
        );
    }
    if store.user_by_name(username).await?.is_some() {
        bail!("user `{username}` exists; use `yingbao user reset {username}` for a new password");
    }
    let password = read_password(username)?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let role = if operator {
        AccountRole::Operator
    } else {
        AccountRole::Township
    };
    store
        .add_user(
            username,
            display_name.unwrap_or(username),
            role,
            township,
            can_sign,
            &hash,
        )
        .await?;
    store
        .audit(
            "cli",
            "user_add",
            &format!("user:{username}"),
            &serde_json::json!({ "role": role, "township": township, "can_sign": can_sign }),
        )
        .await?;
    println!(
        "user {username} added ({role}{})",
        township.map(|t| format!(" of {t}")).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn reset_user(store: &Store, username: &str) -> Result<ExitCode> {
    if store.user_by_name(username).await?.is_none() {
        bail!("no user `{username}`");
    }
    let password = read_password(username)?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await?
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    store.reset_password(username, &hash).await?;
    store
        .audit(
            "cli",
            "user_reset",
            &format!("user:{username}"),
            &serde_json::json!({}),
        )
        .await?;
    println!("password of {username} reset; its sessions were signed out");
    Ok(ExitCode::SUCCESS)
}

pub async fn add_token(
    cfg: &Config,
    store: &Store,
    township: &str,
    label: &str,
) -> Result<ExitCode> {
    if !cfg.gazetteer.townships.iter().any(|t| t.code == township) {
        bail!("township `{township}` is not in the county's gazetteer");
    }
    let token = auth::new_token();
    store
        .add_api_token(&auth::token_hash(&token), township, label)
        .await?;
    store
        .audit(
            "cli",
            "token_add",
            &format!("township:{township}"),
            &serde_json::json!({ "label": label }),
        )
        .await?;
    println!("{token}");
    eprintln!("API token for township {township} ({label}): shown once, stored only hashed");
    Ok(ExitCode::SUCCESS)
}
