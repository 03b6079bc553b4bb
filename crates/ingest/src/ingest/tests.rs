//! Whole-file tests: real CSV (UTF-8, BOM, GBK, GB18030) and XLSX files in a temporary folder,
//! read through `read_file` / `read_source` as the pipeline does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rust_xlsxwriter::{ExcelDateTime, Format as XlsxFormat, Workbook};

use super::*;
use crate::domain::Feed;
use crate::ingest::spec::{
    Columns, ConnectorSpec, Encoding, FileSource, Format, Pick, RecordSpec, ValueOptions,
};

fn spec(id: &str, feed: Feed, path: &Path, columns: &[(&str, &[&str])]) -> ConnectorSpec {
    let columns: BTreeMap<String, Columns> = columns
        .iter()
        .map(|(field, headers)| {
            let c = match headers {
                [one] => Columns::One(one.to_string()),
                many => Columns::Any(many.iter().map(|h| h.to_string()).collect()),
            };
            (field.to_string(), c)
        })
        .collect();
    ConnectorSpec {
        id: id.to_string(),
        feed,
        description: String::new(),
        enabled: true,
        http: None,
        pull: Default::default(),
        trust: Default::default(),
        sql: None,
        file: FileSource {
            path: path.to_path_buf(),
            pattern: None,
            pick: Pick::Newest,
            format: Format::Auto,
            encoding: Encoding::Auto,
            delimiter: None,
            sheet: None,
            header_row: 1,
        },
        record: RecordSpec::default(),
        columns,
        personal_columns: Vec::new(),
        optional_columns: Vec::new(),
        values: ValueOptions::default(),
    }
}

fn market(path: &Path) -> ConnectorSpec {
    spec(
        "market",
        Feed::Market,
        path,
        &[
            ("uscc", &["统一社会信用代码"]),
            ("name", &["企业名称", "单位名称"]),
            ("address", &["住所"]),
            ("registered_on", &["成立日期"]),
            ("headcount", &["从业人数"]),
            ("industry_code", &["行业代码"]),
        ],
    )
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

const MARKET_CSV: &str = "统一社会信用代码,企业名称,住所,成立日期,从业人数,行业代码\n\
91350100M000100Y43,南安市华兴陶瓷有限公司,南安市官桥镇,2018-03-05,120,C3071\n\
91110108551385082Q,福建鑫泰石材有限公司,南安市水头镇,2019/7/1,35,3032\n\
,南安市张三陶瓷加工厂,,2020年1月2日,,\n";

#[test]
fn utf8_bom_and_gbk_give_the_same_observations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let utf8 = write(dir.path(), "m.csv", MARKET_CSV.as_bytes());
    let mut bom_bytes = b"\xEF\xBB\xBF".to_vec();
    bom_bytes.extend_from_slice(MARKET_CSV.as_bytes());
    let bom = write(dir.path(), "m_bom.csv", &bom_bytes);
    let (gbk_bytes, _, unmappable) = encoding_rs::GBK.encode(MARKET_CSV);
    assert!(!unmappable);
    let gbk = write(dir.path(), "m_gbk.csv", &gbk_bytes);

    let mut s = market(&utf8);
    s.record.key = vec!["统一社会信用代码".into(), "企业名称".into()];
    let a = read_file(&s, &utf8).expect("utf-8");
    let b = read_file(&s, &bom).expect("bom");
    let c = read_file(&s, &gbk).expect("gbk");
    assert_eq!(a.observations.len(), 3);
    assert!(a.rejects.is_empty(), "{:?}", a.rejects);
    assert_eq!(a.observations, b.observations);
    assert_eq!(a.observations, c.observations);
    let encodings: Vec<_> = [&a, &b, &c].iter().map(|x| x.files[0].encoding).collect();
    assert_eq!(
        encodings,
        [
            Some(TextEncoding::Utf8),
            Some(TextEncoding::Utf8Bom),
            Some(TextEncoding::Gb18030)
        ]
    );
    assert_eq!(a.files[0].rows, 3);
    assert_eq!(a.files[0].bytes, MARKET_CSV.len() as u64);

    let o = &a.observations[0];
    assert_eq!(o.source, "market");
    assert_eq!(o.feed, Feed::Market);
    assert_eq!(o.record_key, "91350100M000100Y43|南安市华兴陶瓷有限公司");
    assert!(o.row_keys.is_empty());
    assert_eq!(
        o.uscc.as_ref().map(|u| u.as_str()),
        Some("91350100M000100Y43")
    );
    assert_eq!(o.registered_on, date(2018, 3, 5));
    assert_eq!(o.headcount, Some(120));
    assert_eq!(o.industry_code.as_ref().map(|c| c.as_str()), Some("3071"));
    // Blank cells are None; the key of a row without a USCC starts with an empty part.
    let p = &a.observations[2];
    assert_eq!(p.record_key, "|南安市张三陶瓷加工厂");
    assert_eq!(
        (p.uscc.as_ref(), p.address.as_ref(), p.headcount),
        (None, None, None)
    );
    assert_eq!(p.registered_on, date(2020, 1, 2));

    let forced = {
        let mut s = s.clone();
        s.file.encoding = Encoding::Gbk;
        read_file(&s, &gbk).expect("forced gbk")
    };
    assert_eq!(forced.observations, a.observations);
    assert_eq!(forced.files[0].encoding, Some(TextEncoding::Gbk));
}

#[test]
fn gb18030_is_detected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "企业名称,住所\n𠮷祥餐饮店,南安市溪美街道\n";
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable);
    let path = write(dir.path(), "gb.csv", &bytes);
    let batch = read_file(
        &spec(
            "x",
            Feed::Other,
            &path,
            &[("name", &["企业名称"]), ("address", &["住所"])],
        ),
        &path,
    )
    .expect("reads");
    assert_eq!(batch.files[0].encoding, Some(TextEncoding::Gb18030));
    assert_eq!(batch.files[0].malformed_bytes, 0);
    assert_eq!(batch.observations[0].name.as_deref(), Some("𠮷祥餐饮店"));
}

#[test]
fn title_row_alternative_headers_and_default_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "南安市企业名单（2025年6月导出）,,\n\
单位名称,统一社会信用代码,地址\n\
南安市华兴陶瓷有限公司,91350100M000100Y43,官桥镇\n\
,,\n\
福建鑫泰石材有限公司,91110108551385082Q,水头镇\n";
    let path = write(dir.path(), "名单.csv", text.as_bytes());
    let mut s = market(&path);
    s.columns.retain(|k, _| k == "uscc" || k == "name");
    s.columns.insert(
        "address".into(),
        Columns::Any(vec!["住所".into(), "地址".into()]),
    );
    s.file.header_row = 2;
    let batch = read_file(&s, &path).expect("reads");
    let keys: Vec<&str> = batch
        .observations
        .iter()
        .map(|o| o.record_key.as_str())
        .collect();
    // Data-row numbers count from the row after the header; the blank row 4 still counts.
    assert_eq!(keys, ["名单.csv:1", "名单.csv:3"]);
    assert_eq!(batch.observations[1].address.as_deref(), Some("水头镇"));
    assert!(batch.rejects.is_empty());
    assert_eq!(batch.files[0].rows, 2);
}

#[test]
fn missing_header_is_a_mapping_error_naming_available_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "m.csv",
        "统一社会信用代码,名称,地址\n91350100M000100Y43,A厂,x\n".as_bytes(),
    );
    let err = read_file(&market(&path), &path).expect_err("mis-configured connector");
    let msg = err.to_string();
    assert!(matches!(err, IngestError::Mapping { .. }), "{msg}");
    assert!(msg.contains("name (企业名称 | 单位名称)"), "{msg}");
    assert!(
        msg.contains("the file's headers are: 统一社会信用代码, 名称, 地址"),
        "{msg}"
    );
    assert!(msg.contains("m.csv"), "{msg}");
}

#[test]
fn bad_rows_are_rejected_and_the_rest_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "统一社会信用代码,企业名称,住所,成立日期,从业人数,行业代码\n\
91350100M000100Y43,南安市华兴陶瓷有限公司,官桥镇,2018-03-05,120,3071\n\
91110108551385082Q,福建鑫泰石材有限公司\n\
,,水头镇,2019-01-01,5,\n\
91440300708461136T,南安市恒达机械厂,溪美街道,2024-13-45,约二十,制造业\n\
\n\
92371000MA3MXH0E3W,南安市李四五金店,,2021-05-05,3,\n";
    let path = write(dir.path(), "bad.csv", text.as_bytes());
    let batch = read_file(&market(&path), &path).expect("reads");
    let names: Vec<&str> = batch
        .observations
        .iter()
        .filter_map(|o| o.name.as_deref())
        .collect();
    assert_eq!(
        names,
        [
            "南安市华兴陶瓷有限公司",
            "南安市恒达机械厂",
            "南安市李四五金店"
        ]
    );
    assert_eq!(batch.files[0].rows, 5);

    let rows: Vec<(usize, RejectAction, Option<&str>)> = batch
        .rejects
        .iter()
        .map(|r| (r.row, r.action, r.column.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            (3, RejectAction::RowRejected, None),
            (4, RejectAction::RowRejected, None),
            (5, RejectAction::FieldDropped, Some("成立日期")),
            (5, RejectAction::FieldDropped, Some("从业人数")),
            (5, RejectAction::FieldDropped, Some("行业代码")),
        ]
    );
    assert!(batch
        .rejects
        .iter()
        .all(|r| r.file == "bad.csv" && r.source == "market"));
    assert!(
        batch.rejects[0].reason.contains("2 fields"),
        "{}",
        batch.rejects[0].reason
    );
    assert!(
        batch.rejects[1].reason.contains("no employer"),
        "{}",
        batch.rejects[1].reason
    );
    assert_eq!(batch.rejects[2].value.as_deref(), Some("2024-13-45"));
    assert_eq!(batch.rejects[3].value.as_deref(), Some("约二十"));
    // The row with the bad date is kept without it.
    let kept = &batch.observations[1];
    assert_eq!((kept.registered_on, kept.headcount), (None, None));
    assert_eq!(kept.address.as_deref(), Some("溪美街道"));
}

#[test]
fn every_date_format_and_full_width_digits_in_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from("企业名称,成立日期,从业人数,统一社会信用代码\n");
    let dates = [
        "2024-01-05",
        "2024/1/5",
        "2024.1.5",
        "2024年1月5日",
        "20240105",
        "2024-01-05 08:30:00",
        "２０２４年１月５日",
        "45296",
    ];
    for (i, d) in dates.iter().enumerate() {
        text.push_str(&format!(
            "厂{i},{d},１２人,９１３５０１００Ｍ０００１００Ｙ４３\n"
        ));
    }
    let path = write(dir.path(), "d.csv", text.as_bytes());
    let mut s = market(&path);
    s.columns
        .retain(|k, _| matches!(k.as_str(), "name" | "registered_on" | "headcount" | "uscc"));
    let batch = read_file(&s, &path).expect("reads");
    assert!(batch.rejects.is_empty(), "{:?}", batch.rejects);
    assert_eq!(batch.observations.len(), dates.len());
    for o in &batch.observations {
        assert_eq!(o.registered_on, date(2024, 1, 5), "{:?}", o.name);
        assert_eq!(o.headcount, Some(12));
        let uscc = o.uscc.as_ref().expect("uscc");
        assert_eq!(
            (uscc.as_str(), uscc.is_valid()),
            ("91350100M000100Y43", true)
        );
    }
    assert_eq!(batch.invalid_uscc, 0);
}

#[test]
fn xlsx_with_date_cells_serials_numbers_and_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("申报2025年6月.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "职业病危害项目申报汇总").expect("w");
    for (c, h) in [
        "申报编号",
        "用人单位名称",
        "统一社会信用代码",
        "申报日期",
        "更新日期",
        "劳动者总数",
        "区划代码",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(1, c as u16, *h).expect("w");
    }
    let fmt = XlsxFormat::new().set_num_format("yyyy/m/d");
    // Row 3: a real date cell, a serial number in a date column, numbers as numbers.
    ws.write_number(2, 0, 20250001.0).expect("w");
    ws.write_string(2, 1, "南安市华兴陶瓷有限公司").expect("w");
    ws.write_string(2, 2, "91350100M000100Y43").expect("w");
    ws.write_datetime_with_format(2, 3, ExcelDateTime::from_ymd(2024, 1, 5).expect("d"), &fmt)
        .expect("w");
    ws.write_number(2, 4, 45292.0).expect("w");
    ws.write_number(2, 5, 58.0).expect("w");
    ws.write_number(2, 6, 350583100000.0).expect("w");
    // Row 4: dates as text, an invalid USCC (kept, flagged).
    ws.write_string(3, 0, "A-0002").expect("w");
    ws.write_string(3, 1, "厦门某某石材有限公司").expect("w");
    ws.write_string(3, 2, "91350203M0001QAY9B").expect("w");
    ws.write_string(3, 3, "2023年12月1日").expect("w");
    ws.write_string(3, 4, "2024-13-01").expect("w");
    wb.save(&path).expect("save");

    let mut s = spec(
        "declaration",
        Feed::Declaration,
        &path,
        &[
            ("name", &["用人单位名称"]),
            ("uscc", &["统一社会信用代码"]),
            ("declared_on", &["申报日期"]),
            ("updated_on", &["更新日期"]),
            ("headcount", &["劳动者总数"]),
            ("region_code", &["区划代码"]),
        ],
    );
    s.file.header_row = 2;
    s.record.key = vec!["申报编号".into()];
    let batch = read_file(&s, &path).expect("reads");
    assert_eq!(batch.files[0].encoding, None);
    assert_eq!(batch.observations.len(), 2);
    let a = &batch.observations[0];
    assert_eq!(a.record_key, "20250001");
    assert_eq!(a.declared_on, date(2024, 1, 5));
    assert_eq!(a.updated_on, date(2024, 1, 1));
    assert_eq!(a.headcount, Some(58));
    assert_eq!(a.region_code.as_deref(), Some("350583100000"));
    let b = &batch.observations[1];
    assert_eq!(b.record_key, "A-0002");
    assert_eq!(b.declared_on, date(2023, 12, 1));
    assert_eq!(b.updated_on, None);
    let flagged = b.uscc.as_ref().expect("kept");
    assert_eq!(
        (flagged.as_str(), flagged.is_valid()),
        ("91350203M0001QAY9B", false)
    );
    assert_eq!(batch.invalid_uscc, 1);
    assert_eq!(batch.rejects.len(), 1);
    let r = &batch.rejects[0];
    assert_eq!(
        (
            r.row,
            r.action,
            r.column.as_deref(),
            r.value.as_deref(),
            r.file.as_str()
        ),
        (
            4,
            RejectAction::FieldDropped,
            Some("更新日期"),
            Some("2024-13-01"),
            "申报2025年6月.xlsx"
        )
    );
}

#[test]
fn exam_rows_aggregate_per_employer_without_personal_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "体检编号,姓名,身份证号,用人单位,体检日期,危害因素\n\
T001,王小明,350583199001011234,南安市华兴陶瓷有限公司,2025-03-01,矽尘、噪声\n\
T002,李大华,35058319850202567X,南安市华兴陶瓷有限公司,2025-05-20,噪声\n\
T003,陈阿妹,350583199203033456,福建鑫泰石材有限公司,2025-04-02,矽尘\n\
T004,赵秘密,350583199304044444,,2025-04-03,苯\n\
T005,孙隐私,350583199405055555,福建鑫泰石材有限公司,2025-99-99,\n";
    let path = write(dir.path(), "exam.csv", text.as_bytes());
    let mut s = spec(
        "exam",
        Feed::Exam,
        &path,
        &[
            ("name", &["用人单位"]),
            ("evidence_date", &["体检日期"]),
            ("hazard_factors", &["危害因素"]),
        ],
    );
    s.record.key = vec!["体检编号".into()];
    s.record.group_by = vec!["用人单位".into()];
    s.personal_columns = vec!["姓名".into(), "身份证号".into()];
    let batch = read_file(&s, &path).expect("reads");

    assert_eq!(batch.observations.len(), 2);
    let a = &batch.observations[0];
    assert_eq!(a.record_key, "南安市华兴陶瓷有限公司");
    assert_eq!(a.row_keys, ["T001", "T002"]);
    assert_eq!(a.evidence_count, Some(2));
    assert_eq!(a.evidence_date, date(2025, 5, 20));
    assert_eq!(a.hazard_factors, ["矽尘", "噪声"]);
    let b = &batch.observations[1];
    assert_eq!(b.row_keys, ["T003", "T005"]);
    assert_eq!(b.evidence_count, Some(2));
    assert_eq!(b.evidence_date, date(2025, 4, 2));
    assert_eq!(b.hazard_factors, ["矽尘"]);

    let actions: Vec<(usize, RejectAction)> =
        batch.rejects.iter().map(|r| (r.row, r.action)).collect();
    assert_eq!(
        actions,
        [
            (5, RejectAction::RowRejected),
            (6, RejectAction::FieldDropped)
        ]
    );

    let json = serde_json::to_string(&batch).expect("serialize");
    let debug = format!("{batch:?}");
    for secret in [
        "王小明",
        "李大华",
        "陈阿妹",
        "赵秘密",
        "孙隐私",
        "3505831990",
        "35058319850202567X",
        "1992030",
    ] {
        assert!(!json.contains(secret), "{secret} leaked into {json}");
        assert!(!debug.contains(secret), "{secret} leaked");
    }

    // Without a key column, member keys are `file:n`.
    s.record.key.clear();
    let batch = read_file(&s, &path).expect("reads");
    assert_eq!(batch.observations[0].row_keys, ["exam.csv:1", "exam.csv:2"]);
}

#[test]
fn mapping_or_keying_a_personal_column_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "e.csv", "姓名,用人单位\n张三,A厂\n".as_bytes());
    let mut s = spec("exam", Feed::Exam, &path, &[("name", &["用人单位"])]);
    s.personal_columns = vec!["姓名".into()];
    s.record.key = vec!["姓名".into()];
    let err = read_file(&s, &path).expect_err("personal key");
    assert!(err.to_string().contains("personal column"), "{err}");
    s.record.key.clear();
    s.columns
        .insert("legal_rep".into(), Columns::One("姓名".into()));
    let err = read_file(&s, &path).expect_err("personal field");
    assert!(err.to_string().contains("personal column"), "{err}");
}

#[test]
fn folder_newest_vs_all_and_grouping_across_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("exam");
    std::fs::create_dir(&folder).expect("mkdir");
    write(
        &folder,
        "体检2025年5月.csv",
        "用人单位,体检日期\nA厂,2025-05-03\nB厂,2025-05-04\n".as_bytes(),
    );
    write(
        &folder,
        "体检2025年6月.csv",
        "用人单位,体检日期\nA厂,2025-06-09\n".as_bytes(),
    );
    let mut s = spec(
        "exam",
        Feed::Exam,
        Path::new("exam"),
        &[("name", &["用人单位"]), ("evidence_date", &["体检日期"])],
    );
    s.record.group_by = vec!["用人单位".into()];

    let newest = read_source(&s, dir.path()).expect("newest");
    assert_eq!(newest.files.len(), 1);
    assert!(newest.files[0].path.ends_with("体检2025年6月.csv"));
    assert_eq!(newest.observations.len(), 1);

    s.file.pick = Pick::All;
    let all = read_source(&s, dir.path()).expect("all");
    assert_eq!(all.files.len(), 2);
    let a = &all.observations[0];
    assert_eq!(a.record_key, "A厂");
    assert_eq!(a.row_keys, ["体检2025年5月.csv:1", "体检2025年6月.csv:1"]);
    assert_eq!(
        (a.evidence_count, a.evidence_date),
        (Some(2), date(2025, 6, 9))
    );
    assert_eq!(all.observations.len(), 2);

    s.file.path = PathBuf::from("nowhere");
    let err = read_source(&s, dir.path()).expect_err("missing");
    assert!(err.to_string().contains("nowhere"), "{err}");
}

#[test]
fn semicolon_delimiter_and_yuan_revenue() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "t.txt",
        "纳税人名称;营业收入;纳税人识别号\nA厂;1,500,000;３５０５８３７０８４６１１３６\n"
            .as_bytes(),
    );
    let mut s = spec(
        "tax",
        Feed::Tax,
        &path,
        &[
            ("name", &["纳税人名称"]),
            ("revenue", &["营业收入"]),
            ("tax_id", &["纳税人识别号"]),
        ],
    );
    s.file.delimiter = Some(";".into());
    s.values.revenue_unit = crate::ingest::spec::RevenueUnit::Yuan;
    let batch = read_file(&s, &path).expect("reads");
    let o = &batch.observations[0];
    assert_eq!(o.revenue, Some(150.0));
    assert_eq!(o.tax_id.as_deref(), Some("350583708461136"));
    s.file.delimiter = Some("；".into());
    assert!(matches!(
        read_file(&s, &path),
        Err(IngestError::Delimiter { .. })
    ));
}

/// `cargo test --release --lib ingest::tests::perf -- --ignored --nocapture`
#[test]
#[ignore]
fn perf_200k_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from(
        "统一社会信用代码,企业名称,住所,成立日期,从业人数,行业代码,法定代表人,登记状态\n",
    );
    for i in 0..200_000 {
        text.push_str(&format!(
            "91350100M000100Y43,南安市第{i}号陶瓷有限公司,南安市官桥镇某某村{i}号,2018-03-05,{},C3071,张某,存续\n",
            i % 500
        ));
    }
    let path = write(dir.path(), "big.csv", text.as_bytes());
    let mut s = market(&path);
    s.columns
        .insert("legal_rep".into(), Columns::One("法定代表人".into()));
    s.columns
        .insert("registry_status".into(), Columns::One("登记状态".into()));
    let start = std::time::Instant::now();
    let batch = read_file(&s, &path).expect("reads");
    let took = start.elapsed();
    println!("200k rows ({} MB) in {took:?}", text.len() / 1_000_000);
    assert_eq!(batch.observations.len(), 200_000);
}

/// The committed synthetic sample, read through the real connector files: every record key the
/// generator's truth lists is produced, nothing else, and every damaged row is quarantined.
#[test]
fn sample_connectors_match_the_generator_truth() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let truth = root.join("connectors/sample/truth");
    let (Ok(records), Ok(bad)) = (
        std::fs::read_to_string(truth.join("records.csv")),
        std::fs::read_to_string(truth.join("bad_rows.csv")),
    ) else {
        eprintln!("no synthetic sample in this checkout; skipped");
        return;
    };
    let mut expected_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut rdr = csv::Reader::from_reader(records.as_bytes());
    for r in rdr.records() {
        let r = r.expect("truth row");
        expected_keys
            .entry(r[0].to_string())
            .or_default()
            .push(r[1].to_string());
    }
    let mut expected_bad: BTreeMap<String, Vec<(String, usize, bool)>> = BTreeMap::new();
    let mut rdr = csv::Reader::from_reader(bad.as_bytes());
    for r in rdr.records() {
        let r = r.expect("truth row");
        let row: usize = r[2].parse().expect("data_row");
        expected_bad.entry(r[0].to_string()).or_default().push((
            r[1].to_string(),
            row,
            &r[5] == "no",
        ));
    }
    for (id, keys) in &expected_keys {
        let path = root.join("connectors").join(format!("{id}.toml"));
        let text = std::fs::read_to_string(&path).expect("connector file");
        let mut spec: ConnectorSpec = toml::from_str(&text).expect("connector parses");
        spec.id = id.clone();
        let batch = read_source(&spec, root).unwrap_or_else(|e| panic!("{id}: {e}"));
        let mut got: Vec<String> = batch
            .observations
            .iter()
            .map(|o| o.record_key.clone())
            .collect();
        let mut want = keys.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{id}: record keys");
        let header = spec.file.header_row;
        let mut got_bad: Vec<(String, usize, bool)> = batch
            .rejects
            .iter()
            .map(|r| {
                (
                    r.file.clone(),
                    r.row - header,
                    r.action == RejectAction::RowRejected,
                )
            })
            .collect();
        let mut want_bad = expected_bad.get(id).cloned().unwrap_or_default();
        got_bad.sort();
        want_bad.sort();
        assert_eq!(got_bad, want_bad, "{id}: rejects {:#?}", batch.rejects);
        if id == "exam" {
            let json = serde_json::to_string(&batch).expect("serialize");
            assert!(!json.contains("TJ2"), "exam numbers are personal here");
        }
    }
}

/// A field listed in `optional_columns` may be missing from one export and present in another;
/// any other mapped column is still required.
#[test]
fn an_optional_column_may_be_absent_and_is_read_when_present() {
    let dir = tempfile::tempdir().expect("tempdir");
    let without = write(dir.path(), "m.csv", MARKET_CSV.as_bytes());
    let with = write(
        dir.path(),
        "m2.csv",
        "统一社会信用代码,企业名称,住所,成立日期,从业人数,行业代码,注销日期\n\
91350100M000100Y43,南安市华兴陶瓷有限公司,南安市官桥镇,2018-03-05,120,C3071,2023-04-30\n"
            .as_bytes(),
    );
    let mut s = market(&without);
    s.columns.insert(
        "deregistered_on".into(),
        crate::ingest::spec::Columns::One("注销日期".into()),
    );
    assert!(
        matches!(read_file(&s, &without), Err(IngestError::Mapping { .. })),
        "required unless listed as optional"
    );
    s.optional_columns = vec!["deregistered_on".into()];
    let a = read_file(&s, &without).expect("absent is fine");
    assert_eq!(a.observations.len(), 3);
    assert!(a.observations.iter().all(|o| o.deregistered_on.is_none()));
    let b = read_file(&s, &with).expect("present is read");
    assert_eq!(b.observations[0].deregistered_on, date(2023, 4, 30));
}

/// The one industry-code type decides for ingest too: a letter that contradicts its digits
/// drops the field with the reason, a 门类 alone is kept.
#[test]
fn an_industry_code_contradicting_its_letter_is_quarantined_with_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "统一社会信用代码,企业名称,住所,成立日期,从业人数,行业代码\n\
91350100M000100Y43,南安市华兴陶瓷有限公司,南安市官桥镇,2018-03-05,120,B3071\n\
91110108551385082Q,福建鑫泰石材有限公司,南安市水头镇,2019-07-01,35,c\n";
    let path = write(dir.path(), "m.csv", text.as_bytes());
    let batch = read_file(&market(&path), &path).expect("read");
    assert_eq!(batch.observations.len(), 2, "the rows still load");
    assert_eq!(batch.observations[0].industry_code, None);
    assert_eq!(
        batch.observations[1]
            .industry_code
            .as_ref()
            .map(|c| c.section()),
        Some('C')
    );
    let dropped: Vec<&Reject> = batch
        .rejects
        .iter()
        .filter(|r| r.column.as_deref() == Some("行业代码"))
        .collect();
    assert_eq!(dropped.len(), 1, "{:?}", batch.rejects);
    assert_eq!(dropped[0].row, 2);
    assert!(
        dropped[0].reason.contains("门类 B does not match 大类 30"),
        "{}",
        dropped[0].reason
    );
}

/// Excel's "Unicode text" (UTF-16LE with a BOM, tab-separated) reads like the UTF-8 CSV.
#[test]
fn excel_unicode_text_reads_like_the_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = write(dir.path(), "m.csv", MARKET_CSV.as_bytes());
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            MARKET_CSV
                .replace(',', "\t")
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let txt = write(dir.path(), "m.txt", &utf16);
    let a = read_file(&market(&csv), &csv).expect("csv");
    let mut s = market(&txt);
    s.file.delimiter = Some("tab".into());
    let b = read_file(&s, &txt).expect("unicode text");
    assert_eq!(b.files[0].encoding, Some(TextEncoding::Utf16Le));
    assert!(b.rejects.is_empty(), "{:?}", b.rejects);
    let names = |x: &SourceBatch| -> Vec<Option<String>> {
        x.observations.iter().map(|o| o.name.clone()).collect()
    };
    assert_eq!(names(&a), names(&b));
    assert_eq!(a.observations.len(), 3);
}

/// A valid 18-digit ID number (GB 11643 check character) from its first 17 digits.
fn id_number(first17: &str) -> String {
    let sum: u32 = first17
        .bytes()
        .zip([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// Issue 14: a worker's ID number typed into the employer cell, and a mobile number in an
/// address, are never stored — not in an observation, a key, or the quarantine.
#[test]
fn personal_numbers_in_employer_fields_are_never_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = id_number("35058319900101123");
    let other = id_number("35058319850202567");
    let text = format!(
        "体检编号,姓名,身份证号,用人单位,单位地址,体检日期,危害因素\n\
T001,王小明,{other},{worker},南安市官桥镇,2025-03-01,矽尘\n\
T002,李大华,{other},南安市华兴陶瓷有限公司,南安市官桥镇 联系人手机139-1234-5678,2025-05-20,噪声\n\
T003,陈阿妹,{other},福建鑫泰石材有限公司,南安市水头镇,2025-04-02,矽尘\n"
    );
    let path = write(dir.path(), "exam.csv", text.as_bytes());
    let mut s = spec(
        "exam",
        Feed::Exam,
        &path,
        &[
            ("name", &["用人单位"]),
            ("address", &["单位地址"]),
            ("evidence_date", &["体检日期"]),
            ("hazard_factors", &["危害因素"]),
        ],
    );
    s.record.key = vec!["体检编号".into()];
    s.record.group_by = vec!["用人单位".into()];
    s.personal_columns = vec!["姓名".into(), "身份证号".into()];
    let batch = read_file(&s, &path).expect("reads");

    // The ID row has no employer left: rejected as a row without a name, as any such row is.
    let names: Vec<Option<&str>> = batch
        .observations
        .iter()
        .map(|o| o.name.as_deref())
        .collect();
    assert_eq!(
        names,
        [Some("南安市华兴陶瓷有限公司"), Some("福建鑫泰石材有限公司")]
    );
    assert_eq!(batch.observations[0].address, None, "the whole value goes");
    assert_eq!(batch.observations[0].hazard_factors, ["噪声"]);
    assert_eq!(
        batch.observations[1].address.as_deref(),
        Some("南安市水头镇")
    );

    let seen: Vec<(usize, Option<&str>, RejectAction)> = batch
        .rejects
        .iter()
        .map(|r| (r.row, r.column.as_deref(), r.action))
        .collect();
    assert_eq!(
        seen,
        [
            (2, Some("用人单位"), RejectAction::FieldDropped),
            (2, None, RejectAction::RowRejected),
            (3, Some("单位地址"), RejectAction::FieldDropped),
        ]
    );
    assert!(
        batch.rejects[0].reason.contains("身份证号"),
        "{:?}",
        batch.rejects[0]
    );
    assert!(
        batch.rejects[2].reason.contains("mobile"),
        "{:?}",
        batch.rejects[2]
    );
    for r in [&batch.rejects[0], &batch.rejects[2]] {
        assert_eq!(r.value, None, "{r:?}");
        assert!(!r.reason.chars().any(|c| c.is_ascii_digit()), "{r:?}");
    }

    let json = serde_json::to_string(&batch).expect("serialize");
    let debug = format!("{batch:?}");
    for secret in [
        worker.as_str(),
        &worker[..14],
        &worker[6..],
        "139-1234-5678",
        "13912345678",
        "1234-5678",
    ] {
        assert!(!json.contains(secret), "{secret} leaked into {json}");
        assert!(!debug.contains(secret), "{secret} leaked");
    }
}

/// A key column holding an ID number (a connector keyed on the wrong column) does not put it
/// into the record key: the row is keyed by its position, and the quarantine says so.
#[test]
fn a_personal_number_in_a_key_column_is_not_a_record_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = id_number("35058319900101123");
    let text = format!("编号,企业名称\n{worker},A厂\nK2,B厂\n");
    let path = write(dir.path(), "k.csv", text.as_bytes());
    let mut s = spec("k", Feed::Other, &path, &[("name", &["企业名称"])]);
    s.record.key = vec!["编号".into()];
    let batch = read_file(&s, &path).expect("reads");
    let keys: Vec<&str> = batch
        .observations
        .iter()
        .map(|o| o.record_key.as_str())
        .collect();
    assert_eq!(keys, ["k.csv:1", "K2"]);
    assert_eq!(batch.rejects.len(), 1, "{:?}", batch.rejects);
    assert_eq!(batch.rejects[0].row, 2);
    assert_eq!(batch.rejects[0].value, None);
    let json = serde_json::to_string(&batch).expect("serialize");
    assert!(!json.contains(&worker[..14]), "{json}");
}

/// NUL, other controls and DEL are removed from values and keys; tab and line breaks inside a
/// value become a space; an ordinary file's records are exactly what they were.
#[test]
fn control_characters_are_cleaned_and_ordinary_records_do_not_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "统一社会信用代码,企业名称,住所,成立日期,从业人数,行业代码\n\
91350100M000100Y43,南安\0市华兴\u{7}陶瓷\u{7f}有限公司\u{9f},\"南安市官桥镇\r\n内厝村\t8号\",2018-03-05\0,120,C3071\n\
91110108551385082Q,\"福建鑫泰\n石材有限公司\",南安市水头镇,2019/7/1,35,3032\n";
    let path = write(dir.path(), "m.csv", text.as_bytes());
    let mut s = market(&path);
    s.record.key = vec!["企业名称".into()];
    let batch = read_file(&s, &path).expect("reads");
    assert!(batch.rejects.is_empty(), "{:?}", batch.rejects);
    let a = &batch.observations[0];
    assert_eq!(a.name.as_deref(), Some("南安市华兴陶瓷有限公司"));
    assert_eq!(a.address.as_deref(), Some("南安市官桥镇 内厝村 8号"));
    assert_eq!(a.registered_on, date(2018, 3, 5));
    assert_eq!(a.record_key, "南安市华兴陶瓷有限公司");
    let json = serde_json::to_string(&batch.observations).expect("serialize");
    assert!(
        !json.contains("\\u0000") && !json.contains("\\u0007"),
        "{json}"
    );
    // A line break inside a key stays as the file wrote it (keys of ordinary records are
    // stable); the value is cleaned.
    let b = &batch.observations[1];
    assert_eq!(b.record_key, "福建鑫泰\n石材有限公司");
    assert_eq!(b.name.as_deref(), Some("福建鑫泰 石材有限公司"));

    // An ordinary file: the observations' JSON (what the content digest hashes) is unchanged.
    let plain = write(dir.path(), "plain.csv", MARKET_CSV.as_bytes());
    let batch = read_file(&market(&plain), &plain).expect("reads");
    let json = serde_json::to_string(&batch.observations[0]).expect("serialize");
    assert_eq!(
        json,
        r#"{"source":"market","feed":"market","record_key":"plain.csv:1","uscc":{"code":"91350100M000100Y43","valid":true},"name":"南安市华兴陶瓷有限公司","address":"南安市官桥镇","industry_code":"3071","registered_on":"2018-03-05","headcount":120}"#
    );
}

/// A cell over Excel's 32,767-character limit (from a workbook or a remote record: the CSV
/// reader rejects such a row itself) drops its field and the quarantine does not hold it; a
/// long unparsable value is shown cut short.
#[test]
fn a_giant_cell_drops_its_field_without_being_copied_into_the_quarantine() {
    let path = PathBuf::from("m.xlsx");
    let headers: Vec<String> = MARKET_CSV
        .lines()
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect();
    let plan = Plan::new(&market(&path), &headers).expect("plan");
    let ctx = RejectContext {
        source: "market".into(),
        file: "m.xlsx".into(),
    };
    let text = |s: &str| Cell::Text(s.to_string());
    let row = DataRow {
        number: 2,
        cells: vec![
            text("91350100M000100Y43"),
            Cell::Text("厂".repeat(values::MAX_CELL_CHARS + 1)),
            text("南安市官桥镇"),
            Cell::Text("x".repeat(1_000)),
            Cell::Empty,
            Cell::Empty,
        ],
    };
    let mut rejects = Vec::new();
    let mapped = plan
        .map_row(&row, &ctx, &mut rejects)
        .expect("the row loads");
    assert_eq!(mapped.observation.name, None);
    assert_eq!(mapped.observation.address.as_deref(), Some("南安市官桥镇"));
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    let r = &rejects[0];
    assert_eq!((r.row, r.column.as_deref()), (2, Some("企业名称")));
    assert_eq!(r.value, None);
    assert!(r.reason.contains("32767"), "{}", r.reason);
    let r = &rejects[1];
    assert_eq!((r.row, r.column.as_deref()), (2, Some("成立日期")));
    let shown = r.value.as_deref().unwrap_or_default();
    assert_eq!(
        shown.chars().count(),
        quarantine::MAX_SHOWN_CHARS + 1,
        "cut, with …"
    );
    assert!(shown.ends_with('…'));
}

/// Remote records (`[http]`, `[sql]`) become rows of text cells and go through the same sink
/// and mapping as a file's rows (`remote::map_rows`): the guard and the cleaning apply alike.
#[test]
fn remote_rows_are_guarded_and_cleaned_like_file_rows() {
    let headers: Vec<String> = ["uscc", "name", "legal_rep"]
        .iter()
        .map(|h| h.to_string())
        .collect();
    let path = PathBuf::from("https://api.example/rows");
    let s = spec(
        "api",
        Feed::Market,
        &path,
        &[
            ("uscc", &["uscc"]),
            ("name", &["name"]),
            ("legal_rep", &["legal_rep"]),
        ],
    );
    let plan = Plan::new(&s, &headers).expect("plan");
    let ctx = RejectContext {
        source: "api".into(),
        file: "https://api.example/rows".into(),
    };
    let mut sink = Sink::new(&s, ctx);
    let text = |v: &str| Cell::Text(v.to_string());
    sink.take(
        &plan,
        TableItem::Row(DataRow {
            number: 1,
            cells: vec![
                text("91350100M000100Y43"),
                text("南安市华兴\0陶瓷有限公司"),
                text("张三 +86 159 0595 1234"),
            ],
        }),
    );
    let batch = sink.finish();
    let o = &batch.observations[0];
    assert_eq!(o.name.as_deref(), Some("南安市华兴陶瓷有限公司"));
    assert_eq!(
        o.legal_rep, None,
        "a legal representative's mobile is not stored either"
    );
    assert_eq!(batch.rejects.len(), 1, "{:?}", batch.rejects);
    assert_eq!(batch.rejects[0].column.as_deref(), Some("legal_rep"));
    assert_eq!(batch.rejects[0].value, None);
    let json = serde_json::to_string(&batch).expect("serialize");
    assert!(!json.contains("1234") && !json.contains("0595"), "{json}");
}

#[test]
fn a_text_file_larger_than_any_export_is_refused_unread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("m.csv");
    // Sparse: no disk is used, and nothing is read.
    let f = std::fs::File::create(&path).expect("create");
    f.set_len(MAX_TEXT_FILE_BYTES + 1).expect("sparse length");
    drop(f);
    let err = read_file(&market(&path), &path).expect_err("too large");
    let msg = err.to_string();
    assert!(matches!(err, IngestError::TooLarge { .. }), "{msg}");
    assert!(
        msg.contains("m.csv") && msg.contains("2147483649 bytes"),
        "{msg}"
    );
}
