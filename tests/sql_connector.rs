//! Tests against real databases: a SQLite file (always), PostgreSQL and MariaDB/MySQL when
//! YINGBAO_TEST_POSTGRES_URL / YINGBAO_TEST_MYSQL_URL are set. No mocks.

use sqlx::Connection;
use std::sync::atomic::{AtomicU32, Ordering};
use yingbao::ingest::sql::{fetch, preview, SqlError, SqlSource, TextEncoding};

const NAME_GBK_HEX: &str = "C4CFB0B2CAD0BBAAD0CBCCD5B4C9D3D0CFDEB9ABCBBE";
const COMPANY: &str = "南安市华兴陶瓷有限公司";
const URL_VAR: &str = "YB_TEST_QZK_URL";

fn unique(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "yb_{tag}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        nanos
    )
}

fn spec(query: &str) -> SqlSource {
    SqlSource {
        url_env: URL_VAR.to_string(),
        query: query.to_string(),
        encoding: TextEncoding::Utf8,
        cursor_column: None,
        timeout_secs: 30,
    }
}

fn env_with(url: &str) -> impl Fn(&str) -> Option<String> {
    let url = url.to_string();
    move |k: &str| (k == URL_VAR).then(|| url.clone())
}

fn test_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            let example = if var.contains("MYSQL") {
                "mysql://root@127.0.0.1:3306/test"
            } else {
                "postgres://postgres@127.0.0.1:5432/test"
            };
            println!("skipped: {var} not set (set it to e.g. {example} to run this test)");
            None
        }
    }
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn gbk_company() -> Vec<u8> {
    (0..NAME_GBK_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&NAME_GBK_HEX[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn gbk_fixture_is_the_company_name() {
    let (bytes, _, _) = encoding_rs::GBK.encode(COMPANY);
    assert_eq!(bytes.as_ref(), gbk_company().as_slice());
}

#[test]
fn config_parses_from_toml_with_defaults_and_rejects_unknown_keys() {
    let doc: toml::Table = toml::from_str(
        r#"
        [sql]
        url_env = "YINGBAO_QZK_URL"
        query = "SELECT 1"
        encoding = "gb18030"
        "#,
    )
    .unwrap();
    let spec: SqlSource = doc["sql"].clone().try_into().unwrap();
    assert_eq!(spec.encoding, TextEncoding::Gbk);
    assert_eq!(spec.timeout_secs, 60);
    assert_eq!(spec.cursor_column, None);
    let bad: Result<SqlSource, _> = toml::from_str("url_env='X'\nquery='SELECT 1'\nurl='oops'");
    assert!(bad.unwrap_err().to_string().contains("unknown field"));
    let bad: Result<SqlSource, _> =
        toml::from_str("url_env='X'\nquery='SELECT 1'\nencoding='big5'");
    assert!(bad.is_err());
}

#[tokio::test]
async fn missing_env_var_is_named() {
    let err = fetch(&spec("SELECT 1"), &|_: &str| None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SqlError::MissingEnv { var } if var == URL_VAR),
        "{err}"
    );
    assert!(err.to_string().contains(URL_VAR));
}

// ------------------------------------------------------------------------- SQLite

struct SqliteDb {
    _dir: tempfile::TempDir,
    url: String,
}

async fn sqlite_db(setup: &[&str]) -> SqliteDb {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qzk.db");
    let url = format!("sqlite://{}", path.display());
    let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().unwrap();
    let mut conn = sqlx::SqliteConnection::connect_with(&opts.create_if_missing(true))
        .await
        .unwrap();
    for stmt in setup {
        sqlx::raw_sql(stmt).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();
    SqliteDb { _dir: dir, url }
}

const SQLITE_SETUP: &str = "
CREATE TABLE zzjg (
  id INTEGER PRIMARY KEY, dwmc TEXT, amount DECIMAL(12,2), amount_txt TEXT, jlrq DATE,
  updated_at DATETIME, rs INTEGER, note TEXT, active BOOLEAN, raw BLOB);
INSERT INTO zzjg VALUES
  (2,  '福建省南安市卫生健康局', 12.50, '12.50', '2025-03-01', '2025-03-01 08:30:00', 37, NULL, 1, X'C4CFB0B2'),
  (10, '南安市医院',           0.05,  '0.05',  '2025-03-02', '2025-03-02 09:00:00', 120, '备注', 0, NULL),
  (7,  '南安市华兴陶瓷有限公司', 100,   '100.00', NULL,        '2025-02-28 23:59:59', 0,  NULL, NULL, NULL);
";

#[tokio::test]
async fn sqlite_values_as_text() {
    let db = sqlite_db(&[SQLITE_SETUP]).await;
    let env = env_with(&db.url);
    let q = "SELECT id, dwmc, amount, printf('%.2f', amount) AS amount2, amount_txt, jlrq, \
             updated_at, rs, note, active FROM zzjg ORDER BY id";
    let out = fetch(&spec(q), &env, None).await.unwrap();
    assert_eq!(
        out.headers,
        [
            "id",
            "dwmc",
            "amount",
            "amount2",
            "amount_txt",
            "jlrq",
            "updated_at",
            "rs",
            "note",
            "active"
        ]
    );
    assert_eq!(
        out.rows[0],
        vec![
            s("2"),
            s("福建省南安市卫生健康局"),
            // SQLite has no exact DECIMAL: 12.50 is stored as the REAL 12.5.
            s("12.5"),
            s("12.50"),
            s("12.50"),
            s("2025-03-01"),
            s("2025-03-01 08:30:00"),
            s("37"),
            None,
            s("true"),
        ]
    );
    // rows are ordered by id: 2, 7, 10
    assert_eq!(out.rows[2][2], s("0.05"));
    assert_eq!(out.rows[2][9], s("false"));
    assert_eq!(out.rows[1][2], s("100")); // NUMERIC affinity stores 100 as INTEGER
    assert_eq!(out.rows[1][5], None);
    assert_eq!(out.rows[1][9], None);
    assert_eq!(out.max_cursor, None);

    let p = preview(&spec(q), &env, 2).await.unwrap();
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.headers, out.headers);
}

#[tokio::test]
async fn sqlite_gbk_blob_and_text() {
    let db = sqlite_db(&[SQLITE_SETUP]).await;
    let env = env_with(&db.url);
    let q = format!(
        "SELECT X'{NAME_GBK_HEX}' AS blob_gbk, CAST(X'{NAME_GBK_HEX}' AS TEXT) AS text_gbk, dwmc \
         FROM zzjg WHERE id = 2"
    );
    let mut sp = spec(&q);
    sp.encoding = TextEncoding::Gbk;
    let out = fetch(&sp, &env, None).await.unwrap();
    assert_eq!(
        out.rows,
        vec![vec![s(COMPANY), s(COMPANY), s("福建省南安市卫生健康局")]]
    );
    // With utf-8 the GBK blob is an error naming the column, not silent mojibake.
    let err = fetch(&spec(&q), &env, None).await.unwrap_err();
    assert!(
        matches!(&err, SqlError::Decode { column, .. } if column == "blob_gbk"),
        "{err}"
    );
}

#[tokio::test]
async fn sqlite_since_and_max_cursor() {
    let db = sqlite_db(&[SQLITE_SETUP]).await;
    let env = env_with(&db.url);
    let mut sp = spec("SELECT id, dwmc, updated_at FROM zzjg ORDER BY id;");
    sp.cursor_column = Some("updated_at".into());
    let all = fetch(&sp, &env, None).await.unwrap();
    assert_eq!(all.rows.len(), 3);
    assert_eq!(all.max_cursor, s("2025-03-02 09:00:00"));
    let newer = fetch(&sp, &env, Some("2025-03-01 00:00:00")).await.unwrap();
    assert_eq!(
        newer.rows,
        vec![
            vec![
                s("2"),
                s("福建省南安市卫生健康局"),
                s("2025-03-01 08:30:00")
            ],
            vec![s("10"), s("南安市医院"), s("2025-03-02 09:00:00")],
        ]
    );
    assert_eq!(newer.max_cursor, s("2025-03-02 09:00:00"));
    let none = fetch(&sp, &env, Some("2025-03-02 09:00:00")).await.unwrap();
    assert!(none.rows.is_empty());
    assert_eq!(none.headers, ["id", "dwmc", "updated_at"]);
    assert_eq!(none.max_cursor, None);

    // Integer cursor: compared as a number (10 > 9), not as text ("10" < "9").
    sp.cursor_column = Some("id".into());
    let by_id = fetch(&sp, &env, Some("7")).await.unwrap();
    assert_eq!(by_id.rows.len(), 1);
    assert_eq!(by_id.max_cursor, s("10"));
    let all = fetch(&sp, &env, None).await.unwrap();
    assert_eq!(all.max_cursor, s("10"));

    sp.cursor_column = Some("nope".into());
    let err = fetch(&sp, &env, Some("1")).await.unwrap_err();
    assert!(matches!(err, SqlError::CursorColumnMissing { .. }), "{err}");
}

#[tokio::test]
async fn sqlite_refuses_delete_and_stays_read_only() {
    let db = sqlite_db(&[SQLITE_SETUP]).await;
    let env = env_with(&db.url);
    for q in ["DELETE FROM zzjg", "SELECT 1; DELETE FROM zzjg"] {
        let err = fetch(&spec(q), &env, None).await.unwrap_err();
        assert!(matches!(err, SqlError::NotSelect { .. }), "{err}");
    }
    let n = fetch(&spec("SELECT COUNT(*) AS n FROM zzjg"), &env, None)
        .await
        .unwrap();
    assert_eq!(n.rows, vec![vec![s("3")]]);
}

#[tokio::test]
async fn sqlite_missing_file_is_connect_error() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("absent.db").display());
    let err = fetch(&spec("SELECT 1"), &env_with(&url), None)
        .await
        .unwrap_err();
    assert!(matches!(err, SqlError::Connect { .. }), "{err}");
    assert!(
        !dir.path().join("absent.db").exists(),
        "must not create the file"
    );
}

// ------------------------------------------------------------------------- PostgreSQL

const PG_VAR: &str = "YINGBAO_TEST_POSTGRES_URL";

async fn pg_exec(url: &str, sql: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// Creates a uniquely named table, dropped again when the test ends (also on panic).
struct Dropper {
    url: String,
    drop_sql: String,
    mysql: bool,
}

impl Drop for Dropper {
    fn drop(&mut self) {
        let (url, sql, mysql) = (self.url.clone(), self.drop_sql.clone(), self.mysql);
        // A fresh runtime on a plain thread: Drop may run inside the test's runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if mysql {
                    if let Ok(mut c) = sqlx::MySqlConnection::connect(&url).await {
                        let _ = sqlx::raw_sql(&sql).execute(&mut c).await;
                    }
                } else if let Ok(mut c) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::raw_sql(&sql).execute(&mut c).await;
                }
            })
        })
        .join();
    }
}

async fn pg_table(url: &str) -> (String, Dropper) {
    let t = unique("pg");
    pg_exec(
        url,
        &format!(
            "CREATE TABLE {t} (
               id INT PRIMARY KEY, dwmc TEXT, amount NUMERIC(12,2), jlrq DATE,
               updated_at TIMESTAMP, rs INTEGER, note TEXT, active BOOLEAN, raw BYTEA,
               big BIGINT, ratio DOUBLE PRECISION);
             INSERT INTO {t} VALUES
               (2, '福建省南安市卫生健康局', 12.50, '2025-03-01', '2025-03-01 08:30:00', 37, NULL, true,
                '\\x{NAME_GBK_HEX}', 9007199254740993, 0.1),
               (10, '南安市医院', -0.05, '2025-03-02', '2025-03-02 09:00:00.25', 120, '备注', false,
                NULL, NULL, NULL),
               (7, '南安市华兴陶瓷有限公司', 100, NULL, '2025-02-28 23:59:59', 0, NULL, NULL,
                NULL, NULL, NULL);"
        ),
    )
    .await;
    let dropper = Dropper {
        url: url.to_string(),
        drop_sql: format!("DROP TABLE IF EXISTS {t}"),
        mysql: false,
    };
    (t, dropper)
}

#[tokio::test]
async fn postgres_values_as_text() {
    let Some(url) = test_url(PG_VAR) else { return };
    let (t, _drop) = pg_table(&url).await;
    let env = env_with(&url);
    let q = format!(
        "SELECT id, dwmc, amount, jlrq, updated_at, rs, note, active, big, ratio, \
         CAST(updated_at AS TIME) AS hhmm, CAST('2025-03-01 08:30:00+08' AS TIMESTAMPTZ) AS tz, \
         CAST(12345678.9 AS NUMERIC(20,4)) AS wide, CAST(0.000012 AS NUMERIC) AS tiny \
         FROM {t} ORDER BY id"
    );
    let out = fetch(&spec(&q), &env, None).await.unwrap();
    assert_eq!(
        out.rows[0],
        vec![
            s("2"),
            s("福建省南安市卫生健康局"),
            s("12.50"),
            s("2025-03-01"),
            s("2025-03-01 08:30:00"),
            s("37"),
            None,
            s("true"),
            s("9007199254740993"),
            s("0.1"),
            s("08:30:00"),
            s("2025-03-01 00:30:00+00:00"),
            s("12345678.9000"),
            s("0.000012"),
        ]
    );
    // rows are ordered by id: 2, 7, 10
    assert_eq!(out.rows[2][2], s("-0.05"));
    assert_eq!(out.rows[2][4], s("2025-03-02 09:00:00.25"));
    assert_eq!(out.rows[2][7], s("false"));
    assert_eq!(out.rows[1][2], s("100.00"));
    assert_eq!(out.rows[1][3], None);

    // bytea holding GBK bytes, decoded with encoding = "gbk".
    let mut sp = spec(&format!("SELECT raw, dwmc FROM {t} WHERE id = 2"));
    sp.encoding = TextEncoding::Gbk;
    let out = fetch(&sp, &env, None).await.unwrap();
    assert_eq!(
        out.rows,
        vec![vec![s(COMPANY), s("福建省南安市卫生健康局")]]
    );

    // A type with no text form is an error naming column and type.
    let err = fetch(&spec("SELECT ARRAY[1,2] AS arr"), &env, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SqlError::Decode { column, type_name, .. } if column == "arr" && type_name == "INT4[]"),
        "{err}"
    );

    let p = preview(
        &spec(&format!("SELECT id, dwmc FROM {t} ORDER BY id")),
        &env,
        1,
    )
    .await
    .unwrap();
    assert_eq!(p.headers, ["id", "dwmc"]);
    assert_eq!(p.rows, vec![vec![s("2"), s("福建省南安市卫生健康局")]]);
}

#[tokio::test]
async fn postgres_since_and_max_cursor() {
    let Some(url) = test_url(PG_VAR) else { return };
    let (t, _drop) = pg_table(&url).await;
    let env = env_with(&url);
    let mut sp = spec(&format!(
        "SELECT id, updated_at, amount FROM {t} ORDER BY id"
    ));
    sp.cursor_column = Some("updated_at".into());
    let all = fetch(&sp, &env, None).await.unwrap();
    assert_eq!(all.rows.len(), 3);
    assert_eq!(all.max_cursor, s("2025-03-02 09:00:00.25"));
    let newer = fetch(&sp, &env, Some("2025-03-01 08:30:00")).await.unwrap();
    assert_eq!(
        newer.rows,
        vec![vec![s("10"), s("2025-03-02 09:00:00.25"), s("-0.05")]]
    );
    // max_cursor fed back in as since: nothing new.
    let again = fetch(&sp, &env, newer.max_cursor.as_deref()).await.unwrap();
    assert!(again.rows.is_empty(), "{:?}", again.rows);

    sp.cursor_column = Some("id".into());
    let by_id = fetch(&sp, &env, Some("7")).await.unwrap();
    assert_eq!(by_id.rows.len(), 1);
    assert_eq!(by_id.max_cursor, s("10"));
    sp.cursor_column = Some("amount".into());
    let by_amount = fetch(&sp, &env, Some("12.4")).await.unwrap();
    assert_eq!(by_amount.rows.len(), 2);
    assert_eq!(by_amount.max_cursor, s("100.00"));
}

#[tokio::test]
async fn postgres_refuses_writes() {
    let Some(url) = test_url(PG_VAR) else { return };
    let (t, _drop) = pg_table(&url).await;
    let env = env_with(&url);
    let err = fetch(&spec(&format!("DELETE FROM {t}")), &env, None)
        .await
        .unwrap_err();
    assert!(matches!(err, SqlError::NotSelect { .. }), "{err}");
    // Passes the text check, but the READ ONLY transaction stops it.
    let sneaky = format!("WITH d AS (DELETE FROM {t} RETURNING id) SELECT * FROM d");
    let err = fetch(&spec(&sneaky), &env, None).await.unwrap_err();
    assert!(
        matches!(&err, SqlError::Query { message, .. } if message.contains("read-only")),
        "{err}"
    );
    let n = fetch(&spec(&format!("SELECT COUNT(*) AS n FROM {t}")), &env, None)
        .await
        .unwrap();
    assert_eq!(n.rows, vec![vec![s("3")]]);
}

#[tokio::test]
async fn postgres_bad_database_hides_password_and_timeout() {
    let Some(url) = test_url(PG_VAR) else { return };
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap().to_string();
    let with_pw = base.replacen("://postgres@", "://postgres:Sup3rSecretPw@", 1);
    assert!(
        with_pw.contains("Sup3rSecretPw"),
        "unexpected test URL shape: {url}"
    );
    let bad = format!("{with_pw}/yb_no_such_database");
    let err = fetch(&spec("SELECT 1"), &env_with(&bad), None)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SqlError::Connect { .. }), "{msg}");
    assert!(!msg.contains("Sup3rSecretPw"), "{msg}");
    assert!(msg.contains("postgres:***@"), "{msg}");
    assert!(format!("{err:?}").find("Sup3rSecretPw").is_none());

    let mut sp = spec("SELECT pg_sleep(10)");
    sp.timeout_secs = 1;
    let started = std::time::Instant::now();
    let err = fetch(&sp, &env_with(&url), None).await.unwrap_err();
    assert!(matches!(err, SqlError::Timeout { secs: 1, .. }), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

// ------------------------------------------------------------------------- MySQL / MariaDB

const MY_VAR: &str = "YINGBAO_TEST_MYSQL_URL";

async fn my_exec(url: &str, sql: &str) {
    let mut conn = sqlx::MySqlConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

async fn my_table(url: &str) -> (String, Dropper) {
    let t = unique("my");
    my_exec(
        url,
        &format!(
            "CREATE TABLE {t} (
               id INT PRIMARY KEY, dwmc VARCHAR(100) CHARACTER SET utf8mb4, amount DECIMAL(12,2),
               jlrq DATE, updated_at DATETIME, rs INT, note VARCHAR(20), active BOOLEAN,
               legacy VARCHAR(100) CHARACTER SET latin1, raw VARBINARY(100), big BIGINT UNSIGNED,
               code VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, ratio DOUBLE,
               t TIME, y YEAR) DEFAULT CHARSET=utf8mb4;
             INSERT INTO {t} VALUES
               (2, '福建省南安市卫生健康局', 12.50, '2025-03-01', '2025-03-01 08:30:00', 37, NULL, TRUE,
                X'{NAME_GBK_HEX}', X'{NAME_GBK_HEX}', 18446744073709551615, '编码A', 0.1,
                '08:30:00', 2025),
               (10, '南安市医院', -0.05, '2025-03-02', '2025-03-02 09:00:00', 120, '备注', FALSE,
                'plain', NULL, NULL, NULL, NULL, NULL, NULL),
               (7, '南安市华兴陶瓷有限公司', 100, NULL, '2025-02-28 23:59:59', 0, NULL, NULL,
                NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
        ),
    )
    .await;
    let dropper = Dropper {
        url: url.to_string(),
        drop_sql: format!("DROP TABLE IF EXISTS {t}"),
        mysql: true,
    };
    (t, dropper)
}

#[tokio::test]
async fn mysql_values_as_text() {
    let Some(url) = test_url(MY_VAR) else { return };
    let (t, _drop) = my_table(&url).await;
    let env = env_with(&url);
    let q = format!(
        "SELECT id, dwmc, amount, jlrq, updated_at, rs, note, active, big, code, ratio, t, y \
         FROM {t} ORDER BY id"
    );
    let out = fetch(&spec(&q), &env, None).await.unwrap();
    assert_eq!(
        out.headers,
        [
            "id",
            "dwmc",
            "amount",
            "jlrq",
            "updated_at",
            "rs",
            "note",
            "active",
            "big",
            "code",
            "ratio",
            "t",
            "y"
        ]
    );
    assert_eq!(
        out.rows[0],
        vec![
            s("2"),
            s("福建省南安市卫生健康局"),
            s("12.50"),
            s("2025-03-01"),
            s("2025-03-01 08:30:00"),
            s("37"),
            None,
            s("true"),
            s("18446744073709551615"),
            s("编码A"),
            s("0.1"),
            s("08:30:00"),
            s("2025"),
        ]
    );
    // rows are ordered by id: 2, 7, 10
    assert_eq!(out.rows[2][2], s("-0.05"));
    assert_eq!(out.rows[2][6], s("备注"));
    assert_eq!(out.rows[2][7], s("false"));
    assert_eq!(out.rows[1][2], s("100.00"));
    assert_eq!(out.rows[1][3], None);
    assert_eq!(out.rows[1][7], None);

    let p = preview(&spec(&q), &env, 2).await.unwrap();
    assert_eq!(p.rows.len(), 2);
    assert_eq!(p.rows[0], out.rows[0]);
}

#[tokio::test]
async fn mysql_gbk_in_latin1_and_varbinary() {
    let Some(url) = test_url(MY_VAR) else { return };
    let (t, _drop) = my_table(&url).await;
    let env = env_with(&url);
    let q = format!(
        "SELECT legacy, CAST(legacy AS BINARY) AS legacy_bin, raw, dwmc, code, X'C5AE' AS xb \
         FROM {t} WHERE id = 2"
    );
    let mut sp = spec(&q);
    sp.encoding = TextEncoding::Gbk;
    let out = fetch(&sp, &env, None).await.unwrap();
    assert_eq!(
        out.rows,
        vec![vec![
            s(COMPANY),
            s(COMPANY),
            s(COMPANY),
            s("福建省南安市卫生健康局"),
            // utf8mb4_bin: MariaDB flags it binary like VARBINARY; valid CJK UTF-8 is kept.
            s("编码A"),
            // GBK 女 (C5 AE) is also valid UTF-8 ("Ů"); not CJK, so decoded as GBK.
            s("女"),
        ]]
    );
    // Every GBK lead byte with trail bytes that include the 0x80..0x9F range (where latin1
    // and windows-1252 differ): the latin1 round trip through the server must be exact.
    let mut bytes = Vec::new();
    for lead in 0x81u8..=0xFE {
        for trail in [
            0x40u8, 0x7E, 0x80, 0x81, 0x8D, 0x8F, 0x90, 0x9D, 0x9F, 0xA1, 0xFE,
        ] {
            bytes.extend_from_slice(&[lead, trail]);
        }
    }
    let expected = encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(&bytes)
        .unwrap()
        .into_owned();
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    my_exec(
        &url,
        &format!(
            "ALTER TABLE {t} MODIFY legacy TEXT CHARACTER SET latin1; \
                  UPDATE {t} SET legacy = X'{hex}' WHERE id = 7"
        ),
    )
    .await;
    sp.query = format!("SELECT legacy, CAST(legacy AS BINARY) AS b FROM {t} WHERE id = 7");
    let out = fetch(&sp, &env, None).await.unwrap();
    assert_eq!(
        out.rows[0][1].as_deref(),
        Some(expected.as_str()),
        "CAST AS BINARY"
    );
    assert_eq!(
        out.rows[0][0].as_deref(),
        Some(expected.as_str()),
        "latin1 repair"
    );

    // ASCII in a latin1 column is untouched in gbk mode.
    sp.query = format!("SELECT legacy FROM {t} WHERE id = 10");
    let out = fetch(&sp, &env, None).await.unwrap();
    assert_eq!(out.rows, vec![vec![s("plain")]]);

    // Under utf-8 the raw GBK bytes are refused (naming the column), not garbled.
    sp.encoding = TextEncoding::Utf8;
    sp.query = format!("SELECT raw FROM {t} WHERE id = 2");
    let err = fetch(&sp, &env, None).await.unwrap_err();
    assert!(
        matches!(&err, SqlError::Decode { column, .. } if column == "raw"),
        "{err}"
    );
}

#[tokio::test]
async fn mysql_since_and_max_cursor() {
    let Some(url) = test_url(MY_VAR) else { return };
    let (t, _drop) = my_table(&url).await;
    let env = env_with(&url);
    let mut sp = spec(&format!("SELECT id, dwmc, updated_at FROM {t} ORDER BY id"));
    sp.cursor_column = Some("updated_at".into());
    let all = fetch(&sp, &env, None).await.unwrap();
    assert_eq!(all.rows.len(), 3);
    assert_eq!(all.max_cursor, s("2025-03-02 09:00:00"));
    let newer = fetch(&sp, &env, Some("2025-03-01 00:00:00")).await.unwrap();
    assert_eq!(
        newer.rows,
        vec![
            vec![
                s("2"),
                s("福建省南安市卫生健康局"),
                s("2025-03-01 08:30:00")
            ],
            vec![s("10"), s("南安市医院"), s("2025-03-02 09:00:00")],
        ]
    );
    let again = fetch(&sp, &env, newer.max_cursor.as_deref()).await.unwrap();
    assert!(again.rows.is_empty());

    sp.cursor_column = Some("id".into());
    let by_id = fetch(&sp, &env, Some("7")).await.unwrap();
    assert_eq!(by_id.rows.len(), 1);
    assert_eq!(by_id.max_cursor, s("10"));
}

#[tokio::test]
async fn mysql_refuses_writes_and_hides_password() {
    let Some(url) = test_url(MY_VAR) else { return };
    let (t, _drop) = my_table(&url).await;
    let env = env_with(&url);
    let err = fetch(&spec(&format!("DELETE FROM {t}")), &env, None)
        .await
        .unwrap_err();
    assert!(matches!(err, SqlError::NotSelect { .. }), "{err}");
    let n = fetch(&spec(&format!("SELECT COUNT(*) AS n FROM {t}")), &env, None)
        .await
        .unwrap();
    assert_eq!(n.rows, vec![vec![s("3")]]);
    // The query runs inside the (read-only) transaction this module opened.
    let tx = fetch(&spec("SELECT @@in_transaction AS t"), &env, None)
        .await
        .unwrap();
    assert_eq!(tx.rows, vec![vec![s("1")]]);

    let (scheme, rest) = url.split_once("://").unwrap();
    let rest = rest.split_once('@').map(|(_, r)| r).unwrap();
    let bad = format!("{scheme}://root:Sup3rSecretPw@{rest}");
    let err = fetch(&spec("SELECT 1"), &env_with(&bad), None)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SqlError::Connect { .. }), "{msg}");
    assert!(!msg.contains("Sup3rSecretPw"), "{msg}");
    assert!(msg.contains("root:***@"), "{msg}");
    println!("wrong-password error as shown: {msg}");
}
