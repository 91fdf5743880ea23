//! Links in every form in one chain: a legacy metablock, a DSSE-wrapped legacy link, and a DSSE
//! Statement with the link v0.3 predicate, chained by MATCH rules; plus parameter substitution.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use cairn_model::dsse::IN_TOTO_PAYLOAD_TYPE;
use cairn_model::metablock::Metablock;
use cairn_sign::{KeyType, PrivateKey, Signer};
use cairn_verify::layout::inspect::InspectionSettings;
use cairn_verify::layout::{Options, verify_file};
use cairn_verify::{Outcome, Verdict};
use serde_json::{Value, json};

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

struct Fixture {
    dir: tempfile::TempDir,
    owner: PrivateKey,
    func: PrivateKey,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            owner: PrivateKey::generate(KeyType::Ed25519).unwrap(),
            func: PrivateKey::generate(KeyType::EcdsaP256).unwrap(),
        }
    }
    fn short(&self) -> String {
        self.func.key_id().as_str()[..8].to_owned()
    }
    fn write(&self, step: &str, bytes: Vec<u8>) {
        std::fs::write(
            self.dir
                .path()
                .join(format!("{step}.{}.link", self.short())),
            bytes,
        )
        .unwrap();
    }
    fn legacy(name: &str, materials: Value, products: Value) -> Value {
        json!({"_type": "link", "name": name, "command": ["make", name], "materials": materials,
               "products": products, "byproducts": {}, "environment": {}})
    }
    fn metablock_link(&self, name: &str, materials: Value, products: Value) {
        let mut mb = Metablock::unsigned(Self::legacy(name, materials, products));
        cairn_sign::metablock::sign(&mut mb, &self.func).unwrap();
        self.write(name, mb.to_pretty_json());
    }
    fn dsse_link(&self, name: &str, materials: Value, products: Value) {
        let payload = serde_json::to_vec(&Self::legacy(name, materials, products)).unwrap();
        let env = cairn_sign::dsse::sign(IN_TOTO_PAYLOAD_TYPE, payload, &self.func).unwrap();
        self.write(name, serde_json::to_vec_pretty(&env).unwrap());
    }
    fn statement_link(&self, name: &str, materials: Value, subjects: Value) {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": subjects,
            "predicateType": "https://in-toto.io/attestation/link/v0.3",
            "predicate": {"name": name, "command": ["make", name], "materials": materials, "byproducts": {}, "environment": {}},
        });
        let env = cairn_sign::dsse::sign(
            IN_TOTO_PAYLOAD_TYPE,
            serde_json::to_vec(&statement).unwrap(),
            &self.func,
        )
        .unwrap();
        self.write(name, serde_json::to_vec_pretty(&env).unwrap());
    }
    fn layout(&self, steps: Value) -> std::path::PathBuf {
        let mut key = self
            .func
            .public_key()
            .to_securesystemslib_json(cairn_sign::KeyIdRule::Securesystemslib1);
        key["keyid"] = json!(self.func.key_id().as_str());
        let signed = json!({"_type": "layout", "expires": "2099-01-01T00:00:00Z", "readme": "",
                            "keys": {self.func.key_id().as_str(): key}, "steps": steps, "inspect": []});
        let mut mb = Metablock::unsigned(signed);
        cairn_sign::metablock::sign(&mut mb, &self.owner).unwrap();
        let path = self.dir.path().join("root.layout");
        std::fs::write(&path, mb.to_pretty_json()).unwrap();
        path
    }
    fn step(&self, name: &str, materials: Value, products: Value, cmd: Value) -> Value {
        json!({"_type": "step", "name": name, "threshold": 1, "pubkeys": [self.func.key_id().as_str()],
               "expected_command": cmd, "expected_materials": materials, "expected_products": products})
    }
    fn verify(&self, layout: &Path, params: &[(&str, &str)]) -> Verdict {
        let opts = Options {
            layout_keys: vec![self.owner.public_key().clone()],
            at: chrono::Utc::now(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            link_dir: self.dir.path().to_path_buf(),
            inspections: InspectionSettings {
                workdir: self.dir.path().to_path_buf(),
                timeout: Duration::from_secs(10),
                link_dir: None,
            },
        };
        verify_file(layout, &opts).unwrap()
    }
}

fn steps(f: &Fixture) -> Value {
    json!([
        f.step(
            "fetch",
            json!([]),
            json!([["CREATE", "src.tar"], ["DISALLOW", "*"]]),
            json!(["make", "fetch"])
        ),
        f.step(
            "build",
            json!([
                ["MATCH", "src.tar", "WITH", "PRODUCTS", "FROM", "fetch"],
                ["DISALLOW", "*"]
            ]),
            json!([["CREATE", "app"], ["ALLOW", "src.tar"], ["DISALLOW", "*"]]),
            json!(["make", "{TARGET}"])
        ),
        f.step(
            "ship",
            json!([
                ["MATCH", "{ART}", "WITH", "PRODUCTS", "FROM", "build"],
                ["DISALLOW", "*"]
            ]),
            json!([]),
            json!(["make", "ship"])
        ),
    ])
}

fn chain(f: &Fixture, app_digest: &str) {
    f.metablock_link("fetch", json!({}), json!({"src.tar": {"sha256": A}}));
    f.dsse_link(
        "build",
        json!({"src.tar": {"sha256": A}}),
        json!({"src.tar": {"sha256": A}, "app": {"sha256": B}}),
    );
    f.statement_link(
        "ship",
        json!([{"name": "app", "digest": {"sha256": app_digest}}]),
        json!([]),
    );
}

#[test]
fn metablock_dsse_and_statement_links_chain_together() {
    let f = Fixture::new();
    chain(&f, B);
    let layout = f.layout(steps(&f));
    let v = f.verify(&layout, &[("TARGET", "build"), ("ART", "app")]);
    assert!(
        v.passed(),
        "{:?}",
        v.failures().map(|c| &c.reason).collect::<Vec<_>>()
    );
    assert_eq!(
        v.find("steps.build.command").unwrap().outcome,
        Outcome::Pass
    );
    for step in ["fetch", "build", "ship"] {
        let ev = format!(
            "{:?}",
            v.find(&format!("steps.{step}.threshold")).unwrap().evidence
        );
        let form = match step {
            "fetch" => "metablock",
            "build" => "DSSE envelope",
            _ => "DSSE Statement (link v0.3)",
        };
        assert!(ev.contains(form), "{step}: {ev}");
    }
}

#[test]
fn statement_link_with_changed_material_is_caught_and_explained() {
    let f = Fixture::new();
    chain(&f, A);
    let layout = f.layout(steps(&f));
    let v = f.verify(&layout, &[("TARGET", "build"), ("ART", "app")]);
    let c = v.find("steps.ship.materials.rule[1]").unwrap();
    assert_eq!(c.outcome, Outcome::Fail);
    let ev = format!("{:?}", c.evidence);
    assert!(
        ev.contains("MATCH app WITH PRODUCTS FROM build: digest changed"),
        "{ev}"
    );
}

#[test]
fn parameters_are_substituted_and_missing_ones_fail() {
    let f = Fixture::new();
    chain(&f, B);
    let layout = f.layout(steps(&f));
    // Without the right value, build's expected command differs (a warning) and ship's MATCH
    // pattern matches nothing (so DISALLOW fails).
    let v = f.verify(&layout, &[("TARGET", "other"), ("ART", "nothing")]);
    assert_eq!(
        v.find("steps.build.command").unwrap().outcome,
        Outcome::Warn
    );
    assert_eq!(
        v.find("steps.ship.materials.rule[1]").unwrap().outcome,
        Outcome::Fail
    );
    // A placeholder with no value is a failure, not a silent literal.
    let v = f.verify(&layout, &[("TARGET", "build")]);
    let c = v.find("layout.parameters").unwrap();
    assert_eq!(c.outcome, Outcome::Fail);
    assert!(c.reason.contains("{ART}"), "{}", c.reason);
}
