//! Matching signatures to keys: verdicts for one key and for a threshold of distinct keys.

use serde::Serialize;

use crate::error::{Error, VerifyError};
use crate::keyid::KeyIdRule;
use crate::public::PublicKey;
use crate::{KeyId, Verifier};

/// How a signature was tied to the key that verified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "by", content = "rule")]
pub enum KeyMatch {
    /// The signature's declared key id is the key's id under this rule.
    KeyId(KeyIdRule),
    /// The signature's declared key id is the id the caller declared for the key (e.g. the
    /// key's entry in a layout), which neither rule reproduces.
    DeclaredKeyId,
    /// The declared key id did not match; the signature verified when the supplied key was
    /// tried anyway (DSSE key ids are hints; implementations disagree on key ids).
    TriedKey,
}

/// The signature that verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureMatch {
    /// Position of the signature in the envelope or metablock.
    pub index: usize,
    /// The key id the signature declared.
    pub keyid: String,
    /// How it was tied to the key.
    pub matched_by: KeyMatch,
}

/// Why a signature did not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// Position of the signature (`None`: about the whole document).
    pub index: Option<usize>,
    /// The key id the signature declared.
    pub keyid: Option<String>,
    /// The reason.
    pub reason: RejectReason,
}

/// The reason in a [`Rejection`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case", tag = "kind")]
#[non_exhaustive]
pub enum RejectReason {
    /// There are no signatures at all.
    #[error("the document has no signatures")]
    NoSignatures,
    /// The signature's key id names the key, but the signature does not verify.
    #[error("signature by this key id does not verify: {error}")]
    BadSignature {
        /// Why.
        #[serde(serialize_with = "display")]
        error: VerifyError,
    },
    /// The key id names another key and the signature does not verify with this key either.
    #[error("signature is by another key")]
    OtherKey,
    /// More signatures than any honest document carries; none was checked.
    #[error("the document has {count} signatures (at most {max} are checked)")]
    TooManySignatures {
        /// How many there are.
        count: usize,
        /// The limit.
        max: usize,
    },
}

/// Most signatures cairn checks on one document: every key is tried against every signature
/// whose key id does not match, so this bounds the work a hostile document can cause.
pub const MAX_SIGNATURES: usize = 256;

fn display<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// The outcome of checking a document's signatures against one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum Verdict {
    /// A signature by the key verified.
    Verified(SignatureMatch),
    /// No signature by the key verified; one rejection per signature says why.
    Rejected {
        /// The reasons.
        rejections: Vec<Rejection>,
    },
}

impl Verdict {
    /// Whether a signature verified.
    pub fn is_verified(&self) -> bool {
        matches!(self, Verdict::Verified(_))
    }
}

/// One signature as found in a document: declared key id and signature bytes (or the reason
/// they could not be decoded).
pub(crate) struct RawSignature<'a> {
    pub keyid: &'a str,
    pub sig: Result<Vec<u8>, VerifyError>,
}

fn key_match(key: &PublicKey, declared: Option<&KeyId>, keyid: &str) -> Option<KeyMatch> {
    if keyid.is_empty() {
        return None;
    }
    if let Some(rule) = key.key_ids().rule_of(keyid) {
        return Some(KeyMatch::KeyId(rule));
    }
    if declared.is_some_and(|d| d.as_str() == keyid) {
        return Some(KeyMatch::DeclaredKeyId);
    }
    None
}

/// Signatures whose key id names the key are tried first; then every other signature is tried
/// with the key (reported as [`KeyMatch::TriedKey`]).
pub(crate) fn verify_one(
    msg: &[u8],
    sigs: &[RawSignature<'_>],
    key: &PublicKey,
    declared: Option<&KeyId>,
    skip: &[usize],
) -> Verdict {
    if sigs.is_empty() {
        return Verdict::Rejected {
            rejections: vec![Rejection {
                index: None,
                keyid: None,
                reason: RejectReason::NoSignatures,
            }],
        };
    }
    if sigs.len() > MAX_SIGNATURES {
        return Verdict::Rejected {
            rejections: vec![Rejection {
                index: None,
                keyid: None,
                reason: RejectReason::TooManySignatures {
                    count: sigs.len(),
                    max: MAX_SIGNATURES,
                },
            }],
        };
    }
    let mut rejections = Vec::new();
    let matched: Vec<(usize, Option<KeyMatch>)> = sigs
        .iter()
        .enumerate()
        .filter(|(i, _)| !skip.contains(i))
        .map(|(i, s)| (i, key_match(key, declared, s.keyid)))
        .collect();
    let ordered = matched
        .iter()
        .filter(|(_, m)| m.is_some())
        .chain(matched.iter().filter(|(_, m)| m.is_none()));
    for (index, m) in ordered {
        let raw = &sigs[*index];
        let result = raw.sig.clone().and_then(|sig| key.verify(msg, &sig));
        match (result, m) {
            (Ok(()), m) => {
                return Verdict::Verified(SignatureMatch {
                    index: *index,
                    keyid: raw.keyid.to_string(),
                    matched_by: m.unwrap_or(KeyMatch::TriedKey),
                });
            }
            (Err(error), Some(_)) => rejections.push(Rejection {
                index: Some(*index),
                keyid: Some(raw.keyid.to_string()),
                reason: RejectReason::BadSignature { error },
            }),
            (Err(_), None) => rejections.push(Rejection {
                index: Some(*index),
                keyid: Some(raw.keyid.to_string()),
                reason: RejectReason::OtherKey,
            }),
        }
    }
    rejections.sort_by_key(|r| r.index);
    Verdict::Rejected { rejections }
}

/// A key trusted for a threshold check, with the id its trust source declares for it (a
/// layout's `keys` map, a `pubkeys` list), if any.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The key.
    pub key: PublicKey,
    /// The declared id, if any.
    pub keyid: Option<KeyId>,
}

impl From<PublicKey> for TrustedKey {
    fn from(key: PublicKey) -> Self {
        TrustedKey { key, keyid: None }
    }
}

/// One distinct key that signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptedKey {
    /// Index of the key in the list passed in (its first occurrence).
    pub key_index: usize,
    /// The signature that verified with it.
    pub signature: SignatureMatch,
}

/// The outcome of a threshold check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThresholdVerdict {
    /// Distinct keys required.
    pub threshold: usize,
    /// Distinct keys that signed.
    pub accepted: Vec<AcceptedKey>,
    /// For each key with no valid signature, why (keyed by key index).
    pub unmatched: Vec<(usize, Verdict)>,
}

impl ThresholdVerdict {
    /// Whether at least `threshold` distinct keys signed.
    pub fn is_met(&self) -> bool {
        self.accepted.len() >= self.threshold
    }
}

/// Counts the distinct keys among `keys` that produced a valid signature. The same key listed
/// twice (say under two key ids) counts once, and one signature counts for one key only.
pub(crate) fn verify_threshold(
    msg: &[u8],
    sigs: &[RawSignature<'_>],
    keys: &[TrustedKey],
    threshold: usize,
) -> Result<ThresholdVerdict, Error> {
    if threshold == 0 {
        return Err(Error::ZeroThreshold);
    }
    let mut accepted: Vec<AcceptedKey> = Vec::new();
    let mut unmatched = Vec::new();
    let mut seen_keys: Vec<&[u8]> = Vec::new();
    let mut used_sigs: Vec<usize> = Vec::new();
    for (key_index, trusted) in keys.iter().enumerate() {
        // Identity of a key is its public key material, whatever id or scheme it came with.
        let material = trusted.key.to_spki_der();
        if seen_keys.contains(&material) {
            continue;
        }
        seen_keys.push(material);
        match verify_one(msg, sigs, &trusted.key, trusted.keyid.as_ref(), &used_sigs) {
            Verdict::Verified(m) => {
                used_sigs.push(m.index);
                accepted.push(AcceptedKey {
                    key_index,
                    signature: m,
                });
            }
            rejected => unmatched.push((key_index, rejected)),
        }
    }
    Ok(ThresholdVerdict {
        threshold,
        accepted,
        unmatched,
    })
}
