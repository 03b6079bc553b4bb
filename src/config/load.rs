//! Loads `config/yingbao.toml`, every `connectors/*.toml` and the tables they name, and checks
//! them all: the result is a ready `Config` or the complete list of problems.

use std::path::{Path, PathBuf};

use chrono_tz::Tz;

use super::settings::Settings;
use super::spanned::{load_typed, Seg, SpannedDoc};
use crate::domain::problem::{did_you_mean, Problem};
use crate::ingest::spec::{ConnectorSpec, CANONICAL_FIELDS};
use crate::place::Gazetteer;
use crate::screen::catalogue::{RiskCatalogue, RiskClass};

/// A configuration that passed every check.
#[derive(Debug, Clone)]
pub struct Config {
    /// The project root: relative paths in config files start here.
    pub root: PathBuf,
    pub config_file: PathBuf,
    pub settings: Settings,
    pub connectors: Vec<ConnectorSpec>,
    pub catalogue: RiskCatalogue,
    pub gazetteer: Gazetteer,
    /// The daemon's jobs with their schedules, parsed once here.
    pub jobs: Vec<super::schedules::JobSchedule>,
    /// The delivery channels, parsed once here.
    pub channels: crate::deliver::outbox::Channels,
}

impl Config {
    /// A path from a config file, made absolute against the project root.
    pub fn path(&self, p: &Path) -> PathBuf {
        resolve(&self.root, p)
    }

    /// The database URL: the environment variable named by `database.url_env` if set, else
    /// `database.url`; relative SQLite paths are made absolute against the project root.
    pub fn database_url(&self) -> String {
        let url = std::env::var(&self.settings.database.url_env)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| self.settings.database.url.clone());
        match url.strip_prefix("sqlite://") {
            Some(rest) if !rest.starts_with('/') && !rest.starts_with(':') => {
                format!("sqlite://{}", self.root.join(rest).display())
            }
            _ => url,
        }
    }

    /// Things that are not wrong in the configuration but will make a run fall back: a feed's
    /// file or folder that is missing now (a share not mounted, an export not yet dropped).
    /// A run treats such a feed as failed and uses its last good snapshot.
    pub fn warnings(&self) -> Vec<Problem> {
        self.connectors
            .iter()
            .filter(|c| c.enabled)
            .filter(|c| !c.file.is_unset() && !self.path(&c.file.path).exists())
            .map(|c| {
                Problem::new(self.root.join("connectors").join(format!("{}.toml", c.id)), format!("`{}` does not exist now", self.path(&c.file.path).display()))
                    .key("file.path")
                    .hint("a run will use this feed's last good snapshot; relative paths start at the project root")
            })
            .collect()
    }

    /// Today's date in the county's time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.timezone())
            .date_naive()
    }

    pub fn timezone(&self) -> Tz {
        self.settings
            .county
            .timezone
            .parse()
            .unwrap_or(chrono_tz::Asia::Shanghai)
    }
}

fn resolve(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// The project root for a config file at `<root>/config/yingbao.toml`.
pub fn root_of(config_file: &Path) -> PathBuf {
    let abs = std::fs::canonicalize(config_file).unwrap_or_else(|_| config_file.to_path_buf());
    match abs.parent() {
        Some(dir) if dir.file_name().is_some_and(|n| n == "config") => {
            dir.parent().map(Path::to_path_buf).unwrap_or_default()
        }
        Some(dir) => dir.to_path_buf(),
        None => PathBuf::from("."),
    }
}

/// Loads and checks everything; returns every problem found, not just the first.
pub fn load(config_file: &Path) -> Result<Config, Vec<Problem>> {
    let root = root_of(config_file);
    let mut problems = Vec::new();
    let text = std::fs::read_to_string(config_file).map_err(|e| {
        vec![
            Problem::new(config_file, format!("cannot read the configuration: {e}"))
                .hint("run from the project root, or pass --config <path to yingbao.toml>"),
        ]
    })?;
    let loaded = load_typed::<Settings>(config_file, &text);
    let structural = loaded.problems;
    let settings = loaded.value;
    if let (Some(s), Some(doc)) = (&settings, &loaded.doc) {
        let mut semantic = Vec::new();
        check_settings(config_file, doc, s, &mut semantic);
        super::check_delivery::check(config_file, doc, s, &mut semantic);
        problems.extend(not_already_reported(semantic, &structural));
    }
    problems.extend(structural);

    let connectors = load_connectors(&root, &mut problems);

    let (catalogue, gazetteer) = match &settings {
        Some(s) => {
            let catalogue = RiskCatalogue::load(&resolve(&root, &s.policy.risk_catalogue))
                .map_err(|ps| problems.extend(ps))
                .ok();
            let aliases = s.county.aliases.as_ref().map(|a| resolve(&root, a));
            let gazetteer = Gazetteer::load(
                &s.county.code,
                &resolve(&root, &s.county.townships),
                &resolve(&root, &s.county.villages),
                aliases.as_deref(),
            )
            .map_err(|ps| problems.extend(ps))
            .ok();
            let gazetteer = with_counties(
                gazetteer,
                config_file,
                &root,
                s,
                loaded.doc.as_ref(),
                &mut problems,
            );
            if let (Some(g), Some(doc)) = (&gazetteer, &loaded.doc) {
                super::check_delivery::check_townships(config_file, doc, s, g, &mut problems);
            }
            (catalogue, gazetteer)
        }
        None => (None, None),
    };

    // Every line was checked above, where its file and line are known; this only keeps them.
    let jobs = settings
        .as_ref()
        .filter(|_| problems.is_empty())
        .and_then(|s| {
            let tz = crate::domain::schedule::parse_tz(&s.county.timezone)
                .unwrap_or(crate::domain::schedule::DEFAULT_TZ);
            super::schedules::jobs(s, &connectors, tz)
                .map_err(|e| problems.push(Problem::new(config_file, e.to_string())))
                .ok()
        });
    problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    match (settings, catalogue, gazetteer, jobs) {
        (Some(settings), Some(catalogue), Some(gazetteer), Some(jobs)) if problems.is_empty() => {
            Ok(Config {
                channels: crate::deliver::outbox::Channels::new(&settings.delivery, &root),
                root,
                config_file: config_file.to_path_buf(),
                settings,
                connectors,
                catalogue,
                gazetteer,
                jobs,
            })
        }
        _ => Err(problems),
    }
}

/// Adds the other counties of China (`[county] counties`) to the gazetteer; unset = none. The
/// table is checked even when the gazetteer had problems, so all are reported at once.
fn with_counties(
    g: Option<Gazetteer>,
    config_file: &Path,
    root: &Path,
    s: &Settings,
    doc: Option<&SpannedDoc>,
    problems: &mut Vec<Problem>,
) -> Option<Gazetteer> {
    let mut local_words = s.county.region_words.clone();
    let Some(path) = &s.county.counties else {
        return g.map(|g| g.with_counties(&s.county.name, local_words, Vec::new()));
    };
    let path = resolve(root, path);
    if !path.is_file() {
        problems.push(
            Problem::new(
                config_file,
                format!("the counties table {} does not exist", path.display()),
            )
            .at(doc.and_then(|d| d.line(&key(&["county", "counties"]))))
            .key("county.counties")
            .hint("write it with `yingbao gazetteer import --from <china-division folder> --county <code>`, or remove the line (other counties are then not recognised)"),
        );
        return None;
    }
    match Gazetteer::load_counties(&s.county.code, &path) {
        Ok((others, own)) => {
            local_words.extend(own.map(|o| o.city_name));
            g.map(|g| g.with_counties(&s.county.name, local_words, others))
        }
        Err(ps) => {
            problems.extend(ps);
            None
        }
    }
}

/// Semantic problems about keys whose value was already reported as malformed are dropped:
/// they were judged on a stand-in value.
fn not_already_reported(semantic: Vec<Problem>, structural: &[Problem]) -> Vec<Problem> {
    semantic
        .into_iter()
        .filter(|p| !structural.iter().any(|s| s.key.is_some() && s.key == p.key))
        .collect()
}

fn key(path: &[&str]) -> Vec<Seg> {
    path.iter().map(|k| Seg::Key(k.to_string())).collect()
}

fn check_settings(file: &Path, doc: &SpannedDoc, s: &Settings, out: &mut Vec<Problem>) {
    let at = |path: &[Seg]| doc.line(path);
    let code = &s.county.code;
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        out.push(
            Problem::new(file, format!("`{code}` is not a county code"))
                .at(at(&key(&["county", "code"])))
                .key("county.code")
                .hint("the 6-digit 统计用区划代码 of the county, e.g. 350583"),
        );
    }
    if s.county.timezone.parse::<Tz>().is_err() {
        out.push(
            Problem::new(file, format!("`{}` is not a time zone", s.county.timezone))
                .at(at(&key(&["county", "timezone"])))
                .key("county.timezone")
                .hint("an IANA name such as Asia/Shanghai or Asia/Urumqi"),
        );
    }
    let url = &s.database.url;
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        out.push(
            Problem::new(
                file,
                format!("`{url}` is not a database URL yingbao can use"),
            )
            .at(at(&key(&["database", "url"])))
            .key("database.url")
            .hint("sqlite://var/yingbao.db or postgres://user@host/db"),
        );
    }
    if has_password(url) {
        out.push(
            Problem::new(file, "the database URL holds a password")
                .at(at(&key(&["database", "url"])))
                .key("database.url")
                .hint(format!(
                    "secrets never go in config files: put the whole URL in the environment variable `{}`",
                    s.database.url_env
                )),
        );
    }
    let tz = crate::domain::schedule::parse_tz(&s.county.timezone)
        .unwrap_or(crate::domain::schedule::DEFAULT_TZ);
    if let Err(e) = crate::domain::schedule::Schedule::parse(&s.daemon.run, tz) {
        out.push(
            Problem::new(file, e.to_string())
                .at(at(&key(&["daemon", "run"])))
                .key("daemon.run")
                .hint("a five-field crontab line, e.g. \"0 3 1 * *\" (03:00 on the 1st of each month)"),
        );
    }
    if s.daemon.listen.parse::<std::net::SocketAddr>().is_err() {
        out.push(
            Problem::new(
                file,
                format!("`{}` is not an address and port", s.daemon.listen),
            )
            .at(at(&key(&["daemon", "listen"])))
            .key("daemon.listen")
            .hint("e.g. \"127.0.0.1:9477\""),
        );
    }
    for (name, share, example) in [
        ("min_ratio", s.snapshot.min_ratio, "0.8"),
        ("max_dropped_share", s.snapshot.max_dropped_share, "0.5"),
        ("max_rejected_share", s.snapshot.max_rejected_share, "0.5"),
    ] {
        if !(share > 0.0 && share <= 1.0) {
            out.push(
                Problem::new(file, format!("{share} is not a share"))
                    .at(at(&key(&["snapshot", name])))
                    .key(format!("snapshot.{name}"))
                    .hint(format!("a number above 0 and at most 1, e.g. {example}")),
            );
        }
    }
    if s.policy.lapse_months == 0 {
        out.push(
            Problem::new(file, "must be at least 1")
                .at(at(&key(&["policy", "lapse_months"])))
                .key("policy.lapse_months")
                .hint("13 under 原安监总局令第48号 (yearly update, late after 13 months)"),
        );
    }
    let testing = &s.policy.testing;
    for (name, months, usual) in [
        ("severe_months", testing.severe_months, 12),
        ("general_months", testing.general_months, 36),
    ] {
        if months == 0 {
            out.push(
                Problem::new(file, "a testing interval must be at least 1 month")
                    .at(at(&key(&["policy", "testing", name])))
                    .key(format!("policy.testing.{name}"))
                    .hint(format!(
                        "{usual} under 工作场所职业卫生管理规定 (严重 yearly, 一般 every three years)"
                    )),
            );
        }
    }
    let mut ids = std::collections::HashSet::new();
    for (i, rule) in s.policy.lead_rules.iter().enumerate() {
        let base = vec![
            Seg::Key("policy".into()),
            Seg::Key("lead_rules".into()),
            Seg::Index(i),
        ];
        let with = |k: &str| {
            let mut p = base.clone();
            p.push(Seg::Key(k.into()));
            p
        };
        if !ids.insert(rule.id.clone()) {
            out.push(
                Problem::new(file, format!("rule id `{}` is used twice", rule.id))
                    .at(at(&with("id")))
                    .key(format!("policy.lead_rules[{i}].id"))
                    .hint("give each rule its own id"),
            );
        }
        for class in &rule.risk_classes {
            if RiskClass::parse(class).is_none() {
                out.push(
                    Problem::new(file, format!("`{class}` is not a risk class"))
                        .at(at(&with("risk_classes")))
                        .key(format!("policy.lead_rules[{i}].risk_classes"))
                        .hint("严重 or 一般"),
                );
            }
        }
        if rule.reason.trim().is_empty() {
            out.push(
                Problem::new(file, "a lead rule needs a reason township staff can read")
                    .at(at(&with("reason")))
                    .key(format!("policy.lead_rules[{i}].reason"))
                    .hint("Chinese text, e.g. 属职业病危害严重行业（{industry}），从业人数{workers}人"),
            );
        }
        for placeholder in placeholders(&rule.reason) {
            if !crate::screen::rules::PLACEHOLDERS.contains(&placeholder.as_str()) {
                out.push(
                    Problem::new(
                        file,
                        format!("unknown placeholder `{{{placeholder}}}` in the reason"),
                    )
                    .at(at(&with("reason")))
                    .key(format!("policy.lead_rules[{i}].reason"))
                    .hint(format!(
                        "placeholders: {}",
                        crate::screen::rules::PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    )),
                );
            }
        }
        if rule.risk_classes.is_empty()
            && rule.min_workers.is_none()
            && rule.evidence_within_months.is_none()
        {
            out.push(
                Problem::new(
                    file,
                    "this rule has no condition and would flag every operating employer",
                )
                .at(at(&base))
                .key(format!("policy.lead_rules[{i}]"))
                .hint("set risk_classes, min_workers or evidence_within_months"),
            );
        }
    }
}

fn placeholders(s: &str) -> Vec<String> {
    s.split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(p, _)| p.to_string()))
        .collect()
}

fn has_password(url: &str) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    authority
        .rsplit_once('@')
        .is_some_and(|(user, _)| user.contains(':'))
}

fn load_connectors(root: &Path, out: &mut Vec<Problem>) -> Vec<ConnectorSpec> {
    let dir = root.join("connectors");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect(),
        Err(e) => {
            out.push(Problem::new(
                &dir,
                format!("cannot read the connectors folder: {e}"),
            ));
            return Vec::new();
        }
    };
    files.sort();
    if files.is_empty() {
        out.push(Problem::new(&dir, "no connector files").hint("one <id>.toml per feed"));
    }
    let mut specs: Vec<ConnectorSpec> = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                out.push(Problem::new(&file, format!("cannot read: {e}")));
                continue;
            }
        };
        let loaded = load_typed::<ConnectorSpec>(&file, &text);
        let structural = loaded.problems;
        let (Some(mut spec), Some(doc)) = (loaded.value, loaded.doc) else {
            out.extend(structural);
            continue;
        };
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        if spec.id.is_empty() {
            spec.id = stem;
        }
        // A CA file is named relative to the project root, like every other path.
        if let Some(ca) = spec.http.as_mut().and_then(|h| h.ca_file.as_mut()) {
            if ca.is_relative() {
                *ca = root.join(&*ca);
            }
            if !ca.exists() {
                out.push(
                    Problem::new(&file, format!("ca_file {} does not exist", ca.display()))
                        .at(doc.line(&key(&["http", "ca_file"])))
                        .key("http.ca_file")
                        .hint("the PEM file of the platform's CA, relative to the project root"),
                );
            }
        }
        if specs.iter().any(|s| s.id == spec.id) {
            out.push(
                Problem::new(
                    &file,
                    format!("connector id `{}` is used by another file", spec.id),
                )
                .at(doc.line(&key(&["id"])))
                .key("id"),
            );
        }
        let mut semantic = Vec::new();
        check_connector(&file, &doc, &spec, &mut semantic);
        out.extend(not_already_reported(semantic, &structural));
        out.extend(structural);
        specs.push(spec);
    }
    specs
}

fn check_connector(file: &Path, doc: &SpannedDoc, spec: &ConnectorSpec, out: &mut Vec<Problem>) {
    if let Some(ratio) = spec.trust.min_ratio.filter(|r| !(*r > 0.0 && *r <= 1.0)) {
        out.push(
            Problem::new(file, format!("{ratio} is not a share"))
                .at(doc.line(&key(&["trust", "min_ratio"])))
                .key("trust.min_ratio")
                .hint("a number above 0 and at most 1, e.g. 0.95 for a feed that must not lose a twentieth"),
        );
    }
    if spec.trust.expected_records == Some(0) {
        out.push(
            Problem::new(file, "0 records cannot be expected")
                .at(doc.line(&key(&["trust", "expected_records"])))
                .key("trust.expected_records")
                .hint("about how many records a whole export of this feed holds, e.g. 500; or leave it out"),
        );
    }
    let fields: Vec<&str> = CANONICAL_FIELDS.iter().map(|(f, _)| *f).collect();
    for (field, cols) in &spec.columns {
        let line = doc.line(&key(&["columns", field]));
        if !fields.contains(&field.as_str()) {
            let hint = match did_you_mean(field, fields.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? fields: {}", fields.join(", ")),
                None => format!("fields: {}", fields.join(", ")),
            };
            out.push(
                Problem::new(file, format!("`{field}` is not a canonical field"))
                    .at(line)
                    .key(format!("columns.{field}"))
                    .hint(hint),
            );
        }
        for header in cols.headers() {
            if spec.personal_columns.iter().any(|p| p == header) {
                out.push(
                    Problem::new(
                        file,
                        format!("`{header}` is listed as personal data and cannot be mapped"),
                    )
                    .at(line)
                    .key(format!("columns.{field}"))
                    .hint("personal columns are never read; map an employer-level column instead"),
                );
            }
        }
    }
    if !spec.columns.contains_key("name") && !spec.columns.contains_key("uscc") {
        out.push(
            Problem::new(
                file,
                "the feed maps neither `name` nor `uscc`: nothing would identify an employer",
            )
            .at(doc.line(&key(&["columns"])))
            .key("columns")
            .hint("map at least the employer name column, e.g. name = \"企业名称\""),
        );
    }
    if let Some(line) = &spec.pull.schedule {
        // The county's zone is checked with the settings; the line's fields are checked here.
        if let Err(e) =
            crate::domain::schedule::Schedule::parse(line, crate::domain::schedule::DEFAULT_TZ)
        {
            out.push(
                Problem::new(file, e.to_string())
                    .at(doc.line(&key(&["pull", "schedule"])))
                    .key("pull.schedule")
                    .hint("a five-field crontab line, e.g. \"30 2 * * *\" (02:30 every day)"),
            );
        }
    }
    let kinds = spec.source_kinds();
    if kinds.len() != 1 {
        out.push(
            Problem::new(
                file,
                if kinds.is_empty() {
                    "the connector says nowhere to read from".to_string()
                } else {
                    format!("the connector names {} sources; it must name one", kinds.len())
                },
            )
            .key("file | http | sql")
            .hint("write exactly one of [file] (path = \"…\"), [http] (url = \"…\") or [sql] (url_env, query)"),
        );
    }
    if let Some(h) = &spec.http {
        if let Err(e) = h.validate() {
            out.push(
                Problem::new(file, e.to_string())
                    .at(doc.line(&key(&["http"])))
                    .key("http"),
            );
        }
    }
    if let Some(q) = &spec.sql {
        if let Err(e) =
            crate::ingest::sql::check_query(&q.query, crate::ingest::sql::DbKind::Postgres)
        {
            out.push(
                Problem::new(file, e.to_string())
                    .at(doc.line(&key(&["sql", "query"])))
                    .key("sql.query")
                    .hint("one SELECT (or WITH … SELECT) statement; yingbao only reads"),
            );
        }
    }
    if let Some(d) = &spec.file.delimiter {
        if d.chars().count() != 1 || !d.is_ascii() {
            out.push(
                Problem::new(file, format!("`{d}` is not a one-character delimiter"))
                    .at(doc.line(&key(&["file", "delimiter"])))
                    .key("file.delimiter")
                    .hint("`,`, `;`, `|` or a tab `\\t`"),
            );
        }
    }
    if let Some(p) = &spec.file.pattern {
        if let Err(e) = crate::ingest::files::glob(p) {
            out.push(
                Problem::new(
                    file,
                    format!("`{p}` is not a file-name pattern: {}", e.kind()),
                )
                .at(doc.line(&key(&["file", "pattern"])))
                .key("file.pattern")
                .hint("`*` for any run of characters, `?` for one, e.g. \"体检*.xlsx\""),
            );
        }
    }
    if spec.file.header_row == 0 {
        out.push(
            Problem::new(file, "rows are counted from 1")
                .at(doc.line(&key(&["file", "header_row"])))
                .key("file.header_row")
                .hint("1 when the headers are on the first row"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_found() {
        assert!(has_password("postgres://u:secret@host/db"));
        assert!(!has_password("postgres://u@host/db"));
        assert!(!has_password("sqlite://var/yingbao.db"));
    }

    #[test]
    fn shipped_configuration_passes() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/yingbao.toml");
        let cfg = load(&file).unwrap_or_else(|ps| {
            panic!(
                "{}",
                ps.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        assert_eq!(cfg.connectors.len(), 6);
        assert_eq!(cfg.gazetteer.townships.len(), 27);
        // Every other county of China; this county's city is a local word.
        assert_eq!(cfg.gazetteer.others.len(), 2977);
        assert!(cfg.gazetteer.others.iter().all(|o| o.code != "350583"));
        assert!(cfg.gazetteer.local_words.iter().any(|w| w == "泉州市"));
    }

    #[test]
    fn a_missing_counties_table_is_a_problem_with_its_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/yingbao.toml");
        let text = std::fs::read_to_string(shipped).expect("read");
        let text = text.replace("config/gazetteer/counties.csv", "config/gazetteer/nope.csv");
        std::fs::create_dir_all(dir.path().join("config")).expect("mkdir");
        let file = dir.path().join("config/yingbao.toml");
        std::fs::write(&file, text).expect("write");
        let Err(problems) = load(&file) else {
            panic!("loaded without the counties table");
        };
        let p = problems
            .iter()
            .find(|p| p.key.as_deref() == Some("county.counties"))
            .expect("a county.counties problem");
        assert_eq!(p.file, file);
        assert!(p.line.is_some());
        assert!(p
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("gazetteer import")));
    }
}
