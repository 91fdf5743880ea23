//! Trust material: trusted roots, signing configs and client trust configs.
//!
//! The public-good production and staging documents are embedded in the binary (copied from
//! sigstore-python's embedded TUF snapshots), so verification never needs the network. Fresh
//! documents can be fetched through TUF on request ([`refresh_through_tuf`]), never implicitly.

use std::path::Path;

use sigstore_verify::trust_root::{
    SigningConfig as RawSigningConfig, TrustedRoot as RawTrustedRoot,
};

use crate::error::{Error, Result};

const PRODUCTION_TRUSTED_ROOT: &str = include_str!("../trust/production_trusted_root.json");
const PRODUCTION_SIGNING_CONFIG: &str = include_str!("../trust/production_signing_config.json");
const STAGING_TRUSTED_ROOT: &str = include_str!("../trust/staging_trusted_root.json");
const STAGING_SIGNING_CONFIG: &str = include_str!("../trust/staging_signing_config.json");

/// Media type of a Sigstore `ClientTrustConfig`.
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// A well-known Sigstore instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instance {
    /// The public-good instance (fulcio.sigstore.dev, rekor.sigstore.dev).
    PublicGood,
    /// The staging instance (sigstage.dev).
    Staging,
}

/// A Sigstore `TrustedRoot`: Fulcio CAs, Rekor keys, CT log keys, TSAs, each with a validity window.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    pub(crate) inner: RawTrustedRoot,
}

impl TrustedRoot {
    /// The embedded root of a well-known instance.
    pub fn embedded(instance: Instance) -> Self {
        let json = match instance {
            Instance::PublicGood => PRODUCTION_TRUSTED_ROOT,
            Instance::Staging => STAGING_TRUSTED_ROOT,
        };
        Self::from_json(json.as_bytes()).expect("embedded trusted root parses")
    }

    /// Parses a `trusted_root.json` document (duplicate keys rejected).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let text = strict_text(bytes, "trusted root")?;
        let inner = RawTrustedRoot::from_json(text).map_err(|e| Error::TrustMaterial {
            what: "trusted root",
            source: Box::new(e),
        })?;
        Ok(Self { inner })
    }

    /// Reads a `trusted_root.json` file.
    pub fn from_file(path: &Path) -> Result<Self> {
        Self::from_json(&read(path)?)
    }

    /// Number of Fulcio CAs, Rekor logs, CT logs and TSAs (for reports).
    pub fn counts(&self) -> [usize; 4] {
        [
            self.inner.certificate_authorities.len(),
            self.inner.tlogs.len(),
            self.inner.ctlogs.len(),
            self.inner.timestamp_authorities.len(),
        ]
    }
}

/// A Sigstore `SigningConfig`: where Fulcio, Rekor, the TSAs and the OIDC provider live.
#[derive(Debug, Clone)]
pub struct SigningConfig {
    pub(crate) inner: RawSigningConfig,
}

impl SigningConfig {
    /// The embedded signing config of a well-known instance.
    pub fn embedded(instance: Instance) -> Self {
        let json = match instance {
            Instance::PublicGood => PRODUCTION_SIGNING_CONFIG,
            Instance::Staging => STAGING_SIGNING_CONFIG,
        };
        Self::from_json(json.as_bytes()).expect("embedded signing config parses")
    }

    /// Parses a signing config v0.2 document.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let text = strict_text(bytes, "signing config")?;
        let inner = RawSigningConfig::from_json(text).map_err(|e| Error::TrustMaterial {
            what: "signing config",
            source: Box::new(e),
        })?;
        Ok(Self { inner })
    }

    /// The Fulcio URL to use (highest supported API version, currently valid).
    pub fn fulcio_url(&self) -> Option<&str> {
        self.inner.fulcio_url().map(|e| e.url.as_str())
    }

    /// The Rekor v1 URL to use.
    pub fn rekor_v1_url(&self) -> Option<&str> {
        self.inner.rekor_url(Some(1)).map(|e| e.url.as_str())
    }

    /// The first TSA URL, if any.
    pub fn tsa_url(&self) -> Option<&str> {
        self.inner.tsa_url().map(|e| e.url.as_str())
    }

    /// The OIDC provider URL, if any.
    pub fn oidc_url(&self) -> Option<&str> {
        self.inner.oidc_url().map(|e| e.url.as_str())
    }
}

/// A trusted root and, optionally, the matching signing config: what `--trust-config` loads.
#[derive(Debug, Clone)]
pub struct TrustConfig {
    /// Verification material.
    pub trusted_root: TrustedRoot,
    /// Signing services, when the document names them.
    pub signing_config: Option<SigningConfig>,
}

impl TrustConfig {
    /// The embedded configuration of a well-known instance.
    pub fn embedded(instance: Instance) -> Self {
        Self {
            trusted_root: TrustedRoot::embedded(instance),
            signing_config: Some(SigningConfig::embedded(instance)),
        }
    }

    /// Parses a `ClientTrustConfig` (trusted root + signing config), a bare trusted root, or a
    /// bare signing config (then the trusted root is `fallback_root`), dispatching on `mediaType`.
    pub fn from_json(bytes: &[u8], fallback_root: Option<TrustedRoot>) -> Result<Self> {
        let value =
            cairn_model::json::value_from_slice(bytes).map_err(|e| Error::TrustMaterial {
                what: "trust config",
                source: Box::new(e),
            })?;
        let media_type = value
            .get("mediaType")
            .and_then(|m| m.as_str())
            .unwrap_or_default();
        if media_type == CLIENT_TRUST_CONFIG_MEDIA_TYPE {
            let part = |name: &str, what: &'static str| {
                value
                    .get(name)
                    .map(serde_json::to_vec)
                    .transpose()
                    .map_err(|e| Error::TrustMaterial {
                        what,
                        source: Box::new(e),
                    })
            };
            let root =
                part("trustedRoot", "trust config")?.ok_or_else(|| Error::TrustMaterial {
                    what: "trust config",
                    source: "the trust config has no trustedRoot".into(),
                })?;
            let signing = part("signingConfig", "trust config")?;
            Ok(Self {
                trusted_root: TrustedRoot::from_json(&root)?,
                signing_config: signing
                    .as_deref()
                    .map(SigningConfig::from_json)
                    .transpose()?,
            })
        } else if media_type.starts_with("application/vnd.dev.sigstore.trustedroot") {
            Ok(Self {
                trusted_root: TrustedRoot::from_json(bytes)?,
                signing_config: None,
            })
        } else if media_type.starts_with("application/vnd.dev.sigstore.signingconfig") {
            Ok(Self {
                trusted_root: fallback_root
                    .unwrap_or_else(|| TrustedRoot::embedded(Instance::PublicGood)),
                signing_config: Some(SigningConfig::from_json(bytes)?),
            })
        } else {
            Err(Error::TrustConfigMediaType {
                media_type: media_type.to_string(),
            })
        }
    }

    /// Reads a trust config file; see [`TrustConfig::from_json`].
    pub fn from_file(path: &Path, fallback_root: Option<TrustedRoot>) -> Result<Self> {
        Self::from_json(&read(path)?, fallback_root)
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Trust documents go through the strict parser first (duplicate keys, depth), then as text to the
/// library's own parser.
fn strict_text<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a str> {
    cairn_model::json::value_from_slice(bytes).map_err(|e| Error::TrustMaterial {
        what,
        source: Box::new(e),
    })?;
    std::str::from_utf8(bytes).map_err(|e| Error::TrustMaterial {
        what,
        source: Box::new(e),
    })
}

/// Where [`refresh_through_tuf`] fetches trust material.
#[derive(Debug, Clone, Copy)]
pub enum TufSource<'a> {
    /// A well-known instance's TUF repository, bootstrapped from the `root.json` that
    /// `sigstore-trust-root` embeds for it.
    Instance(Instance),
    /// A repository (a private instance's), bootstrapped from a `root.json` the caller trusts.
    Custom {
        /// The repository's base URL (metadata at `{url}/N.root.json`, `{url}/timestamp.json`).
        url: &'a str,
        /// The trusted initial `root.json`.
        root: &'a [u8],
    },
}

/// Fetches `trusted_root.json` and `signing_config.v0.2.json` through TUF: root rotation from the
/// bootstrap root, then timestamp, snapshot and targets metadata, each signed by its role's
/// threshold and unexpired at `now`, and the two targets checked against their length and hash.
/// Returns them as a [`TrustConfig`] and as `ClientTrustConfig` JSON (what `--trust-config`
/// reads). Nothing is cached on disk: each refresh starts from the bootstrap root.
///
/// This is the only network access to trust material in cairn, and it happens only when called.
pub fn refresh_through_tuf(
    source: TufSource<'_>,
    retry: &crate::Retry,
    now: i64,
) -> Result<(TrustConfig, Vec<u8>)> {
    use sigstore_verify::trust_root::{TufBootstrap, TufConfig, fetch_trust_material_at};
    let tuf_err = |e: Box<dyn std::error::Error + Send + Sync>| Error::Service {
        service: crate::Service::Tuf,
        attempts: 1,
        source: e,
    };
    let config = match source {
        TufSource::Instance(Instance::PublicGood) => TufConfig::production(),
        TufSource::Instance(Instance::Staging) => TufConfig::staging(),
        TufSource::Custom { url, root } => TufConfig::custom(url, TufBootstrap::trusted(root)),
    }
    .without_cache()
    .with_http_client(crate::retry::http_client(retry)?);
    let at = jiff::Timestamp::from_second(now).map_err(|e| tuf_err(Box::new(e)))?;
    let (root, signing) = crate::retry::block_on(fetch_trust_material_at(config, at))
        .map_err(|e| tuf_err(Box::new(e)))?;
    let json = serde_json::to_vec_pretty(&serde_json::json!({
        "mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE,
        "trustedRoot": serde_json::to_value(&root).map_err(|e| tuf_err(Box::new(e)))?,
        "signingConfig": serde_json::to_value(&signing).map_err(|e| tuf_err(Box::new(e)))?,
    }))
    .map_err(|e| tuf_err(Box::new(e)))?;
    // What is written must load again, exactly as `--trust-config` will load it.
    let trust = TrustConfig::from_json(&json, None)?;
    Ok((trust, json))
}
