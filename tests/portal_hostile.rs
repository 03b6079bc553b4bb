//! Hostile input to the portal over real HTTP on 127.0.0.1: a burst of parallel wrong passwords
//! has at most the limit checked and a restart keeps the lockout (SQLite and PostgreSQL); a
//! returned list that unpacks past the cap is refused and nothing of it is stored.

mod common;

use std::str::FromStr;

use reqwest::redirect::Policy;
use reqwest::StatusCode;
use yingbao::config::Config;
use yingbao::portal::auth::{self, PasswordParams, RateLimitConfig};
use yingbao::store::{timestamp, AccountRole, Store};

use common::site::{form_token, serve, session_cookie, sign_in, SHUITOU};
use common::Project;

/// Cheap hashing for test accounts (the portal verifies any argon2id parameters).
const CHEAP: PasswordParams = PasswordParams {
    m_kib: 256,
    t: 1,
    p: 1,
};

/// Parallel tries at once; far more than the limit.
const BURST: usize = 120;

const WRONG: &str = "用户名或密码错误";
const LOCKED: &str = "登录失败次数过多";

async fn add_accounts(store: &Store) {
    for name in ["st", "st_lead"] {
        let hash = auth::hash_password_with(&format!("{name}-password"), &CHEAP).expect("hash");
        store
            .add_user(
                name,
                &format!("{name}显示名"),
                AccountRole::Township,
                Some("350583119"),
                name == "st_lead",
                &hash,
            )
            .await
            .expect("user");
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// One sign-in: its status and whether the page says wrong password or locked.
async fn try_sign_in(http: &reqwest::Client, base: &str, user: &str, password: &str) -> Outcome {
    let r = sign_in(http, base, user, password).await;
    let status = r.status();
    let retry_after = r.headers().contains_key("retry-after");
    let page = r.text().await.expect("page");
    match status {
        StatusCode::SEE_OTHER => Outcome::SignedIn,
        StatusCode::OK if page.contains(WRONG) => Outcome::Wrong,
        StatusCode::TOO_MANY_REQUESTS if page.contains(LOCKED) && retry_after => Outcome::Locked,
        other => panic!("unexpected answer {other}: {page}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    SignedIn,
    Wrong,
    Locked,
}

/// Moves every counted attempt `minutes` into the past (as if that much time went by).
async fn age_attempts(store: &Store, minutes: i64) {
    let at = timestamp(chrono::Utc::now() - chrono::TimeDelta::minutes(minutes));
    let sql = "UPDATE sign_in_attempts SET attempted_at = $1";
    match store {
        Store::Sqlite(p) => sqlx::query(sql).bind(at).execute(p).await.map(|_| ()),
        Store::Postgres(p) => sqlx::query(sql).bind(at).execute(p).await.map(|_| ()),
    }
    .expect("age attempts");
}

/// The whole story on one database: `reopen` opens the same database again (a restart).
async fn lockout_story<F, Fut>(cfg: Config, store: Store, reopen: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Store>,
{
    let limit = RateLimitConfig::DEFAULT.max_per_user;
    add_accounts(&store).await;
    let base = serve(cfg.clone(), store.clone()).await;
    let http = client();

    // A burst of wrong passwords at once: only `limit` are checked, the rest refused unchecked.
    let tries: Vec<_> = (0..BURST)
        .map(|_| {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move { try_sign_in(&http, &base, "st", "wrong-password").await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tries {
        outcomes.push(t.await.expect("join"));
    }
    let checked = outcomes.iter().filter(|o| **o != Outcome::Locked).count();
    assert!(
        checked <= limit,
        "{checked} of {BURST} parallel tries had their password checked; the limit is {limit}"
    );
    assert_eq!(checked, limit, "every try below the limit is checked");
    assert!(outcomes.iter().all(|o| *o != Outcome::SignedIn));
    // Locked: even the right password is refused.
    assert_eq!(
        try_sign_in(&http, &base, "st", "st-password").await,
        Outcome::Locked
    );
    // The address is not locked by one account's failures: another account signs in.
    assert_eq!(
        try_sign_in(&http, &base, "st_lead", "st_lead-password").await,
        Outcome::SignedIn
    );

    // A restart: a new portal on the same database still refuses.
    let again = reopen().await;
    let base = serve(cfg, again.clone()).await;
    assert_eq!(
        try_sign_in(&http, &base, "st", "st-password").await,
        Outcome::Locked,
        "the lockout survives a restart"
    );

    // After the window the right password signs in, and that clears the account's count.
    age_attempts(&again, 16).await;
    assert_eq!(
        try_sign_in(&http, &base, "st", "st-password").await,
        Outcome::SignedIn
    );
    for n in 0..limit {
        assert_eq!(
            try_sign_in(&http, &base, "st", "wrong-password").await,
            Outcome::Wrong,
            "try {n} after the reset"
        );
    }
    assert_eq!(
        try_sign_in(&http, &base, "st", "st-password").await,
        Outcome::Locked
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_meet_the_limit_and_a_restart_keeps_the_lockout() {
    let project = Project::new();
    let store = project.sqlite().await;
    let cfg = project.config();
    lockout_story(cfg, store, || project.sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_meet_the_limit_and_a_restart_keeps_the_lockout_postgres() {
    const TEST: &str = "lockout";
    let Some(store) = common::postgres(TEST).await else {
        return;
    };
    let project = Project::new();
    let cfg = project.config();
    // The same schema `common::postgres` made, through a pool of its own.
    let reopen = || async {
        let url = std::env::var("YINGBAO_TEST_POSTGRES_URL").expect("set: checked above");
        let schema = format!("t_{}_{}", TEST, std::process::id());
        let opts = sqlx::postgres::PgConnectOptions::from_str(&url)
            .expect("url")
            .options([("search_path", schema.as_str())]);
        Store::open_postgres(opts).await.expect("reopen postgres")
    };
    lockout_story(cfg, store, reopen).await;
}

/// The limit the README promises: 5 per account, 20 per address, in 15 minutes.
#[test]
fn the_limit_is_the_documented_one() {
    let c = RateLimitConfig::DEFAULT;
    assert_eq!((c.max_per_user, c.max_per_ip), (5, 20));
    assert_eq!(c.window, std::time::Duration::from_secs(15 * 60));
}

/// A returned list with one row (已申报 for `lead`); with `padding`, a second sheet of that
/// many distinct 32,767-character cells (a few hundred KiB compressed, 32 KiB each unpacked).
fn returned_list(lead: &str, padding: u32) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("线索清单").expect("name");
    for (c, v) in ["线索编号", "核实情况", "核实人", "核实日期"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *v).expect("header");
    }
    for (c, v) in [lead, "已申报", "李四", "2025-07-06"].iter().enumerate() {
        ws.write_string(1, c as u16, *v).expect("cell");
    }
    if padding > 0 {
        let pad = book.add_worksheet();
        pad.set_name("填充").expect("name");
        let filler = "x".repeat(32_767 - 8);
        for r in 0..padding {
            pad.write_string(r, 0, format!("{r:08}{filler}"))
                .expect("cell");
        }
    }
    book.save_to_buffer().expect("xlsx")
}

#[tokio::test]
async fn a_returned_list_unpacking_past_the_cap_is_refused_and_nothing_is_stored() {
    let site = common::site::start().await;
    let http = client();
    let lead = site
        .store
        .portal_leads(Some(SHUITOU))
        .await
        .expect("leads")
        .into_iter()
        .next()
        .expect("a lead of 水头镇")
        .lead_id;
    let signed_in = sign_in(&http, &site.base, "st", "st-password").await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&signed_in);
    let page = http
        .get(format!("{}/leads", site.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("leads")
        .text()
        .await
        .expect("page");
    let csrf = form_token(&page);
    let upload = |bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("水头镇_反馈.xlsx"),
            );
        http.post(format!("{}/upload", site.base))
            .header("cookie", &cookie)
            .multipart(form)
            .send()
    };
    let stored = || site.store.dispositions(Some(&lead), None, false);

    // 2,200 cells of 32 KiB: about 69 MiB unpacked, past the 64 MiB cap.
    let bomb = returned_list(&lead, 2_200);
    assert!(bomb.len() < 4 << 20, "small on the wire: {}", bomb.len());
    let r = upload(bomb).await.expect("upload");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = r.text().await.expect("page");
    assert!(page.contains("文件解压后超过64MB上限"), "{page}");
    assert!(page.contains("未记录任何内容"), "{page}");
    assert!(stored().await.expect("dispositions").is_empty());

    // The same list without the padding is recorded: the refusal was the size.
    let r = upload(returned_list(&lead, 0)).await.expect("upload");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .expect("page")
        .contains("已记录 1 条核实情况"));
    assert_eq!(stored().await.expect("dispositions").len(), 1);
}
