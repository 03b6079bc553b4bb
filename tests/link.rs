//! `yingbao link`: an ad-hoc list (a township's finds) against the master list, described by a
//! comparison spec in TOML.

mod common;

use std::process::Command;

use common::Project;

#[test]
fn a_tip_list_links_to_the_master_list() {
    let project = Project::new();
    let run = |args: &[&str]| project.cli(args);
    run(&["run"]);
    let master = run(&["export", "master"]);
    // For Excel: a byte-order mark, Chinese headers and values.
    let body = master
        .strip_prefix('\u{feff}')
        .expect("the master export starts with a UTF-8 BOM");
    let mut rows = csv::Reader::from_reader(body.as_bytes());
    let headers = rows.headers().expect("headers").clone();
    assert_eq!(&headers[0], "企业编号");
    let col = |h: &str| headers.iter().position(|x| x == h).expect("column");
    let (id, name, address) = (col("企业编号"), col("企业名称"), col("地址"));
    let (filing, lead, feeds) = (col("申报状态"), col("是否线索"), col("数据来源"));
    // An employer with a company name and an address, written the way a township would.
    let target = rows
        .records()
        .filter_map(Result::ok)
        .find(|r| {
            r[name].ends_with("有限公司") && r[name].starts_with("南安市") && !r[address].is_empty()
        })
        .expect("an employer");
    assert!(
        ["未申报", "申报已逾期", "已申报"].contains(&&target[filing]),
        "{:?}",
        &target[filing]
    );
    assert!(["是", "否"].contains(&&target[lead]));
    assert!(
        !target[feeds].is_empty() && !target[feeds].chars().any(|c| c.is_ascii_alphabetic()),
        "feeds in Chinese: {:?}",
        &target[feeds]
    );
    let variant = target[name]
        .replacen("南安市", "", 1)
        .replace("有限公司", "有限责任公司");
    let dir = project.root().join("tips");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("tips.csv"),
        format!("编号,单位名称,地址\nT1,{variant},{}\nT2,南安市完全虚构的示例食品有限公司,南安市不存在路1号\n", &target[address]),
    )
    .expect("write tips");
    std::fs::write(
        dir.join("link.toml"),
        "[left]\npath = \"tips.csv\"\nkey = [\"编号\"]\n[left.columns]\nname = \"单位名称\"\naddress = \"地址\"\n\n[right]\nmaster = true\n",
    )
    .expect("write spec");
    let out = dir.join("matches.csv");
    let printed = run(&[
        "link",
        dir.join("link.toml").to_str().expect("path"),
        "--out",
        out.to_str().expect("path"),
    ]);
    assert!(printed.contains("linked 2 left records"), "{printed}");
    let bytes = std::fs::read(&out).expect("matches");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        r.headers().expect("headers").iter().collect::<Vec<_>>(),
        [
            "左表编号",
            "左表名称",
            "判定",
            "匹配概率",
            "右表编号",
            "右表名称",
            "依据（字段 权重）"
        ]
    );
    let lines: Vec<csv::StringRecord> = r.records().filter_map(Result::ok).collect();
    assert_eq!(&lines[0][0], "T1");
    assert_eq!(&lines[0][2], "同一单位", "{text}");
    assert_eq!(&lines[0][4], &target[id], "{text}");
    assert!(lines[0][6].contains("名称"), "evidence is listed: {text}");
    assert_eq!(&lines[1][0], "T2");
    assert_ne!(&lines[1][2], "同一单位", "{text}");

    // A spec naming a field the matcher does not compare is refused with the allowed list.
    std::fs::write(dir.join("bad.toml"), "[left]\npath = \"tips.csv\"\n[left.columns]\nnmae = \"单位名称\"\n[right]\nmaster = true\n").expect("write");
    let bad = Command::new(env!("CARGO_BIN_EXE_yingbao"))
        .arg("--config")
        .arg(project.config_file())
        .args([
            "link",
            dir.join("bad.toml").to_str().expect("path"),
            "--out",
            "/dev/null",
        ])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("left.columns.nmae") && err.contains("name, uscc"),
        "{err}"
    );
}
