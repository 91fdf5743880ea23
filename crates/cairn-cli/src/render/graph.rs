//! The supply chain read back from a verdict: steps (and inspections) as nodes, `MATCH ... FROM`
//! rules as edges carrying artifact patterns, signer evidence per step, and the artifacts a
//! failed rule caught. Policy verdicts (no steps) become one node per requirement.

use cairn_verify::{Check, Evidence, Outcome, Verdict};

/// One node of the graph.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The step, inspection or requirement name.
    pub name: String,
    /// "step", "inspection" or "requirement".
    pub kind: &'static str,
    /// Its check (outcome, reason, children).
    pub check: &'a Check,
    /// Signers: (key id, status).
    pub signers: Vec<(String, String)>,
    /// Column (longest path from a source).
    pub rank: usize,
    /// Row within the column.
    pub row: usize,
}

/// One edge: artifacts of `from` that `to` consumes.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Index of the producing node.
    pub from: usize,
    /// Index of the consuming node.
    pub to: usize,
    /// Artifact patterns of the MATCH rules.
    pub patterns: Vec<String>,
    /// Artifacts on this edge that a failed rule caught (with the note that explains it).
    pub broken: Vec<(String, String)>,
}

/// The graph of a verdict.
#[derive(Debug, Clone)]
pub struct Graph<'a> {
    /// Nodes in verdict order.
    pub nodes: Vec<Node<'a>>,
    /// Edges.
    pub edges: Vec<Edge>,
    /// Top-level checks that are not steps (layout signatures, expiry, policy loading...).
    pub gates: Vec<&'a Check>,
}

/// `MATCH <pattern> [IN <prefix>] WITH <PRODUCTS|MATERIALS> [IN <prefix>] FROM <step>`.
fn parse_match(title: &str) -> Option<(String, String)> {
    let rest = title.strip_prefix("MATCH ")?;
    let (pattern, tail) = rest.split_once(' ')?;
    let from = tail.rsplit_once(" FROM ")?.1.trim();
    Some((pattern.to_string(), from.to_string()))
}

fn signers_of(check: &Check) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in check.walk() {
        for e in &c.evidence {
            if let Evidence::Signer { keyid, status } = e {
                out.push((keyid.clone(), status.clone()));
            }
        }
    }
    out
}

impl<'a> Graph<'a> {
    /// Builds the graph of `verdict`.
    pub fn of(verdict: &'a Verdict) -> Graph<'a> {
        let mut nodes: Vec<Node<'a>> = Vec::new();
        let mut gates = Vec::new();
        for top in &verdict.checks {
            let kind = match top.id.as_str() {
                "steps" => Some("step"),
                "inspections" => Some("inspection"),
                _ => None,
            };
            match kind {
                Some(kind) => {
                    for c in &top.children {
                        let name =
                            c.id.split_once('.')
                                .map_or(c.id.as_str(), |(_, n)| n)
                                .to_string();
                        nodes.push(Node {
                            name,
                            kind,
                            check: c,
                            signers: signers_of(c),
                            rank: 0,
                            row: 0,
                        });
                    }
                }
                None => gates.push(top),
            }
        }
        // A policy verdict: its requirements are the nodes.
        if nodes.is_empty() {
            gates.clear();
            for top in &verdict.checks {
                let is_requirement =
                    top.id.starts_with("requirements.") || !top.children.is_empty();
                if is_requirement && !top.id.starts_with("policy") {
                    nodes.push(Node {
                        name: top.title.clone(),
                        kind: "requirement",
                        check: top,
                        signers: signers_of(top),
                        rank: 0,
                        row: 0,
                    });
                } else {
                    gates.push(top);
                }
            }
        }
        let index = |name: &str, nodes: &[Node<'_>]| nodes.iter().position(|n| n.name == name);
        let mut edges: Vec<Edge> = Vec::new();
        for (to, node) in nodes.iter().enumerate() {
            for c in node.check.walk() {
                if let Some((pattern, from_name)) = parse_match(&c.title) {
                    let Some(from) = index(&from_name, &nodes) else {
                        continue;
                    };
                    if from == to {
                        continue;
                    }
                    match edges.iter_mut().find(|e| e.from == from && e.to == to) {
                        Some(e) => e.patterns.push(pattern),
                        None => edges.push(Edge {
                            from,
                            to,
                            patterns: vec![pattern],
                            broken: Vec::new(),
                        }),
                    }
                }
                if c.outcome != Outcome::Fail {
                    continue;
                }
                for e in &c.evidence {
                    let Evidence::Artifact {
                        artifact, notes, ..
                    } = e
                    else {
                        continue;
                    };
                    for note in notes {
                        let from = note
                            .split_once(':')
                            .and_then(|(head, _)| parse_match(head.trim()))
                            .and_then(|(_, from_name)| index(&from_name, &nodes));
                        let Some(from) = from else { continue };
                        let broken = (artifact.path.clone(), note.clone());
                        match edges.iter_mut().find(|e| e.from == from && e.to == to) {
                            Some(e) => e.broken.push(broken),
                            None => edges.push(Edge {
                                from,
                                to,
                                patterns: Vec::new(),
                                broken: vec![broken],
                            }),
                        }
                    }
                }
            }
        }
        // Columns: longest path from a source (edges only go forward in a valid layout; a
        // cycle is cut by the iteration bound).
        let n = nodes.len();
        let mut rank = vec![0usize; n];
        for _ in 0..n {
            let mut changed = false;
            for e in &edges {
                if rank[e.to] < rank[e.from] + 1 && rank[e.from] + 1 < n.max(1) {
                    rank[e.to] = rank[e.from] + 1;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // Nodes without edges keep their verdict order as their column (a chain of boxes).
        if edges.is_empty() {
            for (i, r) in rank.iter_mut().enumerate() {
                *r = i;
            }
        }
        let mut rows = vec![0usize; n];
        for (i, node) in nodes.iter_mut().enumerate() {
            node.rank = rank[i];
            node.row = rows[rank[i]];
            rows[rank[i]] += 1;
        }
        Graph {
            nodes,
            edges,
            gates,
        }
    }
}
