//! Assembling the in-toto Statement v1 with its SLSA provenance v1 predicate.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::env::{Environment, IdTokenClaims, Platform};
use crate::git::GitSource;
use crate::links::LinkRecord;
use crate::platform::{self, BuildContext, PlatformInput};
use crate::subject::Subject;
use crate::{Error, Warning};

/// The in-toto Statement type cairn writes.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The SLSA provenance v1 predicate type.
pub const PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// Everything provenance is made from. Nothing here is read from the process: the caller
/// passes the environment, the checkout, the subjects and the time.
#[derive(Debug, Clone)]
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
    /// The unsigned in-toto Statement v1 (keys sorted; serialise it with serde_json).
    pub statement: Value,
    /// The platform described.
    pub platform: Platform,
    /// Non-fatal findings, in the order found.
    pub warnings: Vec<Warning>,
}

/// Builds the provenance Statement.
pub fn generate(request: &Request<'_>) -> Result<Generated, Error> {
    if request.subjects.is_empty() {
        return Err(Error::NoSubjects);
    }
    let subjects = crate::subject::merge(request.subjects.clone())?;
    for s in &subjects {
        if s.digest.is_empty() {
            return Err(Error::NoSubjects);
        }
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
    let mut deps: Vec<Value> = Vec::new();
    if let Some(src) = &ctx.source {
        deps.push(json!({"uri": src.uri, "digest": {"gitCommit": src.commit}}));
    }
    if platform != Platform::Local
        && let (Some(git), Some(src)) = (request.git, &ctx.source)
        && !git.commit.eq_ignore_ascii_case(&src.commit)
    {
        let uri = match &git.remote {
            Some(remote) => remote.git_uri(git.git_ref.as_deref()),
            None => format!("git+file://{}", git.root.display()),
        };
        deps.push(json!({"uri": uri, "digest": {"gitCommit": git.commit}}));
    }
    let mut materials: Vec<(String, Value)> = Vec::new();
    for link in &request.links {
        for m in &link.materials {
            let digest = serde_json::to_value(&m.digest).expect("a digest set serialises");
            materials.push((
                format!("{}\u{0}{}", m.name, digest),
                json!({"name": m.name, "digest": digest}),
            ));
        }
    }
    materials.sort_by(|a, b| a.0.cmp(&b.0));
    materials.dedup_by(|a, b| a.0 == b.0);
    deps.extend(materials.into_iter().map(|(_, v)| v));

    let byproducts: Vec<Value> = request
        .links
        .iter()
        .map(|l| {
            json!({
                "name": l.file_name,
                "digest": {"sha256": l.sha256},
                "mediaType": l.format.media_type(),
                "annotations": {"step": l.step},
            })
        })
        .collect();

    let mut build_definition = Map::new();
    build_definition.insert("buildType".into(), json!(ctx.build_type));
    build_definition.insert(
        "externalParameters".into(),
        Value::Object(ctx.external_parameters),
    );
    if !ctx.internal_parameters.is_empty() {
        build_definition.insert(
            "internalParameters".into(),
            Value::Object(ctx.internal_parameters),
        );
    }
    if !deps.is_empty() {
        build_definition.insert("resolvedDependencies".into(), Value::Array(deps));
    }

    let mut builder = Map::new();
    builder.insert("id".into(), json!(ctx.builder_id));
    if !ctx.builder_version.is_empty() {
        builder.insert("version".into(), json!(ctx.builder_version));
    }
    let mut metadata = Map::new();
    if let Some(id) = ctx.invocation_id {
        metadata.insert("invocationId".into(), json!(id));
    }
    if let Some(t) = started_on {
        metadata.insert("startedOn".into(), json!(rfc3339(t)));
    }
    if let Some(t) = finished_on {
        metadata.insert("finishedOn".into(), json!(rfc3339(t)));
    }
    let mut run_details = Map::new();
    run_details.insert("builder".into(), Value::Object(builder));
    if !metadata.is_empty() {
        run_details.insert("metadata".into(), Value::Object(metadata));
    }
    if !byproducts.is_empty() {
        run_details.insert("byproducts".into(), Value::Array(byproducts));
    }

    let subject: Vec<Value> = subjects
        .iter()
        .map(|s| json!({"name": s.name, "digest": s.digest}))
        .collect();
    if request.git.is_some_and(|g| g.shallow) && platform == Platform::Local {
        warnings.push(Warning::ShallowClone);
    }
    let statement = json!({
        "_type": STATEMENT_V1,
        "subject": subject,
        "predicateType": PROVENANCE_V1,
        "predicate": {
            "buildDefinition": Value::Object(build_definition),
            "runDetails": Value::Object(run_details),
        },
    });
    Ok(Generated {
        statement,
        platform,
        warnings,
    })
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
