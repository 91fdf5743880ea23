//! OCI references: `registry/repo[:tag][@digest]`, `oci:DIR[:TAG]`, `oci-layout:...`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = cairn_oci::OciRef::parse(text) {
        // What parses prints, and the printed form parses to the same reference.
        let shown = r.to_string();
        let again = cairn_oci::OciRef::parse(&shown).expect("a printed reference parses");
        assert_eq!(again.to_string(), shown);
        let _ = r.repository_ref();
        let _ = r.name();
        let _ = r.with_tag("latest");
    }
    let _ = text.parse::<cairn_oci::Digest>();
});
