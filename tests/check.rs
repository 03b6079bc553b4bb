//! `yingbao check` on broken configurations: every problem at once, each with file, line, key
//! and what would be right; a non-zero exit; and a clean pass on the shipped files.

mod common;

use std::process::Command;

use common::Project;

fn check(project: &Project) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(project.config_file())
        .arg("check")
        .output()
        .expect("run yingbao check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn edit(path: &std::path::Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{from} not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

fn line_of(path: &std::path::Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .position(|l| l.contains(needle))
        .expect("needle present")
        + 1
}

#[test]
fn shipped_configuration_passes_check() {
    let project = Project::new();
    let (code, stdout, stderr) = check(&project);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("configuration OK"));
    assert!(stdout.contains("connector exam"));
}

#[test]
fn every_problem_is_listed_with_file_line_and_key() {
    let project = Project::new();
    let main = project.config_file();
    edit(&main, "lapse_months = 13", "lapse_month = 13");
    edit(&main, "min_ratio = 0.8", "min_ratio = \"most\"");
    edit(
        &main,
        "url = \"sqlite://var/yingbao.db\"",
        "url = \"postgres://county:hunter2@db/yingbao\"",
    );
    edit(
        &main,
        "min_workers = 10",
        "min_workers = 10\nrisk_classes_x = []",
    );
    let exam = project.root().join("connectors/exam.toml");
    edit(
        &exam,
        "evidence_date = \"体检日期\"",
        "evidence_dat = \"体检日期\"\nlegal_rep = \"姓名\"",
    );
    edit(&exam, "pick = \"all\"", "pick = \"every\"");
    edit(&exam, "体检台账_*.csv", "体检台账_[*.csv");
    let catalogue = project.root().join("config/risk_catalogue.csv");
    edit(&catalogue, "3011,严重", "3011,较重");

    let (code, _, stderr) = check(&project);
    assert_eq!(code, 2, "{stderr}");
    let main_s = main.display().to_string();
    let exam_s = exam.display().to_string();
    let expect = [
        format!("{main_s}:{}: `policy.lapse_month`: unknown key (did you mean `lapse_months`?", line_of(&main, "lapse_month =")),
        format!("{main_s}:{}: `snapshot.min_ratio`: invalid type", line_of(&main, "min_ratio =")),
        format!("{main_s}:{}: `database.url`: the database URL holds a password", line_of(&main, "hunter2")),
        format!("{main_s}:{}: `policy.lead_rules[0].risk_classes_x`: unknown key", line_of(&main, "risk_classes_x")),
        format!("{exam_s}:{}: `columns.evidence_dat`: `evidence_dat` is not a canonical field (did you mean `evidence_date`?", line_of(&exam, "evidence_dat =")),
        format!("{exam_s}:{}: `columns.legal_rep`: `姓名` is listed as personal data", line_of(&exam, "legal_rep =")),
        format!("{exam_s}:{}: `file.pick`: `every` is not an accepted value (accepted: newest, all)", line_of(&exam, "pick =")),
        format!("{exam_s}:{}: `file.pattern`: `体检台账_[*.csv` is not a file-name pattern: unclosed character class", line_of(&exam, "pattern =")),
        format!("{}:{}: `class`: `较重` is not a risk class (write 严重 or 一般)", catalogue.display(), line_of(&catalogue, "3011,较重")),
    ];
    for e in &expect {
        assert!(stderr.contains(e.as_str()), "missing:\n{e}\nin:\n{stderr}");
    }
    assert!(
        stderr.contains(&format!("{} problem(s) found", expect.len())),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "a secret was echoed: {stderr}");
}

/// A lifecycle effect is one of three words; a typo fails loading (it was once dropped, and
/// the disposition then closed its lead for good).
#[test]
fn an_unknown_lifecycle_effect_is_refused_with_the_words_it_could_be() {
    let project = Project::new();
    let main = project.config_file();
    edit(
        &main,
        "\neffect = \"suppress\"\n",
        "\neffect = \"supress\"\n",
    );
    let (code, _, stderr) = check(&project);
    assert_eq!(code, 2, "{stderr}");
    let at = format!("{}:{}:", main.display(), line_of(&main, "\"supress\""));
    assert!(stderr.contains(&at), "{at} not in {stderr}");
    assert!(stderr.contains("lifecycle.rule"), "{stderr}");
    for word in ["recheck", "suppress", "transfer"] {
        assert!(stderr.contains(word), "{word} not offered: {stderr}");
    }
}

#[test]
fn run_refuses_a_broken_configuration() {
    let project = Project::new();
    edit(
        &project.config_file(),
        "code = \"350583\"",
        "code = \"3505\"",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(project.config_file())
        .arg("run")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`county.code`"), "{stderr}");
    assert!(!project.root().join("var").exists(), "nothing was written");
}

/// `yingbao gazetteer import` builds another county's tables from china-division files, and
/// a configuration pointing at them passes `check`.
#[test]
fn a_county_is_set_up_from_china_division_files() {
    let project = Project::new();
    let from = project.root().join("division");
    std::fs::create_dir_all(&from).expect("mkdir");
    std::fs::write(
        from.join("areas.csv"),
        "code,name,cityCode,provinceCode\n350583,\"南安市\",3505,35\n500106,\"沙坪坝区\",5001,50\n",
    )
    .expect("areas");
    std::fs::write(
        from.join("streets.csv"),
        "code,name,areaCode,provinceCode,cityCode\n500106001,\"小龙坎街道\",500106,50,5001\n\
         500106002,\"沙坪坝街道\",500106,50,5001\n350583001,\"溪美街道\",350583,35,3505\n",
    )
    .expect("streets");
    std::fs::write(
        from.join("villages_500106.csv"),
        "code,name,streetCode,provinceCode,cityCode,areaCode\n\
         500106001001,\"小龙坎社区居委会\",500106001,50,5001,500106\n",
    )
    .expect("villages");
    std::fs::write(
        from.join("cities.csv"),
        "code,name,provinceCode\n3505,\"泉州市\",35\n5001,\"市辖区\",50\n",
    )
    .expect("cities");
    std::fs::write(
        from.join("provinces.csv"),
        "code,name\n35,\"福建省\"\n50,\"重庆市\"\n",
    )
    .expect("provinces");
    let out = project.cli(&[
        "gazetteer",
        "import",
        "--from",
        from.to_str().expect("utf-8"),
        "--county",
        "500106",
    ]);
    assert!(
        out.contains("500106 沙坪坝区: 2 townships, 1 villages"),
        "{out}"
    );
    let towns = project.root().join("config/gazetteer/500106_townships.csv");
    assert_eq!(
        std::fs::read_to_string(&towns).expect("townships"),
        "code,name\n500106001,小龙坎街道\n500106002,沙坪坝街道\n"
    );
    // Every county of China, a municipality's with its province as city.
    assert_eq!(
        std::fs::read_to_string(project.root().join("config/gazetteer/counties.csv"))
            .expect("counties"),
        "code,name,city_code,city_name\n350583,南安市,3505,泉州市\n500106,沙坪坝区,5001,重庆市\n"
    );
    let config = project.config_file();
    let text = std::fs::read_to_string(&config)
        .expect("config")
        .replace(
            "gazetteer/350583_townships.csv",
            "gazetteer/500106_townships.csv",
        )
        .replace(
            "gazetteer/350583_villages.csv",
            "gazetteer/500106_villages.csv",
        )
        .replace("gazetteer/aliases.csv", "gazetteer/500106_aliases.csv")
        .replace("code = \"350583\"", "code = \"500106\"")
        .replace("name = \"南安市\"", "name = \"沙坪坝区\"");
    std::fs::write(
        project.root().join("config/gazetteer/500106_aliases.csv"),
        "alias,township_code,note\n",
    )
    .expect("aliases");
    std::fs::write(&config, text).expect("write");
    let check = project.cli(&["check"]);
    assert!(check.contains("2 townships, 1 villages"), "{check}");
}

#[test]
fn delivery_and_flag_mistakes_are_named_with_line_and_key() {
    let project = Project::new();
    let main = project.config_file();
    edit(
        &main,
        "kind = \"folder\"\npath = \"out/共享盘\"",
        "kind = \"fodler\"\npath = \"out/共享盘\"",
    );
    edit(
        &main,
        "path = \"out/运维告警\"",
        "path = \"out/运维告警\"\nurl = \"http://x\"",
    );
    edit(
        &main,
        "townships = [\"*\"]",
        "townships = [\"*\", \"350583999\", \"水头\"]",
    );
    edit(&main, "operator = \"operator\"", "operator = \"ops\"");
    edit(&main, "level = \"division\"", "level = \"divison\"");
    edit(
        &main,
        "schedule = \"*/10 * * * *\"",
        "schedule = \"every ten minutes\"",
    );
    edit(&main, "overdue_days = 30", "overdue_days = 0");
    edit(
        &main,
        "feedback_days = 15\n",
        "feedback_days = 15\n[delivery.list.instructions]\nexceedence = \"上门\"\n",
    );
    let (code, _, stderr) = check(&project);
    assert_eq!(code, 2, "{stderr}");
    let at = |needle: &str| format!("yingbao.toml:{}:", line_of(&main, needle));
    for (needle, key, what) in [
        (
            "kind = \"fodler\"",
            "delivery.channel[0].kind",
            "did you mean `folder`",
        ),
        (
            "townships = [\"*\", \"350583999\"",
            "delivery.channel[0].townships",
            "`水头` is not a township code",
        ),
        (
            "townships = [\"*\", \"350583999\"",
            "delivery.channel[0].townships",
            "`350583999` is not in the county's gazetteer",
        ),
        (
            "operator = \"ops\"",
            "delivery.operator",
            "no channel has the id `ops`",
        ),
        (
            "level = \"divison\"",
            "flags.industry_mismatch.level",
            "did you mean `division`",
        ),
        (
            "schedule = \"every ten minutes\"",
            "delivery.schedule",
            "crontab",
        ),
        (
            "overdue_days = 0",
            "portal.overdue_days",
            "every open lead overdue",
        ),
        (
            "exceedence = ",
            "delivery.list.instructions.exceedence",
            "did you mean `exceedance`",
        ),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(&at(needle)) && l.contains(key) && l.contains(what)),
            "no line with {} {key} {what}:\n{stderr}",
            at(needle)
        );
    }
    // A key the folder kind does not take.
    assert!(
        stderr.contains("delivery.channel[1].kind") && stderr.contains("url"),
        "{stderr}"
    );
}

/// `check` opens the local files (headers only) without `--connect`: a wrong column name, a
/// wrong sheet and a wrong encoding are each named with the connector's line and key, with
/// what would be right.
#[test]
fn check_opens_local_files_and_names_what_does_not_fit() {
    let project = Project::new();
    let market = project.root().join("connectors/market.toml");
    edit(
        &market,
        "registry_status = \"登记状态\"",
        "registry_status = \"登记状况\"",
    );
    let tax = project.root().join("connectors/tax.toml");
    edit(&tax, "# sheet = \"登记户信息\"", "sheet = \"不存在\"");
    let statistics = project.root().join("connectors/statistics.toml");
    edit(
        &statistics,
        "encoding = \"gb18030\"",
        "encoding = \"utf-8\"",
    );
    let (code, _, stderr) = check(&project);
    assert_eq!(code, 2, "{stderr}");
    let line = line_of(&market, "登记状况");
    assert!(
        stderr.contains(&format!("market.toml:{line}"))
            && stderr.contains("columns.registry_status")
            && stderr.contains("did you mean `登记状态`"),
        "{stderr}"
    );
    // The sheet and the encoding, each one exact line: the connector file, the key's line,
    // the key, the file it did not fit and what would be right.
    let sheet = format!(
        "{}:{}: `file.sheet`: {}",
        tax.display(),
        line_of(&tax, "sheet = \"不存在\""),
        WRONG_SHEET
    );
    let encoding = format!(
        "{}:{}: `file.encoding`: {}",
        statistics.display(),
        line_of(&statistics, "encoding = \"utf-8\""),
        WRONG_ENCODING
    );
    for expected in [&sheet, &encoding] {
        assert!(
            stderr.lines().any(|l| l == expected.as_str()),
            "no line\n{expected}\nin:\n{stderr}"
        );
    }
}

/// Issue 15: a secret the configuration names by its environment variable, unset where
/// `check` runs, is a problem with file, line and key — not an OK followed by a failed run.
#[test]
fn an_unset_secret_variable_fails_check_with_file_line_and_key() {
    let project = Project::new();
    let cfg = project.config_file();
    let var = "YINGBAO_TEST_UNSET_WEBHOOK_SECRET_7Q";
    edit(
        &cfg,
        "[[delivery.channel]]\nid = \"operator\"",
        &format!(
            "[[delivery.channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret_env = \"{var}\"\ntownships = []\n\n[[delivery.channel]]\nid = \"operator\""
        ),
    );
    let (code, _, err) = check(&project);
    assert_eq!(code, 2, "{err}");
    let line = line_of(&cfg, var);
    assert!(
        err.contains(&format!("yingbao.toml:{line}"))
            && err.contains(&format!("the environment variable `{var}` is not set"))
            && err.contains("delivery.channel `hook`.secret_env")
            && err.contains("/etc/yingbao.env"),
        "{err}"
    );
    // Set, it passes.
    let out = Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(&cfg)
        .arg("check")
        .env(var, "s3cret")
        .output()
        .expect("run yingbao check");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `check`'s message for `sheet = "不存在"` on the sample tax workbook.
const WRONG_SHEET: &str = "connectors/sample/tax/税务登记户信息.xlsx: sheet `不存在` is not in this workbook (its sheets: 登记户信息)";
/// `check`'s message for `encoding = "utf-8"` on the sample GB18030 statistics file.
const WRONG_ENCODING: &str = "connectors/sample/statistics/名录库.csv: 8 of 8 headers do not decode as `encoding = \"utf-8\"`; the file reads cleanly as `encoding = \"gb18030\"`";

/// Runs `yingbao check --connect` on the project.
fn check_connect(project: &Project) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(project.config_file())
        .args(["check", "--connect"])
        .output()
        .expect("run yingbao check --connect");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Adds `[[delivery.channel]]` tables (TOML text) before the operator's channel.
fn add_channels(project: &Project, tables: &str) {
    edit(
        &project.config_file(),
        "[[delivery.channel]]\nid = \"operator\"",
        &format!("{tables}\n[[delivery.channel]]\nid = \"operator\""),
    );
}

/// A TCP receiver on 127.0.0.1 that counts the connections it accepts and the bytes sent on
/// them (an HTTP request would be bytes; a reachability probe sends none).
fn tcp_receiver() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<(usize, usize)>>,
) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = std::sync::Arc::new(std::sync::Mutex::new((0usize, 0usize)));
    let counts = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let counts = counts.clone();
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
                let mut bytes = Vec::new();
                let _ = stream.read_to_end(&mut bytes);
                let mut c = counts.lock().expect("lock");
                c.0 += 1;
                c.1 += bytes.len();
            });
        }
    });
    (addr, seen)
}

/// Issue 15: `check --connect` reaches every delivery channel without sending: a webhook on
/// a live receiver is ok and the receiver got a connection and not one byte; a folder that
/// does not exist yet is ok when it could be created.
#[test]
fn check_connect_reaches_a_webhook_without_sending_anything() {
    let project = Project::new();
    let (addr, seen) = tcp_receiver();
    add_channels(
        &project,
        &format!(
            "[[delivery.channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"http://{addr}/hook\"\ntownships = []\n"
        ),
    );
    let (code, stdout, stderr) = check_connect(&project);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let ok = format!("  channel hook ok: TCP connection to {addr} opened; nothing sent");
    assert!(
        stdout.lines().any(|l| l == ok),
        "no line\n{ok}\nin:\n{stdout}"
    );
    let root = std::fs::canonicalize(project.root()).expect("root");
    let drive = format!(
        "  channel shared_drive ok: {} will be created in {}, which is writable",
        root.join("out/共享盘").display(),
        root.display()
    );
    assert!(
        stdout.lines().any(|l| l == drive),
        "no line\n{drive}\nin:\n{stdout}"
    );
    assert!(!root.join("out").exists(), "check created a folder");
    let start = std::time::Instant::now();
    while seen.lock().expect("lock").0 == 0 && start.elapsed().as_secs() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (connections, bytes) = *seen.lock().expect("lock");
    assert!(connections >= 1, "the receiver was never reached");
    assert_eq!(bytes, 0, "check --connect sent something to the webhook");
}

/// Issue 15: a webhook on a closed port and a folder that cannot be made are each a FAILED
/// line saying why, and `check --connect` exits non-zero.
#[test]
fn check_connect_names_a_refused_webhook_and_an_impossible_folder() {
    let project = Project::new();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    add_channels(
        &project,
        &format!(
            "[[delivery.channel]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"http://{closed}/hook\"\ntownships = []\n\n\
             [[delivery.channel]]\nid = \"drop\"\nkind = \"folder\"\npath = \"config/yingbao.toml/投递\"\ntownships = []\n"
        ),
    );
    let (code, stdout, stderr) = check_connect(&project);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let root = std::fs::canonicalize(project.root()).expect("root");
    let expected = [
        format!("  channel hook FAILED: webhook: {closed} refused the connection"),
        format!(
            "  channel drop FAILED: folder: {} cannot be created: {} is a file, not a folder",
            root.join("config/yingbao.toml/投递").display(),
            root.join("config/yingbao.toml").display()
        ),
        "2 channel(s) could not be reached".to_owned(),
    ];
    for e in &expected {
        assert!(
            stdout.lines().any(|l| l == e.as_str()),
            "no line\n{e}\nin:\n{stdout}"
        );
    }
    assert!(stdout.contains("  channel operator ok: "), "{stdout}");
}

/// Issue 15: every time the CLI prints is in the county's zone (`YYYY-MM-DD HH:MM`), the zone
/// named once: `yingbao sources` shows when each snapshot was taken in Asia/Shanghai, not UTC.
#[test]
fn sources_prints_times_in_the_county_zone() {
    let project = Project::new();
    let minute = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&chrono_tz::Asia::Shanghai)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let before = chrono::Utc::now();
    let out = Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(project.config_file())
        .arg("run")
        .output()
        .expect("run");
    let after = chrono::Utc::now();
    assert!(
        matches!(out.status.code(), Some(0 | 4)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sources = project.cli(&["sources"]);
    assert_eq!(
        sources.lines().next(),
        Some("times in Asia/Shanghai"),
        "{sources}"
    );
    assert_eq!(sources.matches("Asia/Shanghai").count(), 1, "{sources}");
    let mut minutes = Vec::new();
    let mut t = before - chrono::Duration::minutes(1);
    while t <= after + chrono::Duration::minutes(1) {
        minutes.push(minute(t));
        t += chrono::Duration::seconds(30);
    }
    let line = sources
        .lines()
        .find(|l| l.starts_with("declaration "))
        .expect("the declaration source's line");
    assert!(
        minutes.iter().any(|m| line.contains(m.as_str())),
        "no local time of the run ({minutes:?}) in: {line}"
    );
    let rfc3339 = sources
        .as_bytes()
        .windows(3)
        .any(|w| w[0].is_ascii_digit() && w[1] == b'T' && w[2].is_ascii_digit());
    assert!(
        !sources.contains("UTC") && !sources.contains("+00:00") && !rfc3339,
        "a UTC time was printed: {sources}"
    );
}
