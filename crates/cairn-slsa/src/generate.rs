//! Assembling the in-toto Statement v1 with its SLSA provenance v1 predicate.

use cairn_model::predicate::slsa::v1::{
    BuildDefinition, BuildMetadata, Builder, Provenance, RunDetails,
};
use cairn_model::{DigestSet, ResourceDescriptor, Statement, Timestamp};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::env::{Environment, IdTokenClaims, Platform};
use crate::git::GitSource;
use crate::links::LinkRecord;
use crate::platform::{self, BuildContext, PlatformInput};
use crate::subject::Subject;
use crate::{Error, Warning};

/// The in-toto Statement type cairn writes.
pub const STATEMENT_V1: &str = cairn_model::statement::STATEMENT_V1;
/// The SLSA provenance v1 predicate type.
pub const PROVENANCE_V1: &str = cairn_model::predicate::SLSA_PROVENANCE_V1;

/// Everything provenance is made from. Nothing here is read from the process: the caller
/// passes the environment, the checkout, the subjects and the time. Build one with
/// [`Request::new`] and set the fields you need.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The environment variables of the build.
    pub env: &'a Environment,
    /// OIDC ID token claims, when the caller has the platform's token.
    pub claims: Option<&'a IdTokenClaims>,
    /// The source checkout, when the build ran in one.
    pub git: Option<&'a GitSource>,
    /// The artifacts (at least one). Merged and sorted by name.
    pub subjects: Vec<Subject>,
    /// Recorded steps whose materials and files join the provenance.
    pub links: Vec<LinkRecord>,
    /// The time the provenance is made (becomes `finishedOn`); `None` omits it. Clamped to
    /// `SOURCE_DATE_EPOCH` when the environment sets it, as reproducible-builds.org specifies.
    pub now: Option<DateTime<Utc>>,
    /// Use this platform instead of detecting it from the environment.
    pub platform: Option<Platform>,
    /// A builder id for local builds (ignored, with an error, on CI platforms: their builder id
    /// is defined by their buildType).
    pub builder_id: Option<String>,
    /// Allow a local build without a git checkout (the provenance then names no source).
    pub allow_no_source: bool,
}

impl<'a> Request<'a> {
    /// A request with only the environment set.
    pub fn new(env: &'a Environment) -> Self {
        Request {
            env,
            claims: None,
            git: None,
            subjects: Vec::new(),
            links: Vec::new(),
            now: None,
            platform: None,
            builder_id: None,
            allow_no_source: false,
        }
    }
}

/// The result: the Statement and what the caller should tell the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// The unsigned in-toto Statement v1; its predicate is [`Generated::provenance`].
    pub statement: Statement,
    /// The SLSA provenance v1 predicate, typed.
    pub provenance: Provenance,
    /// The platform described.
    pub platform: Platform,
    /// Non-fatal findings, in the order found.
    pub warnings: Vec<Warning>,
}

impl Generated {
    /// The Statement as a JSON value.
    pub fn json(&self) -> Value {
        serde_json::to_value(&self.statement).expect("a statement serialises to JSON")
    }

    /// The Statement as indented JSON with a final newline (what `cairn provenance` writes).
    pub fn to_pretty_json(&self) -> Vec<u8> {
        let mut out =
            serde_json::to_vec_pretty(&self.statement).expect("a statement serialises to JSON");
        out.push(b'\n');
        out
    }
}

/// Builds the provenance Statement.
pub fn generate(request: &Request<'_>) -> Result<Generated, Error> {
    if request.subjects.is_empty() {
        return Err(Error::NoSubjects);
    }
    let subjects = crate::subject::merge(request.subjects.clone())?;
    if let Some(s) = subjects.iter().find(|s| s.digest.is_empty()) {
        return Err(Error::SubjectWithoutDigest {
            name: s.name.clone(),
        });
    }
    let platform = request.platform.unwrap_or_else(|| request.env.platform());
    let sde = request.env.source_date_epoch()?;
    let mut ctx: BuildContext = platform::describe(
        PlatformInput {
            env: request.env,
            claims: request.claims,
            git: request.git,
        },
        platform,
    )?;
    if let Some(id) = &request.builder_id {
        if platform != Platform::Local {
            return Err(Error::BuilderIdOverride { platform });
        }
        ctx.builder_id = id.clone();
    }
    if platform == Platform::Local && ctx.source.is_none() && !request.allow_no_source {
        return Err(Error::NoSource);
    }
    let mut warnings = std::mem::take(&mut ctx.warnings);

    let clamp = |t: DateTime<Utc>| match sde {
        Some(limit) if t > limit => limit,
        _ => t,
    };
    let finished_on = match (request.now, sde) {
        (Some(now), _) => Some(clamp(now)),
        (None, Some(limit)) => Some(limit),
        (None, None) => None,
    };
    let started_on = ctx.started_on.map(clamp);

    // resolvedDependencies: the source first, then (when the checkout is not the commit the
    // platform names) what was really checked out, then the steps' materials.
    let git_dep = |uri: String, commit: &str| ResourceDescriptor {
        uri: Some(uri),
        digest: Some(digest_of("gitCommit", commit)),
        ..ResourceDescriptor::default()
    };
    let mut deps: Vec<ResourceDescriptor> = Vec::new();
    if let Some(src) = &ctx.source {
        deps.push(git_dep(src.uri.clone(), &src.commit));
    }
    if platform != Platform::Local
        && let (Some(git), Some(src)) = (request.git, &ctx.source)
        && !git.commit.eq_ignore_ascii_case(&src.commit)
    {
        let uri = match &git.remote {
            Some(remote) => remote.git_uri(git.git_ref.as_deref()),
            None => format!("git+file://{}", git.root.display()),
        };
        deps.push(git_dep(uri, &git.commit));
    }
    let mut materials: Vec<(String, DigestSet)> = request
        .links
        .iter()
        .flat_map(|l| {
            l.materials
                .iter()
                .map(|m| (m.name.clone(), m.digest.clone()))
        })
        .collect();
    materials.sort();
    materials.dedup();
    deps.extend(
        materials
            .into_iter()
            .map(|(name, digest)| ResourceDescriptor {
                name: Some(name),
                digest: Some(digest),
                ..ResourceDescriptor::default()
            }),
    );

    let byproducts: Vec<ResourceDescriptor> = request
        .links
        .iter()
        .map(|l| {
            let mut annotations = Map::new();
            annotations.insert("step".into(), json!(l.step));
            ResourceDescriptor {
                name: Some(l.file_name.clone()),
                digest: Some(digest_of("sha256", &l.sha256)),
                media_type: Some(l.format.media_type().to_owned()),
                annotations: Some(annotations),
                ..ResourceDescriptor::default()
            }
        })
        .collect();

    let metadata = BuildMetadata {
        invocation_id: ctx.invocation_id,
        started_on: started_on.map(Timestamp::from_datetime),
        finished_on: finished_on.map(Timestamp::from_datetime),
        extra: Map::new(),
    };
    let has_metadata = metadata.invocation_id.is_some()
        || metadata.started_on.is_some()
        || metadata.finished_on.is_some();
    let provenance = Provenance {
        build_definition: BuildDefinition {
            build_type: ctx.build_type,
            external_parameters: Some(ctx.external_parameters),
            internal_parameters: (!ctx.internal_parameters.is_empty())
                .then_some(ctx.internal_parameters),
            resolved_dependencies: deps,
            extra: Map::new(),
        },
        run_details: RunDetails {
            builder: Builder {
                id: ctx.builder_id,
                version: ctx.builder_version,
                builder_dependencies: Vec::new(),
                extra: Map::new(),
            },
            metadata: has_metadata.then_some(metadata),
            byproducts,
            extra: Map::new(),
        },
        extra: Map::new(),
    };

    if request.git.is_some_and(|g| g.shallow) && platform == Platform::Local {
        warnings.push(Warning::ShallowClone);
    }
    let subject = subjects
        .into_iter()
        .map(|s| ResourceDescriptor::subject(s.name, DigestSet::from_map_unchecked(s.digest)))
        .collect();
    let predicate = serde_json::to_value(&provenance).expect("provenance serialises to JSON");
    let statement = Statement::new(subject, PROVENANCE_V1, predicate);
    Ok(Generated {
        statement,
        provenance,
        platform,
        warnings,
    })
}

fn digest_of(algorithm: &str, hex: &str) -> DigestSet {
    DigestSet::from_map_unchecked([(algorithm.to_owned(), hex.to_owned())].into())
}
