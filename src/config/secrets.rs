//! Which environment variables the configuration names for its secrets (`*_env` keys of the
//! enabled connectors and of the delivery channels) are not set: found by `yingbao check`.

use std::path::Path;

use super::{Config, Problem};

/// Every `*_env` key of an enabled connector or a delivery channel whose variable is unset or
/// empty in `env`, with the file, line and key that name it. The database's `url_env` is not
/// one: it only overrides `database.url` when set.
pub fn unset_variables(cfg: &Config, env: &dyn Fn(&str) -> Option<String>) -> Vec<Problem> {
    let mut out = Vec::new();
    for c in cfg.connectors.iter().filter(|c| c.enabled) {
        let file = cfg.root.join("connectors").join(format!("{}.toml", c.id));
        if let Ok(value) = serde_json::to_value(c) {
            report(&file, &value, "", env, &mut out);
        }
    }
    for c in &cfg.settings.delivery.channel {
        if let Ok(value) = serde_json::to_value(c) {
            report(
                &cfg.config_file,
                &value,
                &format!("delivery.channel `{}`.", c.id),
                env,
                &mut out,
            );
        }
    }
    out
}

/// Walks `value` for `*_env` keys naming a variable `env` does not have.
fn report(
    file: &Path,
    value: &serde_json::Value,
    prefix: &str,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut Vec<Problem>,
) {
    let serde_json::Value::Object(map) = value else {
        return;
    };
    for (key, v) in map {
        let path = format!("{prefix}{key}");
        match v {
            serde_json::Value::String(var)
                if key.ends_with("_env")
                    && !var.trim().is_empty()
                    && env(var).is_none_or(|x| x.trim().is_empty()) =>
            {
                let line = std::fs::read_to_string(file).ok().and_then(|text| {
                    text.lines()
                        .position(|l| l.contains(&format!("\"{var}\"")))
                        .map(|i| i + 1)
                });
                out.push(
                    Problem::new(file, format!("the environment variable `{var}` is not set"))
                        .at(line)
                        .key(path.clone())
                        .hint(
                            "set it for the service in /etc/yingbao.env (a `NAME=value` line) \
                             and for the shell that runs yingbao; secrets are never written in \
                             configuration files",
                        ),
                );
            }
            serde_json::Value::Object(_) => {
                report(file, v, &format!("{path}."), env, out);
            }
            _ => {}
        }
    }
}
