//! HTTP endpoints for supervision: `GET /healthz` (process alive), `GET /readyz` (config
//! loaded, database reachable, not shutting down) and `GET /metrics` (OpenMetrics text).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use thiserror::Error;
use tokio::net::TcpListener;

use super::metrics::{Metrics, CONTENT_TYPE};

/// Errors from starting or running the HTTP server.
#[derive(Debug, Error)]
pub enum HealthError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the health/metrics server failed: {0}")]
    Serve(std::io::Error),
}

#[derive(Debug)]
struct ReadinessInner {
    config_loaded: bool,
    /// `None` while reachable; otherwise why not.
    database_problem: Option<String>,
    shutting_down: bool,
}

/// What `/readyz` reports. The daemon updates it; the server only reads it.
/// It starts not ready: no configuration loaded and the database not yet checked.
#[derive(Debug)]
pub struct Readiness {
    inner: Mutex<ReadinessInner>,
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness {
            inner: Mutex::new(ReadinessInner {
                config_loaded: false,
                database_problem: Some("the database has not been checked yet".to_string()),
                shutting_down: false,
            }),
        }
    }
}

fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Readiness {
    pub fn new() -> Readiness {
        Readiness::default()
    }

    fn lock(&self) -> MutexGuard<'_, ReadinessInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_config_loaded(&self, loaded: bool) {
        self.lock().config_loaded = loaded;
    }

    /// Records the latest database check: `Ok(())` or a short reason such as the error text.
    pub fn set_database(&self, check: Result<(), String>) {
        self.lock().database_problem = check.err().map(|reason| {
            let reason = one_line(&reason);
            if reason.is_empty() {
                "unknown error".to_string()
            } else {
                reason
            }
        });
    }

    /// Marks the daemon as stopping; `/readyz` answers 503 from now on.
    pub fn set_shutting_down(&self) {
        self.lock().shutting_down = true;
    }

    /// `Ok` when ready, else the first reason it is not (one line).
    pub fn check(&self) -> Result<(), String> {
        let r = self.lock();
        if r.shutting_down {
            return Err("shutting down".to_string());
        }
        if !r.config_loaded {
            return Err("configuration not loaded".to_string());
        }
        if let Some(problem) = &r.database_problem {
            return Err(format!("database unreachable: {problem}"));
        }
        Ok(())
    }
}

/// Shared state of the endpoints; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct HealthState {
    pub metrics: Metrics,
    pub readiness: Arc<Readiness>,
}

impl HealthState {
    pub fn new(metrics: Metrics, readiness: Arc<Readiness>) -> HealthState {
        HealthState { metrics, readiness }
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<HealthState>) -> Response {
    match state.readiness.check() {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<HealthState>) -> Response {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

/// The three endpoints; anything else is 404.
pub fn router(state: HealthState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Binds `addr` and serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve<F>(addr: SocketAddr, state: HealthState, shutdown: F) -> Result<(), HealthError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| HealthError::Bind { addr, source })?;
    serve_on(listener, state, shutdown).await
}

/// Like [`serve`] on an already bound listener (e.g. port 0 in tests, to learn the port).
pub async fn serve_on<F>(
    listener: TcpListener,
    state: HealthState,
    shutdown: F,
) -> Result<(), HealthError>
where
    F: Future<Output = ()> + Send + 'static,
{
    if let Ok(local) = listener.local_addr() {
        tracing::info!(addr = %local, "health and metrics endpoints listening");
    }
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(HealthError::Serve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::sync::oneshot;

    struct Server {
        base: String,
        stop: oneshot::Sender<()>,
        task: tokio::task::JoinHandle<Result<(), HealthError>>,
    }

    async fn start(state: HealthState) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_on(listener, state, async move {
            let _ = stopped.await;
        }));
        Server {
            base: format!("http://{addr}"),
            stop,
            task,
        }
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client")
    }

    async fn get(url: String) -> (u16, String, String) {
        let resp = client().get(url).send().await.expect("request");
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp.text().await.expect("body");
        (status, ctype, body)
    }

    #[tokio::test]
    async fn endpoints_over_real_http() {
        let state = HealthState::default();
        let server = start(state.clone()).await;
        let base = server.base.clone();

        let (status, _, body) = get(format!("{base}/healthz")).await;
        assert_eq!((status, body.as_str()), (200, "ok\n"));

        // Readiness switches as the daemon updates it.
        let (status, _, body) = get(format!("{base}/readyz")).await;
        assert_eq!(
            (status, body.as_str()),
            (503, "not ready: configuration not loaded\n")
        );
        state.readiness.set_config_loaded(true);
        state
            .readiness
            .set_database(Err("connection refused\n(os error 111)".to_string()));
        let (status, _, body) = get(format!("{base}/readyz")).await;
        assert_eq!(
            (status, body.as_str()),
            (
                503,
                "not ready: database unreachable: connection refused (os error 111)\n"
            )
        );
        state.readiness.set_database(Ok(()));
        let (status, _, body) = get(format!("{base}/readyz")).await;
        assert_eq!((status, body.as_str()), (200, "ready\n"));
        state.readiness.set_shutting_down();
        let (status, _, body) = get(format!("{base}/readyz")).await;
        assert_eq!((status, body.as_str()), (503, "not ready: shutting down\n"));
        // Liveness is unaffected.
        let (status, _, _) = get(format!("{base}/healthz")).await;
        assert_eq!(status, 200);

        // Metrics reflect increments made after the server started.
        let (status, ctype, body) = get(format!("{base}/metrics")).await;
        assert_eq!(status, 200);
        assert!(
            ctype.starts_with("application/openmetrics-text; version=1.0.0"),
            "{ctype}"
        );
        assert!(body.ends_with("# EOF\n"), "{body}");
        assert!(!body.contains("yingbao_records_read_total{source=\"企业名录\"}"));
        state.metrics.add_records_read("企业名录", 41);
        state.metrics.add_records_read("企业名录", 1);
        let (_, _, body) = get(format!("{base}/metrics")).await;
        assert!(
            body.contains("yingbao_records_read_total{source=\"企业名录\"} 42\n"),
            "{body}"
        );
        assert!(
            body.contains("# TYPE yingbao_records_read counter\n"),
            "{body}"
        );

        let (status, _, _) = get(format!("{base}/nope")).await;
        assert_eq!(status, 404);

        // Graceful shutdown: the server future returns once the signal fires.
        let _ = server.stop.send(());
        let result = tokio::time::timeout(Duration::from_secs(10), server.task)
            .await
            .expect("server stopped in time")
            .expect("server task did not panic");
        assert!(result.is_ok(), "{result:?}");
    }

    #[tokio::test]
    async fn serve_reports_bind_errors() {
        let taken = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = taken.local_addr().expect("local addr");
        let result = serve(addr, HealthState::default(), async {}).await;
        match result {
            Err(HealthError::Bind { addr: a, .. }) => assert_eq!(a, addr),
            other => panic!("expected a bind error, got {other:?}"),
        }
    }

    #[test]
    fn readiness_reason_is_one_line() {
        let r = Readiness::new();
        assert_eq!(r.check(), Err("configuration not loaded".to_string()));
        r.set_config_loaded(true);
        assert_eq!(
            r.check(),
            Err("database unreachable: the database has not been checked yet".to_string())
        );
        r.set_database(Err("\n".to_string()));
        assert_eq!(
            r.check(),
            Err("database unreachable: unknown error".to_string())
        );
    }
}
