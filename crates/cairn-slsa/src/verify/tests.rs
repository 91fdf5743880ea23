use super::*;

#[test]
fn builder_ids_match_as_slsa_verifier_matches_them() {
    let w = "https://github.com/o/r/.github/workflows/b.yml";
    assert!(builder_matches(w, &format!("{w}@refs/tags/v1.2.0")));
    assert!(builder_matches(
        &format!("{w}@v1.2.0"),
        &format!("{w}@refs/tags/v1.2.0")
    ));
    assert!(builder_matches(
        &format!("{w}@refs/tags/v1.2.0"),
        &format!("{w}@refs/tags/v1.2.0")
    ));
    assert!(!builder_matches(
        &format!("{w}@v1.2.1"),
        &format!("{w}@refs/tags/v1.2.0")
    ));
    assert!(!builder_matches(&format!("{w}@v1.2.0"), w));
    assert!(!builder_matches(w, &format!("{w}x@refs/tags/v1")));
    assert!(!builder_matches(
        "https://github.com/actions/runner",
        "https://github.com/actions/runner/github-hosted"
    ));
}

#[test]
fn versioned_tags() {
    for (want, have, ok) in [
        ("v1", "v1.4.2", true),
        ("v1.4", "v1.4.0", true),
        ("v1.4.2", "v1.4.2", true),
        ("v1.4.2", "v1.4.2-rc1", false),
        ("v1", "v1.4.2-rc1", true),
        ("v1", "v10.0.0", false),
        ("v1.4", "v1", false),
        ("vx", "v1.0.0", false),
        ("v1", "release-1", false),
    ] {
        assert_eq!(versioned_tag_matches(want, have), ok, "{want} vs {have}");
    }
}

#[test]
fn patterns_are_anchored_and_invalid_ones_are_errors() {
    let RefRule::Pattern(re) = RefRule::pattern("refs/tags/v.*").unwrap() else {
        panic!()
    };
    assert!(re.is_match("refs/tags/v1"));
    assert!(!re.is_match("xrefs/tags/v1"));
    let RefRule::Pattern(re) = RefRule::pattern("main|refs/heads/main").unwrap() else {
        panic!()
    };
    assert!(
        !re.is_match("refs/heads/mainline"),
        "alternation is anchored as a whole"
    );
    assert!(matches!(RefRule::pattern("("), Err(Error::Pattern { .. })));
}

#[test]
fn repositories_compare_in_any_spelling() {
    assert_eq!(
        normalise_repo("github.com/o/r"),
        normalise_repo("git+https://github.com/o/r.git")
    );
    assert_eq!(
        normalise_repo("https://github.com/o/r"),
        Some("github.com/o/r".to_owned())
    );
    assert_ne!(
        normalise_repo("github.com/o/r"),
        normalise_repo("github.com/o/r2")
    );
}
