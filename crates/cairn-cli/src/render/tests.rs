#![allow(clippy::unwrap_used)] // tests: a panic is the failure report

use cairn_verify::{ArtifactRef, ArtifactRole, Check, Evidence, Outcome, Verdict};

use super::graph::Graph;
use super::{html, junit, markdown, sarif};

/// The verdict of the demo's tampered build: `package` consumed a changed build product.
fn tampered() -> Verdict {
    let fetch = Check::group(
        "steps.fetch",
        "step 'fetch'",
        vec![
            Check::pass(
                "steps.fetch.threshold",
                "links from 1 of 1 functionaries",
                "ok",
            )
            .with_evidence(Evidence::signer("aaaabbbbccccdddd", "signature valid")),
            Check::pass("steps.fetch.products.rule[0]", "CREATE src/hello.py", "ok"),
        ],
    );
    let build = Check::group(
        "steps.build",
        "step 'build'",
        vec![
            Check::pass(
                "steps.build.threshold",
                "links from 1 of 1 functionaries",
                "ok",
            )
            .with_evidence(Evidence::signer("1111222233334444", "signature valid")),
            Check::pass(
                "steps.build.materials.rule[0]",
                "MATCH src/hello.py WITH PRODUCTS FROM fetch",
                "consumed 1 artifact",
            ),
        ],
    );
    let caught = Evidence::Artifact {
        artifact: ArtifactRef {
            step: "package".into(),
            role: ArtifactRole::Material,
            path: "dist/hello/hello.py".into(),
            digests: vec![("sha256".into(), "3d3c261d50b6a132aaaa".into())],
        },
        trail: vec![ArtifactRef {
            step: "build".into(),
            role: ArtifactRole::Product,
            path: "dist/hello/hello.py".into(),
            digests: vec![("sha256".into(), "488a8b196ceac648bbbb".into())],
        }],
        notes: vec![
            "MATCH dist/hello/hello.py WITH PRODUCTS FROM build: digest changed: build product and package material differ".into(),
        ],
    };
    let package = Check::group(
        "steps.package",
        "step 'package'",
        vec![
            Check::pass(
                "steps.package.threshold",
                "links from 1 of 1 functionaries",
                "ok",
            )
            .with_evidence(Evidence::signer("5555666677778888", "signature valid")),
            Check::pass(
                "steps.package.materials.rule[0]",
                "MATCH dist/hello/hello.py WITH PRODUCTS FROM build",
                "consumed 0 artifacts",
            ),
            Check::fail(
                "steps.package.materials.rule[1]",
                "DISALLOW *",
                "1 artifact of its materials not accounted for: dist/hello/hello.py",
            )
            .with_evidence(caught),
        ],
    );
    Verdict::new(
        "root.layout <&>",
        vec![
            Check::pass(
                "layout.signatures",
                "layout signatures",
                "signed by all 1 layout key(s)",
            ),
            Check::pass("layout.expiry", "layout expiry", "valid"),
            Check::group("steps", "steps", vec![fetch, build, package]),
        ],
    )
}

#[test]
fn graph_has_steps_in_columns_and_the_broken_edge() {
    let v = tampered();
    let g = Graph::of(&v);
    let names: Vec<_> = g.nodes.iter().map(|n| (n.name.as_str(), n.rank)).collect();
    assert_eq!(names, [("fetch", 0), ("build", 1), ("package", 2)]);
    assert_eq!(g.gates.len(), 2);
    assert_eq!(g.edges.len(), 2, "{:?}", g.edges);
    let bad: Vec<_> = g.edges.iter().filter(|e| !e.broken.is_empty()).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!((bad[0].from, bad[0].to), (1, 2));
    assert_eq!(bad[0].broken[0].0, "dist/hello/hello.py");
    assert_eq!(g.nodes[2].signers[0].0, "5555666677778888");
    assert_eq!(g.nodes[2].check.outcome, Outcome::Fail);
}

#[test]
fn html_is_self_contained_and_escaped() {
    let page = html::html(&tampered(), "0.1.0");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<svg"));
    assert!(page.contains(&format!(r#"fill="{}""#, html::FAIL)));
    assert!(page.contains(&format!(r#"fill="{}""#, html::PASS)));
    assert!(page.contains("class=\"edge broken\""));
    assert!(page.contains("root.layout &lt;&amp;&gt;"));
    assert!(!page.contains("root.layout <&>"));
    // No network and no scripts.
    for bad in [
        "<script", "http://", "https://", "src=", "@import", "url(http",
    ] {
        assert!(!page.contains(bad), "{bad}");
    }
    assert!(page.contains("dist/hello/hello.py"));
}

#[test]
fn sarif_has_one_error_result_per_failed_check() {
    let log = sarif::sarif(&tampered(), "0.1.0");
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["level"], "error");
    assert_eq!(results[0]["ruleId"], "steps.package.materials.rule[1]");
    assert!(
        results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("digest changed")
    );
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn junit_counts_and_failures() {
    let xml = junit::junit(&tampered());
    assert!(xml.starts_with("<?xml"));
    assert!(
        xml.contains(r#"tests="9" failures="1" errors="0" skipped="0""#),
        "{xml}"
    );
    assert_eq!(xml.matches("<failure ").count(), 1);
    assert_eq!(xml.matches("<testcase ").count(), 9);
    assert!(xml.contains("root.layout &lt;&amp;&gt;"));
}

#[test]
fn markdown_explains_the_failure() {
    let md = markdown::markdown(&tampered());
    assert!(md.starts_with("### ❌ cairn verification failed"));
    assert!(md.contains("`dist/hello/hello.py` (material of package)"));
    assert!(md.contains("| ✅ | **layout signatures** |"));
}
