//! CycloneDX 1.6 JSON (1.5 on request).

use cairn_model::cyclonedx::{
    BOM_FORMAT, Bom, Component, Dependency, ExternalReference, Hash, License, LicenseChoice,
    Metadata, OrganizationalEntity, Property, Tools,
};

use super::{WriteOptions, content_uuid, is_url, spdx_expression};
use crate::Sbom;
use crate::package::{Ecosystem, Package, SourceKind, Supplier};

/// The CycloneDX specification version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SpecVersion {
    /// 1.5.
    V1_5,
    /// 1.6 (the default).
    #[default]
    V1_6,
}

impl SpecVersion {
    /// `1.5` or `1.6`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V1_5 => "1.5",
            SpecVersion::V1_6 => "1.6",
        }
    }
}

/// Builds the BOM: the source as `metadata.component`, the distro as an `operating-system`
/// component, every package as a `library` with its purl as `bom-ref`, and the dependency
/// graph.
pub fn bom(sbom: &Sbom, opts: &WriteOptions, spec: SpecVersion) -> Bom {
    let mut tool = Component::new("application", &opts.tool_name);
    tool.version = Some(opts.tool_version.clone());
    let mut root = Component::new(
        match sbom.source.kind {
            SourceKind::Directory => "file",
            _ => "container",
        },
        &sbom.source.name,
    );
    root.bom_ref = Some("cairn:source".into());
    root.version = sbom.source.digest.clone();
    let mut components = Vec::with_capacity(sbom.packages.len() + 1);
    if let Some(d) = &sbom.distro {
        let mut os = Component::new("operating-system", &d.id);
        os.bom_ref = Some(format!("cairn:os:{}", d.qualifier()));
        os.version = d.version_id.clone();
        os.description = d.pretty_name.clone();
        if let Some(u) = d.home_url.as_ref().filter(|u| is_url(u)) {
            os.external_references = Some(vec![ExternalReference {
                kind: "website".into(),
                url: u.clone(),
                extra: Default::default(),
            }]);
        }
        components.push(os);
    }
    for p in &sbom.packages {
        components.push(component(p));
    }
    let mut deps: Vec<Vec<String>> = vec![Vec::new(); sbom.packages.len()];
    for &(a, b) in &sbom.dependencies {
        deps[a].push(sbom.packages[b].purl.clone());
    }
    let dependencies = sbom
        .packages
        .iter()
        .zip(deps)
        .map(|(p, d)| Dependency {
            reference: p.purl.clone(),
            depends_on: (!d.is_empty()).then_some(d),
            extra: Default::default(),
        })
        .collect();
    Bom {
        bom_format: BOM_FORMAT.into(),
        spec_version: spec.as_str().into(),
        serial_number: Some(format!(
            "urn:uuid:{}",
            content_uuid(sbom, opts, "cyclonedx")
        )),
        version: Some(1),
        metadata: Some(Metadata {
            timestamp: Some(opts.timestamp()),
            tools: Some(Tools::Object {
                components: Some(vec![tool]),
                services: None,
                extra: Default::default(),
            }),
            component: Some(Box::new(root)),
            properties: None,
            extra: Default::default(),
        }),
        components: Some(components),
        dependencies: Some(dependencies),
        extra: Default::default(),
    }
}

fn component(p: &Package) -> Component {
    let name = match p.ecosystem {
        Ecosystem::Npm | Ecosystem::Maven => p.name.clone(),
        _ => p.full_name(),
    };
    let mut c = Component::new("library", name);
    c.bom_ref = Some(p.purl.clone());
    c.purl = Some(p.purl.clone());
    c.version = (!p.version.is_empty()).then(|| p.version.clone());
    if matches!(p.ecosystem, Ecosystem::Npm | Ecosystem::Maven) {
        c.group = p.namespace.clone();
    }
    c.supplier = p.supplier.as_ref().map(|s| OrganizationalEntity {
        name: Some(match s {
            Supplier::Person(n) | Supplier::Organization(n) => {
                n.split_whitespace().collect::<Vec<_>>().join(" ")
            }
        }),
        url: None,
        extra: Default::default(),
    });
    c.licenses = licenses(p);
    let hashes: Vec<Hash> = p
        .digests
        .iter()
        .map(|(alg, v)| Hash {
            alg: alg.clone(),
            content: v.clone(),
        })
        .collect();
    c.hashes = (!hashes.is_empty()).then_some(hashes);
    let mut refs = Vec::new();
    if let Some(h) = p.homepage.as_ref().filter(|u| is_url(u)) {
        refs.push(ExternalReference {
            kind: "website".into(),
            url: h.clone(),
            extra: Default::default(),
        });
    }
    if let Some(d) = p.download.as_ref().filter(|u| is_url(u)) {
        refs.push(ExternalReference {
            kind: "distribution".into(),
            url: d.clone(),
            extra: Default::default(),
        });
    }
    c.external_references = (!refs.is_empty()).then_some(refs);
    let mut props = vec![Property {
        name: "cairn:package:found-by".into(),
        value: Some(p.found_by.to_string()),
    }];
    for (i, l) in p.locations.iter().enumerate() {
        props.push(Property {
            name: format!("cairn:location:{i}:path"),
            value: Some(l.clone()),
        });
    }
    if p.dev {
        c.scope = Some("optional".into());
        props.push(Property {
            name: "cairn:package:dev".into(),
            value: Some("true".into()),
        });
    }
    c.properties = Some(props);
    c
}

/// CycloneDX allows either licence objects or one expression, never both: single ids and
/// free-text names become licence objects; when any entry is a compound expression, all of
/// them are combined into one expression (free text as `LicenseRef-`).
fn licenses(p: &Package) -> Option<Vec<LicenseChoice>> {
    if p.licenses.is_empty() {
        return None;
    }
    let compound = p
        .licenses
        .iter()
        .any(|l| l.expression.as_ref().is_some_and(|e| e.contains(' ')));
    if compound {
        let e = spdx_expression(&p.licenses)?;
        return Some(vec![LicenseChoice::Expression {
            expression: e,
            extra: Default::default(),
        }]);
    }
    Some(
        p.licenses
            .iter()
            .map(|l| {
                let license = if l.is_single_id() {
                    License {
                        id: l.expression.clone(),
                        ..Default::default()
                    }
                } else {
                    License {
                        name: Some(l.raw.clone()),
                        ..Default::default()
                    }
                };
                LicenseChoice::License {
                    license,
                    extra: Default::default(),
                }
            })
            .collect(),
    )
}
