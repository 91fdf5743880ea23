//! Legacy in-toto metablock signing and verification: hex signatures over the OLPC canonical
//! JSON of the `signed` value exactly as received.

use cairn_model::metablock::{Metablock, MetablockSignature};
use serde_json::Map;

use crate::error::{Error, SignError, VerifyError};
use crate::public::PublicKey;
use crate::verify::{self, RawSignature, ThresholdVerdict, TrustedKey, Verdict};
use crate::{KeyId, Signer};

/// Signs the metablock's `signed` value, replacing an earlier signature with the same key id
/// (as in-toto does).
pub fn sign(mb: &mut Metablock, signer: &dyn Signer) -> Result<(), SignError> {
    let bytes = mb.signed_bytes().map_err(SignError::Canonical)?;
    let sig = hex::encode(signer.sign(&bytes)?);
    let keyid = signer.key_id().as_str().to_string();
    mb.signatures.retain(|s| s.keyid != keyid);
    mb.signatures.push(MetablockSignature {
        keyid,
        sig,
        extra: Map::new(),
    });
    Ok(())
}

fn raw(mb: &Metablock) -> Vec<RawSignature<'_>> {
    mb.signatures
        .iter()
        .map(|s| RawSignature {
            keyid: &s.keyid,
            sig: hex::decode(&s.sig).map_err(|_| VerifyError::Encoding { encoding: "hex" }),
        })
        .collect()
}

/// Checks whether `key` signed the metablock.
pub fn verify(mb: &Metablock, key: &PublicKey) -> Result<Verdict, Error> {
    let bytes = mb.signed_bytes().map_err(Error::Canonical)?;
    Ok(verify::verify_one(&bytes, &raw(mb), key, None, &[]))
}

/// Like [`verify`], with the id a trust source (a layout) declares for the key.
pub fn verify_with_key_id(
    mb: &Metablock,
    key: &PublicKey,
    declared: &KeyId,
) -> Result<Verdict, Error> {
    let bytes = mb.signed_bytes().map_err(Error::Canonical)?;
    Ok(verify::verify_one(
        &bytes,
        &raw(mb),
        key,
        Some(declared),
        &[],
    ))
}

/// Counts the distinct trusted keys that signed the metablock.
pub fn verify_threshold(
    mb: &Metablock,
    keys: &[TrustedKey],
    threshold: usize,
) -> Result<ThresholdVerdict, Error> {
    let bytes = mb.signed_bytes().map_err(Error::Canonical)?;
    verify::verify_threshold(&bytes, &raw(mb), keys, threshold)
}
