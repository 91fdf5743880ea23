use super::*;
use proptest::prelude::*;
use std::ffi::OsStr;

#[test]
fn normalises_like_normpath() {
    let base = Path::new("/work/base");
    let n =
        |s: &str| normalize_arg(Path::new(s), base, base).map(|p| p.to_string_lossy().into_owned());
    assert_eq!(n(".").unwrap(), "");
    assert_eq!(n("./a//b/").unwrap(), "a/b");
    assert_eq!(n("a/./b/../c").unwrap(), "a/c");
    assert_eq!(n("/work/base/x/y").unwrap(), "x/y");
    assert_eq!(n("/work/base").unwrap(), "");
    assert_eq!(n("/work/base/../base/z").unwrap(), "z");
    assert!(matches!(n(".."), Err(Error::OutsideBase { .. })));
    assert!(matches!(n("a/../../b"), Err(Error::OutsideBase { .. })));
    assert!(matches!(n("/work/other"), Err(Error::OutsideBase { .. })));
    assert!(matches!(
        n("/work/basement"),
        Err(Error::OutsideBase { .. })
    ));
}

#[test]
fn absolute_args_under_the_resolved_base_are_accepted() {
    let rel = normalize_arg(Path::new("/real/x"), Path::new("/link"), Path::new("/real")).unwrap();
    assert_eq!(rel, Path::new("x"));
}

#[test]
fn names_use_forward_slashes_and_encode_non_utf8() {
    assert_eq!(name_of(Path::new("a/b/c")), ("a/b/c".to_owned(), false));
    assert_eq!(name_of(Path::new("100%/x")), ("100%/x".to_owned(), false));
    let raw = OsStr::from_bytes(b"dir/caf\xe9 100%.txt");
    let (name, encoded) = name_of(Path::new(raw));
    assert!(encoded);
    assert_eq!(name, "dir/caf%E9 100%25.txt");
    assert_eq!(decode_name(&name), b"dir/caf\xe9 100%.txt");
    // A truncated multi-byte sequence at the end.
    assert_eq!(encode_name(b"\xe2\x82").0, "%E2%82");
}

#[test]
fn lstrip_is_in_totos_string_prefix_rule() {
    let p = vec!["build/".to_owned(), "out".to_owned()];
    assert_eq!(lstrip("build/a/b", &p), "a/b");
    assert_eq!(
        lstrip("output/x", &p),
        "put/x",
        "a string prefix, as in-toto"
    );
    assert_eq!(lstrip("src/x", &p), "src/x");
    assert!(check_prefixes(&p).is_ok());
    let bad = vec!["a/".to_owned(), "a/b".to_owned()];
    assert!(matches!(
        check_prefixes(&bad),
        Err(Error::OverlappingPrefixes { .. })
    ));
}

fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just(String::new()),
        "[a-c]{1,3}",
        Just("/work".to_owned()),
    ]
}

proptest! {
    /// Whatever the user types, a normalised artifact path either is rejected or stays under the
    /// base path: relative, with no `.`/`..`/empty components.
    #[test]
    fn normalisation_never_leaves_the_root(parts in proptest::collection::vec(component(), 0..8), absolute in any::<bool>()) {
        let base = Path::new("/work/base");
        let mut s = parts.join("/");
        if absolute {
            s = format!("/{s}");
        }
        if let Ok(rel) = normalize_arg(Path::new(&s), base, base) {
            prop_assert!(rel.is_relative());
            for c in rel.components() {
                prop_assert!(matches!(c, Component::Normal(_)), "{:?} in {:?}", c, rel);
            }
            let joined = lexical_normalize(&base.join(&rel)).unwrap();
            prop_assert!(joined.starts_with(base));
        }
    }

    /// Encoding is lossless for names that need it, and the identity for UTF-8 names.
    #[test]
    fn encoding_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        let (name, encoded) = encode_name(&bytes);
        if encoded {
            prop_assert_eq!(decode_name(&name), bytes);
        } else {
            prop_assert_eq!(name.as_bytes(), &bytes[..]);
        }
    }
}
