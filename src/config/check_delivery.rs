//! Checks of the `[flags]`, `[lifecycle]`, `[delivery]` and `[portal]` tables: each problem with its
//! line, key and what would be right, like the rest of `yingbao check`.

use std::collections::HashSet;
use std::path::Path;

use super::lifecycle::EffectKind;
use super::settings::Settings;
use super::spanned::{Seg, SpannedDoc};
use crate::deliver::settings::CHANNEL_KINDS;
use crate::domain::problem::{did_you_mean, Problem};
use crate::place::Gazetteer;
use crate::screen::flag_settings::INDUSTRY_LEVELS;

fn path(keys: &[&str]) -> Vec<Seg> {
    keys.iter().map(|k| Seg::Key(k.to_string())).collect()
}

/// Checks what needs no other file.
pub fn check(file: &Path, doc: &SpannedDoc, s: &Settings, out: &mut Vec<Problem>) {
    let at = |p: &[Seg]| doc.line(p);
    let f = &s.flags;
    if !(f.headcount_mismatch.margin > 0.0 && f.headcount_mismatch.margin < 1.0) {
        out.push(
            Problem::new(
                file,
                format!("{} is not a share", f.headcount_mismatch.margin),
            )
            .at(at(&path(&["flags", "headcount_mismatch", "margin"])))
            .key("flags.headcount_mismatch.margin")
            .hint("a number between 0 and 1, e.g. 0.5 (differ by more than half)"),
        );
    }
    if !INDUSTRY_LEVELS.contains(&f.industry_mismatch.level.as_str()) {
        out.push(
            Problem::new(
                file,
                format!("`{}` is not an industry level", f.industry_mismatch.level),
            )
            .at(at(&path(&["flags", "industry_mismatch", "level"])))
            .key("flags.industry_mismatch.level")
            .hint(hint_among(&f.industry_mismatch.level, &INDUSTRY_LEVELS)),
        );
    }
    for (i, r) in s.lifecycle.rule.iter().enumerate() {
        let seg = |k: &str| {
            vec![
                Seg::Key("lifecycle".into()),
                Seg::Key("rule".into()),
                Seg::Index(i),
                Seg::Key(k.into()),
            ]
        };
        let kinds: Vec<&str> = crate::deliver::DISPOSITIONS
            .iter()
            .map(|(d, _)| *d)
            .collect();
        if !kinds.contains(&r.disposition.as_str()) {
            out.push(
                Problem::new(file, format!("`{}` is not a 核实情况 value", r.disposition))
                    .at(at(&seg("disposition")))
                    .key(format!("lifecycle.rule[{i}].disposition"))
                    .hint(hint_among(&r.disposition, &kinds)),
            );
        }
        if r.effect == EffectKind::Recheck && r.months.is_none_or(|m| m == 0) {
            out.push(
                Problem::new(file, "a recheck needs the months to wait")
                    .at(at(&seg("effect")))
                    .key(format!("lifecycle.rule[{i}].months"))
                    .hint("e.g. months = 2"),
            );
        }
        for f in &r.reopen_on {
            if f.parse::<crate::domain::Feed>().is_err() {
                let feeds: Vec<&str> = crate::domain::Feed::ALL
                    .iter()
                    .map(|f| f.as_str())
                    .collect();
                out.push(
                    Problem::new(file, format!("`{f}` is not a feed"))
                        .at(at(&seg("reopen_on")))
                        .key(format!("lifecycle.rule[{i}].reopen_on"))
                        .hint(hint_among(f, &feeds)),
                );
            }
        }
    }
    let d = &s.delivery;
    let tz = crate::domain::schedule::parse_tz(&s.county.timezone)
        .unwrap_or(crate::domain::schedule::DEFAULT_TZ);
    if let Err(e) = crate::domain::schedule::Schedule::parse(&d.schedule, tz) {
        out.push(
            Problem::new(file, e.to_string())
                .at(at(&path(&["delivery", "schedule"])))
                .key("delivery.schedule")
                .hint("a five-field crontab line, e.g. \"*/10 * * * *\" (every 10 minutes)"),
        );
    }
    let listen = s.portal.listen.trim();
    if !listen.is_empty() && listen.parse::<std::net::SocketAddr>().is_err() {
        out.push(
            Problem::new(file, format!("`{listen}` is not an address and port"))
                .at(at(&path(&["portal", "listen"])))
                .key("portal.listen")
                .hint("e.g. \"127.0.0.1:9480\" (behind an HTTPS proxy), or leave it out"),
        );
    }
    if s.portal.overdue_days == 0 {
        out.push(
            Problem::new(file, "0 days would make every open lead overdue")
                .at(at(&path(&["portal", "overdue_days"])))
                .key("portal.overdue_days")
                .hint("days after first listing, e.g. 30 (the default)"),
        );
    }
    let base = d.xlsx_base_url.trim();
    if !base.is_empty()
        && !url::Url::parse(base).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    {
        out.push(
            Problem::new(file, format!("`{base}` is not an http(s) URL"))
                .at(at(&path(&["delivery", "xlsx_base_url"])))
                .key("delivery.xlsx_base_url")
                .hint("where the output folder is published, e.g. \"http://intranet.example/yingbao\"; leave it out for no link"),
        );
    }
    let kinds: Vec<&str> = crate::screen::LeadKind::ALL.map(|k| k.as_str()).to_vec();
    for k in d.list.unknown_kinds() {
        out.push(
            Problem::new(file, format!("`{k}` is not a lead kind"))
                .at(at(&path(&["delivery", "list", "instructions", k])))
                .key(format!("delivery.list.instructions.{k}"))
                .hint(hint_among(k, &kinds)),
        );
    }
    let mut ids = HashSet::new();
    for (i, c) in d.channel.iter().enumerate() {
        let base = vec![
            Seg::Key("delivery".into()),
            Seg::Key("channel".into()),
            Seg::Index(i),
        ];
        let with = |k: &str| {
            let mut p = base.clone();
            p.push(Seg::Key(k.into()));
            p
        };
        let key = |k: &str| format!("delivery.channel[{i}].{k}");
        if c.id.is_empty()
            || !c
                .id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
        {
            out.push(
                Problem::new(file, format!("`{}` is not a channel id", c.id))
                    .at(at(&with("id")))
                    .key(key("id"))
                    .hint("letters, digits, `_` and `-` only, e.g. wecom_shuitou (it is part of the idempotency key)"),
            );
        }
        if !ids.insert(c.id.clone()) {
            out.push(
                Problem::new(file, format!("channel id `{}` is used twice", c.id))
                    .at(at(&with("id")))
                    .key(key("id"))
                    .hint("give each channel its own id"),
            );
        }
        if !CHANNEL_KINDS.contains(&c.kind.as_str()) {
            out.push(
                Problem::new(file, format!("`{}` is not a channel kind", c.kind))
                    .at(at(&with("kind")))
                    .key(key("kind"))
                    .hint(hint_among(&c.kind, &CHANNEL_KINDS)),
            );
        } else if let Err(e) = crate::deliver::outbox::channel_spec(c, Path::new("")) {
            out.push(
                Problem::new(
                    file,
                    format!("this {} channel's settings are wrong: {}", c.kind, e.trim()),
                )
                .at(at(&base))
                .key(key("kind"))
                .hint(kind_hint(&c.kind)),
            );
        }
        if c.max_attempts == 0 {
            out.push(
                Problem::new(file, "must be at least 1")
                    .at(at(&with("max_attempts")))
                    .key(key("max_attempts"))
                    .hint("e.g. 8"),
            );
        }
        for t in &c.townships {
            let ok = t == "*"
                || t == "county"
                || (t.len() == 9 && t.chars().all(|ch| ch.is_ascii_digit()));
            if !ok {
                out.push(
                    Problem::new(file, format!("`{t}` is not a township code"))
                        .at(at(&with("townships")))
                        .key(key("townships"))
                        .hint("9-digit township codes from the gazetteer, \"*\" for all, or \"county\" for the county list"),
                );
            }
        }
    }
    if !d.operator.is_empty() && !d.channel.iter().any(|c| c.id == d.operator) {
        let ids: Vec<&str> = d.channel.iter().map(|c| c.id.as_str()).collect();
        out.push(
            Problem::new(file, format!("no channel has the id `{}`", d.operator))
                .at(at(&path(&["delivery", "operator"])))
                .key("delivery.operator")
                .hint(hint_among(&d.operator, &ids)),
        );
    }
}

/// Checks that every township a channel names is in the gazetteer.
pub fn check_townships(
    file: &Path,
    doc: &SpannedDoc,
    s: &Settings,
    gazetteer: &Gazetteer,
    out: &mut Vec<Problem>,
) {
    let known: HashSet<&str> = gazetteer
        .townships
        .iter()
        .map(|t| t.code.as_str())
        .collect();
    for (i, c) in s.delivery.channel.iter().enumerate() {
        for t in &c.townships {
            if t.len() == 9
                && t.chars().all(|ch| ch.is_ascii_digit())
                && !known.contains(t.as_str())
            {
                out.push(
                    Problem::new(
                        file,
                        format!("township `{t}` is not in the county's gazetteer"),
                    )
                    .at(doc.line(&[
                        Seg::Key("delivery".into()),
                        Seg::Key("channel".into()),
                        Seg::Index(i),
                        Seg::Key("townships".into()),
                    ]))
                    .key(format!("delivery.channel[{i}].townships"))
                    .hint("see the township codes in county.townships"),
                );
            }
        }
    }
}

fn hint_among(value: &str, options: &[&str]) -> String {
    match did_you_mean(value, options.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? one of: {}", options.join(", ")),
        None => format!("one of: {}", options.join(", ")),
    }
}

fn kind_hint(kind: &str) -> &'static str {
    match kind {
        "folder" => "a folder channel takes: path",
        "webhook" => "a webhook channel takes: url, secret_env (optional), timeout_secs",
        "wecom" => "a wecom channel takes: key_env, url, upload_url, timeout_secs",
        "dingtalk" => "a dingtalk channel takes: token_env, secret_env (optional), url, timeout_secs",
        _ => "an smtp channel takes: host, port, security (starttls, tls or none), username_env, password_env, from, to, timeout_secs",
    }
}
