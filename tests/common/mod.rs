//! Shared helpers for integration tests: a throwaway copy of the project (config, connectors
//! and the bundled sample) with its own SQLite file, and the PostgreSQL test database if any.

#![allow(dead_code)]

pub mod browser;
pub mod site;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use yingbao::config::{self, Config};
use yingbao::store::Store;

/// Serves `app` on 127.0.0.1 (a free port) for the rest of the test; returns its address.
pub async fn listen(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    addr
}

/// A copy of the project's config/ and connectors/ (with the sample) in a temp folder.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        let src = Path::new(env!("CARGO_MANIFEST_DIR"));
        copy_tree(&src.join("config"), &dir.path().join("config"));
        copy_tree(&src.join("connectors"), &dir.path().join("connectors"));
        Project { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_file(&self) -> PathBuf {
        self.root().join("config/yingbao.toml")
    }

    /// Loads the copy's configuration; panics with every problem if it is wrong.
    pub fn config(&self) -> Config {
        config::load(&self.config_file()).unwrap_or_else(|ps| {
            panic!(
                "{}",
                ps.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
    }

    /// Runs the `yingbao` binary on this project; panics with its stderr unless it succeeds.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_yingbao"))
            .arg("--config")
            .arg(self.config_file())
            .args(args)
            .output()
            .expect("run yingbao");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// Sets `policy.as_of` in the copy's configuration (the screening date).
    pub fn set_as_of(&self, date: &str) {
        let file = self.config_file();
        let text = std::fs::read_to_string(&file).expect("config");
        let start = text.find("as_of = ").expect("as_of line");
        let end = start + text[start..].find('\n').expect("eol");
        let text = format!("{}as_of = {date}{}", &text[..start], &text[end..]);
        std::fs::write(&file, text).expect("write config");
    }

    pub async fn sqlite(&self) -> Store {
        self.sqlite_named("test").await
    }

    /// Another SQLite database of this project, `var/<name>.db`.
    pub async fn sqlite_named(&self, name: &str) -> Store {
        let url = format!(
            "sqlite://{}",
            self.root().join(format!("var/{name}.db")).display()
        );
        Store::open(&url).await.expect("open sqlite")
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let path = entry.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

/// The PostgreSQL test database from `YINGBAO_TEST_POSTGRES_URL`, in a fresh schema of its
/// own; `None` (and a line saying why) when it is not set. Set but not reachable is a failure:
/// a test that was asked to run against PostgreSQL must not pass without it.
pub async fn postgres(test: &str) -> Option<Store> {
    let Ok(url) = std::env::var("YINGBAO_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED {test}: PostgreSQL tests skipped: YINGBAO_TEST_POSTGRES_URL is not set (.ci/run sets it)");
        return None;
    };
    let schema = format!("t_{}_{}", test, std::process::id());
    let admin = match sqlx::PgPool::connect(&url).await {
        Ok(p) => p,
        Err(e) => panic!(
            "{test}: YINGBAO_TEST_POSTGRES_URL is set but PostgreSQL is not reachable: {e} \
             (start the server, or unset the variable to skip the PostgreSQL tests)"
        ),
    };
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&admin)
        .await
        .expect("drop schema");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("create schema");
    admin.close().await;
    let opts = sqlx::postgres::PgConnectOptions::from_str(&url)
        .expect("url")
        .options([("search_path", schema.as_str())]);
    Some(Store::open_postgres(opts).await.expect("open postgres"))
}
