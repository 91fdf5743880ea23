//! Local builds (a developer machine, or a CI system cairn has no buildType for): cairn's
//! buildType `…/docs/buildtypes/local-v1.md`. Such provenance is SLSA Build L1 at most: nothing
//! but the person running cairn vouches for it.

use serde_json::{Map, Value, json};

use super::{BuildContext, CAIRN_DOCS, PlatformInput, SourceRef};
use crate::env::Platform;
use crate::{Error, Warning};

/// cairn's local buildType.
pub fn build_type() -> String {
    format!("{CAIRN_DOCS}/local-v1.md")
}

/// The builder id of a local build unless the caller names one (`--builder-id`).
pub fn default_builder_id() -> String {
    format!("{CAIRN_DOCS}/local-v1.md#builder")
}

pub(super) fn describe(input: PlatformInput<'_>) -> Result<BuildContext, Error> {
    let mut warnings = Vec::new();
    let mut external = Map::new();
    let source = match input.git {
        None => None,
        Some(git) => {
            if git.git_ref.is_none() {
                warnings.push(Warning::DetachedHead {
                    commit: git.commit.clone(),
                });
            }
            let repo = match &git.remote {
                Some(remote) => remote.clone(),
                None => {
                    warnings.push(Warning::NoRemote);
                    crate::uri::RepoUrl::parse(&git.root.to_string_lossy()).map_err(|source| {
                        Error::RepositoryUrl {
                            name: "the checkout path",
                            source,
                        }
                    })?
                }
            };
            let mut src = Map::new();
            src.insert("repository".into(), json!(repo.as_str()));
            if let Some(r) = &git.git_ref {
                src.insert("ref".into(), json!(r));
            }
            external.insert("source".into(), Value::Object(src));
            Some(SourceRef {
                uri: repo.git_uri(git.git_ref.as_deref()),
                commit: git.commit.clone(),
            })
        }
    };
    let mut builder_version = std::collections::BTreeMap::new();
    builder_version.insert("cairn".to_owned(), env!("CARGO_PKG_VERSION").to_owned());
    let mut internal = Map::new();
    if input.env.is_true("CI") {
        internal.insert("ci".into(), json!(true));
    }
    Ok(BuildContext {
        platform: Platform::Local,
        build_type: build_type(),
        external_parameters: external,
        internal_parameters: internal,
        builder_id: default_builder_id(),
        builder_version,
        invocation_id: None,
        started_on: None,
        source,
        warnings,
    })
}
