//! Leads across runs on the bundled sample: new, open, resolved (the employer files), closed
//! by a township's disposition, reopened (a claimed filing never appears; new exam evidence
//! after a "no hazards" finding), with the lists and evidence townships receive.

mod common;

use calamine::{open_workbook_auto, DataType, Reader};
use chrono::NaiveDate;
use common::Project;
use yingbao::deliver::outbox::deliver_due;
use yingbao::leads::LeadStatus;
use yingbao::pipeline;
use yingbao::screen::LeadKind;
use yingbao::store::{NewDisposition, Store};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// Lead ids (column 线索编号) and statuses (线索状态) of one township workbook, from its
/// evidence sheet (one row per lead).
fn listed_in(xlsx: &std::path::Path) -> Vec<(String, String)> {
    let mut book = open_workbook_auto(xlsx).expect("open xlsx");
    let range = book.worksheet_range("证据明细").expect("sheet");
    let rows: Vec<_> = range.rows().collect();
    let header = rows
        .iter()
        .position(|r| {
            r.iter()
                .any(|c| c.as_string().as_deref() == Some("线索编号"))
        })
        .expect("header row");
    let col = |name: &str| {
        rows[header]
            .iter()
            .position(|c| c.as_string().as_deref() == Some(name))
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (id, status) = (col("线索编号"), col("线索状态"));
    rows[header + 1..]
        .iter()
        .map(|r| (r[id].to_string(), r[status].to_string()))
        .collect()
}

fn all_listed(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("out dir") {
        let path = e.expect("entry").path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.ends_with(".xlsx") && !name.starts_with("中小微") {
            out.extend(listed_in(&path));
        }
    }
    out
}

#[tokio::test]
async fn leads_are_new_open_resolved_closed_and_reopened_across_runs() {
    let p = Project::new();
    let store = p.sqlite().await;
    lifecycle_scenario(&p, &store).await;
}

#[tokio::test]
async fn leads_lifecycle_and_outbox_on_postgres() {
    let Some(store) = common::postgres("lifecycle").await else {
        return;
    };
    let p = Project::new();
    lifecycle_scenario(&p, &store).await;
}

async fn lifecycle_scenario(p: &Project, store: &Store) {
    // Run 1 (2025-06-30): every lead is new.
    let s1 = pipeline::run(&p.config(), store).await.expect("run 1");
    // The sample delivers to two folders; every list queued is delivered once.
    assert_eq!(s1.queued_deliveries, s1.by_township.len());
    let cfg = p.config();
    // A first run's lists wait for the operator: nothing goes before approval.
    assert!(s1.approval.waits);
    let none = deliver_due(&cfg.channels, store, &|_| None)
        .await
        .expect("deliver");
    assert_eq!(none.delivered, 0);
    assert_eq!(
        store.approve_run(s1.run_id, "test").await.expect("approve") as usize,
        s1.queued_deliveries
    );
    let sent = deliver_due(&cfg.channels, store, &|_| None)
        .await
        .expect("deliver");
    assert_eq!(sent.delivered, s1.queued_deliveries);
    assert!(store
        .outbox()
        .await
        .expect("outbox")
        .iter()
        .all(|r| r.status == "delivered"));
    assert!(s1.leads > 20, "leads: {}", s1.leads);
    assert_eq!(
        s1.transitions.get("new"),
        Some(&s1.leads),
        "{:?}",
        s1.transitions
    );
    let listed1 = all_listed(&s1.out_dir);
    assert_eq!(listed1.len(), s1.leads);
    assert!(listed1.iter().all(|(_, s)| s == "新增"));

    // Three non-filing leads with a valid USCC: A will claim to have filed, B files, C is
    // found to have no hazards.
    let leads = store.leads(s1.run_id).await.expect("leads");
    let mut picks = Vec::new();
    for l in &leads {
        let row = &l.data.row;
        if l.data.kind == LeadKind::Unfiled && row.uscc_valid && !row.uscc.is_empty() {
            // The stored status is the typed one, and the row shows its label.
            assert_eq!(l.data.status, Some(LeadStatus::New));
            picks.push((
                l.lead_id.clone(),
                row.name.clone(),
                row.uscc.clone(),
                row.evidence.len(),
            ));
        }
    }
    assert!(picks.len() >= 6);
    // Every lead carries evidence lines, one per source record.
    assert!(picks.iter().all(|(_, _, _, n)| *n > 0));
    let (a, b, c) = (&picks[0], &picks[1], &picks[2]);

    let disposition = |lead: &str, kind: &str| NewDisposition {
        lead_id: lead.to_string(),
        township_code: None,
        kind: kind.to_string(),
        reason: String::new(),
        person: "李四".into(),
        signer: "王镇长".into(),
        decided_on: d("2025-07-02"),
        origin: "test".into(),
        signed: true,
        transfer_to: None,
    };
    store
        .add_disposition(&disposition(&a.0, "已申报"))
        .await
        .expect("disposition A");
    store
        .add_disposition(&disposition(&c.0, "无职业病危害因素"))
        .await
        .expect("disposition C");
    // D is really in 水头镇: moved there and kept open.
    let d_lead = &picks[4];
    let mut moved = disposition(&d_lead.0, "不在本辖区");
    moved.transfer_to = Some("350583119".into());
    store.add_disposition(&moved).await.expect("disposition D");
    // E's disposition waits for the leader's sign-off: no effect yet.
    let e_lead = &picks[5];
    let mut unsigned = disposition(&e_lead.0, "已注销或吊销");
    unsigned.signed = false;
    store
        .add_disposition(&unsigned)
        .await
        .expect("disposition E");
    // B files: the register's next export holds its declaration.
    let decl = p.root().join("connectors/sample/declaration");
    let mut text = std::fs::read_to_string(decl.join("申报数据_20250630.csv")).expect("register");
    text.push_str(&format!(
        "ZYSB-TEST-0001,{},{},,C3032,25,10,初次申报,20250720,矽尘\n",
        b.1, b.2
    ));
    std::fs::write(decl.join("申报数据_20250731.csv"), text).expect("new export");

    // Run 2 (2025-07-31): A and C closed, B resolved, the rest still open.
    p.set_as_of("2025-07-31");
    let s2 = pipeline::run(&p.config(), store).await.expect("run 2");
    let states = store.lead_states().await.expect("states");
    assert_eq!(states[&a.0].status, LeadStatus::Closed);
    assert_eq!(
        states[&a.0].close_reason.as_deref(),
        Some("乡镇核实：已申报")
    );
    assert_eq!(states[&c.0].status, LeadStatus::Closed);
    assert_eq!(states[&b.0].status, LeadStatus::Resolved);
    assert_eq!(
        s2.transitions.get("closed"),
        Some(&2),
        "{:?}",
        s2.transitions
    );
    assert!(s2.transitions.get("resolved").copied().unwrap_or(0) >= 1);
    let listed2 = all_listed(&s2.out_dir);
    let ids2: Vec<&str> = listed2.iter().map(|(id, _)| id.as_str()).collect();
    for gone in [&a.0, &b.0, &c.0] {
        assert!(!ids2.contains(&gone.as_str()), "{gone} still listed");
    }
    assert_eq!(listed2.len(), s2.leads);
    // Listed last month: 持续; listed for the first time (a declaration lapsed meanwhile): 新增.
    let before: std::collections::HashSet<&str> =
        listed1.iter().map(|(id, _)| id.as_str()).collect();
    for (id, status) in &listed2 {
        let expected = if before.contains(id.as_str()) {
            "持续"
        } else {
            "新增"
        };
        assert_eq!(status, expected, "{id}");
    }
    assert_eq!(
        listed2.iter().filter(|(_, s)| s == "新增").count(),
        s2.transitions.get("new").copied().unwrap_or(0)
    );
    assert_eq!(states[&picks[3].0].status, LeadStatus::Open);
    assert_eq!(states[&d_lead.0].status, LeadStatus::Open);
    assert_eq!(
        states[&d_lead.0].assigned_township.as_deref(),
        Some("350583119")
    );
    let shuitou = listed_in(&s2.out_dir.join("350583119_水头镇.xlsx"));
    assert!(shuitou.iter().any(|(id, _)| *id == d_lead.0), "{shuitou:?}");
    assert_eq!(
        states[&e_lead.0].status,
        LeadStatus::Open,
        "not signed off yet"
    );
    assert_eq!(states[&picks[3].0].first_seen, d("2025-06-30"));

    // Run 3 (2025-09-30): A still has no filing two months after claiming one, and C had an
    // exam on 2025-08-10, after the township found no hazards: both reopened.
    let exam = format!(
        "体检编号,姓名,性别,身份证号,用人单位名称,用人单位统一社会信用代码,体检类别,体检日期,接触危害因素,体检结论\n\
         TJ-TEST-1,,,,{},{},在岗期间,2025年8月10日,噪声,目前未见异常\n",
        c.1, c.2
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&exam);
    std::fs::write(
        p.root().join("connectors/sample/exam/体检台账_2025-08.csv"),
        gbk,
    )
    .expect("exam file");
    p.set_as_of("2025-09-30");
    let s3 = pipeline::run(&p.config(), store).await.expect("run 3");
    let states = store.lead_states().await.expect("states");
    assert_eq!(states[&a.0].status, LeadStatus::Reopened);
    assert_eq!(states[&c.0].status, LeadStatus::Reopened);
    assert_eq!(states[&b.0].status, LeadStatus::Resolved);
    assert_eq!(states[&a.0].opened_on, d("2025-09-30"));
    let listed3 = all_listed(&s3.out_dir);
    for back in [&a.0, &c.0] {
        let row = listed3
            .iter()
            .find(|(id, _)| id == back)
            .expect("listed again");
        assert_eq!(row.1, "重新列入");
    }
    let events = store
        .lead_events_between(d("2025-09-01"), d("2025-09-30"))
        .await
        .expect("events");
    assert!(events
        .iter()
        .any(|e| e.lead_id == a.0 && e.to == LeadStatus::Reopened));
    assert_eq!(states[&a.0].kind, LeadKind::Unfiled);
}
