//! DSSE envelopes: strict JSON, base64 payload and signatures, PAE of whatever parses.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = cairn_model::Envelope::from_slice(data) {
        let pae = env.pae();
        assert!(pae.starts_with(b"DSSEv1 "));
        // Whatever the envelope carries is then read as an in-toto statement.
        let _ = cairn_model::Statement::from_slice(&env.payload);
        // Round trip: what we accept we can write back and read again.
        let again = serde_json::to_vec(&env).expect("an envelope serializes");
        let back = cairn_model::Envelope::from_slice(&again).expect("round trip parses");
        assert_eq!(back.payload, env.payload);
        assert_eq!(back.payload_type, env.payload_type);
    }
});
