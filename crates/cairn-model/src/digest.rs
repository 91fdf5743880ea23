//! `DigestSet`: a map from hash algorithm to encoded digest, as in-toto links and
//! ResourceDescriptors carry them.
//!
//! The rules are those of in-toto/attestation `spec/v1/digest_set.md` and its Go validator: a
//! digest for a *known* algorithm must be lowercase hex of that algorithm's length; an algorithm
//! we do not know is kept exactly as given (any value). Reading JSON never rejects a digest (the
//! map may be covered by a signature and must survive untouched); call
//! [`DigestSet::validate`] before trusting one. Building one with [`DigestSet::insert`] or
//! `TryFrom` validates.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Hex lengths (in characters) of the algorithms whose encoding the spec fixes.
///
/// `gitBlob`/`gitCommit`/`gitTag`/`gitTree` are SHA-1 or SHA-256 object ids (SHA-256 git repos).
const KNOWN: &[(&str, &[usize])] = &[
    ("md5", &[32]),
    ("sha1", &[40]),
    ("sha224", &[56]),
    ("sha512_224", &[56]),
    ("sha3_224", &[56]),
    ("sha256", &[64]),
    ("sha512_256", &[64]),
    ("sha3_256", &[64]),
    ("dirHash", &[64]),
    ("sha384", &[96]),
    ("sha3_384", &[96]),
    ("sha512", &[128]),
    ("sha3_512", &[128]),
    ("gitBlob", &[40, 64]),
    ("gitCommit", &[40, 64]),
    ("gitTag", &[40, 64]),
    ("gitTree", &[40, 64]),
];

/// The hex lengths a known algorithm's digest may have, or `None` for an algorithm whose encoding
/// cairn does not check.
pub fn known_hex_lengths(algorithm: &str) -> Option<&'static [usize]> {
    KNOWN
        .iter()
        .find(|(name, _)| *name == algorithm)
        .map(|(_, lens)| *lens)
}

/// Why a digest is not acceptable for its algorithm.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestError {
    /// The digest of a known algorithm is not lowercase hex (or has an odd number of digits).
    #[error("{algorithm} digest {value:?} is not lowercase hex")]
    Encoding {
        /// The algorithm name.
        algorithm: String,
        /// The offending value.
        value: String,
    },
    /// The digest of a known algorithm has the wrong length.
    #[error(
        "{algorithm} digest has {actual} hex characters, expected {}",
        expected_text(expected)
    )]
    Length {
        /// The algorithm name.
        algorithm: String,
        /// Allowed lengths in hex characters.
        expected: Vec<usize>,
        /// Length found.
        actual: usize,
    },
    /// An algorithm name is empty.
    #[error("digest algorithm name is empty")]
    EmptyAlgorithm,
}

fn expected_text(lens: &[usize]) -> String {
    lens.iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Checks one `(algorithm, digest)` pair against the spec's rules.
pub fn validate_digest(algorithm: &str, value: &str) -> Result<(), DigestError> {
    if algorithm.is_empty() {
        return Err(DigestError::EmptyAlgorithm);
    }
    let Some(lens) = known_hex_lengths(algorithm) else {
        return Ok(());
    };
    // An odd number of hex digits does not encode bytes: an encoding error, as in the Go
    // validator (hex.DecodeString), rather than a length error.
    if !value.len().is_multiple_of(2)
        || !value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(DigestError::Encoding {
            algorithm: algorithm.to_owned(),
            value: value.to_owned(),
        });
    }
    if !lens.contains(&value.len()) {
        return Err(DigestError::Length {
            algorithm: algorithm.to_owned(),
            expected: lens.to_vec(),
            actual: value.len(),
        });
    }
    Ok(())
}

/// A set of digests of one artifact, keyed by algorithm name (`sha256`, `gitCommit`, ...).
///
/// Serialises as a plain JSON object. See the module docs for when it is validated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DigestSet(BTreeMap<String, String>);

impl DigestSet {
    /// An empty set.
    pub fn new() -> Self {
        DigestSet(BTreeMap::new())
    }

    /// A set with one digest, validated.
    pub fn with(algorithm: &str, digest: &str) -> Result<Self, DigestError> {
        let mut set = DigestSet::new();
        set.insert(algorithm, digest)?;
        Ok(set)
    }

    /// A set of one SHA-256 digest given as raw bytes (hex-encoded here).
    pub fn sha256(digest: &[u8; 32]) -> Self {
        let mut map = BTreeMap::new();
        map.insert("sha256".to_owned(), hex::encode(digest));
        DigestSet(map)
    }

    /// A set of one digest given as raw bytes, hex-encoded and validated (e.g.
    /// `DigestSet::from_bytes("sha512", &hash)`).
    pub fn from_bytes(algorithm: &str, digest: &[u8]) -> Result<Self, DigestError> {
        DigestSet::with(algorithm, &hex::encode(digest))
    }

    /// A set taken as given, without validation (for data read from elsewhere; call
    /// [`DigestSet::validate`] before relying on it).
    pub fn from_map_unchecked(map: BTreeMap<String, String>) -> Self {
        DigestSet(map)
    }

    /// Adds a validated digest; returns the digest it replaced.
    pub fn insert(&mut self, algorithm: &str, digest: &str) -> Result<Option<String>, DigestError> {
        validate_digest(algorithm, digest)?;
        Ok(self.0.insert(algorithm.to_owned(), digest.to_owned()))
    }

    /// Checks every entry: known algorithms must be lowercase hex of the right length.
    pub fn validate(&self) -> Result<(), DigestError> {
        self.0.iter().try_for_each(|(a, v)| validate_digest(a, v))
    }

    /// The digest for `algorithm`, if present.
    pub fn get(&self, algorithm: &str) -> Option<&str> {
        self.0.get(algorithm).map(String::as_str)
    }

    /// `(algorithm, digest)` pairs in algorithm order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(a, v)| (a.as_str(), v.as_str()))
    }

    /// Number of algorithms.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no digest at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The underlying map.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// The underlying map, by value.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }

    /// True when both sets share at least one algorithm and agree on every shared algorithm
    /// (how in-toto compares artifacts recorded with possibly different algorithm sets).
    pub fn matches(&self, other: &DigestSet) -> bool {
        let mut shared = 0;
        for (alg, v) in &self.0 {
            if let Some(w) = other.0.get(alg) {
                if v != w {
                    return false;
                }
                shared += 1;
            }
        }
        shared > 0
    }
}

impl TryFrom<BTreeMap<String, String>> for DigestSet {
    type Error = DigestError;

    fn try_from(map: BTreeMap<String, String>) -> Result<Self, DigestError> {
        let set = DigestSet(map);
        set.validate()?;
        Ok(set)
    }
}

impl fmt::Display for DigestSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (a, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}:{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_lengths_and_encoding() {
        assert!(validate_digest("sha256", &"a".repeat(64)).is_ok());
        assert!(validate_digest("gitCommit", &"0".repeat(40)).is_ok());
        assert!(validate_digest("gitCommit", &"0".repeat(64)).is_ok());
        assert_eq!(
            validate_digest("gitCommit", &"0".repeat(50)),
            Err(DigestError::Length {
                algorithm: "gitCommit".into(),
                expected: vec![40, 64],
                actual: 50
            })
        );
        assert!(matches!(
            validate_digest("sha256", &"A".repeat(64)),
            Err(DigestError::Encoding { .. })
        ));
        assert!(matches!(
            validate_digest("md5", "abcd"),
            Err(DigestError::Length { .. })
        ));
        assert!(matches!(
            validate_digest("md5", "abc"),
            Err(DigestError::Encoding { .. })
        ));
        assert!(validate_digest("gce_image_id", "not hex at all").is_ok());
        assert_eq!(validate_digest("", "x"), Err(DigestError::EmptyAlgorithm));
    }

    #[test]
    fn reading_keeps_bad_digests_but_validate_reports_them() {
        let set: DigestSet = serde_json::from_str(r#"{"sha256":"4faeb1b2..."}"#).unwrap();
        assert_eq!(set.get("sha256"), Some("4faeb1b2..."));
        assert!(matches!(set.validate(), Err(DigestError::Encoding { .. })));
    }

    #[test]
    fn from_bytes_checks_the_length() {
        assert_eq!(
            DigestSet::from_bytes("sha512", &[1; 64])
                .unwrap()
                .get("sha512"),
            Some("01".repeat(64).as_str())
        );
        assert!(DigestSet::from_bytes("sha512", &[1; 32]).is_err());
        assert_eq!(
            DigestSet::from_bytes("sha256", &[0xab; 32]).unwrap(),
            DigestSet::sha256(&[0xab; 32])
        );
    }

    #[test]
    fn matches_requires_a_shared_algorithm() {
        let a = DigestSet::with("sha256", &"a".repeat(64)).unwrap();
        let mut b = a.clone();
        b.insert("sha512", &"b".repeat(128)).unwrap();
        assert!(a.matches(&b));
        let c = DigestSet::with("sha512", &"b".repeat(128)).unwrap();
        assert!(!a.matches(&c));
        let d = DigestSet::with("sha256", &"c".repeat(64)).unwrap();
        assert!(!a.matches(&d));
    }
}
