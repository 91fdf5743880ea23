//! JUnit XML: one `<testsuite>` per top-level check, one `<testcase>` per leaf check (class name:
//! its parents' titles), `<failure>` for failed checks, `<skipped>` for skipped ones. GitLab's
//! `artifacts: reports: junit` and most CI test views read this.

use std::fmt::Write as _;

use cairn_verify::{Check, Evidence, Outcome, Verdict};

use super::esc;

fn leaves<'a>(c: &'a Check, path: &mut Vec<&'a str>, out: &mut Vec<(String, &'a Check)>) {
    if c.children.is_empty() {
        out.push((path.join(" / "), c));
        return;
    }
    path.push(&c.title);
    for ch in &c.children {
        leaves(ch, path, out);
    }
    path.pop();
}

/// The JUnit document of `verdict`.
pub fn junit(verdict: &Verdict) -> String {
    let mut suites = String::new();
    let (mut total, mut failed, mut skipped) = (0, 0, 0);
    for top in &verdict.checks {
        let mut cases = Vec::new();
        leaves(top, &mut Vec::new(), &mut cases);
        let f = cases
            .iter()
            .filter(|(_, c)| c.outcome == Outcome::Fail)
            .count();
        let s = cases
            .iter()
            .filter(|(_, c)| c.outcome == Outcome::Skip)
            .count();
        total += cases.len();
        failed += f;
        skipped += s;
        let _ = writeln!(
            suites,
            r#"  <testsuite name="{}" tests="{}" failures="{f}" errors="0" skipped="{s}">"#,
            esc(&top.title),
            cases.len()
        );
        for (class, c) in cases {
            let class = if class.is_empty() {
                top.title.clone()
            } else {
                class
            };
            let _ = write!(
                suites,
                r#"    <testcase classname="{}" name="{}">"#,
                esc(&format!("{} / {class}", verdict.subject)),
                esc(&format!("{} [{}]", c.title, c.id))
            );
            match c.outcome {
                Outcome::Fail => {
                    let mut body = c.reason.clone();
                    for e in &c.evidence {
                        if let Evidence::Artifact {
                            artifact, notes, ..
                        } = e
                        {
                            body.push_str(&format!(
                                "\n{} ({} of {})",
                                artifact.path,
                                artifact.role.as_str(),
                                artifact.step
                            ));
                            for n in notes {
                                body.push_str(&format!("\n  {n}"));
                            }
                        }
                    }
                    let _ = write!(
                        suites,
                        r#"<failure message="{}" type="{}">{}</failure>"#,
                        esc(&c.reason),
                        esc(&c.id),
                        esc(&body)
                    );
                }
                Outcome::Skip => {
                    let _ = write!(suites, r#"<skipped message="{}"/>"#, esc(&c.reason));
                }
                Outcome::Warn => {
                    let _ = write!(
                        suites,
                        "<system-out>warning: {}</system-out>",
                        esc(&c.reason)
                    );
                }
                Outcome::Pass => {}
            }
            suites.push_str("</testcase>\n");
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"cairn verify {}\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\" skipped=\"{skipped}\">\n{suites}</testsuites>\n",
        esc(&verdict.subject)
    )
}
