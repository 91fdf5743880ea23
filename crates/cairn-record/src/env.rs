//! Environment variables chosen with `--env`: recorded by value, except those that look like
//! secrets, which are never recorded (their names are reported so the user knows).

use std::collections::BTreeMap;

/// Name fragments (upper-cased comparison) that mark a variable as secret.
const SECRET_NAME_PARTS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "PRIVATE",
    "CREDENTIAL",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "AUTH",
    "COOKIE",
    "SESSION",
    "SIGNING_KEY",
];

/// Value prefixes of well-known credential formats.
const SECRET_VALUE_PREFIXES: &[&str] = &[
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "gldt-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "AKIA",
    "ASIA",
    "sk-",
    "sk_live_",
    "rk_live_",
    "npm_",
    "pypi-",
    "hf_",
    "AIza",
    "-----BEGIN",
];

/// True when a variable's name or value looks like a credential: the name contains `TOKEN`,
/// `SECRET`, `PASSWORD`, `KEY` as a word, `AUTH`, ...; or the value has a well-known token
/// prefix (GitHub, GitLab, Slack, AWS, npm, PyPI, PEM), is a JWT, or is a URL with a password.
pub fn looks_secret(name: &str, value: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if SECRET_NAME_PARTS.iter().any(|p| upper.contains(p)) {
        return true;
    }
    if upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "KEY" || w == "PAT")
    {
        return true;
    }
    let v = value.trim();
    if SECRET_VALUE_PREFIXES.iter().any(|p| v.starts_with(p)) {
        return true;
    }
    // A JWT: three base64url parts, the first a JSON header.
    if v.starts_with("eyJ") && v.split('.').count() == 3 {
        return true;
    }
    // scheme://user:password@host
    if let Some((_, rest)) = v.split_once("://")
        && let Some((userinfo, _)) = rest.split_once('@')
        && userinfo.contains(':')
    {
        return true;
    }
    false
}

/// The variables to record, and the names withheld because they look secret. Unset variables
/// are left out.
pub fn select_variables<'a>(
    names: impl IntoIterator<Item = &'a str>,
    lookup: impl Fn(&str) -> Option<String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut kept = BTreeMap::new();
    let mut withheld = Vec::new();
    for name in names {
        let Some(value) = lookup(name) else { continue };
        if looks_secret(name, &value) {
            withheld.push(name.to_owned());
        } else {
            kept.insert(name.to_owned(), value);
        }
    }
    (kept, withheld)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_by_name_and_by_value() {
        for (n, v) in [
            ("GITHUB_TOKEN", "x"),
            ("NPM_AUTH", "x"),
            ("DB_PASSWORD", "x"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("SSH_KEY", "x"),
            ("MY_PAT", "x"),
            ("X", "ghp_abcdefghijklmnop"),
            ("X", "glpat-xxxx"),
            ("X", "AKIAIOSFODNN7EXAMPLE"),
            ("X", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"),
            ("X", "https://user:hunter2@example.com/repo.git"),
            ("X", "-----BEGIN PRIVATE KEY-----"),
        ] {
            assert!(looks_secret(n, v), "{n}={v}");
        }
        for (n, v) in [
            ("CI", "true"),
            ("GITHUB_SHA", "0123abcd"),
            ("RUNNER_OS", "Linux"),
            ("KEYBOARD", "us"),
            ("URL", "https://example.com/a@b"),
            ("CC", "gcc"),
        ] {
            assert!(!looks_secret(n, v), "{n}={v}");
        }
    }

    #[test]
    fn selection_skips_unset_and_withholds_secrets() {
        let env = |n: &str| match n {
            "CI" => Some("true".to_owned()),
            "GH_TOKEN" => Some("ghp_x".to_owned()),
            _ => None,
        };
        let (kept, withheld) = select_variables(["CI", "GH_TOKEN", "UNSET"], env);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept["CI"], "true");
        assert_eq!(withheld, ["GH_TOKEN"]);
    }
}
