use super::*;
use crate::key::{KeyVal, PublicKey};
use crate::rule::{DestinationType, RuleError};
use serde_json::json;

fn sample() -> Value {
    json!({
        "_type": "layout",
        "expires": "2030-11-18T16:06:36Z",
        "readme": "",
        "keys": {"k1": {"keyid": "k1", "keytype": "ed25519", "scheme": "ed25519",
                         "keyval": {"public": "ab"}}},
        "steps": [{
            "_type": "step", "name": "build", "pubkeys": ["k1"], "threshold": 1,
            "expected_command": ["make"],
            "expected_materials": [["MATCH", "*", "WITH", "PRODUCTS", "FROM", "fetch"]],
            "expected_products": [["CREATE", "app"], ["DISALLOW", "*"]],
            "cert_constraints": [{"common_name": "x"}]
        }],
        "inspect": [{"_type": "inspection", "name": "check", "run": ["true"],
                     "expected_materials": [], "expected_products": []}],
        "rootcas": {}
    })
}

#[test]
fn reads_rules_keys_and_unknown_fields() {
    let v = sample();
    let layout = Layout::from_signed(&v).unwrap();
    assert_eq!(
        layout.expires.as_ref().map(Timestamp::as_str),
        Some("2030-11-18T16:06:36Z")
    );
    let step = layout.step("build").unwrap();
    assert!(matches!(
        &step.expected_materials[0],
        ArtifactRule::Match { destination_type: DestinationType::Products, destination_step, .. }
            if destination_step == "fetch"
    ));
    assert_eq!(
        step.extra["cert_constraints"],
        json!([{"common_name": "x"}])
    );
    assert!(layout.extra.contains_key("rootcas"));
    assert_eq!(layout.to_signed_value(), v);
    layout.validate().unwrap();
}

#[test]
fn bad_rules_are_located() {
    let mut v = sample();
    v["steps"][0]["expected_products"][1] = json!(["DISALLOW"]);
    assert_eq!(
        Layout::from_signed(&v),
        Err(MetadataError::Rule {
            item: "build".into(),
            list: "expected_products",
            index: 1,
            source: RuleError::TooShort { len: 1 }
        })
    );
}

#[test]
fn bad_expiry_and_wrong_type() {
    let mut v = sample();
    v["expires"] = json!("next year");
    assert!(matches!(
        Layout::from_signed(&v),
        Err(MetadataError::Expires { .. })
    ));
    let mut v = sample();
    v["_type"] = json!("link");
    assert!(matches!(
        Layout::from_signed(&v),
        Err(MetadataError::WrongType { .. })
    ));
    let mut v = sample();
    v["steps"][0]["_type"] = json!("inspection");
    assert!(matches!(
        Layout::from_signed(&v),
        Err(MetadataError::Shape { .. })
    ));
}

#[test]
fn validate_reports_semantic_errors() {
    let base = Layout::from_signed(&sample()).unwrap();

    let mut l = base.clone();
    l.expires = None;
    assert_eq!(l.validate(), Err(MetadataError::MissingExpires));

    let mut l = base.clone();
    l.inspect[0].name = "build".into();
    assert_eq!(
        l.validate(),
        Err(MetadataError::DuplicateName {
            name: "build".into()
        })
    );

    let mut l = base.clone();
    l.steps[0].threshold = 0;
    assert!(matches!(
        l.validate(),
        Err(MetadataError::ZeroThreshold { .. })
    ));

    let mut l = base.clone();
    l.steps[0].pubkeys.push(KeyId::new("nope"));
    assert!(
        matches!(l.validate(), Err(MetadataError::UnknownKey { ref keyid, .. }) if keyid == "nope")
    );

    let mut l = base;
    l.keys.insert(
        KeyId::new("k2"),
        LayoutKey::Key(PublicKey {
            keytype: "ed25519".into(),
            scheme: "ed25519".into(),
            keyval: KeyVal {
                public: "cd".into(),
                private: None,
                extra: Map::new(),
            },
            keyid_hash_algorithms: None,
            keyid: Some(KeyId::new("k3")),
            extra: Map::new(),
        }),
    );
    assert!(matches!(
        l.validate(),
        Err(MetadataError::KeyIdMismatch { .. })
    ));
}

#[test]
fn new_layout_writes_the_reference_field_set() {
    let expires = Timestamp::parse("2030-01-01T00:00:00Z").unwrap();
    let mut layout = Layout::new(expires);
    let mut step = Step::new("build");
    step.expected_products
        .push(ArtifactRule::Create("app".into()));
    layout.steps.push(step);
    layout
        .inspect
        .push(Inspection::new("check", vec!["true".into()]));
    assert_eq!(
        layout.to_signed_value(),
        json!({"_type": "layout", "expires": "2030-01-01T00:00:00Z", "readme": "", "keys": {},
               "steps": [{"_type": "step", "name": "build", "expected_materials": [],
                          "expected_products": [["CREATE", "app"]], "pubkeys": [],
                          "expected_command": [], "threshold": 1}],
               "inspect": [{"_type": "inspection", "name": "check", "expected_materials": [],
                            "expected_products": [], "run": ["true"]}]})
    );
}
