use super::*;
use serde_json::json;

fn provenance_v1() -> Value {
    json!({
        "buildDefinition": {
            "buildType": "https://example.com/build/v1",
            "externalParameters": {"ref": "refs/tags/v1"},
            "resolvedDependencies": [{"uri": "git+https://example.com/r", "digest": {"gitCommit": "a".repeat(40)}}]
        },
        "runDetails": {
            "builder": {"id": "https://example.com/builder", "version": {"b": "1"}},
            "metadata": {"invocationId": "run-1", "startedOn": "2024-01-01T00:00:00Z",
                         "finishedOn": "2024-01-01T00:01:00.5Z"},
            "byproducts": [{"name": "log", "uri": "https://example.com/log"}]
        },
        "futureField": 1
    })
}

#[test]
fn dispatches_on_predicate_type_only() {
    let p = Predicate::parse(SLSA_PROVENANCE_V1, provenance_v1()).unwrap();
    let Predicate::SlsaProvenanceV1(prov) = &p else {
        panic!("{p:?}")
    };
    assert_eq!(prov.run_details.builder.id, "https://example.com/builder");
    assert_eq!(prov.extra["futureField"], 1);
    assert_eq!(p.to_value(), provenance_v1());
    // The same body under another type is not guessed at.
    let other = Predicate::parse("https://example.com/custom", provenance_v1()).unwrap();
    assert!(
        matches!(other, Predicate::Other { ref predicate_type, .. } if predicate_type == "https://example.com/custom")
    );
    assert_eq!(other.to_value(), provenance_v1());
    // And a v1 body under the v0.2 type fails v0.2's rules instead of being accepted.
    assert!(matches!(
        Predicate::parse(SLSA_PROVENANCE_V0_2, provenance_v1()),
        Err(PredicateError::Required {
            field: "builder.id",
            ..
        })
    ));
}

#[test]
fn provenance_v1_required_fields() {
    let cases = [
        ("/buildDefinition", json!({}), "buildDefinition"),
        (
            "/buildDefinition/buildType",
            Value::Null,
            "buildDefinition.buildType",
        ),
        (
            "/buildDefinition/externalParameters",
            Value::Null,
            "buildDefinition.externalParameters",
        ),
        ("/runDetails", json!({}), "runDetails"),
        ("/runDetails/builder", json!({}), "runDetails.builder"),
        ("/runDetails/builder/id", json!(""), "runDetails.builder.id"),
    ];
    for (pointer, replacement, field) in cases {
        let mut v = provenance_v1();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        let obj = if parent.is_empty() {
            &mut v
        } else {
            v.pointer_mut(parent).unwrap()
        };
        if replacement.is_null() {
            obj.as_object_mut().unwrap().remove(key);
        } else {
            obj[key] = replacement;
        }
        assert_eq!(
            Predicate::parse(SLSA_PROVENANCE_V1, v),
            Err(PredicateError::Required {
                predicate_type: SLSA_PROVENANCE_V1,
                field
            }),
            "{pointer}"
        );
    }
    let mut v = provenance_v1();
    v["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"] = json!("xyz");
    assert!(matches!(
        Predicate::parse(SLSA_PROVENANCE_V1, v),
        Err(PredicateError::Descriptor {
            field: "buildDefinition.resolvedDependencies",
            index: 0,
            ..
        })
    ));
    let mut v = provenance_v1();
    v["runDetails"]["metadata"]["startedOn"] = json!("yesterday");
    assert!(matches!(
        Predicate::parse(SLSA_PROVENANCE_V1, v),
        Err(PredicateError::Shape { .. })
    ));
}

#[test]
fn provenance_v02_fields() {
    let v = json!({
        "builder": {"id": "https://github.com/slsa-framework/slsa-github-generator@v1"},
        "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
        "invocation": {"configSource": {"uri": "git+https://x@refs/tags/v1",
                        "digest": {"sha1": "4d329c75e7ec1725f7c9ce917a8799d408d06be3"},
                        "entryPoint": ".github/workflows/w.yml"},
                       "parameters": {}, "environment": {"github_run_id": "1"}},
        "buildConfig": {"steps": []},
        "metadata": {"buildInvocationId": "1-1", "buildStartedOn": "2023-01-01T00:00:00Z",
                     "completeness": {"parameters": true, "environment": false, "materials": false},
                     "reproducible": false},
        "materials": [{"uri": "git+https://x", "digest": {"sha1": "4d329c75e7ec1725f7c9ce917a8799d408d06be3"}}]
    });
    let Predicate::SlsaProvenanceV02(p) =
        Predicate::parse(SLSA_PROVENANCE_V0_2, v.clone()).unwrap()
    else {
        panic!()
    };
    let source = p
        .invocation
        .as_ref()
        .unwrap()
        .config_source
        .as_ref()
        .unwrap();
    assert_eq!(
        source.entry_point.as_deref(),
        Some(".github/workflows/w.yml")
    );
    assert!(
        p.metadata
            .as_ref()
            .unwrap()
            .completeness
            .as_ref()
            .unwrap()
            .parameters
    );
    assert_eq!(serde_json::to_value(&p).unwrap(), v);
    let mut bad = v;
    bad.as_object_mut().unwrap().remove("buildType");
    assert!(matches!(
        Predicate::parse(SLSA_PROVENANCE_V0_2, bad),
        Err(PredicateError::Required {
            field: "buildType",
            ..
        })
    ));
}

#[test]
fn link_v03_fields() {
    let v = json!({"name": "build", "command": ["make"],
                   "materials": [{"name": "src/main.c", "digest": {"sha256": "ab".repeat(32)}}],
                   "byproducts": {"return-value": 0}, "environment": {"CI": "1"}});
    let Predicate::LinkV03(l) = Predicate::parse(LINK_V0_3, v.clone()).unwrap() else {
        panic!()
    };
    assert_eq!(l.name, "build");
    assert_eq!(serde_json::to_value(&l).unwrap(), v);
    assert!(matches!(
        Predicate::parse(LINK_V0_3, json!({"command": []})),
        Err(PredicateError::Required { field: "name", .. })
    ));
    assert!(matches!(
        Predicate::parse(
            LINK_V0_3,
            json!({"name": "x", "materials": [{"name": "no digest"}]})
        ),
        Err(PredicateError::Descriptor {
            field: "materials",
            ..
        })
    ));
}

#[test]
fn vsa_v1_fields() {
    let v = json!({
        "verifier": {"id": "https://cairn.dev/verifier", "version": {"cairn": "0.1.0"}},
        "timeVerified": "2024-06-12T07:24:34.351608Z",
        "resourceUri": "oci://registry.example.com/app",
        "policy": {"uri": "https://example.com/policy", "digest": {"sha256": "cd".repeat(32)}},
        "inputAttestations": [{"uri": "https://example.com/att", "digest": {"sha256": "ef".repeat(32)}}],
        "verificationResult": "PASSED",
        "verifiedLevels": ["SLSA_BUILD_LEVEL_3"],
        "dependencyLevels": {"SLSA_BUILD_LEVEL_1": 4},
        "slsaVersion": "1.0"
    });
    let Predicate::VsaV1(s) = Predicate::parse(VSA_V1, v.clone()).unwrap() else {
        panic!()
    };
    assert_eq!(s.verification_result, vsa::v1::VerificationResult::Passed);
    assert_eq!(s.dependency_levels["SLSA_BUILD_LEVEL_1"], 4);
    assert_eq!(serde_json::to_value(&*s).unwrap(), v);
    for (field, key) in [
        ("verifier.id", "verifier"),
        ("timeVerified", "timeVerified"),
        ("resourceUri", "resourceUri"),
        ("policy", "policy"),
        ("verifiedLevels", "verifiedLevels"),
    ] {
        let mut bad = v.clone();
        bad.as_object_mut().unwrap().remove(key);
        assert_eq!(
            Predicate::parse(VSA_V1, bad),
            Err(PredicateError::Required {
                predicate_type: VSA_V1,
                field
            }),
        );
    }
    let mut bad = v;
    bad["verificationResult"] = json!("MAYBE");
    assert!(matches!(
        Predicate::parse(VSA_V1, bad),
        Err(PredicateError::Shape { .. })
    ));
}
