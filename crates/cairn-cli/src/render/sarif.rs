//! SARIF 2.1.0: one run of the tool `cairn`, one rule per check id that did not pass, one
//! result per failed (`error`) or warning (`warning`) check, located at the verified subject.

use cairn_verify::{Evidence, Outcome, Verdict};
use serde_json::{Value, json};

/// The SARIF log of `verdict`.
pub fn sarif(verdict: &Verdict, tool_version: &str) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    for (path, check) in super::leaves(verdict) {
        let level = match check.outcome {
            Outcome::Fail => "error",
            Outcome::Warn => "warning",
            _ => continue,
        };
        let rule_id = check.id.clone();
        if !rules.iter().any(|r| r["id"] == rule_id) {
            rules.push(json!({
                "id": rule_id,
                "name": check.title,
                "shortDescription": {"text": check.title},
            }));
        }
        let mut text = format!("{}: {}", check.title, check.reason);
        if !path.is_empty() {
            text = format!("{} > {text}", path.join(" > "));
        }
        for e in &check.evidence {
            if let Evidence::Artifact {
                artifact, notes, ..
            } = e
            {
                text.push_str(&format!(
                    "\n{} ({} of {})",
                    artifact.path,
                    artifact.role.as_str(),
                    artifact.step
                ));
                for n in notes {
                    text.push_str(&format!("\n  {n}"));
                }
            }
        }
        results.push(json!({
            "ruleId": check.id,
            "level": level,
            "message": {"text": text},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": verdict.subject}}
            }],
        }));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "cairn",
                "version": tool_version,
                "informationUri": "https://github.com/cairn-dev/cairn",
                "rules": rules,
            }},
            "results": results,
            "properties": {"subject": verdict.subject, "outcome": verdict.outcome.as_str()},
        }],
    })
}
