//! An RFC 6962 Merkle tree: leaf and node hashes, roots and inclusion proofs.

use sha2::{Digest, Sha256};

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

fn node(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// Merkle tree hash of `leaves` (leaf hashes).
pub fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path for leaf `m` in the tree of `leaves`, leaf to root.
pub fn inclusion_proof(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = inclusion_proof(m, &leaves[..k]);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = inclusion_proof(m - k, &leaves[k..]);
        p.push(root(&leaves[..k]));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recomputes the root from a proof (RFC 9162 §2.1.3.2) to check the tree code.
    fn verify(index: usize, size: usize, leaf: [u8; 32], proof: &[[u8; 32]]) -> [u8; 32] {
        let (mut fnn, mut snn) = (index, size - 1);
        let mut r = leaf;
        for p in proof {
            if fnn & 1 == 1 || fnn == snn {
                r = node(p, &r);
                while fnn & 1 == 0 && fnn != 0 {
                    fnn >>= 1;
                    snn >>= 1;
                }
            } else {
                r = node(&r, p);
            }
            fnn >>= 1;
            snn >>= 1;
        }
        r
    }

    #[test]
    fn proofs_verify_for_every_leaf_and_size() {
        let leaves: Vec<_> = (0..23u8).map(|i| leaf_hash(&[i])).collect();
        for size in 1..=leaves.len() {
            let r = root(&leaves[..size]);
            for m in 0..size {
                let p = inclusion_proof(m, &leaves[..size]);
                assert_eq!(verify(m, size, leaves[m], &p), r, "m={m} size={size}");
            }
        }
    }
}
