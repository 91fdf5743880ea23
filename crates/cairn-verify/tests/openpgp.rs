//! in-toto-python vector case 8: links signed with OpenPGP (`tests/demo_files_gpg`). cairn does
//! not implement OpenPGP; such functionaries must be reported as not supported and never
//! accepted. The upstream layout template is unsigned and has no `expires`, so the test signs
//! a copy (with `expires`) with a test key; the gpg links and keys are unchanged.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use cairn_model::metablock::Metablock;
use cairn_sign::{KeyType, PrivateKey};
use cairn_verify::layout::inspect::InspectionSettings;
use cairn_verify::layout::{Options, verify_file};
use cairn_verify::{Check, Outcome};
use serde_json::json;

fn find<'a>(checks: &'a [Check], id: &str) -> Option<&'a Check> {
    checks
        .iter()
        .find_map(|c| (c.id == id).then_some(c).or_else(|| find(&c.children, id)))
}

#[test]
fn openpgp_functionaries_are_reported_as_unsupported_never_accepted() {
    let src = cairn_testkit::testdata().join("in-toto-python/tests/demo_files_gpg");
    let dir = tempfile::tempdir().unwrap();
    for link in ["write-code.8288ef56.link", "package.7b3abb26.link"] {
        std::fs::copy(src.join(link), dir.path().join(link)).unwrap();
    }
    let template =
        Metablock::from_slice(&std::fs::read(src.join("demo.layout.template")).unwrap()).unwrap();
    let mut signed = template.signed.clone();
    signed["expires"] = json!("2099-01-01T00:00:00Z");
    let owner = PrivateKey::generate(KeyType::Ed25519).unwrap();
    let mut mb = Metablock::unsigned(signed);
    cairn_sign::metablock::sign(&mut mb, &owner).unwrap();
    let layout = dir.path().join("root.layout");
    std::fs::write(&layout, mb.to_pretty_json()).unwrap();

    let opts = Options {
        layout_keys: vec![owner.public_key().clone()],
        at: chrono::Utc::now(),
        params: Default::default(),
        link_dir: dir.path().to_path_buf(),
        inspections: InspectionSettings {
            workdir: dir.path().to_path_buf(),
            timeout: Duration::from_secs(10),
            link_dir: None,
        },
    };
    let v = verify_file(&layout, &opts).unwrap();
    assert_eq!(v.outcome, Outcome::Fail);
    for step in ["write-code", "package"] {
        let c = find(&v.checks, &format!("steps.{step}.threshold")).unwrap();
        assert_eq!(c.outcome, Outcome::Fail, "{c:?}");
        let text = serde_json::to_string(&c.evidence).unwrap();
        assert!(
            text.contains("OpenPGP functionary keys are not supported"),
            "{text}"
        );
    }
    // Inspections never run on a chain already known to be bad.
    assert!(
        find(&v.checks, "inspections.untar.run").is_none_or(|c| c.outcome != Outcome::Pass),
        "the inspection ran"
    );
}
