//! `cairn provenance --subject PATH|REF... [--links DIR] [--out FILE] [--hash sha256,sha512]`:
//! an unsigned in-toto Statement v1 with a SLSA provenance v1 predicate describing this build
//! (GitHub Actions, GitLab CI or local), for `cairn attest --type slsa` to sign.
//!
//! This is the only place that reads the process environment, the clock and the working
//! directory for provenance: cairn-slsa gets them as values.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cairn_slsa::subject::{self, HashAlgorithm, Subject};
use cairn_slsa::{Environment, GitError, GitSource, IdTokenClaims, Platform, Request};
use clap::{Args, ValueEnum};
use serde::Serialize;

use super::attach::{RegistryArgs, open_repo, parse_ref};
use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// `cairn provenance` arguments.
#[derive(Debug, Args)]
pub struct ProvenanceArgs {
    /// An artifact the provenance is about (repeatable): a file, a directory (every file below
    /// it), or an image by reference (`oci:DIR[:TAG]`, `registry/repo:tag`,
    /// `registry/repo@sha256:…`), resolved to its manifest digest.
    #[arg(
        long,
        value_name = "PATH|REF",
        env = "CAIRN_SUBJECT",
        value_delimiter = ',',
        required_unless_present = "subject_checksums"
    )]
    pub subject: Vec<String>,
    /// A checksums file in `sha256sum`/`sha512sum` format (text, binary or BSD tag lines)
    /// whose entries become subjects (repeatable).
    #[arg(
        long,
        value_name = "FILE",
        env = "CAIRN_SUBJECT_CHECKSUMS",
        value_delimiter = ','
    )]
    pub subject_checksums: Vec<PathBuf>,
    /// A directory of recorded in-toto links (`*.link`: metablocks or DSSE link statements):
    /// their materials become resolvedDependencies, the link files byproducts.
    #[arg(long, value_name = "DIR", env = "CAIRN_LINKS")]
    pub links: Option<PathBuf>,
    /// Write the Statement to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE", env = "CAIRN_PROVENANCE_OUT")]
    pub out: Option<PathBuf>,
    /// Digest algorithms for file subjects.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "sha256",
        env = "CAIRN_HASH"
    )]
    pub hash: Vec<HashArg>,
    /// The source checkout (default: the current directory).
    #[arg(long, value_name = "DIR", env = "CAIRN_SOURCE_DIR")]
    pub source_dir: Option<PathBuf>,
    /// Describe a local build that has no git checkout (the provenance then names no source).
    #[arg(long, env = "CAIRN_NO_SOURCE")]
    pub no_source: bool,
    /// The builder id of a local build (e.g. your CI system's URL). CI platforms define theirs.
    #[arg(long, value_name = "URI", env = "CAIRN_BUILDER_ID")]
    pub builder_id: Option<String>,
    /// The platform to describe (default: detected from GITHUB_ACTIONS / GITLAB_CI).
    #[arg(long, value_enum, default_value_t = PlatformArg::Auto, env = "CAIRN_PLATFORM")]
    pub platform: PlatformArg,
    /// The job's OIDC ID token (JWT), read for claims the environment lacks: GitHub's
    /// job_workflow_ref (reusable workflows), GitLab's runner_environment. Defaults to
    /// $SIGSTORE_ID_TOKEN when set, else on GitHub Actions the token the job can request.
    /// Its signature is not checked here.
    #[arg(
        long,
        value_name = "JWT",
        env = "CAIRN_ID_TOKEN",
        hide_env_values = true
    )]
    pub id_token: Option<String>,
    /// Do not request the job's ID token from GitHub Actions (by default it is requested when
    /// the job may: `permissions: id-token: write`, as GitHub's attestation action does).
    #[arg(long, env = "CAIRN_NO_ID_TOKEN", conflicts_with = "id_token")]
    pub no_id_token: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// `--hash` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashArg {
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

/// `--platform` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlatformArg {
    /// Detect from the environment.
    Auto,
    /// GitHub Actions.
    GithubActions,
    /// GitLab CI/CD.
    GitlabCi,
    /// A local (or otherwise undescribed) build.
    Local,
}

#[derive(Serialize)]
struct Report<'a> {
    out: &'a Path,
    platform: Platform,
    builder_id: &'a str,
    build_type: &'a str,
    subjects: usize,
    warnings: Vec<String>,
}

impl ProvenanceArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let env: Environment = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let platform = match self.platform {
            PlatformArg::Auto => env.platform(),
            PlatformArg::GithubActions => Platform::GitHubActions,
            PlatformArg::GitlabCi => Platform::GitLabCi,
            PlatformArg::Local => Platform::Local,
        };
        let algorithms = self.algorithms();

        let claims = self.claims(ctx, &env, platform)?;

        let git = self.read_git(ctx, platform)?;

        let mut warnings = Vec::new();
        let mut subjects: Vec<Subject> = Vec::new();
        for spec in &self.subject {
            subjects.extend(self.subject_from(spec, &algorithms, &mut warnings, ctx)?);
        }
        for file in &self.subject_checksums {
            subjects.extend(subject::from_checksums(file)?);
        }
        let links = match &self.links {
            Some(dir) => cairn_slsa::links::read_dir(dir)?,
            None => Vec::new(),
        };

        let mut request = Request::new(&env);
        request.claims = claims.as_ref();
        request.git = git.as_ref();
        request.subjects = subjects;
        request.links = links;
        request.now = Some(chrono::Utc::now());
        request.platform = Some(platform);
        request.builder_id = self.builder_id.clone();
        request.allow_no_source = self.no_source;
        let generated = cairn_slsa::generate(&request).map_err(explain)?;

        warnings.extend(generated.warnings.iter().cloned());
        for w in &warnings {
            if w.is_note() {
                ctx.info(format!("note: {w}"));
            } else {
                ctx.warn(w.to_string());
            }
        }
        let bytes = generated.to_pretty_json();
        match &self.out {
            None => {
                let mut out = std::io::stdout().lock();
                out.write_all(&bytes)?;
                out.flush()?;
            }
            Some(path) => {
                crate::output::write_atomic(path, &bytes)?;
                let p = &generated.provenance;
                if ctx.json {
                    ctx.out_json(&Report {
                        out: path,
                        platform: generated.platform,
                        builder_id: &p.run_details.builder.id,
                        build_type: &p.build_definition.build_type,
                        subjects: generated.statement.subject.len(),
                        warnings: warnings.iter().map(ToString::to_string).collect(),
                    })?;
                } else {
                    ctx.info(format!(
                        "wrote {} provenance for {} subject(s) to {} (builder {})",
                        generated.platform.name(),
                        generated.statement.subject.len(),
                        path.display(),
                        p.run_details.builder.id
                    ));
                }
            }
        }
        Ok(Status::Success)
    }

    /// The job's ID token claims: `--id-token`, else `SIGSTORE_ID_TOKEN` (GitLab `id_tokens`),
    /// else on GitHub Actions the token the runner issues on request (the same one GitHub's
    /// attestation action reads `job_workflow_ref` from).
    fn claims(
        &self,
        ctx: &Ctx,
        env: &Environment,
        platform: Platform,
    ) -> anyhow::Result<Option<IdTokenClaims>> {
        let bad_token = |e: cairn_slsa::Error| {
            with_hint(
                anyhow::Error::new(e),
                "--id-token (CAIRN_ID_TOKEN, SIGSTORE_ID_TOKEN) must be the job's OIDC token as a compact JWT",
            )
        };
        if let Some(token) = self
            .id_token
            .as_deref()
            .or_else(|| env.get("SIGSTORE_ID_TOKEN"))
        {
            return IdTokenClaims::from_jwt(token).map(Some).map_err(bad_token);
        }
        if self.no_id_token || platform != Platform::GitHubActions {
            return Ok(None);
        }
        let (Some(url), Some(bearer)) = (
            env.get("ACTIONS_ID_TOKEN_REQUEST_URL"),
            env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
        ) else {
            ctx.info("note: no ID token (the job lacks `permissions: id-token: write`): the builder is the top-level workflow (GITHUB_WORKFLOW_REF)");
            return Ok(None);
        };
        match cairn_sigstore::oidc::github_actions_token(
            url,
            bearer,
            &cairn_sigstore::retry::Retry::default(),
        ) {
            Ok(token) => IdTokenClaims::from_jwt(token.jwt())
                .map(Some)
                .map_err(bad_token),
            Err(e) => {
                ctx.warn(format!(
                    "cannot get the job's ID token ({e}): the builder is the top-level workflow (GITHUB_WORKFLOW_REF), which is wrong for a job in a reusable workflow"
                ));
                Ok(None)
            }
        }
    }

    fn algorithms(&self) -> Vec<HashAlgorithm> {
        let mut algs: Vec<HashAlgorithm> = self
            .hash
            .iter()
            .map(|h| match h {
                HashArg::Sha256 => HashAlgorithm::Sha256,
                HashArg::Sha512 => HashAlgorithm::Sha512,
            })
            .collect();
        algs.sort();
        algs.dedup();
        algs
    }

    /// The checkout, if any. A CI platform describes its source from its own variables, so a
    /// job without a checkout is fine there; a local build needs one (or `--no-source`).
    fn read_git(&self, ctx: &Ctx, platform: Platform) -> anyhow::Result<Option<GitSource>> {
        let dir = match &self.source_dir {
            Some(d) => d.clone(),
            None => std::env::current_dir().context("cannot read the current directory")?,
        };
        match GitSource::read(&dir) {
            Ok(git) => Ok(Some(git)),
            Err(e @ (GitError::NotACheckout { .. } | GitError::Unborn { .. })) => {
                if platform != Platform::Local {
                    ctx.info(format!(
                        "note: {e}; the source is described from the {} variables",
                        platform.name()
                    ));
                    Ok(None)
                } else if self.no_source {
                    Ok(None)
                } else {
                    Err(with_hint(
                        anyhow::Error::new(e),
                        "run cairn provenance inside the git checkout that was built (or pass --source-dir DIR), or pass --no-source to describe a build without source",
                    ))
                }
            }
            Err(e) => Err(anyhow::Error::new(e)),
        }
    }

    fn subject_from(
        &self,
        spec: &str,
        algorithms: &[HashAlgorithm],
        warnings: &mut Vec<cairn_slsa::Warning>,
        ctx: &Ctx,
    ) -> anyhow::Result<Vec<Subject>> {
        let path = Path::new(spec);
        if !looks_like_image(spec) || path.exists() {
            return subject::from_path(path, algorithms, warnings).map_err(|e| {
                with_hint(anyhow::Error::new(e), "a subject is a file, a directory, oci:DIR[:TAG] or registry/repo[:tag|@digest]")
            });
        }
        let reference = parse_ref(spec)?;
        let client = self.registry.client(ctx)?;
        let repo = open_repo(&reference, &client, false)?;
        let resolved = cairn_oci::resolve(
            repo.as_ref(),
            &reference.reference(),
            &cairn_oci::PlatformSelection::All,
        )
        .with_context(|| format!("cannot resolve image {reference}"))?;
        let digest = resolved.digest().to_string();
        let (alg, hex) = digest
            .split_once(':')
            .context("image digest has no algorithm")?;
        if reference.digest().is_none() {
            ctx.info(format!("{reference} resolved to {digest}"));
        }
        Ok(vec![Subject {
            name: reference.name(),
            digest: [(alg.to_owned(), hex.to_owned())].into(),
        }])
    }
}

/// `oci:…`, `docker://…`, a reference with a digest, or one whose first component is a
/// registry host (has a dot or a port, or is localhost). Anything else is a path, so a typo'd
/// file name never turns into a registry request.
pub(crate) fn looks_like_image(spec: &str) -> bool {
    if spec.starts_with("oci:")
        || spec.starts_with("docker://")
        || spec.contains("@sha256:")
        || spec.contains("@sha512:")
    {
        return true;
    }
    match spec.split_once('/') {
        Some((first, rest)) => {
            !rest.is_empty()
                && (first.contains('.') && !first.starts_with('.')
                    || first.contains(':')
                    || first == "localhost")
        }
        None => false,
    }
}

/// Adds the hint that fits each library error.
fn explain(err: cairn_slsa::Error) -> anyhow::Error {
    let hint = match &err {
        cairn_slsa::Error::MissingVariables { .. } => Some(
            "run inside the CI job (the platform sets these in every step), or pass --platform local to describe this as a local build",
        ),
        cairn_slsa::Error::NoSource => Some(
            "pass --source-dir DIR for the checkout, or --no-source to describe a build without source",
        ),
        cairn_slsa::Error::BuilderIdOverride { .. } => {
            Some("--builder-id is for local builds; CI builder ids come from the platform")
        }
        cairn_slsa::Error::SourceDateEpoch { .. } => {
            Some("unset SOURCE_DATE_EPOCH or set it to seconds since 1970-01-01T00:00:00Z")
        }
        _ => None,
    };
    let err = anyhow::Error::new(err);
    match hint {
        Some(h) => with_hint(err, h),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_image_references_are_told_apart() {
        for image in [
            "oci:./layout:v1",
            "ghcr.io/acme/app:1.2",
            "localhost:5000/app",
            "localhost/app",
            "docker://alpine",
            "app@sha256:0000",
        ] {
            assert!(looks_like_image(image), "{image}");
        }
        for path in [
            "dist/app.tar.gz",
            "./dist",
            "../out/a",
            "app",
            "target/release/cairn",
            ".cache/x",
        ] {
            assert!(!looks_like_image(path), "{path}");
        }
    }
}
