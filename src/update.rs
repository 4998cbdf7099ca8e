//! The update notice of the `linkpay` CLI: whether a newer linkpay is published, what to tell
//! the person and the agent, and when to ask the npm registry again.
//!
//! No I/O, as everywhere in the core: the host (the CLI, `npm/src/cli/update.ts`) reads the
//! environment and the cache file, asks the registry in a detached process (so no command waits
//! for it) and writes the cache; this module decides from those values and `now`. It follows the
//! reference's framework (incur: one check a day from a cache file, a detached refresh, off with
//! `NO_UPDATE_NOTIFIER` or `CI`) and the reference's `auth status` `update` field.

use serde_json::{Map, Value};

/// The npm package the registry is asked about.
pub const PACKAGE: &str = "linkpay";
/// Where the latest version is asked for unless `LINKPAY_UPDATE_REGISTRY` or
/// `npm_config_registry` names another registry.
pub const DEFAULT_REGISTRY: &str = "https://registry.npmjs.org";
/// A successful check is good for a day…
pub const CHECK_INTERVAL_MS: i64 = 86_400_000;
/// …a refresh that never reported (registry down, slow, garbage) is retried after an hour.
pub const RETRY_INTERVAL_MS: i64 = 3_600_000;
/// What updates a global install (the reference's `update_command`, for linkpay).
pub const UPDATE_COMMAND: &str = "npm install -g linkpay@latest";

/// One dot-separated prerelease identifier: numeric ones rank below alphanumeric ones.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ident {
    Numeric(u64),
    Alpha(String),
}

/// A semantic version (2.0.0): `major.minor.patch[-prerelease][+build]`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Version {
    core: [u64; 3],
    pre: Vec<Ident>,
}

fn number(s: &str) -> Option<u64> {
    let leading_zero = s.len() > 1 && s.starts_with('0');
    if s.is_empty() || leading_zero || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse(text: &str) -> Option<Version> {
    let text = text.trim();
    let text = text.strip_prefix('v').unwrap_or(text);
    let (text, build) = match text.split_once('+') {
        Some((t, b)) => (t, Some(b)),
        None => (text, None),
    };
    let ident_ok =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if let Some(build) = build
        && !build.split('.').all(ident_ok)
    {
        return None;
    }
    let (core, pre) = match text.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (text, None),
    };
    let mut parts = core.split('.');
    let mut out = [0u64; 3];
    for slot in &mut out {
        *slot = number(parts.next()?)?;
    }
    if parts.next().is_some() {
        return None;
    }
    let mut idents = Vec::new();
    if let Some(pre) = pre {
        for id in pre.split('.') {
            if !ident_ok(id) {
                return None;
            }
            idents.push(if id.bytes().all(|b| b.is_ascii_digit()) {
                Ident::Numeric(number(id)?)
            } else {
                Ident::Alpha(id.to_string())
            });
        }
    }
    Some(Version {
        core: out,
        pre: idents,
    })
}

/// Whether `candidate` is a newer semantic version than `current` (SemVer 2.0.0 precedence:
/// a prerelease ranks below its release, build metadata is ignored). Either one not a version:
/// false.
pub fn is_newer(candidate: &str, current: &str) -> bool {
    let (Some(a), Some(b)) = (parse(candidate), parse(current)) else {
        return false;
    };
    if a.core != b.core {
        return a.core > b.core;
    }
    match (a.pre.is_empty(), b.pre.is_empty()) {
        (true, true) => false,
        (true, false) => true,
        (false, true) => false,
        // Identifier by identifier; a longer list wins a tie (Vec's order is exactly that).
        (false, false) => a.pre > b.pre,
    }
}

/// The latest version in a registry answer: a version manifest (`GET /linkpay/latest`:
/// `{version}`) or a packument (`GET /linkpay`: `{"dist-tags": {latest}}`). Anything else, or
/// a version that is not one: none.
pub fn latest_in(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    let latest = value
        .get("dist-tags")
        .and_then(|t| t.get("latest"))
        .or_else(|| value.get("version"))?
        .as_str()?
        .trim();
    parse(latest)?;
    // Short and printable: it is printed to a terminal.
    (latest.len() <= 64).then(|| latest.to_string())
}

fn env_text<'a>(env: &'a Value, key: &str) -> Option<&'a str> {
    env.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Whether the environment turns the notice off: `NO_UPDATE_NOTIFIER` set, `CI` set (and not
/// `false`), or npm's `update-notifier=false` (`npm_config_update_notifier`).
pub fn disabled(env: &Value) -> bool {
    env_text(env, "NO_UPDATE_NOTIFIER").is_some()
        || env_text(env, "CI").is_some_and(|ci| ci != "false")
        || env_text(env, "npm_config_update_notifier") == Some("false")
}

/// The URL the refresh asks: `<registry>/linkpay/latest`, the registry being
/// `LINKPAY_UPDATE_REGISTRY`, else npm's `npm_config_registry`, else registry.npmjs.org.
pub fn registry_url(env: &Value) -> String {
    let registry = env_text(env, "LINKPAY_UPDATE_REGISTRY")
        .or_else(|| env_text(env, "npm_config_registry"))
        .unwrap_or(DEFAULT_REGISTRY);
    [registry.trim_end_matches('/'), "/", PACKAGE, "/latest"].concat()
}

/// The cache record: when the registry was last asked (`checked_at_ms`), when to ask again
/// (`next_check_ms`) and the latest version it named.
fn cache_record(checked_at_ms: i64, next_check_ms: i64, latest: Option<&str>) -> String {
    let mut map = Map::new();
    map.insert("checked_at_ms".into(), checked_at_ms.into());
    map.insert("next_check_ms".into(), next_check_ms.into());
    if let Some(latest) = latest {
        map.insert("latest".into(), latest.into());
    }
    crate::json_text(&Value::Object(map))
}

/// What the registry said, as the cache record to write (good for [`CHECK_INTERVAL_MS`]); an
/// answer without a version (an error page, garbage) is none: the host writes nothing and the
/// retry comes after [`RETRY_INTERVAL_MS`].
pub fn refreshed(body: &str, now_ms: i64) -> Option<String> {
    let latest = latest_in(body)?;
    Some(cache_record(
        now_ms,
        now_ms.saturating_add(CHECK_INTERVAL_MS),
        Some(&latest),
    ))
}

/// The update check of one CLI run (or one MCP `auth_status` call). `input`: `{env` (the
/// variables above, as text), `cache` (the cache file's text, or null), `now_ms`, `notice`
/// (whether a person would see a stderr line: a CLI run on a terminal)`}`. Returns
/// `{update?: {current_version, latest_version, update_command}` (for `auth status`),
/// `notice?` (the one line to print on stderr), `refresh` (start a detached refresh now),
/// `schedule?` (the cache text to write before it: a refresh in flight is not started twice),
/// `registry_url}`. A cache that is not ours (unreadable, from the future) is as none.
pub fn check(input: &Value) -> Value {
    let env = input.get("env").unwrap_or(&Value::Null);
    let now_ms = input.get("now_ms").and_then(Value::as_i64).unwrap_or(0);
    let mut out = Map::new();
    if disabled(env) {
        out.insert("refresh".into(), false.into());
        return Value::Object(out);
    }
    let cache: Option<Value> = input
        .get("cache")
        .and_then(Value::as_str)
        .and_then(|text| serde_json::from_str(text).ok());
    let next_check = cache
        .as_ref()
        .and_then(|c| c.get("next_check_ms"))
        .and_then(Value::as_i64)
        // A record that puts the next check further off than a day is not one we wrote.
        .filter(|&at| at <= now_ms.saturating_add(CHECK_INTERVAL_MS));
    let latest = cache
        .as_ref()
        .and_then(|c| c.get("latest"))
        .and_then(Value::as_str)
        .filter(|v| v.len() <= 64 && parse(v).is_some());
    let current = crate::VERSION;
    if let Some(latest) = latest.filter(|l| is_newer(l, current)) {
        out.insert(
            "update".into(),
            object!({
                "current_version": current,
                "latest_version": latest,
                "update_command": UPDATE_COMMAND,
            }),
        );
        if input.get("notice").and_then(Value::as_bool) == Some(true) {
            out.insert(
                "notice".into(),
                format!(
                    "Update available for {PACKAGE}: {current} -> {latest}. Run: {UPDATE_COMMAND} (or {PACKAGE} --update)"
                )
                .into(),
            );
        }
    }
    let refresh = next_check.is_none_or(|at| now_ms >= at);
    out.insert("refresh".into(), refresh.into());
    if refresh {
        let checked = cache
            .as_ref()
            .and_then(|c| c.get("checked_at_ms"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        out.insert(
            "schedule".into(),
            cache_record(checked, now_ms.saturating_add(RETRY_INTERVAL_MS), latest).into(),
        );
        out.insert("registry_url".into(), registry_url(env).into());
    }
    Value::Object(out)
}

/// `linkpay --update`: the versions and the command that updates a global install (the CLI
/// runs it). `cache` as for [`check`].
pub fn plan(cache: Option<&str>) -> Value {
    let latest = cache
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .and_then(|c| c.get("latest").and_then(Value::as_str).map(str::to_string))
        .filter(|v| parse(v).is_some());
    let mut out = Map::new();
    out.insert("current_version".into(), crate::VERSION.into());
    if let Some(latest) = latest {
        out.insert("latest_version".into(), latest.into());
    }
    out.insert("update_command".into(), UPDATE_COMMAND.into());
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_precedence() {
        // SemVer 2.0.0 §11's example chain, each newer than the one before.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
            "10.0.0",
        ];
        for pair in chain.windows(2) {
            assert!(is_newer(pair[1], pair[0]), "{} > {}", pair[1], pair[0]);
            assert!(!is_newer(pair[0], pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert!(!is_newer("1.0.0", "1.0.0"));
        assert!(
            !is_newer("1.0.0+build.5", "1.0.0"),
            "build metadata is ignored"
        );
        assert!(is_newer("v0.2.0", "0.1.0"));
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.2.3-",
            "1.2.3-a..b",
            "x.y.z",
            "1.2.3-ä",
        ] {
            assert!(!is_newer(bad, "0.0.1"), "{bad:?} is not a version");
            assert!(!is_newer("9.9.9", bad), "{bad:?} is not a version");
        }
    }

    #[test]
    fn the_latest_version_from_either_registry_answer() {
        assert_eq!(
            latest_in(r#"{"name":"linkpay","version":"0.2.0"}"#).as_deref(),
            Some("0.2.0")
        );
        assert_eq!(
            latest_in(r#"{"dist-tags":{"latest":"1.0.0","next":"2.0.0-rc.1"},"version":"0.0.1"}"#)
                .as_deref(),
            Some("1.0.0")
        );
        for garbage in [
            "",
            "<html>",
            "null",
            "[]",
            r#"{"version":7}"#,
            r#"{"version":"latest"}"#,
            r#"{"error":"Not found"}"#,
        ] {
            assert_eq!(latest_in(garbage), None, "{garbage}");
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), Value::from(*v)))
                .collect(),
        )
    }

    #[test]
    fn off_with_no_update_notifier_or_ci() {
        assert!(disabled(&env(&[("NO_UPDATE_NOTIFIER", "1")])));
        assert!(disabled(&env(&[("CI", "true")])));
        assert!(!disabled(&env(&[("CI", "false")])));
        assert!(disabled(&env(&[("npm_config_update_notifier", "false")])));
        assert!(!disabled(&env(&[("NO_UPDATE_NOTIFIER", " ")])));
        let cache = refreshed(r#"{"version":"99.0.0"}"#, 1_000);
        let out = check(
            &object!({"env": env(&[("CI", "1")]), "cache": cache, "now_ms": 2_000, "notice": true}),
        );
        assert_eq!(out, object!({"refresh": false}));
    }

    #[test]
    fn a_cached_newer_version_is_told_and_the_cache_is_refreshed_daily() {
        let cache = refreshed(r#"{"version":"99.0.0"}"#, 1_000).unwrap();
        let at = |now_ms: i64, notice: bool| {
            check(
                &object!({"env": env(&[]), "cache": cache.clone(), "now_ms": now_ms, "notice": notice}),
            )
        };
        let out = at(2_000, true);
        assert_eq!(out["update"]["latest_version"], "99.0.0");
        assert_eq!(out["update"]["current_version"], crate::VERSION);
        assert_eq!(out["update"]["update_command"], UPDATE_COMMAND);
        let notice = out["notice"].as_str().unwrap();
        assert!(
            notice.contains(&format!("{} -> 99.0.0", crate::VERSION)) && !notice.contains('\n')
        );
        assert_eq!(out["refresh"], false);
        assert!(
            at(2_000, false).get("notice").is_none(),
            "no notice where no person sees stderr"
        );
        // A day later: still told, and a refresh starts, recorded as due again in an hour.
        let out = at(1_000 + CHECK_INTERVAL_MS, true);
        assert_eq!(out["refresh"], true);
        assert!(out.get("notice").is_some());
        let scheduled: Value = serde_json::from_str(out["schedule"].as_str().unwrap()).unwrap();
        assert_eq!(
            scheduled["next_check_ms"],
            1_000 + CHECK_INTERVAL_MS + RETRY_INTERVAL_MS
        );
        assert_eq!(scheduled["latest"], "99.0.0");
        assert_eq!(
            out["registry_url"],
            "https://registry.npmjs.org/linkpay/latest"
        );
    }

    #[test]
    fn no_cache_garbage_or_an_older_version_tells_nothing() {
        for cache in [
            Value::Null,
            "garbage".into(),
            r#"{"latest":"0.0.1","next_check_ms":5}"#.into(),
        ] {
            let out =
                check(&object!({"env": env(&[]), "cache": cache, "now_ms": 10, "notice": true}));
            assert!(
                out.get("update").is_none() && out.get("notice").is_none(),
                "{out}"
            );
        }
        // No cache: a refresh, against the registry the environment names.
        let out = check(
            &object!({"env": env(&[("LINKPAY_UPDATE_REGISTRY", "http://127.0.0.1:9/")]), "cache": Value::Null, "now_ms": 10}),
        );
        assert_eq!(out["refresh"], true);
        assert_eq!(out["registry_url"], "http://127.0.0.1:9/linkpay/latest");
        let npm = registry_url(&env(&[("npm_config_registry", "https://npm.example/r")]));
        assert_eq!(npm, "https://npm.example/r/linkpay/latest");
        // A record from the future is not ours: refreshed.
        let forged = cache_record(0, 10 + 2 * CHECK_INTERVAL_MS, Some("99.0.0"));
        assert_eq!(
            check(&object!({"env": env(&[]), "cache": forged, "now_ms": 10}))["refresh"],
            true
        );
        assert_eq!(refreshed("<html>502</html>", 10), None);
    }

    #[test]
    fn the_update_plan() {
        let cache = refreshed(r#"{"version":"99.0.0"}"#, 1).unwrap();
        assert_eq!(
            plan(Some(&cache)),
            object!({"current_version": crate::VERSION, "latest_version": "99.0.0", "update_command": UPDATE_COMMAND})
        );
        assert_eq!(plan(None).get("latest_version"), None);
    }
}
