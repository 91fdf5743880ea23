//! The HTML report: one self-contained page (inline CSS and SVG, no scripts, no network) that
//! draws the supply chain as a graph: steps as boxes coloured by outcome with their signers,
//! arrows for the artifacts flowing between steps (red where a rule caught a changed or
//! unexpected artifact), the layout-level checks as badges, and every check with its reason.

use std::fmt::Write as _;

use cairn_verify::{Check, Evidence, Outcome, Verdict};

use super::esc;
use super::graph::Graph;

/// Fill colours of the nodes and badges (the end-to-end test looks for these pixels).
pub const PASS: &str = "#1a7f37";
/// Failed checks.
pub const FAIL: &str = "#cf222e";
/// Warnings.
pub const WARN: &str = "#bf8700";
/// Skipped checks.
pub const SKIP: &str = "#6e7781";

fn colour(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => PASS,
        Outcome::Fail => FAIL,
        Outcome::Warn => WARN,
        Outcome::Skip => SKIP,
    }
}

fn label(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Warn => "WARN",
        Outcome::Skip => "SKIP",
    }
}

const NODE_W: usize = 220;
const NODE_H: usize = 112;
const COL_GAP: usize = 120;
const ROW_GAP: usize = 40;
const MARGIN: usize = 30;

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn svg(graph: &Graph<'_>) -> String {
    let cols = graph.nodes.iter().map(|n| n.rank + 1).max().unwrap_or(1);
    let rows = graph.nodes.iter().map(|n| n.row + 1).max().unwrap_or(1);
    let width = MARGIN * 2 + cols * NODE_W + (cols.saturating_sub(1)) * COL_GAP;
    let height = MARGIN * 2 + rows * NODE_H + (rows.saturating_sub(1)) * ROW_GAP;
    let pos = |rank: usize, row: usize| {
        (
            MARGIN + rank * (NODE_W + COL_GAP),
            MARGIN + row * (NODE_H + ROW_GAP),
        )
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg role="img" aria-label="supply chain graph" width="{width}" height="{height}" viewBox="0 0 {width} {height}">
<defs>
<marker id="arrow-ok" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker>
<marker id="arrow-bad" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{FAIL}"/></marker>
</defs>
"##
    );
    for e in &graph.edges {
        let (a, b) = (&graph.nodes[e.from], &graph.nodes[e.to]);
        let (ax, ay) = pos(a.rank, a.row);
        let (bx, by) = pos(b.rank, b.row);
        let (x1, y1) = (ax + NODE_W, ay + NODE_H / 2);
        let (x2, y2) = (bx, by + NODE_H / 2);
        let bad = !e.broken.is_empty();
        let (stroke, marker, dash) = if bad {
            (FAIL, "arrow-bad", " stroke-dasharray=\"6 4\"")
        } else {
            ("#57606a", "arrow-ok", "")
        };
        let mid = (x1 + x2) / 2;
        let _ = writeln!(
            s,
            r#"<path class="edge{}" d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}" fill="none" stroke="{stroke}" stroke-width="{}"{dash} marker-end="url(#{marker})"/>"#,
            if bad { " broken" } else { "" },
            if bad { 3 } else { 2 },
        );
        let text = if bad {
            format!(
                "✗ {}",
                e.broken
                    .iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else if e.patterns.len() == 1 {
            e.patterns[0].clone()
        } else {
            format!("{} artifacts", e.patterns.len())
        };
        let ly = (y1 + y2) / 2 - 8;
        let _ = writeln!(
            s,
            r#"<text x="{mid}" y="{ly}" text-anchor="middle" class="edge-label" fill="{}">{}</text>"#,
            if bad { FAIL } else { "#24292f" },
            esc(&short(&text, 34))
        );
    }
    for n in &graph.nodes {
        let (x, y) = pos(n.rank, n.row);
        let fill = colour(n.check.outcome);
        let _ = writeln!(
            s,
            r#"<g class="node {}" data-name="{}"><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="10" fill="{fill}"/>"#,
            n.check.outcome.as_str(),
            esc(&n.name)
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" class="node-title">{} {}</text>"#,
            x + 14,
            y + 28,
            label(n.check.outcome),
            esc(&short(&n.name, 15))
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" class="node-kind">{}</text>"#,
            x + 14,
            y + 48,
            n.kind
        );
        let signer_line = if n.signers.is_empty() {
            "no signer evidence".to_string()
        } else {
            format!(
                "signed by {}",
                n.signers
                    .iter()
                    .map(|(k, _)| short(k, 10))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" class="node-signer">{}</text>"#,
            x + 14,
            y + 70,
            esc(&short(&signer_line, 30))
        );
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" class="node-reason">{}</text></g>"#,
            x + 14,
            y + 92,
            esc(&short(&n.check.reason, 30))
        );
    }
    s.push_str("</svg>");
    s
}

fn evidence_html(out: &mut String, e: &Evidence) {
    match e {
        Evidence::Artifact {
            artifact,
            trail,
            notes,
        } => {
            let _ = write!(
                out,
                "<li><code>{}</code> ({} of <b>{}</b>",
                esc(&artifact.path),
                artifact.role.as_str(),
                esc(&artifact.step)
            );
            for (alg, hex) in &artifact.digests {
                let _ = write!(out, " {}:{}", esc(alg), esc(hex.get(..16).unwrap_or(hex)));
            }
            out.push(')');
            if !notes.is_empty() || !trail.is_empty() {
                out.push_str("<ul>");
                for n in notes {
                    let _ = write!(out, "<li>{}</li>", esc(n));
                }
                for t in trail {
                    let _ = write!(
                        out,
                        "<li>also {} of <b>{}</b> {}</li>",
                        t.role.as_str(),
                        esc(&t.step),
                        t.digests
                            .iter()
                            .map(|(a, h)| format!("{}:{}", esc(a), esc(h.get(..16).unwrap_or(h))))
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                }
                out.push_str("</ul>");
            }
            out.push_str("</li>");
        }
        Evidence::Signer { keyid, status } => {
            let _ = write!(
                out,
                "<li>signer <code>{}</code>: {}</li>",
                esc(keyid),
                esc(status)
            );
        }
        Evidence::File { path, role } => {
            let _ = write!(out, "<li>{} <code>{}</code></li>", esc(role), esc(path));
        }
        Evidence::Value { label, value } => {
            let _ = write!(out, "<li>{}: <code>{}</code></li>", esc(label), esc(value));
        }
        _ => {}
    }
}

fn check_html(out: &mut String, c: &Check, depth: usize) {
    let open = c.outcome == Outcome::Fail || depth == 0;
    let _ = write!(
        out,
        r#"<details class="check {}"{}><summary><span class="badge" style="background:{}">{}</span> <b>{}</b> <span class="reason">{}</span> <span class="id">{}</span></summary>"#,
        c.outcome.as_str(),
        if open { " open" } else { "" },
        colour(c.outcome),
        label(c.outcome),
        esc(&c.title),
        esc(&c.reason),
        esc(&c.id)
    );
    if !c.evidence.is_empty() {
        out.push_str("<ul class=\"evidence\">");
        for e in &c.evidence {
            evidence_html(out, e);
        }
        out.push_str("</ul>");
    }
    for ch in &c.children {
        check_html(out, ch, depth + 1);
    }
    out.push_str("</details>\n");
}

const CSS: &str = r#"
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f8fa;color:#24292f}
header{padding:22px 32px;color:#fff}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.9}
main{padding:20px 32px}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;margin-bottom:18px;overflow-x:auto}
h2{font-size:17px;margin:0 0 12px}
.badge{display:inline-block;min-width:42px;text-align:center;color:#fff;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600}
.gates span.gate{display:inline-block;margin:0 10px 8px 0;padding:6px 10px;border-radius:6px;color:#fff}
svg text{font-family:system-ui,sans-serif}
.node-title{fill:#fff;font-weight:700;font-size:16px}
.node-kind,.node-signer,.node-reason{fill:#fff;font-size:12px}
.edge-label{font-size:12px}
details.check{margin:3px 0 3px 18px}
details.check>summary{cursor:pointer;list-style-position:outside}
.reason{color:#57606a}
.id{color:#8c959f;font-family:ui-monospace,monospace;font-size:11px}
ul.evidence{margin:4px 0 4px 20px;font-size:13px}
code{font-family:ui-monospace,SFMono-Regular,monospace;font-size:12.5px}
footer{padding:0 32px 24px;color:#57606a;font-size:12px}
"#;

/// The whole page.
pub fn html(verdict: &Verdict, tool_version: &str) -> String {
    let graph = Graph::of(verdict);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>cairn verification: {} {}</title><style>{CSS}</style></head>
<body>
<header style="background:{}"><h1>{} {}</h1><p>cairn verification report</p></header>
<main>
"#,
        label(verdict.outcome),
        esc(&verdict.subject),
        colour(verdict.outcome),
        label(verdict.outcome),
        esc(&verdict.subject),
    );
    if !graph.gates.is_empty() {
        out.push_str("<section class=\"gates\"><h2>Top-level checks</h2>");
        for g in &graph.gates {
            let _ = write!(
                out,
                r#"<span class="gate" style="background:{}" title="{}">{} {}: {}</span>"#,
                colour(g.outcome),
                esc(&g.id),
                label(g.outcome),
                esc(&g.title),
                esc(&g.reason)
            );
        }
        out.push_str("</section>\n");
    }
    if !graph.nodes.is_empty() {
        out.push_str("<section><h2>Supply chain</h2>");
        out.push_str(&svg(&graph));
        out.push_str("</section>\n");
    }
    let failures: Vec<&Check> = verdict
        .checks
        .iter()
        .flat_map(|c| c.walk())
        .filter(|c| c.outcome == Outcome::Fail && c.children.is_empty())
        .collect();
    if !failures.is_empty() {
        out.push_str("<section><h2>Why it failed</h2><ul>");
        for f in failures {
            let _ = write!(
                out,
                "<li><b>{}</b> <span class=\"id\">{}</span><br>{}",
                esc(&f.title),
                esc(&f.id),
                esc(&f.reason)
            );
            if !f.evidence.is_empty() {
                out.push_str("<ul class=\"evidence\">");
                for e in &f.evidence {
                    evidence_html(&mut out, e);
                }
                out.push_str("</ul>");
            }
            out.push_str("</li>");
        }
        out.push_str("</ul></section>\n");
    }
    out.push_str("<section><h2>Every check</h2>\n");
    for c in &verdict.checks {
        check_html(&mut out, c, 0);
    }
    out.push_str("</section>\n</main>\n");
    let _ = write!(
        out,
        "<footer>Written by cairn {} from the verdict of this verification; the same checks as <code>--json</code>.</footer>\n</body></html>\n",
        esc(tool_version)
    );
    out
}
