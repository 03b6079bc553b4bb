//! The portal over real HTTP on 127.0.0.1: a township sees and changes only its own leads —
//! by URL, form, upload and API — forms need the session's CSRF token, sign-in is rate
//! limited, every disposition is audited, and a signed-off disposition acts on the next run;
//! the list pages with its filters kept, the month's Excel list downloads only to its own
//! township, and stored times show in the county's zone.

mod common;

use common::site::{form_token, SHUITOU, XIMEI};
use common::Project;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use yingbao::leads::LeadStatus;
use yingbao::pipeline;
use yingbao::portal::auth;
use yingbao::store::Store;

struct Portal {
    base: String,
    store: Store,
    http: reqwest::Client,
    project: Project,
}

async fn portal() -> Portal {
    portal_over(common::site::start().await)
}

/// A portal whose sample run still waits for the operator's approval.
async fn portal_waiting() -> Portal {
    portal_over(common::site::start_waiting().await)
}

fn portal_over(site: common::site::Site) -> Portal {
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    Portal {
        base: site.base,
        store: site.store,
        http,
        project: site.project,
    }
}

/// A signed-in session: its cookie header and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

impl Portal {
    /// Submits the sign-in form as a browser does: its page first (the form's token and
    /// cookie), then the post.
    async fn sign_in(&self, user: &str, password: &str) -> reqwest::Response {
        common::site::sign_in(&self.http, &self.base, user, password).await
    }

    async fn login(&self, user: &str) -> Session {
        let r = self.sign_in(user, &format!("{user}-password")).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{user} signs in");
        let set = r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_string();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        let cookie = set.split(';').next().expect("pair").to_string();
        let page = self.get(&cookie, "/leads").await.1;
        let csrf = form_token(&page);
        Session { cookie, csrf }
    }

    async fn get(&self, cookie: &str, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .expect("get");
        (r.status(), r.text().await.expect("body"))
    }

    async fn post(&self, cookie: &str, path: &str, form: &[(&str, &str)]) -> StatusCode {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .expect("post")
            .status()
    }

    async fn lead_ids(&self, township: &str) -> Vec<String> {
        self.store
            .portal_leads(Some(township))
            .await
            .expect("leads")
            .into_iter()
            .map(|l| l.lead_id)
            .collect()
    }
}

fn disposition<'a>(csrf: &'a str, kind: &'a str, person: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("kind", kind),
        ("person", person),
        ("reason", ""),
        ("decided_on", "2025-07-05"),
    ]
}

#[tokio::test]
async fn a_township_sees_and_changes_only_its_own_leads_by_every_route() {
    let p = portal().await;
    let own = p.lead_ids(SHUITOU).await;
    let other = p.lead_ids(XIMEI).await;
    assert!(own.len() >= 3 && !other.is_empty());
    let st = p.login("st").await;

    // The list: exactly the township's leads; another township's list is refused.
    let (status, page) = p.get(&st.cookie, "/leads").await;
    assert_eq!(status, StatusCode::OK);
    for id in &own {
        assert!(page.contains(&format!("/leads/{id}\"")), "{id} listed");
    }
    for id in &other {
        assert!(
            !page.contains(id.as_str()),
            "{id} of 溪美街道 must not show"
        );
    }
    assert_eq!(
        p.get(&st.cookie, &format!("/leads?township={XIMEI}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // Filtered by a word of the reasons (严重行业, URL-encoded): as the stored rows say.
    let (_, page) = p
        .get(
            &st.cookie,
            "/leads?reason=%E4%B8%A5%E9%87%8D%E8%A1%8C%E4%B8%9A",
        )
        .await;
    let severe = p
        .store
        .portal_leads(Some(SHUITOU))
        .await
        .expect("leads")
        .iter()
        .filter(|l| l.data.row.reasons.iter().any(|x| x.contains("严重行业")))
        .count();
    assert!(
        severe > 0 && severe < own.len(),
        "a filter that selects: {severe}"
    );
    assert!(page.contains(&format!("共 {severe} 条")), "{severe} severe");
    // By URL.
    assert_eq!(
        p.get(&st.cookie, &format!("/leads/{}", other[0])).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, page) = p.get(&st.cookie, &format!("/leads/{}", own[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("各部门数据"), "the evidence is shown");
    // By form: another township's lead, a missing or wrong CSRF token.
    let form = disposition(&st.csrf, "已督促申报", "张三");
    assert_eq!(
        p.post(
            &st.cookie,
            &format!("/leads/{}/disposition", other[0]),
            &form
        )
        .await,
        StatusCode::FORBIDDEN
    );
    let no_csrf = disposition("", "已督促申报", "张三");
    assert_eq!(
        p.post(
            &st.cookie,
            &format!("/leads/{}/disposition", own[0]),
            &no_csrf
        )
        .await,
        StatusCode::FORBIDDEN
    );
    let wrong = disposition("forged-token", "已督促申报", "张三");
    assert_eq!(
        p.post(
            &st.cookie,
            &format!("/leads/{}/disposition", own[0]),
            &wrong
        )
        .await,
        StatusCode::FORBIDDEN
    );
    // Policy: 其他 needs a reason.
    let other_kind = disposition(&st.csrf, "其他", "张三");
    assert_eq!(
        p.post(
            &st.cookie,
            &format!("/leads/{}/disposition", own[0]),
            &other_kind
        )
        .await,
        StatusCode::BAD_REQUEST
    );
    assert!(p
        .store
        .dispositions(Some(&other[0]), None, false)
        .await
        .expect("d")
        .is_empty());
    assert!(p
        .store
        .dispositions(Some(&own[0]), None, false)
        .await
        .expect("d")
        .is_empty());
    // A good one: recorded, unsigned (staff), audited.
    assert_eq!(
        p.post(&st.cookie, &format!("/leads/{}/disposition", own[0]), &form)
            .await,
        StatusCode::SEE_OTHER
    );
    let recorded = p
        .store
        .dispositions(Some(&own[0]), None, false)
        .await
        .expect("d");
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].signed_at.is_none());
    assert_eq!(recorded[0].township_code.as_deref(), Some(SHUITOU));
    let audit = p.store.audit_of(&own[0]).await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].1, "st显示名");
    assert!(audit[0].3.contains("已督促申报"), "{}", audit[0].3);

    // Sign-off: not by staff, not by another township's leader; by its own leader.
    let id = recorded[0].id.to_string();
    let path = format!("/dispositions/{id}/signoff");
    assert_eq!(
        p.post(&st.cookie, &path, &[("csrf", &st.csrf)]).await,
        StatusCode::FORBIDDEN
    );
    let xm = p.login("xm_lead").await;
    assert_eq!(
        p.post(&xm.cookie, &path, &[("csrf", &xm.csrf)]).await,
        StatusCode::FORBIDDEN
    );
    let (_, pending) = p.get(&xm.cookie, "/dispositions").await;
    assert!(
        pending.contains("共 0 条"),
        "溪美's leader sees no 水头 disposition"
    );
    let lead = p.login("st_lead").await;
    assert_eq!(
        p.post(&lead.cookie, &path, &[("csrf", &lead.csrf)]).await,
        StatusCode::SEE_OTHER
    );
    let signed = p
        .store
        .dispositions(Some(&own[0]), None, false)
        .await
        .expect("d");
    assert_eq!(signed[0].signer, "st_lead显示名");
    assert!(signed[0].signed_at.is_some());

    // By upload: the township's own row is recorded, another township's row refused.
    let xlsx = p.project.root().join("returned.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("线索清单").expect("name");
    for (c, h) in ["线索编号", "核实情况", "核实人", "核实日期"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *h).expect("header");
    }
    for (r, id) in [&own[1], &other[0]].iter().enumerate() {
        let row = (r + 2) as u32;
        ws.write_string(row, 0, id.as_str()).expect("id");
        ws.write_string(row, 1, "停产停业超过6个月").expect("kind");
        ws.write_string(row, 2, "李四").expect("person");
        ws.write_string(row, 3, "2025-07-06").expect("date");
    }
    book.save(&xlsx).expect("save");
    let part = reqwest::multipart::Part::bytes(std::fs::read(&xlsx).expect("read"))
        .file_name("水头镇_反馈.xlsx");
    let form = reqwest::multipart::Form::new()
        .text("csrf", st.csrf.clone())
        .part("file", part);
    let r = p
        .http
        .post(format!("{}/upload", p.base))
        .header("cookie", &st.cookie)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("page");
    assert!(page.contains("已记录 1 条核实情况"), "{page}");
    assert!(page.contains("该线索不属于本乡镇"), "{page}");
    assert_eq!(
        p.store
            .dispositions(Some(&own[1]), None, false)
            .await
            .expect("d")
            .len(),
        1
    );
    assert!(p
        .store
        .dispositions(Some(&other[0]), None, false)
        .await
        .expect("d")
        .is_empty());
    // An upload without the CSRF token is refused before the file is read.
    let part =
        reqwest::multipart::Part::bytes(std::fs::read(&xlsx).expect("read")).file_name("x.xlsx");
    let r = p
        .http
        .post(format!("{}/upload", p.base))
        .header("cookie", &st.cookie)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // By API: a token names its township.
    let token = auth::new_token();
    p.store
        .add_api_token(&auth::token_hash(&token), SHUITOU, "水头镇OA")
        .await
        .expect("token");
    let api = |path: String| p.http.get(format!("{}{path}", p.base));
    let r = api("/api/v1/leads".into())
        .bearer_auth(&token)
        .send()
        .await
        .expect("api");
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.expect("json");
    let ids: Vec<&str> = v["leads"]
        .as_array()
        .expect("leads")
        .iter()
        .filter_map(|l| l["lead_id"].as_str())
        .collect();
    assert_eq!(ids.len(), own.len());
    assert!(ids.iter().all(|id| own.iter().any(|o| o == id)));
    assert_eq!(
        api("/api/v1/leads".into())
            .send()
            .await
            .expect("api")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api("/api/v1/leads".into())
            .bearer_auth("not-a-token")
            .send()
            .await
            .expect("api")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let body =
        serde_json::json!({ "kind": "已申报", "person": "王五", "decided_on": "2025-07-07" });
    let post = |id: &str| {
        p.http
            .post(format!("{}/api/v1/leads/{id}/disposition", p.base))
            .bearer_auth(&token)
            .json(&body)
    };
    assert_eq!(
        post(&other[0]).send().await.expect("api").status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&own[2]).send().await.expect("api").status(),
        StatusCode::CREATED
    );
    assert!(p
        .store
        .dispositions(Some(&other[0]), None, false)
        .await
        .expect("d")
        .is_empty());

    // The operator sees every township.
    let county = p.login("county").await;
    assert_eq!(
        p.get(&county.cookie, &format!("/leads?township={XIMEI}"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        p.get(&county.cookie, &format!("/leads/{}", own[0])).await.0,
        StatusCode::OK
    );

    // The signed-off disposition acts on the next run; the unsigned ones do not yet.
    let cfg = p.project.config();
    pipeline::run(&cfg, &p.store).await.expect("run 2");
    let states = p.store.lead_states().await.expect("states");
    assert_eq!(states[&own[0]].status, LeadStatus::Closed);
    assert_eq!(
        states[&own[1]].status,
        LeadStatus::Open,
        "waits for the leader"
    );
    assert_eq!(
        states[&own[2]].status,
        LeadStatus::Open,
        "API dispositions wait too"
    );
    // The list follows the new run: the closed lead is gone from the page.
    let (_, page) = p.get(&st.cookie, "/leads").await;
    assert!(
        !page.contains(&format!("/leads/{}\"", own[0])),
        "closed lead no longer listed"
    );
    assert!(page.contains(&format!("/leads/{}\"", own[1])));
}

#[tokio::test]
async fn sign_in_is_rate_limited_and_sign_out_ends_the_session() {
    let p = portal().await;
    // A sign-in form not from our page (no form token) is refused: login CSRF.
    let r = p
        .http
        .post(format!("{}/login", p.base))
        .form(&[("username", "st"), ("password", "st-password")])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(!r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .contains("yingbao_session"));
    for _ in 0..5 {
        let r = p.sign_in("st", "wrong-password").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.expect("page").contains("用户名或密码错误"));
    }
    // Even the right password is refused now.
    let r = p.sign_in("st", "st-password").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // Another account from elsewhere is unaffected; signing out ends the session.
    let s = p.login("st_lead").await;
    assert_eq!(p.get(&s.cookie, "/leads").await.0, StatusCode::OK);
    assert_eq!(
        p.post(&s.cookie, "/logout", &[("csrf", "forged")]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        p.post(&s.cookie, "/logout", &[("csrf", &s.csrf)]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        p.get(&s.cookie, "/leads").await.0,
        StatusCode::SEE_OTHER,
        "back to /login"
    );
    // Without a cookie: to the sign-in page.
    assert_eq!(p.get("", "/leads").await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn county_pages_are_for_the_operator_and_review_decisions_bind_later_runs() {
    let p = portal().await;
    let st = p.login("st").await;
    for path in ["/county", "/review"] {
        assert_eq!(
            p.get(&st.cookie, path).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let county = p.login("county").await;
    let (status, page) = p.get(&county.cookie, "/county").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<svg") && page.contains("申报覆盖率"),
        "the coverage chart"
    );
    assert_eq!(
        page.matches("class=\"source\"").count(),
        6,
        "one row per source"
    );
    let (_, review) = p.get(&county.cookie, "/review").await;
    let pairs = review.matches("class=\"card pair\"").count();
    assert!(pairs > 0, "the sample has uncertain pairs");
    let id = review
        .split("action=\"/review/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a pair")
        .to_string();
    let path = format!("/review/{id}");
    let decide = [
        ("csrf", st.csrf.as_str()),
        ("decision", "different"),
        ("note", ""),
    ];
    assert_eq!(
        p.post(&st.cookie, &path, &decide).await,
        StatusCode::FORBIDDEN
    );
    let before = p.store.overrides().await.expect("overrides").len();
    let forged = [("csrf", "forged"), ("decision", "different"), ("note", "")];
    assert_eq!(
        p.post(&county.cookie, &path, &forged).await,
        StatusCode::FORBIDDEN
    );
    let decide = [
        ("csrf", county.csrf.as_str()),
        ("decision", "different"),
        ("note", "电话核实为两家"),
    ];
    assert_eq!(
        p.post(&county.cookie, &path, &decide).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        p.store.overrides().await.expect("overrides").len(),
        before + 1
    );
    let audit = p
        .store
        .audit_of(&format!("pair:{id}"))
        .await
        .expect("audit");
    assert!(audit[0].3.contains("电话核实为两家"));
    let (_, review) = p.get(&county.cookie, "/review").await;
    assert_eq!(review.matches("class=\"card pair\"").count(), pairs - 1);
}

#[tokio::test]
async fn a_user_changes_their_own_password_and_their_other_sessions_end() {
    let p = portal().await;
    let phone = p.login("st").await;
    let desk = p.login("st").await;
    let (status, page) = p.get(&desk.cookie, "/account/password").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("当前密码") && page.contains("再次输入新密码"));
    assert_eq!(form_token(&page), desk.csrf);
    let change = |csrf: &str, current: &str, new: &str, confirm: &str| {
        let form = [
            ("csrf", csrf.to_string()),
            ("current", current.to_string()),
            ("new", new.to_string()),
            ("confirm", confirm.to_string()),
        ];
        let request = p
            .http
            .post(format!("{}/account/password", p.base))
            .header("cookie", desk.cookie.clone())
            .form(&form);
        async move {
            let r = request.send().await.expect("post");
            (r.status(), r.text().await.expect("body"))
        }
    };
    let fresh = "新的密码2026abc";
    // Each refusal says why and changes nothing.
    let (status, _) = change("forged", "st-password", fresh, fresh).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token, no change");
    let (status, page) = change(&desk.csrf, "wrong-password", fresh, fresh).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("当前密码不正确"), "{page}");
    let (status, page) = change(&desk.csrf, "st-password", fresh, "新的密码2026abd").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("两次输入的新密码不一致"));
    let (status, page) = change(&desk.csrf, "st-password", "短密码", "短密码").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("密码至少需要10个字符"));
    let (status, page) = change(&desk.csrf, "st-password", "st-password", "st-password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("新密码不能与当前密码相同"));
    assert_eq!(
        p.get(&phone.cookie, "/leads").await.0,
        StatusCode::OK,
        "a refused change signs nobody out"
    );

    let (status, page) = change(&desk.csrf, "st-password", fresh, fresh).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("密码已修改"), "{page}");
    // The session that changed it goes on; the account's other session is signed out.
    assert_eq!(p.get(&desk.cookie, "/leads").await.0, StatusCode::OK);
    assert_eq!(
        p.get(&phone.cookie, "/leads").await.0,
        StatusCode::SEE_OTHER
    );
    // Only the new password signs in now; another account's is untouched.
    let old = p.sign_in("st", "st-password").await;
    assert_eq!(old.status(), StatusCode::OK);
    assert!(old.text().await.expect("page").contains("用户名或密码错误"));
    assert_eq!(p.sign_in("st", fresh).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        p.sign_in("st_lead", "st_lead-password").await.status(),
        StatusCode::SEE_OTHER
    );
    // Audited: the wrong current password is not, the change is (without any password).
    let audit = p.store.audit_of("user:st").await.expect("audit");
    let changes: Vec<_> = audit
        .iter()
        .filter(|(_, _, action, _)| action == "password_change")
        .collect();
    assert_eq!(changes.len(), 1, "{audit:?}");
    assert_eq!(changes[0].1, "st");
    assert!(
        changes[0].3.contains("\"other_sessions_ended\":1"),
        "{}",
        changes[0].3
    );
    assert!(!audit.iter().any(|(_, _, _, d)| d.contains(fresh)));
    // Signed out, the page is not there.
    assert_eq!(
        p.get("", "/account/password").await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_lead_is_overdue_after_the_configured_days_since_its_first_listing() {
    let mut p = portal().await;
    // Every lead was first listed by the one run; its age counts on the calendar.
    let leads = p.store.portal_leads(Some(SHUITOU)).await.expect("leads");
    let all = leads.len();
    assert!(all > 0);
    let listed: chrono::NaiveDate = leads[0].opened_on.parse().expect("date");
    assert!(leads.iter().all(|l| l.opened_on == leads[0].opened_on));
    let age = u32::try_from((p.project.config().today() - listed).num_days()).expect("age");
    assert!(age > 30, "the sample is pinned to 2025-06-30");
    let rows = |html: &str| html.matches("<tr class=\"lead\">").count();
    // Overdue means listed more than `overdue_days` ago.
    for (days, expected) in [(None, all), (Some(age), 0), (Some(age - 1), all)] {
        let mut cfg = p.project.config();
        if let Some(days) = days {
            cfg.settings.portal.overdue_days = days;
        }
        p.base = common::site::serve(cfg, p.store.clone()).await;
        let s = p.login("st").await;
        let (status, page) = p.get(&s.cookie, "/leads?status=overdue").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            rows(&page),
            expected,
            "{days:?} days, listed {age} days ago"
        );
        let label = format!("逾期（列入超过{}天）", days.unwrap_or(30));
        assert!(page.contains(&label), "{label}");
        // The unfiltered list still shows every lead.
        assert_eq!(rows(&p.get(&s.cookie, "/leads").await.1), all);
    }
}

#[tokio::test]
async fn the_operator_manages_accounts_and_a_township_account_cannot() {
    let p = portal().await;
    // A township account is refused the page and every action.
    let st = p.login("st").await;
    assert_eq!(p.get(&st.cookie, "/users").await.0, StatusCode::FORBIDDEN);
    let attempts: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "/users",
            vec![
                ("csrf", &st.csrf),
                ("username", "intruder"),
                ("township", SHUITOU),
                ("password", "intruder-password"),
            ],
        ),
        (
            "/users/st_lead/password",
            vec![("csrf", &st.csrf), ("password", "taken-over-123")],
        ),
        (
            "/users/xm_lead/disabled",
            vec![("csrf", &st.csrf), ("disabled", "1")],
        ),
    ];
    for (path, form) in &attempts {
        assert_eq!(
            p.post(&st.cookie, path, form).await,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    assert!(p
        .store
        .user_by_name("intruder")
        .await
        .expect("user")
        .is_none());
    assert_eq!(
        p.sign_in("st_lead", "st_lead-password").await.status(),
        StatusCode::SEE_OTHER,
        "st_lead's password is unchanged"
    );

    let op = p.login("county").await;
    let (status, page) = p.get(&op.cookie, "/users").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page.matches("<tr class=\"user\"").count(), 4, "{page}");
    assert!(page.contains("水头镇") && page.contains("县级管理员"));
    let add = |username: &'static str, township: &'static str, password: &'static str| {
        vec![
            ("csrf", op.csrf.clone()),
            ("username", username.to_string()),
            ("display_name", "溪美李四".to_string()),
            ("township", township.to_string()),
            ("can_sign", "1".to_string()),
            ("password", password.to_string()),
        ]
    };
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        let request = p
            .http
            .post(format!("{}{path}", p.base))
            .header("cookie", op.cookie.clone())
            .form(&form);
        async move {
            let r = request.send().await.expect("post");
            (r.status(), r.text().await.expect("body"))
        }
    };
    // Without the session's CSRF token: refused.
    let mut forged = add("xm_staff", XIMEI, "溪美街道初始密码2026");
    forged[0].1 = "forged".into();
    assert_eq!(post("/users", forged).await.0, StatusCode::FORBIDDEN);
    // Each refusal says why and adds nothing.
    for (form, why) in [
        (add("xm staff", XIMEI, "溪美街道初始密码2026"), "用户名须为"),
        (add("st", XIMEI, "溪美街道初始密码2026"), "已存在"),
        (
            add("xm_staff", "350583999", "溪美街道初始密码2026"),
            "不在本县乡镇名录",
        ),
        (add("xm_staff", XIMEI, "short"), "密码至少需要10个字符"),
    ] {
        let (status, page) = post("/users", form).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}");
        assert!(page.contains(why), "{why}: {page}");
    }
    assert!(p
        .store
        .user_by_name("xm_staff")
        .await
        .expect("user")
        .is_none());

    // A new township leader of 溪美街道: signs in and sees 溪美's leads only.
    let (status, page) = post("/users", add("xm_staff", XIMEI, "溪美街道初始密码2026")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("已新增账号"));
    let added = p
        .store
        .user_by_name("xm_staff")
        .await
        .expect("user")
        .expect("added");
    assert_eq!(added.role, yingbao::store::AccountRole::Township);
    assert_eq!(added.township_code.as_deref(), Some(XIMEI));
    assert!(added.can_sign && !added.disabled);
    assert_eq!(added.display_name, "溪美李四");
    assert!(added.password_hash.starts_with("$argon2id$"));
    let r = p.sign_in("xm_staff", "溪美街道初始密码2026").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let xm_cookie = common::site::session_cookie(&r);
    let (_, leads) = p.get(&xm_cookie, "/leads").await;
    assert!(leads.contains("溪美街道 的线索"), "{leads}");
    let shuitou = p.lead_ids(SHUITOU).await;
    assert!(!shuitou.iter().any(|id| leads.contains(id.as_str())));

    // A new password for st: st's session ends and only the new password signs in.
    let reset = vec![
        ("csrf", op.csrf.clone()),
        ("password", "水头镇重置密码2026".to_string()),
    ];
    let (status, page) = post("/users/st/password", reset).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("已重置"));
    assert_eq!(p.get(&st.cookie, "/leads").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        p.sign_in("st", "水头镇重置密码2026").await.status(),
        StatusCode::SEE_OTHER
    );

    // Disabled: signed out and refused at sign-in; enabled again: signs in.
    let toggle = |v: &str| vec![("csrf", op.csrf.clone()), ("disabled", v.to_string())];
    assert_eq!(
        post("/users/xm_staff/disabled", toggle("1")).await.0,
        StatusCode::OK
    );
    assert_eq!(p.get(&xm_cookie, "/leads").await.0, StatusCode::SEE_OTHER);
    let refused = p.sign_in("xm_staff", "溪美街道初始密码2026").await;
    assert_eq!(refused.status(), StatusCode::OK);
    assert!(refused
        .text()
        .await
        .expect("page")
        .contains("用户名或密码错误"));
    assert_eq!(
        post("/users/xm_staff/disabled", toggle("0")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        p.sign_in("xm_staff", "溪美街道初始密码2026").await.status(),
        StatusCode::SEE_OTHER
    );
    // Never the operator's own account; an unknown account is not found.
    let (status, page) = post("/users/county/disabled", toggle("1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("不能停用自己的账号"));
    assert_eq!(
        post("/users/nobody/disabled", toggle("1")).await.0,
        StatusCode::NOT_FOUND
    );

    // Audited, by the operator, with no password.
    let actions: Vec<(String, String)> = [
        p.store.audit_of("user:xm_staff").await.expect("audit"),
        p.store.audit_of("user:st").await.expect("audit"),
    ]
    .concat()
    .into_iter()
    .filter(|(_, actor, _, _)| actor == "county")
    .map(|(_, _, action, detail)| (action, detail))
    .collect();
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        ["user_add", "user_disable", "user_enable", "user_reset"]
    );
    assert!(actions
        .iter()
        .all(|(_, d)| !d.contains("初始密码") && !d.contains("重置密码")));
}

/// Every text cell of an xlsx workbook (all sheets); panics unless the bytes open as one.
fn workbook_cells(bytes: &[u8]) -> std::collections::HashSet<String> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("the bytes open as a workbook");
    let mut cells = std::collections::HashSet::new();
    for sheet in book.sheet_names() {
        let range = book.worksheet_range(&sheet).expect("the sheet reads");
        cells.extend(range.rows().flatten().map(|c| c.to_string()));
    }
    cells
}

impl Portal {
    /// GET with the session cookie: status, headers and body bytes.
    async fn fetch(
        &self,
        cookie: &str,
        path: &str,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .expect("get");
        let (status, headers) = (r.status(), r.headers().clone());
        (status, headers, r.bytes().await.expect("body").to_vec())
    }
}

#[tokio::test]
async fn the_months_excel_list_downloads_only_to_its_township_and_the_operator() {
    let p = portal_waiting().await;
    let (own, other) = (p.lead_ids(SHUITOU).await, p.lead_ids(XIMEI).await);
    let st = p.login("st").await;
    let (_, page) = p.get(&st.cookie, "/leads").await;
    assert!(
        page.contains("<a href=\"/list.xlsx\" id=\"download\" download>下载本月清单（Excel）</a>"),
        "the link on the list page"
    );

    // The sample's first run waits for the operator's approval ([delivery] approve = auto):
    // until it is given the townships cannot fetch its lists.
    let run = p
        .store
        .last_succeeded_run()
        .await
        .expect("run")
        .expect("a run");
    let waiting = p.store.waiting_runs().await.expect("waiting");
    assert_eq!(
        waiting.first().map(|w| w.0),
        Some(run.id),
        "the first run waits"
    );
    assert_eq!(
        p.fetch(&st.cookie, "/list.xlsx").await.0,
        StatusCode::NOT_FOUND
    );
    p.store.approve_run(run.id, "测试").await.expect("approve");

    // The township's own workbook of the run, as written in the output folder.
    let (status, headers, bytes) = p.fetch(&st.cookie, "/list.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = headers["content-disposition"]
        .to_str()
        .expect("ascii header");
    println!("Content-Disposition: {disposition}");
    let as_of = run.as_of.clone();
    assert_eq!(
        disposition,
        format!(
            "attachment; filename=\"350583119__{as_of}.xlsx\"; filename*=UTF-8''350583119_%E6%B0%B4%E5%A4%B4%E9%95%87_{as_of}.xlsx"
        )
    );
    assert_eq!(headers["cache-control"], "no-store");
    let written = p
        .project
        .root()
        .join(format!("out/{as_of}-run{}/350583119_水头镇.xlsx", run.id));
    assert_eq!(bytes, std::fs::read(&written).expect("the run's file"));
    let cells = workbook_cells(&bytes);
    assert!(
        own.iter().all(|id| cells.contains(id)),
        "the workbook lists the township's leads"
    );
    assert!(other.iter().all(|id| !cells.contains(id)), "and no other's");
    println!(
        "{} bytes, a workbook of {} cells with the {} leads of 水头镇",
        bytes.len(),
        cells.len(),
        own.len()
    );

    // Another township's list: refused, by name or by the county's code.
    for path in [
        format!("/list.xlsx?township={XIMEI}"),
        "/list.xlsx?township=county".to_string(),
    ] {
        let (status, headers, body) = p.fetch(&st.cookie, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(!headers.contains_key("content-disposition"), "{path}");
        assert!(!body.starts_with(b"PK"), "{path}: no workbook");
    }
    // 溪美街道's leader gets 溪美街道's list, none of 水头镇's leads.
    let xm = p.login("xm_lead").await;
    let (status, _, bytes) = p.fetch(&xm.cookie, "/list.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    let cells = workbook_cells(&bytes);
    assert!(other.iter().all(|id| cells.contains(id)));
    assert!(own.iter().all(|id| !cells.contains(id)));
    assert_eq!(
        p.fetch(&xm.cookie, &format!("/list.xlsx?township={SHUITOU}"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // Signed out: to the sign-in page.
    assert_eq!(p.fetch("", "/list.xlsx").await.0, StatusCode::SEE_OTHER);
    // The operator: any township's, and the county's list of unplaced leads.
    let county = p.login("county").await;
    let (status, _, op_bytes) = p
        .fetch(&county.cookie, &format!("/list.xlsx?township={SHUITOU}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(op_bytes, std::fs::read(&written).expect("file"));
    let (_, page) = p
        .get(&county.cookie, &format!("/leads?township={SHUITOU}"))
        .await;
    assert!(
        page.contains(&format!("href=\"/list.xlsx?township={SHUITOU}\"")),
        "the operator's link names the township"
    );
    // The county's list of unplaced leads is written only when there are some.
    let unplaced = p.store.portal_leads(None).await.expect("leads").len();
    let (status, headers, _) = p.fetch(&county.cookie, "/list.xlsx?township=county").await;
    if unplaced == 0 {
        assert_eq!(status, StatusCode::NOT_FOUND);
    } else {
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-disposition"]
            .to_str()
            .expect("header")
            .contains("filename*=UTF-8''county_"));
    }
    // A code no run wrote a list for: not found.
    assert_eq!(
        p.fetch(&county.cookie, "/list.xlsx?township=999999999")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Every download is audited.
    let audited = p
        .store
        .audit_of(&format!("list:{SHUITOU}"))
        .await
        .expect("audit");
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(audited
        .iter()
        .all(|(_, _, action, _)| action == "download_list"));

    // A later run: its list is the month's; a run that wrote none leaves the one before.
    let cfg = p.project.config();
    pipeline::run(&cfg, &p.store).await.expect("second run");
    let second = p
        .store
        .last_succeeded_run()
        .await
        .expect("run")
        .expect("run");
    assert!(second.id > run.id);
    let newer = p.project.root().join(format!(
        "out/{}-run{}/350583119_水头镇.xlsx",
        second.as_of, second.id
    ));
    // Marked so the two runs' files differ: 溪美街道's workbook under 水头镇's name.
    let marked = std::fs::read(p.project.root().join(format!(
        "out/{}-run{}/350583001_溪美街道.xlsx",
        second.as_of, second.id
    )))
    .expect("溪美街道's file");
    std::fs::remove_file(&newer).expect("unlink");
    std::fs::write(&newer, &marked).expect("mark");
    let county_path = format!("/list.xlsx?township={SHUITOU}");
    if p.store
        .waiting_runs()
        .await
        .expect("waiting")
        .iter()
        .any(|w| w.0 == second.id)
    {
        // Held: the township still gets the released list, the operator the new one.
        assert_eq!(
            p.fetch(&st.cookie, "/list.xlsx").await.2,
            std::fs::read(&written).expect("file")
        );
        assert_eq!(p.fetch(&county.cookie, &county_path).await.2, marked);
        p.store
            .approve_run(second.id, "测试")
            .await
            .expect("approve");
    }
    assert_eq!(p.fetch(&st.cookie, "/list.xlsx").await.2, marked);
    std::fs::remove_file(&newer).expect("remove");
    assert_eq!(
        p.fetch(&st.cookie, "/list.xlsx").await.2,
        std::fs::read(&written).expect("file")
    );
}

/// A portal over the same store showing `size` leads a page.
async fn paged(p: &Portal, size: usize) -> String {
    let state = yingbao::portal::PortalState::new(
        std::sync::Arc::new(p.project.config()),
        p.store.clone(),
        false,
    )
    .with_page_size(size);
    common::site::serve_state(state).await
}

/// The lead ids a list page shows, in order.
fn listed_ids(page: &str) -> Vec<String> {
    page.split("<tr class=\"lead\"><td data-label=\"线索编号\" class=\"wide\"><a href=\"/leads/")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(str::to_string))
        .collect()
}

/// The href of the link with `id` on a page, unescaped.
fn link(page: &str, id: &str) -> Option<String> {
    let at = page.find(&format!("id=\"{id}\""))?;
    let start = page[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + page[start..].find('"')?;
    Some(page[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

#[tokio::test]
async fn the_lead_list_pages_keep_their_filters_and_a_page_past_the_end_shows_the_last() {
    let mut p = portal().await;
    let own = p.lead_ids(SHUITOU).await;
    p.base = paged(&p, 2).await;
    let st = p.login("st").await;
    let pages = own.len().div_ceil(2);
    assert!(
        pages >= 2,
        "the sample's 水头镇 has more than one page of 2"
    );

    // Walk the pages by their 下一页 links: every lead once, in order.
    let (_, mut page) = p.get(&st.cookie, "/leads").await;
    assert!(page.contains(&format!("第 1 页，共 {pages} 页")), "page 1");
    assert!(
        page.contains("<span class=\"off\">上一页</span>"),
        "no page before 1"
    );
    assert!(
        page.contains(&format!("共 {} 条", own.len())),
        "the count is of all pages"
    );
    let mut seen = listed_ids(&page);
    for n in 2..=pages {
        let next = link(&page, "next").expect("a 下一页 link");
        assert_eq!(next, format!("/leads?page={n}"));
        page = p.get(&st.cookie, &next).await.1;
        assert!(
            page.contains(&format!("第 {n} 页，共 {pages} 页")),
            "page {n}"
        );
        assert_eq!(
            link(&page, "prev").as_deref(),
            Some(format!("/leads?page={}", n - 1).as_str())
        );
        seen.extend(listed_ids(&page));
    }
    assert!(link(&page, "next").is_none(), "no page after the last");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        own.len(),
        "each lead on exactly one page: {seen:?}"
    );
    assert_eq!(seen.len(), own.len());

    // Past the end: the last page; nonsense: the first.
    let (status, last) = p.get(&st.cookie, "/leads?page=9999").await;
    assert_eq!(status, StatusCode::OK);
    assert!(last.contains(&format!("第 {pages} 页，共 {pages} 页")));
    assert_eq!(listed_ids(&last), listed_ids(&page));
    for nonsense in ["0", "-3", "abc", ""] {
        let (status, first) = p.get(&st.cookie, &format!("/leads?page={nonsense}")).await;
        assert_eq!(status, StatusCode::OK, "page={nonsense}");
        assert!(
            first.contains(&format!("第 1 页，共 {pages} 页")),
            "page={nonsense}"
        );
    }

    // A filter is kept on every page link (one lead a page; the kind most leads have, so it
    // both selects and pages).
    p.base = paged(&p, 1).await;
    let st = p.login("st").await;
    let stored = p.store.portal_leads(Some(SHUITOU)).await.expect("leads");
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for l in &stored {
        *kinds.entry(l.data.kind.as_str()).or_default() += 1;
    }
    let (kind, n) = kinds.into_iter().max_by_key(|(_, n)| *n).expect("a kind");
    assert!(n >= 2, "a kind with two leads");
    let (_, filtered) = p.get(&st.cookie, &format!("/leads?kind={kind}")).await;
    assert!(filtered.contains(&format!("共 {n} 条")));
    assert!(filtered.contains(&format!("第 1 页，共 {n} 页")));
    let next = link(&filtered, "next").expect("next");
    assert_eq!(next, format!("/leads?kind={kind}&page=2"));
    let (_, second) = p.get(&st.cookie, &next).await;
    assert!(second.contains(&format!("<option value=\"{kind}\" selected>")));
    assert!(second.contains(&format!("第 2 页，共 {n} 页")));
    assert_eq!(
        link(&second, "prev"),
        Some(format!("/leads?kind={kind}&page=1"))
    );
    // Paging never shows another township's leads.
    let other = p.lead_ids(XIMEI).await;
    assert!(seen.iter().all(|id| !other.contains(id)));
}

#[tokio::test]
async fn the_portal_shows_stored_times_in_the_county_zone() {
    let p = portal().await;
    let tz: chrono_tz::Tz = p.project.config().timezone();
    assert_eq!(tz, chrono_tz::Asia::Shanghai);
    let local = |stored: &str| {
        chrono::DateTime::parse_from_rfc3339(stored)
            .expect("RFC 3339")
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let run = p
        .store
        .last_succeeded_run()
        .await
        .expect("run")
        .expect("run");
    let finished = run.finished_at.clone().expect("finished");

    // The list says when its data was made, once, with the zone.
    let st = p.login("st").await;
    let (_, page) = p.get(&st.cookie, "/leads").await;
    let updated = format!("数据更新：{}（北京时间）", local(&finished));
    println!("{updated}");
    assert!(page.contains(&updated), "{updated}");
    assert!(!page.contains(&finished), "no raw RFC 3339");

    // The county page: each source's last good data and the last run, in Beijing time.
    let county = p.login("county").await;
    let (_, page) = p.get(&county.cookie, "/county").await;
    let cfg = p.project.config();
    let mut shown = 0;
    for c in &cfg.connectors {
        if let Some(g) = p
            .store
            .latest_snapshot(&c.id, true)
            .await
            .expect("snapshot")
        {
            assert!(
                page.contains(&format!(
                    "<td data-label=\"最近可用数据\">{}</td>",
                    local(&g.taken_at)
                )),
                "{}",
                c.id
            );
            assert!(!page.contains(&g.taken_at), "{}: raw {}", c.id, g.taken_at);
            shown += 1;
        }
    }
    assert!(shown > 0);
    assert!(page.contains("最近可用数据时间（北京时间）"));
    assert!(page.contains(&format!(
        "最近一次运行完成：{}（北京时间）",
        local(&finished)
    )));
    assert!(
        !page.contains("+00:00") && !page.contains("Z</td>"),
        "no UTC text left"
    );

    // A signed disposition: its signing time in Beijing time on the lead's page.
    let lead = p.lead_ids(SHUITOU).await.remove(0);
    let lead_session = p.login("st_lead").await;
    assert_eq!(
        p.post(
            &lead_session.cookie,
            &format!("/leads/{lead}/disposition"),
            &disposition(&lead_session.csrf, "已督促申报", "张三"),
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let signed = p
        .store
        .dispositions(Some(&lead), None, false)
        .await
        .expect("dispositions")
        .remove(0)
        .signed_at
        .expect("signed by the leader");
    let (_, page) = p.get(&st.cookie, &format!("/leads/{lead}")).await;
    assert!(
        page.contains(&format!("st_lead显示名于{}签字", local(&signed))),
        "signed at {signed}"
    );
    assert!(page.contains("签字时间为北京时间"));
    assert!(!page.contains(&signed));
}

#[tokio::test]
async fn the_operator_approves_a_waiting_runs_lists_on_the_county_page() {
    let p = portal_waiting().await;
    let run = p
        .store
        .last_succeeded_run()
        .await
        .expect("run")
        .expect("a run");
    let waiting = p.store.waiting_runs().await.expect("waiting");
    let lists = waiting
        .iter()
        .find(|w| w.0 == run.id)
        .map(|w| w.1)
        .expect("the sample's first run waits for approval");
    let path = format!("/county/approve/{}", run.id);

    // A township account: neither the page nor the button, and none of the waiting run's
    // leads — nothing was ever released to it — with a notice saying why.
    let st = p.login("st").await;
    let (_, own) = p.get(&st.cookie, "/leads").await;
    assert!(own.contains("id=\"awaiting\""), "the notice");
    assert!(own.contains("共 0 条"), "no lead before the release");
    // Nor by API.
    let token = auth::new_token();
    p.store
        .add_api_token(&auth::token_hash(&token), SHUITOU, "水头镇OA")
        .await
        .expect("token");
    let api_leads = || async {
        let v: serde_json::Value = p
            .http
            .get(format!("{}/api/v1/leads", p.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("api")
            .json()
            .await
            .expect("json");
        v["leads"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(api_leads().await, 0);
    // Nor a lead's own page, though its id is known.
    let unreleased = p.lead_ids(SHUITOU).await;
    assert_eq!(
        p.get(&st.cookie, &format!("/leads/{}", unreleased[0]))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        p.post(&st.cookie, &path, &[("csrf", st.csrf.as_str())])
            .await,
        StatusCode::FORBIDDEN
    );
    let county = p.login("county").await;
    let (_, page) = p.get(&county.cookie, "/county").await;
    assert!(
        page.contains(&format!("action=\"{path}\"")) && page.contains("批准下发"),
        "the waiting run with its button"
    );
    assert!(page.contains(&format!("{lists} 份乡镇清单等待批准")));
    // Without the session's token: refused, nothing released.
    assert_eq!(
        p.post(&county.cookie, &path, &[("csrf", "forged")]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(p.store.waiting_runs().await.expect("waiting"), waiting);
    assert_eq!(p.store.approval(run.id).await.expect("approval"), None);

    // Approved: released, recorded, audited, gone from the page; twice is not found.
    assert_eq!(
        p.post(&county.cookie, &path, &[("csrf", county.csrf.as_str())])
            .await,
        StatusCode::SEE_OTHER
    );
    assert!(p
        .store
        .waiting_runs()
        .await
        .expect("waiting")
        .iter()
        .all(|w| w.0 != run.id));
    let (by, _) = p
        .store
        .approval(run.id)
        .await
        .expect("approval")
        .expect("recorded");
    assert_eq!(by, "county显示名");
    let audited = p
        .store
        .audit_of(&format!("run:{}", run.id))
        .await
        .expect("audit");
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].2, "approve_run");
    let (_, page) = p.get(&county.cookie, "/county").await;
    assert!(page.contains("没有等待批准的清单"), "nothing waits now");
    // Released: the township sees its leads, and no notice.
    let (_, own) = p.get(&st.cookie, "/leads").await;
    assert!(!own.contains("id=\"awaiting\""));
    assert!(!p.lead_ids(SHUITOU).await.is_empty());
    assert!(!own.contains("共 0 条"), "the released leads");
    assert_eq!(api_leads().await, p.lead_ids(SHUITOU).await.len());
    assert_eq!(
        p.get(&st.cookie, &format!("/leads/{}", unreleased[0]))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        p.post(&county.cookie, &path, &[("csrf", county.csrf.as_str())])
            .await,
        StatusCode::NOT_FOUND
    );
}
