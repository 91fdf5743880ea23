use super::*;

fn d(c: char) -> ArtifactDigests {
    ArtifactDigests::from_map_unchecked(BTreeMap::from([(
        "sha256".to_owned(),
        c.to_string().repeat(64),
    )]))
}

fn arts(items: &[(&str, char)]) -> ArtifactMap {
    items
        .iter()
        .map(|(p, c)| ((*p).to_owned(), d(*c)))
        .collect()
}

fn r(words: &str) -> ArtifactRule {
    ArtifactRule::parse(&words.split(' ').collect::<Vec<_>>()).unwrap()
}

fn links(entries: Vec<(&str, ArtifactMap, ArtifactMap)>) -> BTreeMap<String, LinkArtifacts> {
    entries
        .into_iter()
        .map(|(n, materials, products)| {
            (
                n.to_owned(),
                LinkArtifacts {
                    materials,
                    products,
                },
            )
        })
        .collect()
}

fn run(
    item: &str,
    role: ArtifactRole,
    rules: &[&str],
    l: &BTreeMap<String, LinkArtifacts>,
) -> QueueReport {
    let rules: Vec<ArtifactRule> = rules.iter().map(|s| r(s)).collect();
    apply(item, role, &rules, l).unwrap()
}

#[test]
fn create_delete_modify_consume_what_they_describe() {
    let l = links(vec![(
        "s",
        arts(&[("same", 'a'), ("changed", 'a'), ("gone", 'a')]),
        arts(&[("same", 'a'), ("changed", 'b'), ("new", 'c')]),
    )]);
    let rep = run(
        "s",
        ArtifactRole::Product,
        &["CREATE *", "MODIFY *", "DISALLOW *"],
        &l,
    );
    let (_, f) = rep.failure().unwrap();
    assert_eq!(
        f,
        &RuleFailure::Disallowed {
            paths: vec!["same".into()]
        }
    );
    assert_eq!(rep.results[0].consumed, 1);
    assert_eq!(rep.results[1].consumed, 1);

    let rep = run(
        "s",
        ArtifactRole::Material,
        &["DELETE gone", "MODIFY changed", "ALLOW same", "DISALLOW *"],
        &l,
    );
    assert!(rep.failure().is_none(), "{rep:?}");
    // CREATE never consumes materials.
    let rep = run("s", ArtifactRole::Material, &["CREATE *", "DISALLOW *"], &l);
    assert!(rep.failure().is_some());
}

#[test]
fn match_needs_same_path_and_digest_in_the_destination() {
    let l = links(vec![
        ("build", arts(&[]), arts(&[("a.bin", 'a'), ("b.bin", 'b')])),
        (
            "pkg",
            arts(&[("a.bin", 'a'), ("b.bin", 'X'), ("c.bin", 'c')]),
            arts(&[]),
        ),
    ]);
    let rep = run(
        "pkg",
        ArtifactRole::Material,
        &["MATCH *.bin WITH PRODUCTS FROM build", "DISALLOW *"],
        &l,
    );
    assert_eq!(rep.results[0].consumed, 1);
    assert_eq!(
        rep.failure().unwrap().1,
        &RuleFailure::Disallowed {
            paths: vec!["b.bin".into(), "c.bin".into()]
        }
    );
}

#[test]
fn match_with_prefixes_strips_source_and_prepends_destination() {
    let l = links(vec![
        (
            "build",
            arts(&[]),
            arts(&[("out/x/y.o", 'a'), ("out/z.o", 'b')]),
        ),
        (
            "pkg",
            arts(&[("src/x/y.o", 'a'), ("src/z.o", 'b'), ("z.o", 'b')]),
            arts(&[]),
        ),
    ]);
    let rep = run(
        "pkg",
        ArtifactRole::Material,
        &["MATCH * IN src WITH PRODUCTS IN out/ FROM build"],
        &l,
    );
    assert_eq!(rep.results[0].consumed, 2);
    assert_eq!(rep.unconsumed, vec!["z.o".to_owned()]);
    // The prefix is not globbed: `*` in it is literal.
    let rep = run(
        "pkg",
        ArtifactRole::Material,
        &["MATCH * IN s* WITH PRODUCTS IN out FROM build"],
        &l,
    );
    assert_eq!(rep.results[0].consumed, 0);
}

#[test]
fn match_from_missing_link_consumes_nothing_and_is_not_itself_an_error() {
    let l = links(vec![("pkg", arts(&[("a", 'a')]), arts(&[]))]);
    let rep = run(
        "pkg",
        ArtifactRole::Material,
        &["MATCH * WITH PRODUCTS FROM nowhere"],
        &l,
    );
    assert!(rep.failure().is_none());
    assert_eq!(rep.unconsumed, vec!["a".to_owned()]);
}

#[test]
fn require_looks_at_the_queue_not_the_list() {
    let l = links(vec![("s", arts(&[]), arts(&[("a", 'a'), ("b", 'b')]))]);
    assert!(
        run("s", ArtifactRole::Product, &["REQUIRE a"], &l)
            .failure()
            .is_none()
    );
    // Consumed by an earlier rule: REQUIRE fails, as in the reference.
    let rep = run("s", ArtifactRole::Product, &["ALLOW a", "REQUIRE a"], &l);
    assert_eq!(
        rep.failure().unwrap().1,
        &RuleFailure::Required { path: "a".into() }
    );
    // REQUIRE takes a file name, not a pattern.
    assert!(
        run("s", ArtifactRole::Product, &["REQUIRE *"], &l)
            .failure()
            .is_some()
    );
}

#[test]
fn stops_at_first_failure_and_leftovers_are_allowed() {
    let l = links(vec![("s", arts(&[]), arts(&[("a", 'a'), ("b", 'b')]))]);
    let rep = run(
        "s",
        ArtifactRole::Product,
        &["DISALLOW a", "DISALLOW b"],
        &l,
    );
    assert_eq!(rep.results.len(), 1);
    let rep = run("s", ArtifactRole::Product, &["CREATE a"], &l);
    assert!(rep.failure().is_none());
    assert_eq!(rep.unconsumed, vec!["b".to_owned()]);
}

#[test]
fn whole_digest_maps_are_compared() {
    let mut two = d('a');
    two = {
        let mut m = two.to_digest_set().into_map();
        m.insert("sha512".into(), "f".repeat(128));
        ArtifactDigests::from_map_unchecked(m)
    };
    let l = links(vec![
        ("a", arts(&[]), BTreeMap::from([("x".to_owned(), two)])),
        ("b", arts(&[("x", 'a')]), arts(&[])),
    ]);
    let rep = run(
        "b",
        ArtifactRole::Material,
        &["MATCH x WITH PRODUCTS FROM a", "DISALLOW x"],
        &l,
    );
    assert!(rep.failure().is_some());
}
