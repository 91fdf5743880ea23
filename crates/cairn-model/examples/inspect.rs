//! Says what an in-toto / DSSE document is and what it contains, using only cairn-model's
//! public API: a legacy link or layout metablock, a DSSE envelope of a link, layout or
//! Statement, or a bare Statement. Nothing is verified.
//!
//! `cargo run -p cairn-model --example inspect -- testdata/in-toto-golang/test/data/demo.layout`

use std::process::ExitCode;

use cairn_model::metablock::MetadataType;
use cairn_model::{Envelope, Layout, Link, Metablock, Predicate, Statement, json};
use serde_json::Value;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: inspect FILE");
        return ExitCode::from(2);
    };
    match inspect(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            let mut source = std::error::Error::source(&*e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::from(2)
        }
    }
}

fn inspect(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let doc = json::value_from_slice(&bytes)?;
    if doc.get("signed").is_some() {
        let block = Metablock::from_slice(&bytes)?;
        println!("legacy metablock, {} signature(s)", block.signatures.len());
        for s in &block.signatures {
            let kind = if s.is_openpgp() { "OpenPGP" } else { "hex" };
            println!("  keyid {} ({kind})", s.keyid);
        }
        return describe_signed(&block.signed);
    }
    if doc.get("payloadType").is_some() {
        let env = Envelope::from_slice(&bytes)?;
        println!(
            "DSSE envelope, payloadType {}, {} signature(s), {} payload bytes",
            env.payload_type,
            env.signatures.len(),
            env.payload.len()
        );
        let payload = json::value_from_slice(&env.payload)?;
        if payload.get("predicateType").is_some() {
            return describe_statement(&Statement::from_envelope(&env)?);
        }
        return describe_signed(&payload);
    }
    describe_statement(&Statement::from_slice(&bytes)?)
}

fn describe_signed(signed: &Value) -> Result<(), Box<dyn std::error::Error>> {
    match signed.get("_type").and_then(Value::as_str) {
        Some(t) if t == MetadataType::Link.as_str() => {
            let link = Link::from_signed(signed)?;
            println!(
                "link {:?}: {} material(s), {} product(s), command {:?}",
                link.name,
                link.materials.len(),
                link.products.len(),
                link.command
            );
        }
        _ => {
            let layout = Layout::from_signed(signed)?;
            let expires = layout
                .expires
                .as_ref()
                .map_or("never (invalid)", |t| t.as_str());
            println!("layout expiring {expires}, {} key(s)", layout.keys.len());
            for step in &layout.steps {
                println!(
                    "  step {:?} (threshold {}, {} key(s))",
                    step.name,
                    step.threshold,
                    step.pubkeys.len()
                );
                for rule in step
                    .expected_materials
                    .iter()
                    .chain(&step.expected_products)
                {
                    println!("    {rule}");
                }
            }
            for insp in &layout.inspect {
                println!("  inspection {:?}: {:?}", insp.name, insp.run);
            }
            if let Err(e) = layout.validate() {
                println!("  not valid: {e}");
            }
        }
    }
    Ok(())
}

fn describe_statement(st: &Statement) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "statement {} about {} subject(s)",
        st.statement_type,
        st.subject.len()
    );
    for s in &st.subject {
        println!("  {} {}", s.name.as_deref().unwrap_or("-"), s.digests());
    }
    match st.typed_predicate()? {
        Predicate::SlsaProvenanceV1(p) => {
            println!("SLSA provenance v1, builder {}", p.run_details.builder.id)
        }
        Predicate::SlsaProvenanceV02(p) => {
            println!("SLSA provenance v0.2, builder {}", p.builder.id)
        }
        Predicate::LinkV03(l) => println!("link v0.3 {:?}", l.name),
        Predicate::VsaV1(v) => println!(
            "VSA v1 by {}: {:?} {:?}",
            v.verifier.id, v.verification_result, v.verified_levels
        ),
        other => println!("predicate {}", other.predicate_type()),
    }
    Ok(())
}
