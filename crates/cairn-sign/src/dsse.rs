//! DSSE signing and verification over `PAE(payloadType, payload)` of the received envelope.

use cairn_model::dsse::{Envelope, Signature};

use crate::error::{Error, SignError};
use crate::public::PublicKey;
use crate::verify::{self, RawSignature, ThresholdVerdict, TrustedKey, Verdict};
use crate::{KeyId, Signer};

/// Signs `payload` as `payload_type` into a new envelope with one signature.
pub fn sign(
    payload_type: &str,
    payload: Vec<u8>,
    signer: &dyn Signer,
) -> Result<Envelope, SignError> {
    let mut env = Envelope {
        payload,
        payload_type: payload_type.to_string(),
        signatures: Vec::new(),
    };
    add_signature(&mut env, signer)?;
    Ok(env)
}

/// Adds a signature by `signer` to an envelope (replacing an earlier one with the same key id).
pub fn add_signature(env: &mut Envelope, signer: &dyn Signer) -> Result<(), SignError> {
    let sig = signer.sign(&env.pae())?;
    let keyid = signer.key_id().as_str().to_string();
    env.signatures
        .retain(|s| s.keyid != keyid || keyid.is_empty());
    env.signatures.push(Signature { keyid, sig });
    Ok(())
}

fn raw(env: &Envelope) -> Vec<RawSignature<'_>> {
    env.signatures
        .iter()
        .map(|s| RawSignature {
            keyid: &s.keyid,
            sig: Ok(s.sig.clone()),
        })
        .collect()
}

/// Checks whether `key` signed the envelope.
pub fn verify(env: &Envelope, key: &PublicKey) -> Verdict {
    verify::verify_one(&env.pae(), &raw(env), key, None, &[])
}

/// Like [`verify`], with the id a trust source declares for the key.
pub fn verify_with_key_id(env: &Envelope, key: &PublicKey, declared: &KeyId) -> Verdict {
    verify::verify_one(&env.pae(), &raw(env), key, Some(declared), &[])
}

/// Counts the distinct trusted keys that signed the envelope (DSSE protocol.md
/// "Multi-signature Verification").
pub fn verify_threshold(
    env: &Envelope,
    keys: &[TrustedKey],
    threshold: usize,
) -> Result<ThresholdVerdict, Error> {
    verify::verify_threshold(&env.pae(), &raw(env), keys, threshold)
}
