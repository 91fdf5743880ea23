//! Checks a provenance Statement (JSON, e.g. a decoded DSSE payload) against a builder id and a
//! source repository, without a signer identity (so SLSA Build L1 at most), and prints each
//! check.
//!
//! `cargo run -p cairn-slsa --example check_provenance -- statement.json BUILDER_ID github.com/o/r`

use cairn_slsa::verify::{BuilderRule, Policy, verify};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, builder, repo] = args.as_slice() else {
        return Err("usage: check_provenance STATEMENT.json BUILDER_ID REPOSITORY".into());
    };
    let statement = cairn_model::json::value_from_slice(&std::fs::read(path)?)?;
    let mut policy = Policy::new(vec![BuilderRule {
        id: builder.clone(),
        level: 3,
    }]);
    policy.source_repository = Some(repo.clone());
    let verdict = verify(&statement, None, &policy);
    for c in &verdict.checks {
        println!(
            "{:<20} {:<8} {}",
            format!("{:?}", c.check),
            format!("{:?}", c.outcome),
            c.reason
        );
    }
    println!("passed: {} (SLSA Build L{})", verdict.passed, verdict.level);
    std::process::exit(if verdict.passed { 0 } else { 1 });
}
