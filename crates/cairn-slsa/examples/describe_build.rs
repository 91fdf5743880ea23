//! Prints SLSA provenance for the files named on the command line, described from this
//! process's environment and the git checkout in the current directory.
//!
//! `cargo run -p cairn-slsa --example describe_build -- target/debug/cairn`

use cairn_slsa::subject::{self, HashAlgorithm};
use cairn_slsa::{Environment, GitSource, Request, generate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env: Environment = std::env::vars().collect();
    let git = GitSource::read(&std::env::current_dir()?).ok();
    let mut warnings = Vec::new();
    let mut subjects = Vec::new();
    for arg in std::env::args().skip(1) {
        subjects.extend(subject::from_path(
            arg.as_ref(),
            &[HashAlgorithm::Sha256],
            &mut warnings,
        )?);
    }
    let mut request = Request::new(&env);
    request.git = git.as_ref();
    request.subjects = subjects;
    request.now = Some(chrono::Utc::now());
    request.allow_no_source = true;
    let generated = generate(&request)?;
    for w in warnings.iter().chain(&generated.warnings) {
        eprintln!("warning: {w}");
    }
    print!("{}", String::from_utf8(generated.to_pretty_json())?);
    Ok(())
}
