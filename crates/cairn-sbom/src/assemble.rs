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
    for (i, p) in packages.iter().enumerate() {
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
