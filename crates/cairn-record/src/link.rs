//! Turning a recording into an in-toto link: the legacy v1.0 `Link` and the Statement v1 with
//! the link v0.3 predicate; file names as in-toto writes them.

use std::collections::BTreeMap;

use cairn_model::{DigestSet, Link};
use serde_json::{Map, Value, json};

use crate::artifacts::{ArtifactOptions, Artifacts};
use crate::command::CommandOutcome;
use crate::exclude::DEFAULT_EXCLUDES;
use crate::hash::HashAlgorithm;

/// Statement v1 `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The link predicate's type.
pub const LINK_PREDICATE_TYPE: &str = "https://in-toto.io/attestation/link/v0.3";
/// Where the options that change recorded names and digests go in `environment`.
pub const OPTIONS_KEY: &str = "cairn-record-options";
/// Where the variables chosen with `--env` go in `environment`.
pub const VARIABLES_KEY: &str = "variables";

/// Converts recorded artifacts into the link's artifact map.
pub fn artifact_map(artifacts: &Artifacts) -> BTreeMap<String, DigestSet> {
    artifacts
        .map
        .iter()
        .map(|(name, digests)| {
            let set = digests
                .iter()
                .map(|(alg, hex)| (alg.name().to_owned(), hex.clone()))
                .collect();
            (name.clone(), DigestSet::from_map_unchecked(set))
        })
        .collect()
}

/// The options that change artifact names, the set of artifacts or their digests, as a JSON
/// object, or `None` when all are in-toto's defaults (so that a default recording's link looks
/// exactly like in-toto-run's). A verifier reproduces a recording with the same options.
pub fn options_record(options: &ArtifactOptions) -> Option<Value> {
    let mut m = Map::new();
    if options.algorithms != [HashAlgorithm::Sha256] {
        let names: Vec<&str> = options.algorithms.iter().map(|a| a.name()).collect();
        m.insert("hash".into(), json!(names));
    }
    if !options.lstrip.is_empty() {
        m.insert("lstrip".into(), json!(options.lstrip));
    }
    if options.normalize_line_endings {
        m.insert("normalize-line-endings".into(), json!(true));
    }
    if options.follow_symlinks {
        m.insert("follow-symlinks".into(), json!(true));
    }
    if options.excludes.patterns() != DEFAULT_EXCLUDES {
        m.insert("exclude".into(), json!(options.excludes.patterns()));
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// Everything a link says besides materials and products.
#[derive(Debug, Clone, Default)]
pub struct StepInfo {
    /// The step name.
    pub name: String,
    /// The command as run (empty with `--no-command`).
    pub command: Vec<String>,
    /// How it went (`None` with `--no-command`).
    pub outcome: Option<CommandOutcome>,
    /// Environment variables chosen for recording (already filtered for secrets).
    pub variables: BTreeMap<String, String>,
    /// The recording options (see [`options_record`]).
    pub options: Option<Value>,
}

/// Builds the legacy link. Byproducts are in-toto's `stdout`, `stderr` and `return-value`
/// (captured text, lossy UTF-8), plus `stdout-truncated`/`stderr-truncated: true` when the
/// capture cap cut the output.
pub fn build_link(step: &StepInfo, materials: &Artifacts, products: &Artifacts) -> Link {
    let mut link = Link::new(step.name.clone());
    link.materials = artifact_map(materials);
    link.products = artifact_map(products);
    link.command = step.command.clone();
    link.byproducts = byproducts(step);
    link.environment = environment(step);
    link
}

/// The link's `byproducts` for a step (empty without a command, as in-toto).
pub fn byproducts(step: &StepInfo) -> Map<String, Value> {
    let mut link = Link::new("");
    if let Some(outcome) = &step.outcome {
        link.set_command_byproducts(
            i64::from(outcome.exit.return_value()),
            &outcome.stdout.text(),
            &outcome.stderr.text(),
        );
        for (key, c) in [
            ("stdout-truncated", &outcome.stdout),
            ("stderr-truncated", &outcome.stderr),
        ] {
            if c.truncated() {
                link.byproducts.insert(key.into(), Value::Bool(true));
            }
        }
    }
    link.byproducts
}

/// The link's `environment` for a step: recorded variables and non-default recording options.
pub fn environment(step: &StepInfo) -> Map<String, Value> {
    let mut env = Map::new();
    if !step.variables.is_empty() {
        env.insert(VARIABLES_KEY.into(), json!(step.variables));
    }
    if let Some(options) = &step.options {
        env.insert(OPTIONS_KEY.into(), options.clone());
    }
    env
}

/// The in-toto Statement v1 for a link: subjects are the products, the predicate is link
/// v0.3 (`name`, `command`, `materials` as ResourceDescriptors, `byproducts`, `environment`).
pub fn link_statement(link: &Link) -> Value {
    let descriptors = |map: &BTreeMap<String, DigestSet>| -> Vec<Value> {
        map.iter()
            .map(|(name, digest)| json!({"name": name, "digest": digest}))
            .collect()
    };
    json!({
        "_type": STATEMENT_TYPE,
        "subject": descriptors(&link.products),
        "predicateType": LINK_PREDICATE_TYPE,
        "predicate": {
            "name": link.name,
            "command": link.command,
            "materials": descriptors(&link.materials),
            "byproducts": link.byproducts,
            "environment": link.environment,
        },
    })
}

/// The link file name in-toto uses: `<step>.<first 8 hex of keyid>.link`, or `<step>.link`
/// when unsigned (in-toto-mock's name).
pub fn link_file_name(step: &str, keyid: Option<&str>) -> String {
    match keyid {
        Some(id) => format!("{step}.{}.link", short_id(id)),
        None => format!("{step}.link"),
    }
}

/// The unfinished-recording file name in-toto-record uses:
/// `.<step>.<first 8 hex of keyid>.link-unfinished`, or `.<step>.link-unfinished` unsigned.
pub fn unfinished_file_name(step: &str, keyid: Option<&str>) -> String {
    match keyid {
        Some(id) => format!(".{step}.{}.link-unfinished", short_id(id)),
        None => format!(".{step}.link-unfinished"),
    }
}

fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Excludes;
    use crate::command::{Captured, Exit};
    use std::time::Duration;

    fn artifacts(entries: &[(&str, &str)]) -> Artifacts {
        let mut a = Artifacts::default();
        for (n, d) in entries {
            a.map
                .insert((*n).into(), vec![(HashAlgorithm::Sha256, (*d).into())]);
        }
        a
    }

    #[test]
    fn link_has_in_totos_shape() {
        let step = StepInfo {
            name: "build".into(),
            command: vec!["make".into()],
            outcome: Some(CommandOutcome {
                exit: Exit::Signal(9),
                stdout: Captured {
                    bytes: b"ok\n".to_vec(),
                    total: 3,
                    left_open: false,
                },
                stderr: Captured {
                    bytes: b"ab".to_vec(),
                    total: 10,
                    left_open: false,
                },
                duration: Duration::from_secs(1),
            }),
            ..StepInfo::default()
        };
        let d = "a".repeat(64);
        let link = build_link(
            &step,
            &artifacts(&[("src", &d)]),
            &artifacts(&[("out", &d)]),
        );
        let v = link.to_signed_value();
        assert_eq!(v["_type"], "link");
        assert_eq!(v["byproducts"]["return-value"], -9);
        assert_eq!(v["byproducts"]["stdout"], "ok\n");
        assert_eq!(v["byproducts"]["stderr-truncated"], true);
        assert!(v["byproducts"].get("stdout-truncated").is_none());
        assert_eq!(v["materials"]["src"]["sha256"], d.as_str());
        assert_eq!(v["environment"], json!({}));
        let s = link_statement(&link);
        assert_eq!(
            s["subject"],
            json!([{"name": "out", "digest": {"sha256": d}}])
        );
        assert_eq!(s["predicate"]["materials"][0]["name"], "src");
        assert_eq!(s["predicateType"], LINK_PREDICATE_TYPE);
    }

    #[test]
    fn options_are_recorded_only_when_not_default() {
        assert_eq!(options_record(&ArtifactOptions::default()), None);
        let o = ArtifactOptions {
            lstrip: vec!["dist/".into()],
            normalize_line_endings: true,
            algorithms: vec![HashAlgorithm::Sha256, HashAlgorithm::Sha512],
            excludes: Excludes::new(["*.tmp"]).unwrap(),
            ..ArtifactOptions::default()
        };
        assert_eq!(
            options_record(&o).unwrap(),
            json!({"hash": ["sha256", "sha512"], "lstrip": ["dist/"], "normalize-line-endings": true, "exclude": ["*.tmp"]})
        );
    }

    #[test]
    fn file_names_follow_in_toto() {
        assert_eq!(
            link_file_name("build", Some("0123456789abcdef")),
            "build.01234567.link"
        );
        assert_eq!(link_file_name("build", None), "build.link");
        assert_eq!(
            unfinished_file_name("b", Some("0123456789")),
            ".b.01234567.link-unfinished"
        );
        assert_eq!(unfinished_file_name("b", None), ".b.link-unfinished");
    }
}
