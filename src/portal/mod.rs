//! The township portal: server-rendered pages in Chinese where township staff see their own
//! leads, record dispositions and return Excel lists, plus a JSON API with township tokens.

pub mod account;
pub mod api;
pub mod auth;
pub mod county;
pub mod download;
pub mod html;
pub mod leads;
pub mod listing;
pub mod signin;
pub mod users;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::config::Config;
use crate::store::{AccountRole, Store, StoreError, User};
use auth::{RateLimitConfig, Role, SignInLimiter};

/// What every request handler shares.
#[derive(Clone)]
pub struct PortalState {
    /// The configuration; `yingbao serve` swaps in a reloaded one ([`PortalState::set_config`]).
    config: Arc<RwLock<Arc<Config>>>,
    pub store: Store,
    pub limiter: Arc<SignInLimiter>,
    /// Mark the session cookie `Secure` (the portal is served over HTTPS by a proxy).
    pub secure_cookies: bool,
    /// The lead lists of the last run, parsed once.
    pub leads: Arc<listing::LeadCache>,
    /// Leads on one page of a township's list ([`leads::PAGE_SIZE`]).
    pub page_size: usize,
}

impl PortalState {
    pub fn new(cfg: Arc<Config>, store: Store, secure_cookies: bool) -> PortalState {
        PortalState {
            config: Arc::new(RwLock::new(cfg)),
            store,
            limiter: Arc::new(SignInLimiter::new(RateLimitConfig::DEFAULT)),
            secure_cookies,
            leads: Arc::new(listing::LeadCache::default()),
            page_size: leads::PAGE_SIZE,
        }
    }

    /// The same portal with `size` leads a page (tests page through the sample's few leads).
    pub fn with_page_size(mut self, size: usize) -> PortalState {
        self.page_size = size.max(1);
        self
    }

    /// The current configuration (a request keeps the one it started with).
    pub fn cfg(&self) -> Arc<Config> {
        match self.config.read() {
            Ok(cfg) => cfg.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Swaps in a reloaded configuration; requests after this see it. The listening address
    /// and `secure_cookies` stay as they were until a restart.
    pub fn set_config(&self, cfg: Arc<Config>) {
        match self.config.write() {
            Ok(mut current) => *current = cfg,
            Err(poisoned) => *poisoned.into_inner() = cfg,
        }
    }

    /// A township's name (or the county list's).
    pub fn township_name(&self, code: Option<&str>) -> String {
        match code {
            None => "未能定位乡镇（县级）".to_string(),
            Some(c) => self
                .cfg()
                .gazetteer
                .townships
                .iter()
                .find(|t| t.code == c)
                .map_or_else(|| c.to_string(), |t| t.name.clone()),
        }
    }
}

/// The role of an account.
pub fn role_of(user: &User) -> Role {
    match (user.role, &user.township_code) {
        (AccountRole::Operator, _) => Role::Operator,
        (_, Some(code)) => Role::Township {
            code: code.to_string(),
        },
        // A township account without a township sees nothing.
        _ => Role::Township {
            code: String::new(),
        },
    }
}

/// Why a request failed, as the person sees it (in Chinese).
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error("请先登录")]
    SignedOut,
    #[error("无权访问：该线索或数据不属于您的乡镇")]
    Forbidden,
    #[error("页面已过期，请刷新后重试")]
    Csrf,
    #[error("未找到")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error("系统错误，请稍后再试")]
    Store(#[from] StoreError),
    /// A page template could not be written (a value's formatting failed).
    #[error("系统错误，请稍后再试")]
    Render(#[from] askama::Error),
}

/// `templates/portal/error.html`: why a request failed.
#[derive(askama::Template)]
#[template(path = "portal/error.html")]
struct ErrorPage {
    frame: html::Frame,
    message: String,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let status = match self {
            PortalError::SignedOut => {
                return (
                    StatusCode::SEE_OTHER,
                    [(axum::http::header::LOCATION, "/login")],
                )
                    .into_response()
            }
            PortalError::Forbidden | PortalError::Csrf => StatusCode::FORBIDDEN,
            PortalError::NotFound => StatusCode::NOT_FOUND,
            PortalError::Invalid(_) => StatusCode::BAD_REQUEST,
            PortalError::Store(ref e) => {
                tracing::error!(error = %e, "portal request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            PortalError::Render(ref e) => {
                tracing::error!(error = %e, "a portal page failed to render");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let page = html::render(&ErrorPage {
            frame: html::Frame::new("出错了", None),
            message: self.to_string(),
        });
        match page {
            Ok(body) => (status, Html(body)).into_response(),
            // The error page itself failed: say so in plain text rather than not at all.
            Err(e) => {
                tracing::error!(error = %e, "the portal's error page failed to render");
                (status, self.to_string()).into_response()
            }
        }
    }
}

/// Every route of the portal and the API.
pub fn router(state: PortalState) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/leads") }),
        )
        .route("/login", get(signin::login_page).post(signin::login))
        .route("/logout", post(signin::logout))
        .route(
            "/account/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/leads", get(leads::list))
        .route("/list.xlsx", get(download::latest))
        .route("/leads/{id}", get(leads::detail))
        .route("/leads/{id}/disposition", post(leads::dispose))
        .route("/dispositions", get(leads::dispositions))
        .route("/dispositions/{id}/signoff", post(leads::sign_off))
        .route("/upload", post(leads::upload))
        .route("/county", get(county::overview))
        .route("/county/approve/{run}", post(county::approve))
        .route("/review", get(county::review))
        .route("/review/{id}", post(county::decide))
        .route("/users", get(users::list).post(users::add))
        .route("/users/{name}/password", post(users::reset))
        .route("/users/{name}/disabled", post(users::set_disabled))
        .route("/api/v1/leads", get(api::list))
        .route("/api/v1/leads/{id}/disposition", post(api::dispose))
        .layer(DefaultBodyLimit::max(20 * 1024 * 1024))
        .with_state(state)
}

/// Serves the portal on `addr` until the process ends.
pub async fn serve(state: PortalState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "portal listening");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
