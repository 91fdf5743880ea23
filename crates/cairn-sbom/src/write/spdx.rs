//! SPDX 2.3 JSON.

use std::collections::BTreeMap;

use cairn_model::spdx::{
    CreationInfo, DATA_LICENSE, DOCUMENT_ID, Document, ExternalRef, ExtractedLicensingInfo,
    NOASSERTION, Package as SpdxPackage, Relationship, SPDX_VERSION,
};

use super::{WriteOptions, content_uuid, is_url, spdx_expression};
use crate::Sbom;
use crate::license::{LICENSE_LIST_VERSION, license_ref};
use crate::package::{Package, SourceKind, Supplier};

/// Builds the SPDX 2.3 document: the scanned source as the described root package, which
/// CONTAINS every package found (and the distro), plus DEPENDS_ON edges between packages.
pub fn document(sbom: &Sbom, opts: &WriteOptions) -> Document {
    let root_id = "SPDXRef-DocumentRoot".to_string();
    let mut packages = Vec::with_capacity(sbom.packages.len() + 2);
    let mut relationships = Vec::new();
    let (purpose, version) = match sbom.source.kind {
        SourceKind::Directory => ("FILE", None),
        _ => ("CONTAINER", sbom.source.digest.clone()),
    };
    let mut root = blank(&root_id, &sbom.source.name);
    root.version_info = version;
    root.primary_package_purpose = Some(purpose.to_string());
    packages.push(root);
    relationships.push(rel(DOCUMENT_ID, "DESCRIBES", &root_id));
    if let Some(d) = &sbom.distro {
        let id = "SPDXRef-OperatingSystem".to_string();
        let mut p = blank(&id, &d.id);
        p.version_info = d.version_id.clone();
        p.primary_package_purpose = Some("OPERATING_SYSTEM".into());
        p.homepage = d.home_url.clone().filter(|u| is_url(u));
        if let Some(pretty) = &d.pretty_name {
            p.extra.insert("description".into(), pretty.clone().into());
        }
        packages.push(p);
        relationships.push(rel(&root_id, "CONTAINS", &id));
    }
    let ids: Vec<String> = sbom.packages.iter().map(spdx_id).collect();
    let mut extracted: BTreeMap<String, String> = BTreeMap::new();
    for (pkg, id) in sbom.packages.iter().zip(&ids) {
        packages.push(package(pkg, id, &mut extracted));
        relationships.push(rel(&root_id, "CONTAINS", id));
    }
    for &(a, b) in &sbom.dependencies {
        relationships.push(rel(&ids[a], "DEPENDS_ON", &ids[b]));
    }
    let slug: String = sbom
        .source
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    Document {
        spdx_version: SPDX_VERSION.into(),
        data_license: DATA_LICENSE.into(),
        spdx_id: DOCUMENT_ID.into(),
        name: sbom.source.name.clone(),
        document_namespace: format!(
            "https://cairn.dev/spdxdocs/{}-{}",
            slug.trim_matches('-'),
            content_uuid(sbom, opts, "spdx")
        ),
        creation_info: CreationInfo {
            created: opts.timestamp(),
            creators: vec![format!("Tool: {}-{}", opts.tool_name, opts.tool_version)],
            license_list_version: Some(LICENSE_LIST_VERSION.into()),
            extra: Default::default(),
        },
        packages,
        files: Vec::new(),
        relationships,
        has_extracted_licensing_infos: extracted
            .into_iter()
            .map(|(id, text)| ExtractedLicensingInfo {
                license_id: id,
                name: Some(text.clone()),
                extracted_text: text,
                extra: Default::default(),
            })
            .collect(),
        extra: Default::default(),
    }
}

fn blank(id: &str, name: &str) -> SpdxPackage {
    SpdxPackage {
        spdx_id: id.to_string(),
        name: name.to_string(),
        version_info: None,
        supplier: Some(NOASSERTION.into()),
        download_location: NOASSERTION.into(),
        files_analyzed: Some(false),
        checksums: Vec::new(),
        homepage: None,
        source_info: None,
        license_concluded: Some(NOASSERTION.into()),
        license_declared: Some(NOASSERTION.into()),
        copyright_text: Some(NOASSERTION.into()),
        external_refs: Vec::new(),
        primary_package_purpose: None,
        extra: Default::default(),
    }
}

fn rel(a: &str, kind: &str, b: &str) -> Relationship {
    Relationship {
        spdx_element_id: a.to_string(),
        relationship_type: kind.to_string(),
        related_spdx_element: b.to_string(),
        extra: Default::default(),
    }
}

/// `SPDXRef-Package-<type>-<name>-<8 hex of the purl>`: readable and unique.
fn spdx_id(p: &Package) -> String {
    use sha2::{Digest, Sha256};
    let name: String = p
        .full_name()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let h = hex::encode(&Sha256::digest(p.purl.as_bytes())[..4]);
    format!(
        "SPDXRef-Package-{}-{}-{h}",
        p.ecosystem.purl_type(),
        name.trim_matches('-')
    )
}

fn package(p: &Package, id: &str, extracted: &mut BTreeMap<String, String>) -> SpdxPackage {
    let mut s = blank(id, &p.full_name());
    s.version_info = (!p.version.is_empty()).then(|| p.version.clone());
    s.supplier = Some(match &p.supplier {
        Some(Supplier::Person(n)) => format!("Person: {}", one_line(n)),
        Some(Supplier::Organization(n)) => format!("Organization: {}", one_line(n)),
        None => NOASSERTION.into(),
    });
    if let Some(d) = p.download.as_deref().filter(|d| is_url(d)) {
        s.download_location = d.to_string();
    }
    s.homepage = p.homepage.clone().filter(|u| is_url(u));
    s.source_info = Some(format!(
        "acquired package info from {} ({}): {}",
        p.found_by,
        p.ecosystem.purl_type(),
        p.locations.join(", ")
    ));
    if let Some(expr) = spdx_expression(&p.licenses) {
        for l in &p.licenses {
            if l.expression.is_none() {
                extracted.insert(license_ref(&l.raw), l.raw.clone());
            } else if let Some(e) = &l.expression {
                for tok in e
                    .split([' ', '(', ')'])
                    .filter(|t| t.starts_with("LicenseRef-"))
                {
                    extracted
                        .entry(tok.to_string())
                        .or_insert_with(|| l.raw.clone());
                }
            }
        }
        s.license_declared = Some(expr);
    }
    s.checksums = p
        .digests
        .iter()
        .filter_map(|(alg, v)| {
            let a = match alg.as_str() {
                "SHA-256" => "SHA256",
                "SHA-1" => "SHA1",
                "SHA-512" => "SHA512",
                "SHA-384" => "SHA384",
                _ => return None,
            };
            Some(cairn_model::spdx::Checksum {
                algorithm: a.into(),
                checksum_value: v.clone(),
            })
        })
        .collect();
    s.external_refs.push(ExternalRef {
        reference_category: "PACKAGE-MANAGER".into(),
        reference_type: "purl".into(),
        reference_locator: p.purl.clone(),
        extra: Default::default(),
    });
    s.primary_package_purpose = (!p.ecosystem.is_os()).then(|| "LIBRARY".to_string());
    s
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
