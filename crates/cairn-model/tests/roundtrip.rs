//! Property tests: every model survives JSON (and, for legacy metadata, canonical JSON) round
//! trips, unknown fields included; rules survive `to_vec`/`parse` in any keyword case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use cairn_model::dsse::Signature;
use cairn_model::key::{KeyVal, PublicKey};
use cairn_model::statement::{STATEMENT_V1, StatementType};
use cairn_model::{
    ArtifactRule, DestinationType, DigestSet, Envelope, Inspection, KeyId, Layout, LayoutKey, Link,
    Metablock, ResourceDescriptor, Statement, Step, Timestamp, canonical, digest, json,
};
use chrono::{TimeZone, Utc};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn text() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..10).prop_map(String::from_iter)
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    btree_map(text(), json_value(), 0..4).prop_map(|m| m.into_iter().collect())
}

/// Unknown fields: keys that no model declares.
fn extra() -> impl Strategy<Value = Map<String, Value>> {
    btree_map(text().prop_map(|k| format!("x-{k}")), json_value(), 0..3)
        .prop_map(|m| m.into_iter().collect())
}

const KNOWN_ALGS: &[&str] = &[
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512_224",
    "sha512_256",
    "sha3_224",
    "sha3_256",
    "sha3_384",
    "sha3_512",
    "gitCommit",
    "gitBlob",
    "dirHash",
];

fn digest_set() -> impl Strategy<Value = DigestSet> {
    let known =
        (0..KNOWN_ALGS.len(), any::<bool>(), vec(any::<u8>(), 64)).prop_map(|(i, long, bytes)| {
            let alg = KNOWN_ALGS[i];
            let lens = digest::known_hex_lengths(alg).unwrap();
            let len = if long { lens[lens.len() - 1] } else { lens[0] };
            (alg.to_owned(), hex::encode(bytes)[..len].to_owned())
        });
    let unknown = (text().prop_map(|a| format!("custom-{a}")), text());
    vec(prop_oneof![known, unknown], 0..4).prop_map(|pairs| {
        DigestSet::try_from(pairs.into_iter().collect::<BTreeMap<_, _>>())
            .expect("generated digests are valid")
    })
}

fn descriptor() -> impl Strategy<Value = ResourceDescriptor> {
    (
        option::of(text()),
        option::of(text()),
        option::of(digest_set()),
        option::of(vec(any::<u8>(), 0..16)),
        option::of(text()),
        option::of(text()),
        option::of(object()),
        extra(),
    )
        .prop_map(
            |(name, uri, digest, content, download_location, media_type, annotations, extra)| {
                ResourceDescriptor {
                    name,
                    uri,
                    digest,
                    content,
                    download_location,
                    media_type,
                    annotations,
                    extra,
                }
            },
        )
}

fn statement() -> impl Strategy<Value = Statement> {
    let kind = prop_oneof![
        Just(StatementType::V1),
        Just(StatementType::V0_1),
        text().prop_map(|t| StatementType::Unknown(format!("urn:other:{t}"))),
    ];
    (kind, vec(descriptor(), 0..3), text(), object(), extra()).prop_map(
        |(statement_type, subject, predicate_type, predicate, extra)| {
            let mut st = Statement::new(subject, predicate_type, Value::Object(predicate));
            st.statement_type = statement_type;
            st.extra = extra;
            st
        },
    )
}

fn artifacts() -> impl Strategy<Value = BTreeMap<String, DigestSet>> {
    btree_map(text(), digest_set(), 0..4)
}

fn link() -> impl Strategy<Value = Link> {
    (
        text(),
        artifacts(),
        artifacts(),
        object(),
        vec(text(), 0..4),
        object(),
        extra(),
    )
        .prop_map(
            |(name, materials, products, byproducts, command, environment, extra)| {
                let mut l = Link::new(name);
                l.materials = materials;
                l.products = products;
                l.byproducts = byproducts;
                l.command = command;
                l.environment = environment;
                l.extra = extra;
                l
            },
        )
}

fn rule() -> impl Strategy<Value = ArtifactRule> {
    let generic = (0..6usize, text()).prop_map(|(k, p)| match k {
        0 => ArtifactRule::Create(p),
        1 => ArtifactRule::Delete(p),
        2 => ArtifactRule::Modify(p),
        3 => ArtifactRule::Allow(p),
        4 => ArtifactRule::Disallow(p),
        _ => ArtifactRule::Require(p),
    });
    let matching = (
        text(),
        option::of(text()),
        any::<bool>(),
        option::of(text()),
        text(),
    )
        .prop_map(
            |(pattern, source_prefix, products, destination_prefix, step)| ArtifactRule::Match {
                pattern,
                source_prefix,
                destination_type: if products {
                    DestinationType::Products
                } else {
                    DestinationType::Materials
                },
                destination_prefix,
                destination_step: step,
            },
        );
    prop_oneof![generic, matching]
}

fn step() -> impl Strategy<Value = Step> {
    (
        text(),
        vec(rule(), 0..3),
        vec(rule(), 0..3),
        vec(text().prop_map(KeyId::from), 0..3),
        vec(text(), 0..3),
        1..5u32,
        extra(),
    )
        .prop_map(|(name, em, ep, pubkeys, cmd, threshold, extra)| {
            let mut s = Step::new(name);
            s.expected_materials = em;
            s.expected_products = ep;
            s.pubkeys = pubkeys;
            s.expected_command = cmd;
            s.threshold = threshold;
            s.extra = extra;
            s
        })
}

fn inspection() -> impl Strategy<Value = Inspection> {
    (
        text(),
        vec(rule(), 0..3),
        vec(rule(), 0..3),
        vec(text(), 0..3),
        extra(),
    )
        .prop_map(|(name, em, ep, run, extra)| {
            let mut i = Inspection::new(name, run);
            i.expected_materials = em;
            i.expected_products = ep;
            i.extra = extra;
            i
        })
}

fn layout_key() -> impl Strategy<Value = LayoutKey> {
    let ssl = (
        text(),
        text(),
        text(),
        option::of(text()),
        option::of(vec(text(), 0..3)),
        option::of(text().prop_map(KeyId::from)),
        extra(),
        extra(),
    )
        .prop_map(
            |(keytype, scheme, public, private, algs, keyid, kv_extra, extra)| {
                LayoutKey::Key(PublicKey {
                    keytype,
                    scheme,
                    keyval: KeyVal {
                        public,
                        private,
                        extra: kv_extra,
                    },
                    keyid_hash_algorithms: algs,
                    keyid,
                    extra,
                })
            },
        );
    let pgp = (text(), text(), extra()).prop_map(|(t, m, mut extra)| {
        extra.insert("type".into(), Value::String(t));
        extra.insert("method".into(), Value::String(m));
        LayoutKey::OpenPgp(extra)
    });
    prop_oneof![ssl, pgp]
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        0..4_102_444_800i64,
        text(),
        btree_map(text().prop_map(KeyId::from), layout_key(), 0..3),
        vec(step(), 0..3),
        vec(inspection(), 0..2),
        extra(),
    )
        .prop_map(|(secs, readme, keys, steps, inspect, extra)| {
            let at = Utc.timestamp_opt(secs, 0).single().expect("in range");
            let mut l = Layout::new(Timestamp::from_datetime(at));
            l.readme = readme;
            l.keys = keys;
            l.steps = steps;
            l.inspect = inspect;
            l.extra = extra;
            l
        })
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        vec(any::<u8>(), 0..64),
        text(),
        vec((text(), vec(any::<u8>(), 0..32)), 0..3),
    )
        .prop_map(|(payload, payload_type, sigs)| Envelope {
            payload,
            payload_type,
            signatures: sigs
                .into_iter()
                .map(|(keyid, sig)| Signature { keyid, sig })
                .collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn digest_sets_round_trip_and_stay_valid(d in digest_set()) {
        let bytes = serde_json::to_vec(&d).unwrap();
        let back: DigestSet = json::from_slice(&bytes).unwrap();
        prop_assert!(back.validate().is_ok());
        prop_assert_eq!(back, d);
    }

    #[test]
    fn corrupted_known_digests_are_rejected(i in 0..KNOWN_ALGS.len(), cut in 1usize..8, upper in any::<bool>()) {
        let alg = KNOWN_ALGS[i];
        let len = digest::known_hex_lengths(alg).unwrap()[0];
        let good = "ab".repeat(64)[..len].to_owned();
        let bad = if upper { good.to_uppercase() } else { good[..len - cut].to_owned() };
        prop_assert!(digest::validate_digest(alg, &good).is_ok());
        prop_assert!(digest::validate_digest(alg, &bad).is_err());
    }

    #[test]
    fn resource_descriptors_round_trip(rd in descriptor()) {
        let bytes = serde_json::to_vec(&rd).unwrap();
        prop_assert_eq!(json::from_slice::<ResourceDescriptor>(&bytes).unwrap(), rd);
    }

    #[test]
    fn statements_round_trip_with_unknown_fields(st in statement()) {
        let back = Statement::from_slice_unvalidated(&st.to_vec()).unwrap();
        prop_assert_eq!(&back, &st);
        if !st.extra.is_empty() {
            let v: Value = serde_json::from_slice(&back.to_vec()).unwrap();
            for k in st.extra.keys() {
                prop_assert!(v.get(k).is_some());
            }
        }
        prop_assert_eq!(st.statement_type == StatementType::V1, back.to_vec().windows(STATEMENT_V1.len()).any(|w| w == STATEMENT_V1.as_bytes()));
    }

    #[test]
    fn links_round_trip_and_keep_their_canonical_bytes(l in link()) {
        // Written as a file would be, read back strictly: same link, same signed bytes.
        // (Canonical JSON itself is not re-read: it writes control characters raw.)
        let signed = l.to_signed_value();
        let file = Metablock::unsigned(signed.clone()).to_pretty_json();
        let block = Metablock::from_slice(&file).unwrap();
        prop_assert_eq!(&block.signed, &signed);
        let back = Link::from_signed(&block.signed).unwrap();
        prop_assert_eq!(&back, &l);
        prop_assert_eq!(
            canonical::to_vec(&back.to_signed_value()).unwrap(),
            block.signed_bytes().unwrap()
        );
    }

    #[test]
    fn layouts_round_trip_and_keep_their_canonical_bytes(l in layout()) {
        let signed = l.to_signed_value();
        let file = Metablock::unsigned(signed.clone()).to_pretty_json();
        let block = Metablock::from_slice(&file).unwrap();
        let back = Layout::from_signed(&block.signed).unwrap();
        prop_assert_eq!(&back, &l);
        prop_assert_eq!(
            canonical::to_vec(&back.to_signed_value()).unwrap(),
            canonical::to_vec(&signed).unwrap()
        );
    }

    #[test]
    fn rules_round_trip_in_any_keyword_case(r in rule(), lower in vec(any::<bool>(), 10)) {
        let mut written = r.to_vec();
        prop_assert_eq!(ArtifactRule::parse(&written).unwrap(), r.clone());
        // Flip the case of keywords only (even positions hold keywords or the pattern at 1).
        let keyword_positions: Vec<usize> = match &r {
            ArtifactRule::Match { .. } => (0..written.len()).filter(|i| i % 2 == 0 && *i + 1 != written.len()).collect(),
            _ => vec![0],
        };
        for i in keyword_positions {
            if lower[i] {
                written[i] = written[i].to_lowercase();
            }
        }
        prop_assert_eq!(ArtifactRule::parse(&written).unwrap(), r);
    }

    #[test]
    fn envelopes_round_trip(e in envelope()) {
        let bytes = serde_json::to_vec(&e).unwrap();
        prop_assert_eq!(json::from_slice::<Envelope>(&bytes).unwrap(), e);
    }
}
