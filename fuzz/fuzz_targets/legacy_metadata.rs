//! Legacy in-toto metadata: metablocks, links, layouts (with their artifact rules), and
//! artifact rules given as text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mb) = cairn_model::Metablock::from_slice(data) {
        let _ = mb.signed_bytes();
        let _ = cairn_model::Link::from_signed(&mb.signed);
        let _ = cairn_model::Layout::from_signed(&mb.signed);
    }
    // Artifact rules as whitespace-separated words, one rule per line.
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines().take(64) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let _ = cairn_model::ArtifactRule::parse(&words);
        }
    }
});
