use super::*;
use serde_json::json;

fn p(rule: &[&str]) -> Result<ArtifactRule, RuleError> {
    ArtifactRule::parse(rule)
}

#[test]
fn generic_rules() {
    assert_eq!(
        p(&["CREATE", "foo.py"]),
        Ok(ArtifactRule::Create("foo.py".into()))
    );
    assert_eq!(p(&["delete", "*"]), Ok(ArtifactRule::Delete("*".into())));
    assert_eq!(
        p(&["Modify", "a b"]),
        Ok(ArtifactRule::Modify("a b".into()))
    );
    assert_eq!(p(&["ALLOW", "x"]), Ok(ArtifactRule::Allow("x".into())));
    assert_eq!(
        p(&["DISALLOW", "*"]),
        Ok(ArtifactRule::Disallow("*".into()))
    );
    assert_eq!(
        p(&["REQUIRE", "foo.tar.gz"]),
        Ok(ArtifactRule::Require("foo.tar.gz".into()))
    );
    assert_eq!(
        p(&["CREATE", "a", "b"]),
        Err(RuleError::GenericArity {
            keyword: "CREATE",
            len: 3
        })
    );
    assert_eq!(p(&["CREATE"]), Err(RuleError::TooShort { len: 1 }));
    assert_eq!(p(&[]), Err(RuleError::TooShort { len: 0 }));
    assert_eq!(
        p(&["COPY", "x"]),
        Err(RuleError::UnknownKeyword {
            keyword: "COPY".into()
        })
    );
}

#[test]
fn match_forms() {
    let m = |sp: Option<&str>, t, dp: Option<&str>| ArtifactRule::Match {
        pattern: "foo*".into(),
        source_prefix: sp.map(Into::into),
        destination_type: t,
        destination_prefix: dp.map(Into::into),
        destination_step: "s".into(),
    };
    use DestinationType::*;
    assert_eq!(
        p(&["MATCH", "foo*", "WITH", "PRODUCTS", "FROM", "s"]),
        Ok(m(None, Products, None))
    );
    assert_eq!(
        p(&["match", "foo*", "with", "materials", "from", "s"]),
        Ok(m(None, Materials, None))
    );
    assert_eq!(
        p(&[
            "MATCH", "foo*", "IN", "src", "WITH", "PRODUCTS", "FROM", "s"
        ]),
        Ok(m(Some("src"), Products, None))
    );
    assert_eq!(
        p(&[
            "MATCH", "foo*", "WITH", "PRODUCTS", "IN", "dst", "FROM", "s"
        ]),
        Ok(m(None, Products, Some("dst")))
    );
    assert_eq!(
        p(&[
            "MATCH", "foo*", "IN", "src", "WITH", "PRODUCTS", "IN", "dst", "FROM", "s"
        ]),
        Ok(m(Some("src"), Products, Some("dst")))
    );
    // Keywords as patterns/step names are fine: positions decide.
    assert!(p(&["MATCH", "WITH", "WITH", "PRODUCTS", "FROM", "FROM"]).is_ok());
}

#[test]
fn malformed_match_rules_say_why() {
    for bad in [
        &["MATCH", "foo"][..],
        &["MATCH", "foo", "WITH", "PRODUCTS", "s"],
        &["MATCH", "foo", "WITH", "PRODUCTS", "TO", "s"],
        &["MATCH", "foo", "IN", "WITH", "PRODUCTS", "FROM", "s"],
        &[
            "MATCH", "foo", "WITH", "PRODUCTS", "IN", "a", "b", "FROM", "s",
        ],
    ] {
        assert_eq!(p(bad), Err(RuleError::MatchSyntax), "{bad:?}");
    }
    assert_eq!(
        p(&["MATCH", "foo", "WITH", "ARTIFACTS", "FROM", "s"]),
        Err(RuleError::DestinationType {
            found: "ARTIFACTS".into()
        })
    );
}

#[test]
fn from_value_reports_non_strings() {
    assert_eq!(
        ArtifactRule::from_value(&json!(["CREATE", 1])),
        Err(RuleError::NotAString { position: 1 })
    );
    assert_eq!(
        ArtifactRule::from_value(&json!("CREATE foo")),
        Err(RuleError::NotAnArray)
    );
}

#[test]
fn to_vec_round_trips_and_uppercases_keywords() {
    let rule = p(&[
        "match", "a", "in", "x", "with", "products", "in", "", "from", "s",
    ])
    .unwrap();
    assert_eq!(
        rule.to_vec(),
        [
            "MATCH", "a", "IN", "x", "WITH", "PRODUCTS", "IN", "", "FROM", "s"
        ]
    );
    assert_eq!(ArtifactRule::parse(&rule.to_vec()), Ok(rule.clone()));
    assert_eq!(rule.to_string(), "MATCH a IN x WITH PRODUCTS IN  FROM s");
    let json = serde_json::to_value(&rule).unwrap();
    assert_eq!(serde_json::from_value::<ArtifactRule>(json).unwrap(), rule);
}
