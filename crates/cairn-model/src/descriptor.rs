//! in-toto attestation `ResourceDescriptor` (spec v1 `resource_descriptor.md`): a description of
//! an artifact or resource by name, URI, digest and/or inline content.
//!
//! Field names follow the protobuf JSON mapping (`downloadLocation`, `mediaType`); the proto field
//! names (`download_location`, `media_type`) are read too, as protojson does. Unknown fields are
//! kept.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::digest::{DigestError, DigestSet};

/// A resource (artifact, dependency, policy, ...) as the attestation framework describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    /// A name for the resource (a file path, a package name, an image reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A URI identifying the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Digests of the resource's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<DigestSet>,
    /// The resource's content itself (base64 in JSON).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_b64")]
    pub content: Option<Vec<u8>>,
    /// Where the resource can be downloaded from.
    #[serde(
        default,
        rename = "downloadLocation",
        alias = "download_location",
        skip_serializing_if = "Option::is_none"
    )]
    pub download_location: Option<String>,
    /// The resource's media type.
    #[serde(
        default,
        rename = "mediaType",
        alias = "media_type",
        skip_serializing_if = "Option::is_none"
    )]
    pub media_type: Option<String>,
    /// Free-form additional information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String, Value>>,
    /// Fields not interpreted here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Why a ResourceDescriptor is not valid.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DescriptorError {
    /// None of `uri`, `digest` and `content` is set (the spec requires one of them).
    #[error("resource descriptor has none of uri, digest and content")]
    MissingRequiredField,
    /// A digest is malformed.
    #[error("resource descriptor digest is invalid")]
    Digest(#[source] DigestError),
}

impl ResourceDescriptor {
    /// A descriptor of a named artifact with digests (the shape of a Statement subject).
    pub fn subject(name: impl Into<String>, digest: DigestSet) -> Self {
        ResourceDescriptor {
            name: Some(name.into()),
            digest: Some(digest),
            ..ResourceDescriptor::default()
        }
    }

    /// The digests, or an empty set when there are none.
    pub fn digests(&self) -> DigestSet {
        self.digest.clone().unwrap_or_default()
    }

    /// True when `digest` is present and holds at least one algorithm.
    pub fn has_digest(&self) -> bool {
        self.digest.as_ref().is_some_and(|d| !d.is_empty())
    }

    /// Checks the spec's rules: at least one of `uri`, `digest`, `content` (non-empty), and
    /// well-formed digests for known algorithms.
    pub fn validate(&self) -> Result<(), DescriptorError> {
        let has_uri = self.uri.as_deref().is_some_and(|u| !u.is_empty());
        let has_content = self.content.as_ref().is_some_and(|c| !c.is_empty());
        if !has_uri && !self.has_digest() && !has_content {
            return Err(DescriptorError::MissingRequiredField);
        }
        if let Some(digest) = &self.digest {
            digest.validate().map_err(DescriptorError::Digest)?;
        }
        Ok(())
    }

    /// True when any identifying field (name, uri, digest, content) is set.
    pub(crate) fn is_identified(&self) -> bool {
        self.name.as_deref().is_some_and(|n| !n.is_empty())
            || self.uri.as_deref().is_some_and(|u| !u.is_empty())
            || self.has_digest()
            || self.content.as_ref().is_some_and(|c| !c.is_empty())
    }
}

mod opt_b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(b) => s.serialize_str(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        crate::dsse::b64::decode(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("content is not valid base64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_camel_case_and_proto_names_and_keeps_unknown_fields() {
        let rd: ResourceDescriptor = serde_json::from_value(json!({
            "uri": "https://x", "download_location": "https://y", "mediaType": "t",
            "content": "aGk=", "future": 1
        }))
        .unwrap();
        assert_eq!(rd.download_location.as_deref(), Some("https://y"));
        assert_eq!(rd.content.as_deref(), Some(&b"hi"[..]));
        let back = serde_json::to_value(&rd).unwrap();
        assert_eq!(
            back,
            json!({"uri": "https://x", "downloadLocation": "https://y", "mediaType": "t",
                   "content": "aGk=", "future": 1})
        );
    }

    #[test]
    fn validate_requires_uri_digest_or_content() {
        let mut rd = ResourceDescriptor {
            name: Some("only a name".into()),
            ..Default::default()
        };
        assert_eq!(rd.validate(), Err(DescriptorError::MissingRequiredField));
        rd.content = Some(b"x".to_vec());
        assert_eq!(rd.validate(), Ok(()));
        rd.digest = Some(DigestSet::from_map_unchecked(
            [("sha256".to_owned(), "abc".to_owned())].into(),
        ));
        assert!(matches!(rd.validate(), Err(DescriptorError::Digest(_))));
    }

    #[test]
    fn bad_base64_content_is_a_parse_error() {
        assert!(serde_json::from_value::<ResourceDescriptor>(json!({"content": "***"})).is_err());
    }
}
