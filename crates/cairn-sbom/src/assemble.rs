//! Merging cataloger results into one [`Sbom`]: one package per purl, dependency edges
//! resolved and remapped, everything sorted so the same input gives the same output.

use std::collections::{BTreeSet, HashMap};

use crate::catalog::Found;
use crate::package::{Distro, Ecosystem, Package, Sbom, SourceInfo, Warning};
use crate::purl::normalize_pypi;

pub(crate) fn assemble(
    source: SourceInfo,
    distro: Option<Distro>,
    founds: Vec<Found>,
    mut warnings: Vec<Warning>,
) -> Sbom {
    let mut packages: Vec<Package> = Vec::new();
    let mut by_purl: HashMap<String, usize> = HashMap::new();
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    for found in founds {
        let mut map = Vec::with_capacity(found.packages.len());
        for p in found.packages {
            let idx = match by_purl.get(&p.purl) {
                Some(&i) => {
                    merge(&mut packages[i], p);
                    i
                }
                None => {
                    by_purl.insert(p.purl.clone(), packages.len());
                    packages.push(p);
                    packages.len() - 1
                }
            };
            map.push(idx);
        }
        for (a, b) in found.edges {
            let (a, b) = (map[a], map[b]);
            if a != b {
                edges.insert((a, b));
            }
        }
        warnings.extend(found.warnings);
    }
    // Name-based requirements (dpkg Depends, Python Requires-Dist, installed npm deps).
    let mut by_name: HashMap<(Ecosystem, String), Vec<usize>> = HashMap::new();
    for (i, p) in packages.iter().enumerate() {
        by_name
            .entry((p.ecosystem, key(p.ecosystem, &p.full_name())))
            .or_default()
            .push(i);
    }
    let mut by_location: HashMap<&str, usize> = HashMap::new();
    for (i, p) in packages.iter().enumerate() {
        for l in &p.locations {
            by_location.insert(l.as_str(), i);
        }
    }
    let mut npm_edges = Vec::new();
    for (i, p) in packages.iter().enumerate() {
        if p.ecosystem == Ecosystem::Npm {
            for req in &p.requires {
                for l in &p.locations {
                    if let Some(j) = resolve_installed_npm(l, req, &by_location) {
                        npm_edges.push((i, j));
                    }
                }
            }
            continue;
        }
        for req in &p.requires {
            let hit = req
                .split('|')
                .find_map(|alt| by_name.get(&(p.ecosystem, key(p.ecosystem, alt))));
            if let Some(targets) = hit {
                // Several installs of one name (two venvs): depend on those found together.
                for &j in targets {
                    if j != i && shares_root(p, &packages[j]) {
                        edges.insert((i, j));
                    }
                }
            }
        }
    }
    edges.extend(npm_edges.into_iter().filter(|(a, b)| a != b));
    // Sort by purl, then remap edges.
    let mut order: Vec<usize> = (0..packages.len()).collect();
    for p in &mut packages {
        p.locations.sort();
        p.locations.dedup();
        p.licenses.dedup();
        p.digests.sort();
        p.digests.dedup();
    }
    order.sort_by(|&a, &b| packages[a].purl.cmp(&packages[b].purl));
    let mut new_index = vec![0; packages.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let mut slots: Vec<Option<Package>> = packages.into_iter().map(Some).collect();
    let packages: Vec<Package> = order
        .iter()
        .map(|&o| slots[o].take().expect("each index taken once"))
        .collect();
    let mut dependencies: Vec<(usize, usize)> = edges
        .into_iter()
        .map(|(a, b)| (new_index[a], new_index[b]))
        .collect();
    dependencies.sort_unstable();
    warnings.sort();
    warnings.dedup();
    Sbom {
        source,
        distro,
        packages,
        dependencies,
        warnings,
    }
}

/// Node's module resolution from an installed `.../node_modules/NAME/package.json`: look in
/// its own `node_modules`, then in each enclosing one up to the project root.
fn resolve_installed_npm(
    location: &str,
    req: &str,
    by_location: &HashMap<&str, usize>,
) -> Option<usize> {
    let mut base = location.strip_suffix("/package.json")?.to_string();
    loop {
        let cand = format!("{base}/node_modules/{req}/package.json");
        if let Some(&j) = by_location.get(cand.as_str()) {
            return Some(j);
        }
        let cut = base
            .rfind("/node_modules/")
            .or_else(|| base.starts_with("node_modules/").then_some(0))?;
        base.truncate(cut);
        if base.is_empty() {
            return by_location
                .get(format!("node_modules/{req}/package.json").as_str())
                .copied();
        }
    }
}

fn key(eco: Ecosystem, name: &str) -> String {
    match eco {
        Ecosystem::Python => normalize_pypi(name),
        _ => name.to_string(),
    }
}

/// OS packages share one database; language packages are linked only inside the same
/// directory tree (the same site-packages or node_modules root).
fn shares_root(a: &Package, b: &Package) -> bool {
    if a.ecosystem.is_os() {
        return true;
    }
    let root = |p: &Package| -> Vec<String> {
        p.locations
            .iter()
            .map(|l| {
                let marker = ["site-packages/", "dist-packages/", "node_modules/"]
                    .iter()
                    .filter_map(|m| l.find(m).map(|i| i + m.len()))
                    .next();
                match marker {
                    Some(i) => l[..i].to_string(),
                    None => l
                        .rsplit_once('/')
                        .map_or(String::new(), |(d, _)| d.to_string()),
                }
            })
            .collect()
    };
    let ra = root(a);
    root(b).iter().any(|r| ra.contains(r))
}

fn merge(into: &mut Package, from: Package) {
    into.locations.extend(from.locations);
    for l in from.licenses {
        if !into.licenses.contains(&l) {
            into.licenses.push(l);
        }
    }
    into.digests.extend(from.digests);
    into.supplier = into.supplier.take().or(from.supplier);
    into.homepage = into.homepage.take().or(from.homepage);
    into.download = into.download.take().or(from.download);
    into.dev &= from.dev;
    for r in from.requires {
        if !into.requires.contains(&r) {
            into.requires.push(r);
        }
    }
}
