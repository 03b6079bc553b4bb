//! The portal in a real headless Chromium (Debian's chromium + chromedriver; `.ci/run`
//! installs them): a township user signs in on a phone-sized screen, filters its leads, opens
//! one, records a disposition, uploads a returned Excel list and changes its password; the
//! county operator adds an account; at 390 px the lead list is cards with a label beside
//! every value, and neither it nor the county chart scrolls sideways; screenshots are kept
//! (`YINGBAO_SCREENSHOT_DIR`, else a temporary folder).

mod common;

use std::path::Path;

use common::browser::{Browser, SKIP_MESSAGE};
use common::site::{self, SHUITOU};

#[tokio::test]
async fn a_township_user_works_through_the_portal_in_chromium() {
    let Some(browser) = Browser::start().await.expect("starting the browser") else {
        println!("{SKIP_MESSAGE}");
        return;
    };
    let site = site::start().await;
    let tmp = tempfile::tempdir().expect("screenshot dir");
    let shots =
        std::env::var_os("YINGBAO_SCREENSHOT_DIR").map_or(tmp.path().to_path_buf(), Into::into);
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    if let Err(e) = flow(&browser, &site, &shots).await {
        let _ = browser.screenshot(&shots.join("failure.png")).await;
        let url = browser.current_url().await.unwrap_or_default();
        let source = browser.page_source().await.unwrap_or_default();
        let cut: String = source.chars().take(3000).collect();
        panic!(
            "{e}\n--- at {url} ---\n{cut}\n--- chromedriver ---\n{}",
            browser.log_tail(20)
        );
    }
    eprintln!("screenshots in {}", shots.display());
}

async fn flow(b: &Browser, site: &site::Site, shots: &Path) -> Result<(), String> {
    let base = &site.base;
    // Signed out: to the sign-in page; a wrong password is said so.
    b.goto(&format!("{base}/leads")).await?;
    check(
        b.current_url().await?.ends_with("/login"),
        "redirected to /login",
    )?;
    b.fill("#username", "st").await?;
    b.fill("#password", "wrong-password").await?;
    b.click_nav("#signin").await?;
    check(
        b.text("#error").await? == "用户名或密码错误",
        "wrong password message",
    )?;
    b.screenshot(&shots.join("01-login.png")).await?;
    b.fill("#username", "st").await?;
    b.fill("#password", "st-password").await?;
    b.click_nav("#signin").await?;
    check(
        b.current_url().await?.ends_with("/leads"),
        "signed in to /leads",
    )?;
    let cookies = b.cookies().await?;
    let session = cookies
        .iter()
        .find(|c| c.name == "yingbao_session")
        .ok_or("no session cookie")?;
    check(session.http_only, "the session cookie is HttpOnly")?;
    let seen = b.execute("return document.cookie", vec![]).await?;
    check(
        seen.as_str() == Some(""),
        "scripts cannot read the session cookie",
    )?;

    // The township's own leads, by priority.
    let own = site
        .store
        .portal_leads(Some(SHUITOU))
        .await
        .map_err(|e| e.to_string())?;
    let rows = b.texts("tr.lead").await?;
    check(
        rows.len() == own.len(),
        &format!("{} rows for {} leads", rows.len(), own.len()),
    )?;
    check(
        b.text("h1").await?.contains("水头镇"),
        "the township's name in the title",
    )?;
    b.screenshot(&shots.join("02-leads.png")).await?;

    // Filter by kind: only exceeded-limit leads.
    b.select("#kind", "exceedance").await?;
    b.click_nav("#filter").await?;
    let filtered = b.texts("tr.lead").await?;
    check(
        filtered.iter().all(|r| r.contains("检测发现超标岗位")),
        &format!("filtered rows: {filtered:?}"),
    )?;
    check(
        b.current_url().await?.contains("kind=exceedance"),
        "filter in the URL",
    )?;
    b.screenshot(&shots.join("03-filtered.png")).await?;

    // One lead: its evidence, then a disposition.
    b.goto(&format!("{base}/leads")).await?;
    let first = b.attr("tr.lead a", "href").await?.ok_or("no lead link")?;
    b.click_nav("tr.lead a").await?;
    check(
        !b.texts("#evidence li").await?.is_empty(),
        "evidence listed",
    )?;
    b.select("#disposition", "停产停业超过6个月").await?;
    b.fill("#reason", "2025年3月起停产，现场核实厂房空置")
        .await?;
    b.fill("#person", "张三").await?;
    b.click_nav("#save").await?;
    let history = b.texts("#history li").await?;
    check(
        history.len() == 1
            && history[0].contains("停产停业超过6个月")
            && history[0].contains("待领导签字"),
        &format!("history: {history:?}"),
    )?;
    b.screenshot(&shots.join("04-disposition.png")).await?;
    let lead_id = first.rsplit('/').next().unwrap_or_default().to_string();
    let stored = site
        .store
        .dispositions(Some(&lead_id), None, false)
        .await
        .map_err(|e| e.to_string())?;
    check(
        stored.len() == 1 && stored[0].person == "张三",
        "the disposition is stored",
    )?;

    // A returned Excel list: the township's own second lead marked 已申报.
    let second = &own
        .iter()
        .find(|l| l.lead_id != lead_id)
        .ok_or("a second lead")?
        .lead_id;
    let xlsx = site.project.root().join("水头镇_反馈.xlsx");
    write_returned(&xlsx, second).map_err(|e| e.to_string())?;
    b.goto(&format!("{base}/leads")).await?;
    b.upload("#file", &xlsx).await?;
    b.click_nav("#upload").await?;
    let recorded = b.text("#recorded").await?;
    check(
        recorded.contains("已记录 1 条"),
        &format!("upload result: {recorded}"),
    )?;
    b.screenshot(&shots.join("05-upload.png")).await?;

    // A new password, from the header's link; the mistyped confirmation is said so first.
    b.click_nav("a[href='/account/password']").await?;
    b.fill("#current", "st-password").await?;
    b.fill("#new", "水头镇2026新密码").await?;
    b.fill("#confirm", "水头镇2026新秘码").await?;
    b.click_nav("#change").await?;
    check(
        b.text("#error").await? == "两次输入的新密码不一致",
        "mismatch message",
    )?;
    b.fill("#current", "st-password").await?;
    b.fill("#new", "水头镇2026新密码").await?;
    b.fill("#confirm", "水头镇2026新密码").await?;
    b.click_nav("#change").await?;
    check(
        b.text("#notice").await?.starts_with("密码已修改"),
        "password changed",
    )?;
    b.screenshot(&shots.join("06-password.png")).await?;

    // Signing out ends the session; the new password signs in again.
    b.click_nav("#logout").await?;
    b.goto(&format!("{base}/leads")).await?;
    check(b.current_url().await?.ends_with("/login"), "signed out")?;
    b.fill("#username", "st").await?;
    b.fill("#password", "水头镇2026新密码").await?;
    b.click_nav("#signin").await?;
    check(
        b.current_url().await?.ends_with("/leads"),
        "signed in with the new password",
    )?;

    // The county operator's account page: the four accounts, and a new one added.
    b.click_nav("#logout").await?;
    b.goto(&format!("{base}/login")).await?;
    b.fill("#username", "county").await?;
    b.fill("#password", "county-password").await?;
    b.click_nav("#signin").await?;
    b.click_nav("a[href='/users']").await?;
    check(b.texts("tr.user").await?.len() == 4, "four accounts listed")?;
    b.fill("#new-username", "st_clerk").await?;
    b.fill("#new-display", "水头镇王五").await?;
    b.select("#new-township", SHUITOU).await?;
    b.fill("#new-password", "水头镇初始密码2026").await?;
    b.click_nav("#add-user").await?;
    check(
        b.text("#notice").await?.contains("已新增账号"),
        "account added",
    )?;
    let rows = b.texts("tr.user").await?;
    check(
        rows.len() == 5 && rows.iter().any(|r| r.contains("水头镇王五")),
        &format!("rows: {rows:?}"),
    )?;
    b.screenshot(&shots.join("07-users.png")).await?;
    Ok(())
}

fn check(ok: bool, what: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("failed: {what}"))
    }
}

fn write_returned(path: &Path, lead_id: &str) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("线索清单")?;
    ws.write_string(0, 0, "南安市水头镇 职业病危害项目申报线索清单")?;
    for (c, h) in ["线索编号", "核实情况", "核实人", "核实日期"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *h)?;
    }
    ws.write_string(2, 0, lead_id)?;
    ws.write_string(2, 1, "已申报")?;
    ws.write_string(2, 2, "李四")?;
    ws.write_string(2, 3, "2025-07-06")?;
    book.save(path)
}

/// What the phone check reads from the page: the viewport, the page's scroll width, and each
/// value cell of the lead table that has no visible label beside it.
const PHONE_PROBE: &str = r#"
const vw = window.innerWidth;
const cells = [...document.querySelectorAll('tr.lead td')];
const unlabelled = cells.filter(td => {
  const label = td.getAttribute('data-label') || '';
  const before = getComputedStyle(td, '::before');
  const cell = td.getBoundingClientRect();
  return !label || before.display === 'none' || before.visibility === 'hidden'
    || !before.content.includes(label) || cell.width === 0 || cell.right > vw + 0.5;
}).map(td => td.outerHTML.slice(0, 120));
const head = document.querySelector('tr.lead');
return {
  vw, scroll: document.documentElement.scrollWidth, cells: cells.length, unlabelled,
  rows: document.querySelectorAll('tr.lead').length,
  thead: getComputedStyle(document.querySelector('table.cards thead')).display,
  card: head ? getComputedStyle(head).display : '',
  pages: (document.querySelector('#page') || {}).textContent || '',
  download: (document.querySelector('#download') || {}).textContent || '',
};
"#;

#[tokio::test]
async fn the_lead_list_and_the_county_chart_fit_a_phone() {
    let Some(browser) = Browser::start().await.expect("starting the browser") else {
        println!("{SKIP_MESSAGE}");
        return;
    };
    let site = site::start().await;
    let tmp = tempfile::tempdir().expect("screenshot dir");
    let shots =
        std::env::var_os("YINGBAO_SCREENSHOT_DIR").map_or(tmp.path().to_path_buf(), Into::into);
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    if let Err(e) = phone(&browser, &site, &shots).await {
        let _ = browser.screenshot(&shots.join("phone-failure.png")).await;
        let url = browser.current_url().await.unwrap_or_default();
        panic!("{e}\n--- at {url} ---\n{}", browser.log_tail(20));
    }
    eprintln!("screenshots in {}", shots.display());
}

async fn sign_in(b: &Browser, base: &str, user: &str) -> Result<(), String> {
    b.goto(&format!("{base}/login")).await?;
    b.fill("#username", user).await?;
    b.fill("#password", &format!("{user}-password")).await?;
    b.click_nav("#signin").await
}

async fn phone(b: &Browser, site: &site::Site, shots: &Path) -> Result<(), String> {
    let base = &site.base;
    sign_in(b, base, "st").await?;
    b.goto(&format!("{base}/leads")).await?;
    let seen = b.execute(PHONE_PROBE, vec![]).await?;
    println!("390 px lead list: {seen}");
    let num = |k: &str| {
        seen.get(k)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(-1.0)
    };
    check(num("vw") == 390.0, "a 390 px viewport")?;
    check(
        num("scroll") <= 390.0,
        &format!("no horizontal scroll: scrollWidth {}", num("scroll")),
    )?;
    check(num("rows") > 0.0, "leads listed")?;
    check(
        num("cells") == num("rows") * 7.0,
        "seven value cells a lead",
    )?;
    let unlabelled = seen.get("unlabelled").and_then(|v| v.as_array());
    check(
        unlabelled.is_some_and(Vec::is_empty),
        &format!("every value has a visible label: {unlabelled:?}"),
    )?;
    check(
        seen.get("thead").and_then(|v| v.as_str()) == Some("none"),
        "the header row is hidden: labels stand in the cards",
    )?;
    check(
        seen.get("card").and_then(|v| v.as_str()) == Some("grid"),
        "each lead is a card",
    )?;
    check(
        seen.get("pages")
            .and_then(|v| v.as_str())
            .is_some_and(|p| p.starts_with("第 1 页，共")),
        "the page line",
    )?;
    check(
        seen.get("download").and_then(|v| v.as_str()) == Some("下载本月清单（Excel）"),
        "the download link",
    )?;
    // A full-page picture: the viewport as tall as the page, then back to the phone.
    let height = b
        .execute("return document.documentElement.scrollHeight", vec![])
        .await?
        .as_u64()
        .ok_or("no page height")?;
    b.set_window_size(390, u32::try_from(height).unwrap_or(844).clamp(844, 16000))
        .await?;
    b.screenshot(&shots.join("portal-leads-390.png")).await?;
    b.set_window_size(390, 844).await?;

    // The county operator's chart scales to the phone.
    b.click_nav("#logout").await?;
    sign_in(b, base, "county").await?;
    b.goto(&format!("{base}/county")).await?;
    let chart = b
        .execute(
            "const r = document.querySelector('#chart svg').getBoundingClientRect();\
             return {w: r.width, h: r.height, right: r.right, vw: window.innerWidth,\
                     scroll: document.documentElement.scrollWidth};",
            vec![],
        )
        .await?;
    println!("390 px county chart: {chart}");
    let num = |k: &str| {
        chart
            .get(k)
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(-1.0)
    };
    check(
        num("w") > 200.0 && num("w") <= num("vw") && num("right") <= num("vw"),
        &format!("the chart fits the viewport: {chart}"),
    )?;
    check(num("h") > 50.0, "the chart keeps its proportions")?;
    check(
        num("scroll") <= 390.0,
        &format!("no horizontal scroll on the county page: {chart}"),
    )?;
    b.screenshot(&shots.join("portal-county-390.png")).await?;
    Ok(())
}
