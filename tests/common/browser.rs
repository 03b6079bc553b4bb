//! Headless-Chromium harness for end-to-end tests: starts Debian's chromedriver + chromium and
//! drives them through a small hand-written W3C WebDriver client over reqwest (no extra crates).

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Map, Value};

/// The key under which W3C WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// A window property set before a navigation is triggered; a new document does not have it.
const PAGE_MARK: &str = "__ybHarnessMark";
/// How long `submit`/`click_nav` wait for the next page to finish loading.
const NAV_TIMEOUT: Duration = Duration::from_secs(30);
/// Poll interval of `wait_for` and of the navigation wait.
const POLL: Duration = Duration::from_millis(50);

/// Environment variable naming the chromium binary (default `/usr/bin/chromium`).
pub const ENV_CHROMIUM: &str = "YINGBAO_CHROMIUM";
/// Environment variable naming the chromedriver binary (default `/usr/bin/chromedriver`).
pub const ENV_CHROMEDRIVER: &str = "YINGBAO_CHROMEDRIVER";
/// When set to `1`, a missing browser is an error instead of a skip (set it in CI).
pub const ENV_REQUIRE: &str = "YINGBAO_REQUIRE_BROWSER";
/// The line a test prints when `Browser::start` returns `Ok(None)`.
pub const SKIP_MESSAGE: &str =
    "SKIPPED: chromium/chromedriver not installed (.ci/run installs them)";

/// How the browser is started.
#[derive(Debug, Clone)]
pub struct Options {
    /// Viewport width in CSS pixels (emulated, so below chromium's 500 px window minimum too).
    pub width: u32,
    /// Viewport height in CSS pixels.
    pub height: u32,
    /// Emulate a mobile device: `<meta name=viewport>` is honoured, scrollbars overlay.
    pub mobile: bool,
    /// Browser UI language and `Accept-Language`.
    pub lang: String,
    /// Upper bound for one WebDriver command (page loads included).
    pub command_timeout: Duration,
}

impl Default for Options {
    /// A phone (390x844, a current iPhone's CSS viewport, mobile emulation), Chinese UI.
    fn default() -> Self {
        Options {
            width: 390,
            height: 844,
            mobile: true,
            lang: "zh-CN".to_string(),
            command_timeout: Duration::from_secs(60),
        }
    }
}

impl Options {
    /// A desktop-sized window (1280x800), otherwise the defaults.
    pub fn desktop() -> Self {
        Options {
            width: 1280,
            height: 800,
            mobile: false,
            ..Options::default()
        }
    }
}

/// A cookie as the browser holds it (WebDriver exposes the flags, unlike `document.cookie`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub path: Option<String>,
    pub domain: Option<String>,
    pub http_only: bool,
    pub secure: bool,
    /// `Lax`, `Strict` or `None` as reported by chromium.
    pub same_site: Option<String>,
    /// Unix seconds; `None` for a session cookie.
    pub expiry: Option<u64>,
}

/// One headless chromium session behind its own chromedriver process.
///
/// Dropping it ends the session and kills chromedriver and every chromium process it started
/// (they share one process group); prefer `close().await` for a graceful end.
pub struct Browser {
    http: reqwest::Client,
    port: u16,
    session_id: Option<String>,
    mobile: bool,
    driver: Child,
    /// Holds chromium's profile and chromedriver's log; removed on drop.
    scratch: tempfile::TempDir,
    startup: Duration,
}

impl Browser {
    /// Starts chromedriver and a phone-sized headless chromium session.
    ///
    /// Returns `Ok(None)` when chromium or chromedriver is not installed (unless
    /// `YINGBAO_REQUIRE_BROWSER=1`), so the caller can print [`SKIP_MESSAGE`] and pass.
    pub async fn start() -> Result<Option<Browser>, String> {
        Browser::start_with(Options::default()).await
    }

    /// Like [`Browser::start`], with explicit options.
    pub async fn start_with(opts: Options) -> Result<Option<Browser>, String> {
        let began = Instant::now();
        let chromium = locate(ENV_CHROMIUM, "chromium")?;
        let chromedriver = locate(ENV_CHROMEDRIVER, "chromedriver")?;
        let (chromium, chromedriver) = match (chromium, chromedriver) {
            (Some(c), Some(d)) => (c, d),
            _ if std::env::var(ENV_REQUIRE).is_ok_and(|v| v == "1") => {
                return Err(format!(
                    "{ENV_REQUIRE}=1 but chromium or chromedriver is missing \
                     (apt-get install -y chromium chromium-driver)"
                ))
            }
            _ => return Ok(None),
        };

        let scratch = tempfile::Builder::new()
            .prefix("yingbao-browser-")
            .tempdir()
            .map_err(|e| format!("creating the browser's temp dir: {e}"))?;
        let log_path = scratch.path().join("chromedriver.log");
        let log = File::create(&log_path).map_err(|e| format!("creating {log_path:?}: {e}"))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cloning the log handle: {e}"))?;
        let port = free_port()?;
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            // Own process group: chromium inherits it, so Drop can kill the whole tree.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", chromedriver.display()))?;
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(opts.command_timeout)
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        let mut browser = Browser {
            http,
            port,
            session_id: None,
            mobile: opts.mobile,
            driver,
            scratch,
            startup: Duration::ZERO,
        };
        browser.wait_driver_ready(Duration::from_secs(20)).await?;
        browser.new_session(&chromium, &opts).await?;
        browser.set_window_size(opts.width, opts.height).await?;
        browser.startup = began.elapsed();
        Ok(Some(browser))
    }

    /// Wall time `start` took (chromedriver up + chromium session created).
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// Ends the session (chromium quits) and stops chromedriver.
    pub async fn close(mut self) -> Result<(), String> {
        if self.session_id.is_some() {
            self.cmd(Method::DELETE, "", None).await?;
            self.session_id = None;
        }
        Ok(()) // Drop stops chromedriver
    }

    /// Loads `url` and waits for it to finish loading.
    pub async fn goto(&self, url: &str) -> Result<(), String> {
        self.cmd(Method::POST, "/url", Some(json!({ "url": url })))
            .await
            .map(drop)
    }

    /// The URL of the current page.
    pub async fn current_url(&self) -> Result<String, String> {
        let v = self.cmd(Method::GET, "/url", None).await?;
        as_string(v, "url")
    }

    /// The title of the current page.
    pub async fn title(&self) -> Result<String, String> {
        let v = self.cmd(Method::GET, "/title", None).await?;
        as_string(v, "title")
    }

    /// The serialized DOM of the current page (for failure messages).
    pub async fn page_source(&self) -> Result<String, String> {
        let v = self.cmd(Method::GET, "/source", None).await?;
        as_string(v, "source")
    }

    /// Clears the first element matching `css` and types `text` into it.
    ///
    /// A `\n` in `text` presses Enter: a new line in a textarea, a submit in an input.
    pub async fn fill(&self, css: &str, text: &str) -> Result<(), String> {
        let el = self.find(css).await?;
        self.cmd(
            Method::POST,
            &format!("/element/{el}/clear"),
            Some(json!({})),
        )
        .await
        .map_err(|e| format!("clearing `{css}`: {e}"))?;
        self.cmd(
            Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({ "text": text })),
        )
        .await
        .map_err(|e| format!("typing into `{css}`: {e}"))
        .map(drop)
    }

    /// Picks the `<option value="option_value">` of the `<select>` matching `css`.
    pub async fn select(&self, css: &str, option_value: &str) -> Result<(), String> {
        let select = self.find(css).await?;
        let option_css = format!("option[value={}]", css_string(option_value));
        let found = self
            .cmd(
                Method::POST,
                &format!("/element/{select}/element"),
                Some(json!({ "using": "css selector", "value": option_css })),
            )
            .await
            .map_err(|e| format!("`{css}` has no option with value {option_value:?}: {e}"))?;
        let option = element_id(&found)?;
        self.cmd(
            Method::POST,
            &format!("/element/{option}/click"),
            Some(json!({})),
        )
        .await?;
        let selected = self
            .cmd(Method::GET, &format!("/element/{option}/selected"), None)
            .await?;
        if selected.as_bool() == Some(true) {
            Ok(())
        } else {
            Err(format!(
                "clicked option {option_value:?} of `{css}` but it is not selected"
            ))
        }
    }

    /// Puts the file at `path` into the `<input type=file>` matching `css`.
    pub async fn upload(&self, css: &str, path: &Path) -> Result<(), String> {
        let abs = std::fs::canonicalize(path)
            .map_err(|e| format!("upload file {}: {e}", path.display()))?;
        let abs = abs
            .to_str()
            .ok_or_else(|| format!("upload path is not UTF-8: {}", abs.display()))?;
        let el = self.find(css).await?;
        self.cmd(
            Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({ "text": abs })),
        )
        .await
        .map_err(|e| format!("uploading into `{css}`: {e}"))
        .map(drop)
    }

    /// Clicks the first element matching `css` (scrolling it into view first).
    ///
    /// Does not wait for a page load it may start: use [`Browser::click_nav`] for that.
    pub async fn click(&self, css: &str) -> Result<(), String> {
        let el = self.find(css).await?;
        self.cmd(
            Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await
        .map_err(|e| format!("clicking `{css}`: {e}"))
        .map(drop)
    }

    /// Clicks a link or submit button matching `css` and waits until the next page has loaded.
    pub async fn click_nav(&self, css: &str) -> Result<(), String> {
        self.mark_page().await?;
        self.click(css).await?;
        self.wait_new_page(NAV_TIMEOUT).await
    }

    /// Submits the form matching `css` (or the form of the control matching it), as a user
    /// pressing its submit button would (validation + submit event), and waits for the next page.
    pub async fn submit(&self, css: &str) -> Result<(), String> {
        let el = self.find(css).await?;
        self.mark_page().await?;
        let script = "const e = arguments[0];\
             const f = e instanceof HTMLFormElement ? e : e.form;\
             if (!f) { throw new Error('not a form nor inside one'); }\
             HTMLFormElement.prototype.requestSubmit.call(f);";
        self.execute(script, vec![element_ref(&el)])
            .await
            .map_err(|e| format!("submitting `{css}`: {e}"))?;
        self.wait_new_page(NAV_TIMEOUT).await
    }

    /// The rendered text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> Result<String, String> {
        let el = self.find(css).await?;
        let v = self
            .cmd(Method::GET, &format!("/element/{el}/text"), None)
            .await?;
        as_string(v, "text")
    }

    /// The rendered texts of every element matching `css`, in document order (may be empty).
    pub async fn texts(&self, css: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for el in self.find_all(css).await? {
            let v = self
                .cmd(Method::GET, &format!("/element/{el}/text"), None)
                .await?;
            out.push(as_string(v, "text")?);
        }
        Ok(out)
    }

    /// The value of `attribute` (or DOM property of that name) of the first match of `css`.
    pub async fn attr(&self, css: &str, attribute: &str) -> Result<Option<String>, String> {
        let el = self.find(css).await?;
        let v = self
            .cmd(
                Method::GET,
                &format!("/element/{el}/property/{attribute}"),
                None,
            )
            .await?;
        Ok(match v {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        })
    }

    /// Waits until an element matching `css` exists, or fails after `timeout`.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.find_all(css).await?.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let url = self.current_url().await.unwrap_or_default();
                return Err(format!(
                    "timed out after {timeout:?} waiting for `{css}` on {url}"
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its result.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.cmd(
            Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
    }

    /// Saves a PNG of the viewport to `path` (parent directories are created).
    pub async fn screenshot(&self, path: &Path) -> Result<(), String> {
        let v = self.cmd(Method::GET, "/screenshot", None).await?;
        let b64 = as_string(v, "screenshot")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| format!("screenshot is not base64: {e}"))?;
        if !png.starts_with(b"\x89PNG") {
            return Err("screenshot is not a PNG".to_string());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {dir:?}: {e}"))?;
        }
        std::fs::write(path, png).map_err(|e| format!("writing {}: {e}", path.display()))
    }

    /// The cookies visible to the current page, HttpOnly ones included.
    pub async fn cookies(&self) -> Result<Vec<Cookie>, String> {
        let v = self.cmd(Method::GET, "/cookie", None).await?;
        let Value::Array(items) = v else {
            return Err(format!("cookie list is not an array: {v}"));
        };
        let text = |c: &Value, k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
        let flag = |c: &Value, k: &str| c.get(k).and_then(Value::as_bool).unwrap_or(false);
        Ok(items
            .iter()
            .map(|c| Cookie {
                name: text(c, "name").unwrap_or_default(),
                value: text(c, "value").unwrap_or_default(),
                path: text(c, "path"),
                domain: text(c, "domain"),
                http_only: flag(c, "httpOnly"),
                secure: flag(c, "secure"),
                same_site: text(c, "sameSite"),
                expiry: c.get("expiry").and_then(Value::as_u64),
            })
            .collect())
    }

    /// Makes the page's viewport exactly `width` x `height` CSS pixels (what `innerWidth`,
    /// media queries and screenshots see), keeping the mobile emulation flag of the start.
    ///
    /// Headless chromium keeps windows at least 500 px wide and its viewport is smaller than
    /// the window, so this resizes the window and then pins the viewport through chromedriver's
    /// CDP passthrough (`Emulation.setDeviceMetricsOverride`).
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), String> {
        self.cmd(
            Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await?;
        let params = json!({
            "width": width,
            "height": height,
            "deviceScaleFactor": 1,
            "mobile": self.mobile,
        });
        self.cmd(
            Method::POST,
            "/goog/cdp/execute",
            Some(json!({ "cmd": "Emulation.setDeviceMetricsOverride", "params": params })),
        )
        .await
        .map(drop)
    }

    /// The last `lines` lines of chromedriver's (and chromium's) log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.scratch.path().join("chromedriver.log"))
            .unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    // ---- internals ----

    async fn find(&self, css: &str) -> Result<String, String> {
        let v = self
            .cmd(
                Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await
            .map_err(|e| format!("finding `{css}`: {e}"))?;
        element_id(&v)
    }

    async fn find_all(&self, css: &str) -> Result<Vec<String>, String> {
        let v = self
            .cmd(
                Method::POST,
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await
            .map_err(|e| format!("finding `{css}`: {e}"))?;
        let Value::Array(items) = v else {
            return Err(format!("element list is not an array: {v}"));
        };
        items.iter().map(element_id).collect()
    }

    async fn mark_page(&self) -> Result<(), String> {
        self.execute(&format!("window.{PAGE_MARK} = true;"), vec![])
            .await
            .map(drop)
    }

    /// Waits until the marked document is gone and its successor has loaded.
    async fn wait_new_page(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let probe =
            format!("return window.{PAGE_MARK} !== true && document.readyState === 'complete';");
        let mut last_err = String::new();
        loop {
            // While the old document unloads, scripts may fail; that is "not yet".
            match self.execute(&probe, vec![]).await {
                Ok(Value::Bool(true)) => return Ok(()),
                Ok(_) => {}
                Err(e) => last_err = e,
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no new page loaded within {timeout:?} (last error: {last_err})"
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn wait_driver_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let url = format!("http://127.0.0.1:{}/status", self.port);
        loop {
            if let Ok(Some(status)) = self.driver.try_wait() {
                return Err(format!(
                    "chromedriver exited early ({status}):\n{}",
                    self.log_tail(20)
                ));
            }
            if let Ok(resp) = self.http.get(&url).send().await {
                if let Ok(v) = resp.json::<Value>().await {
                    if v["value"]["ready"].as_bool() == Some(true) {
                        return Ok(());
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "chromedriver not ready after {timeout:?}:\n{}",
                    self.log_tail(20)
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn new_session(&mut self, chromium: &Path, opts: &Options) -> Result<(), String> {
        let profile = self.scratch.path().join("profile");
        let args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".to_string(), // required as root (CI)
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--no-first-run".to_string(),
            "--disable-extensions".to_string(),
            "--hide-scrollbars".to_string(),
            "--force-device-scale-factor=1".to_string(),
            format!("--window-size={},{}", opts.width, opts.height),
            format!("--lang={}", opts.lang),
            format!("--user-data-dir={}", profile.display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": args,
                "prefs": { "intl.accept_languages": opts.lang },
            },
        }}});
        let url = format!("http://127.0.0.1:{}/session", self.port);
        let v = self
            .send(Method::POST, &url, Some(caps))
            .await
            .map_err(|e| format!("creating a chromium session: {e}\n{}", self.log_tail(20)))?;
        let id = v["sessionId"]
            .as_str()
            .ok_or_else(|| format!("new session reply has no sessionId: {v}"))?;
        self.session_id = Some(id.to_string());
        Ok(())
    }

    /// Sends a command to this session (`path` is relative to `/session/{id}`).
    async fn cmd(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let id = self
            .session_id
            .as_deref()
            .ok_or_else(|| "the browser session is closed".to_string())?;
        let url = format!("http://127.0.0.1:{}/session/{id}{path}", self.port);
        self.send(method, &url, body).await
    }

    async fn send(&self, method: Method, url: &str, body: Option<Value>) -> Result<Value, String> {
        let what = format!(
            "{method} {}",
            url.split_once("/session").map_or(url, |p| p.1)
        );
        let mut req = self.http.request(method, url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.map_err(|e| format!("{what}: {e}"))?;
        let status = resp.status();
        let mut v: Value = resp
            .json()
            .await
            .map_err(|e| format!("{what}: reply is not JSON ({status}): {e}"))?;
        let value = v.get_mut("value").map(Value::take).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let error = value["error"].as_str().unwrap_or("unknown error");
        // chromedriver appends a native stack trace; keep the human part.
        let message = value["message"].as_str().unwrap_or("");
        let message = message.split("\nStacktrace").next().unwrap_or(message);
        Err(format!("{what}: {error}: {}", message.trim()))
    }

    /// Synchronous `DELETE /session/{id}` for Drop (no runtime available there).
    fn delete_session_blocking(&self, id: &str) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
             Connection: close\r\nContent-Length: 0\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            // chromedriver answers once chromium has quit; the first bytes are enough
            // (it may keep the connection open, so do not read to the end).
            let mut first = [0u8; 64];
            let _ = stream.read(&mut first);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(id) = self.session_id.take() {
            self.delete_session_blocking(&id);
        }
        let Ok(pgid) = libc::pid_t::try_from(self.driver.id()) else {
            let _ = self.driver.kill();
            let _ = self.driver.wait();
            return;
        };
        // SAFETY: plain syscall; a negative pid addresses the process group chromedriver leads.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(3);
        while matches!(self.driver.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Whatever is left in the group (a chromium that ignored SIGTERM) goes now.
        // SAFETY: as above.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

/// Finds a binary: `$env_key` if set (it must exist), else `/usr/bin/{name}`, else `$PATH`.
fn locate(env_key: &str, name: &str) -> Result<Option<PathBuf>, String> {
    if let Some(v) = std::env::var_os(env_key).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(v);
        return if p.is_file() {
            Ok(Some(p))
        } else {
            Err(format!("{env_key}={} does not exist", p.display()))
        };
    }
    let default = Path::new("/usr/bin").join(name);
    if default.is_file() {
        return Ok(Some(default));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    Ok(std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file()))
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind(("127.0.0.1", 0)).map_err(|e| format!("finding a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn element_id(v: &Value) -> Result<String, String> {
    v.get(ELEMENT_KEY)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| format!("not an element reference: {v}"))
}

fn element_ref(id: &str) -> Value {
    let mut m = Map::new();
    m.insert(ELEMENT_KEY.to_string(), Value::String(id.to_string()));
    Value::Object(m)
}

fn as_string(v: Value, what: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(format!("{what} is not a string: {other}")),
    }
}

/// `s` as a double-quoted CSS string literal.
fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\a "),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_string_escapes_quotes_and_backslashes() {
        assert_eq!(css_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(css_string("水头镇"), "\"水头镇\"");
    }
}
