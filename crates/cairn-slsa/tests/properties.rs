//! Properties: credentials never survive URL normalisation, version matching is consistent,
//! subjects merge into a sorted set, checksum files round-trip.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use cairn_slsa::subject::{Subject, merge, parse_checksums};
use cairn_slsa::uri::{RepoUrl, split_git_uri};
use cairn_slsa::verify::{BuilderRule, Policy, RefRule, verify};
use proptest::prelude::*;

fn segment() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9_-]{0,11}"
}

proptest! {
    #[test]
    fn credentials_never_survive(user in "[a-zA-Z0-9_-]{1,12}", secret in "[A-Z][A-Za-z0-9]{7,23}", host in segment(), owner in segment(), repo in segment()) {
        let host = format!("{host}.example");
        for input in [
            format!("https://{user}:{secret}@{host}/{owner}/{repo}.git"),
            format!("ssh://{user}:{secret}@{host}:2222/{owner}/{repo}"),
            format!("{user}@{host}:{owner}/{repo}.git"),
        ] {
            let url = RepoUrl::parse(&input).unwrap();
            prop_assert!(!url.as_str().contains(&secret));
            prop_assert_eq!(url.as_str(), format!("https://{host}/{owner}/{repo}"));
            let uri = url.git_uri(Some("refs/heads/main"));
            prop_assert_eq!(split_git_uri(&uri), (url.as_str().to_owned(), Some("refs/heads/main".to_owned())));
        }
    }

    #[test]
    fn versioned_tags_match_their_prefixes_only(a in 0u32..50, b in 0u32..50, c in 0u32..50) {
        let statement = |tag: &str| serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "x", "digest": {"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {
                    "buildType": "t",
                    "externalParameters": {},
                    "resolvedDependencies": [{"uri": format!("git+https://h/o/r@refs/tags/{tag}"), "digest": {"gitCommit": "ffac537e6cbbf934b08745a378932722df287a53"}}]
                },
                "runDetails": {"builder": {"id": "https://b"}}
            }
        });
        let st = statement(&format!("v{a}.{b}.{c}"));
        let check = |rule: RefRule| {
            let mut p = Policy::new(vec![BuilderRule { id: "https://b".into(), level: 1 }]);
            p.source_ref = Some(rule);
            verify(&st, None, &p).passed
        };
        assert!(check(RefRule::VersionedTag(format!("v{a}"))));
        assert!(check(RefRule::VersionedTag(format!("v{a}.{b}"))));
        assert!(check(RefRule::VersionedTag(format!("v{a}.{b}.{c}"))));
        assert!(!check(RefRule::VersionedTag(format!("v{}", a + 1))));
        assert!(!check(RefRule::VersionedTag(format!("v{a}.{}", b + 1))));
        assert!(!check(RefRule::Branch(format!("v{a}.{b}.{c}"))));
        assert!(check(RefRule::Tag(format!("v{a}.{b}.{c}"))));
    }

    #[test]
    fn merge_is_sorted_and_idempotent(names in proptest::collection::vec(segment(), 1..20)) {
        let subjects: Vec<Subject> = names.iter().map(|n| Subject {
            name: n.clone(),
            digest: BTreeMap::from([("sha256".to_owned(), format!("{:064x}", n.len()))]),
        }).collect();
        let merged = merge(subjects.clone()).unwrap();
        prop_assert!(merged.windows(2).all(|w| w[0].name < w[1].name));
        prop_assert_eq!(merge(merged.clone()).unwrap(), merged.clone());
        let mut doubled = subjects.clone();
        doubled.extend(subjects);
        prop_assert_eq!(merge(doubled).unwrap(), merged);
    }

    #[test]
    fn checksum_files_round_trip(entries in proptest::collection::vec((segment(), proptest::array::uniform32(any::<u8>()), any::<bool>()), 1..10)) {
        let text: String = entries.iter().map(|(n, d, binary)| format!("{}{}{}\n", hex::encode(d), if *binary { " *" } else { "  " }, n)).collect();
        let parsed = parse_checksums(Path::new("SUMS"), text.as_bytes()).unwrap();
        prop_assert_eq!(parsed.len(), entries.len());
        for ((n, d, _), s) in entries.iter().zip(&parsed) {
            prop_assert_eq!(&s.name, n);
            prop_assert_eq!(&s.digest["sha256"], &hex::encode(d));
        }
    }
}
