//! A running portal for tests: the sample county after one run, four accounts (水头镇 staff
//! and leader, 溪美街道's leader, a county operator) and the portal on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;

use yingbao::config::Config;
use yingbao::pipeline;
use yingbao::portal::auth::{self, PasswordParams};
use yingbao::portal::{router, PortalState};
use yingbao::store::Store;

use super::Project;

pub const SHUITOU: &str = "350583119";
pub const XIMEI: &str = "350583001";
/// Cheap hashing for test accounts (the portal verifies any argon2id parameters).
const CHEAP: PasswordParams = PasswordParams {
    m_kib: 256,
    t: 1,
    p: 1,
};

/// Each account's password is `<username>-password`.
pub const ACCOUNTS: [(&str, Option<&str>, bool); 4] = [
    ("st", Some(SHUITOU), false),
    ("st_lead", Some(SHUITOU), true),
    ("xm_lead", Some(XIMEI), true),
    ("county", None, false),
];

pub struct Site {
    pub base: String,
    pub store: Store,
    pub project: Project,
}

/// A portal over the sample's first run, its lists approved (released to the townships).
pub async fn start() -> Site {
    start_with(true).await
}

/// A portal over the sample's first run, its lists still waiting for approval.
pub async fn start_waiting() -> Site {
    start_with(false).await
}

async fn start_with(approve: bool) -> Site {
    let project = Project::new();
    let store = project.sqlite().await;
    let cfg = project.config();
    let run = pipeline::run(&cfg, &store).await.expect("run");
    if approve {
        // Released and sent, as `yingbao approve` does (the sample's channels are folders).
        store
            .approve_run(run.run_id, "test")
            .await
            .expect("approve");
        yingbao::deliver::outbox::deliver_due(&cfg.channels, &store, &|_| None)
            .await
            .expect("deliver");
    }
    for (name, township, sign) in ACCOUNTS {
        let hash = auth::hash_password_with(&format!("{name}-password"), &CHEAP).expect("hash");
        let role = if township.is_some() {
            yingbao::store::AccountRole::Township
        } else {
            yingbao::store::AccountRole::Operator
        };
        store
            .add_user(name, &format!("{name}显示名"), role, township, sign, &hash)
            .await
            .expect("user");
    }
    let base = serve(cfg, store.clone()).await;
    Site {
        base,
        store,
        project,
    }
}

/// Serves a portal over `store` with `cfg` on 127.0.0.1; returns its base URL.
pub async fn serve(cfg: Config, store: Store) -> String {
    serve_state(PortalState::new(Arc::new(cfg), store, false)).await
}

/// Serves the portal of `state` on 127.0.0.1; returns its base URL.
pub async fn serve_state(state: PortalState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    format!("http://{addr}")
}

/// The CSRF token of the first form on a page.
pub fn form_token(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a form token")
        .to_string()
}

/// Submits the sign-in form at `base` as a browser does: its page first (the form's token and
/// cookie), then the post. `http` must not follow redirects, so the session cookie is seen.
pub async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let page = http
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page");
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    let html = page.text().await.expect("page");
    let csrf = form_token(&html);
    http.post(format!("{base}/login"))
        .header("cookie", cookie)
        .form(&[("username", user), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .expect("login")
}

/// The session cookie (`name=value`) a successful sign-in set.
pub fn session_cookie(signed_in: &reqwest::Response) -> String {
    signed_in.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string()
}
