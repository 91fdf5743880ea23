//! Bundles from sigstore-python, sigstore-go, the GitHub CLI and slsa-verifier whose MANIFEST gives
//! an expected outcome and whose trusted root is available here (see each MANIFEST; the case
//! numbers below are theirs). Each row is checked; rows left out are listed at the end with why.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use cairn_sigstore::{
    Artifact, CertificatePolicy, GithubClaims, Identity, Instance, PublicKey, SignerPolicy,
    TrustedRoot, VerifyOptions, verify_bundle,
};

const NOW: i64 = 1_795_824_000; // 2026-11-28
const GHA: &str = "https://token.actions.githubusercontent.com";
const GH_OAUTH: &str = "https://github.com/login/oauth";

fn td(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

enum Root {
    Production,
    Staging,
    Custom(&'static str),
    /// Staging plus sigstore-python's test TSA as `timestampAuthorities[0]`.
    StagingWithTsa,
}

enum Input {
    File(&'static str),
    Digest(&'static str),
}

enum Who {
    Id(&'static str, &'static str),
    Re(&'static str, &'static str),
    Key(&'static str),
}

struct Case {
    name: &'static str,
    bundle: &'static str,
    input: Input,
    root: Root,
    who: Who,
    github: GithubClaims,
    valid: bool,
}

fn c(
    name: &'static str,
    bundle: &'static str,
    input: Input,
    root: Root,
    who: Who,
    valid: bool,
) -> Case {
    Case {
        name,
        bundle,
        input,
        root,
        who,
        github: GithubClaims::default(),
        valid,
    }
}

fn gh(mut case: Case, f: impl FnOnce(&mut GithubClaims)) -> Case {
    f(&mut case.github);
    case
}

fn root(r: &Root) -> TrustedRoot {
    match r {
        Root::Production => TrustedRoot::embedded(Instance::PublicGood),
        Root::Staging => TrustedRoot::embedded(Instance::Staging),
        Root::Custom(p) => TrustedRoot::from_file(&td(p)).unwrap(),
        Root::StagingWithTsa => {
            let mut v: serde_json::Value =
                serde_json::from_str(include_str!("../trust/staging_trusted_root.json")).unwrap();
            let ca: serde_json::Value = serde_json::from_slice(
                &std::fs::read(td("sigstore-python/test/assets/tsa/ca.json")).unwrap(),
            )
            .unwrap();
            v["timestampAuthorities"] = serde_json::json!([ca]);
            TrustedRoot::from_json(&serde_json::to_vec(&v).unwrap()).unwrap()
        }
    }
}

fn cases() -> Vec<Case> {
    use Input::*;
    use Root::*;
    use Who::*;
    let sp = "sigstore-python/test/assets/";
    let _ = sp;
    macro_rules! p {
        ($s:literal) => {
            concat!("sigstore-python/test/assets/", $s)
        };
    }
    macro_rules! g {
        ($s:literal) => {
            concat!("sigstore-go/", $s)
        };
    }
    macro_rules! gh {
        ($s:literal) => {
            concat!(
                "github-attestations/gh-cli/pkg/cmd/attestation/test/data/",
                $s
            )
        };
    }
    macro_rules! sv {
        ($s:literal) => {
            concat!("slsa-verifier/cli/slsa-verifier/testdata/", $s)
        };
    }
    const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    const YOSS: &str = "william@yossarian.net";
    const SJS: &str =
        "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
    const SJS_SHA512: &str = "sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f";
    const GEN: &str = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0";
    const GEN_A_SHA: &str =
        "sha256:e6ba6d1e76e4a4d1cf1a8bd2d1bae4d6f6b4e29c3d5d8bc0fa6c5e3bdfcc9f5e";
    let _ = GEN_A_SHA;
    vec![
        // sigstore-python (MANIFEST rows 1-22)
        c(
            "py1",
            p!("bundle.txt.sigstore"),
            File(p!("bundle.txt")),
            Staging,
            Id("a@tny.town", GH_OAUTH),
            true,
        ),
        c(
            "py2 wrong identity",
            p!("bundle.txt.sigstore"),
            File(p!("bundle.txt")),
            Staging,
            Id("bad@ident.example.com", GH_OAUTH),
            false,
        ),
        c(
            "py3 wrong issuer",
            p!("bundle.txt.sigstore"),
            File(p!("bundle.txt")),
            Staging,
            Id("a@tny.town", "https://accounts.google.com"),
            false,
        ),
        c(
            "py4 wrong instance",
            p!("bundle.txt.sigstore"),
            File(p!("bundle.txt")),
            Production,
            Id("a@tny.town", GH_OAUTH),
            false,
        ),
        c(
            "py5 wrong artifact",
            p!("bundle.txt.sigstore"),
            File(p!("a.txt")),
            Staging,
            Id("a@tny.town", GH_OAUTH),
            false,
        ),
        c(
            "py6 v0.3",
            p!("bundle_v3.txt.sigstore"),
            File(p!("bundle_v3.txt")),
            Staging,
            Id(YOSS, GH_OAUTH),
            true,
        ),
        c(
            "py7 v0.3 legacy media type",
            p!("bundle_v3_alt.txt.sigstore"),
            File(p!("bundle_v3_alt.txt")),
            Staging,
            Id(YOSS, GH_OAUTH),
            true,
        ),
        c(
            "py8 rekor v2 + TSA",
            p!("staging-rekor-v2.txt.sigstore.json"),
            File(p!("staging-rekor-v2.txt")),
            Staging,
            Id("jku@goto.fi", GH_OAUTH),
            true,
        ),
        c(
            "py9 DSSE rekor v2",
            p!("a.dsse.staging-rekor-v2.txt.sigstore.json"),
            Digest("sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"),
            Staging,
            Id(BEACON, GHA),
            true,
        ),
        gh(
            c(
                "py10 real release with GitHub claims",
                p!("bundle_v3_github.whl.sigstore"),
                File(p!("bundle_v3_github.whl")),
                Production,
                Id(
                    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
                    GHA,
                ),
                true,
            ),
            |g| {
                g.repository = Some("trailofbits/rfc8785.py".into());
                g.sha = Some("d8b4a6445f38c48b9137a8099706d9b8073146e4".into());
                g.git_ref = Some("refs/tags/v0.1.2".into());
                g.runner_environment = Some("github-hosted".into());
                g.workflow_ref = Some(
                    "trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2".into(),
                );
            },
        ),
        gh(
            c(
                "py10 wrong sha",
                p!("bundle_v3_github.whl.sigstore"),
                File(p!("bundle_v3_github.whl")),
                Production,
                Id(
                    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
                    GHA,
                ),
                false,
            ),
            |g| g.sha = Some("0000000000000000000000000000000000000000".into()),
        ),
        gh(
            c(
                "py10 self-hosted required",
                p!("bundle_v3_github.whl.sigstore"),
                File(p!("bundle_v3_github.whl")),
                Production,
                Id(
                    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
                    GHA,
                ),
                false,
            ),
            |g| g.runner_environment = Some("self-hosted".into()),
        ),
        c(
            "py11 CVE-2022-36056",
            p!("bundle_cve_2022_36056.txt.sigstore"),
            File(p!("bundle_cve_2022_36056.txt")),
            Staging,
            Id(YOSS, GH_OAUTH),
            false,
        ),
        c(
            "py12 invalid media type",
            p!("bundle_invalid_version.txt.sigstore"),
            File(p!("bundle_invalid_version.txt")),
            Staging,
            Id(YOSS, GH_OAUTH),
            false,
        ),
        c(
            "py13 empty chain",
            p!("bundle_no_cert_v1.txt.sigstore"),
            File(p!("bundle_no_cert_v1.txt")),
            Staging,
            Id(YOSS, GH_OAUTH),
            false,
        ),
        c(
            "py14 no log entry",
            p!("bundle_no_log_entry.txt.sigstore"),
            File(p!("bundle_no_log_entry.txt")),
            Staging,
            Id(
                "alex.cameron@trailofbits.com",
                "https://accounts.google.com",
            ),
            false,
        ),
        c(
            "py15 no checkpoint",
            p!("bundle_no_checkpoint.txt.sigstore"),
            File(p!("bundle_no_checkpoint.txt")),
            Staging,
            Id(YOSS, GH_OAUTH),
            false,
        ),
        c(
            "py16 no signed time",
            p!("bundle_v3_no_signed_time.txt.sigstore.json"),
            File(p!("bundle_v3_no_signed_time.txt")),
            Staging,
            Id(YOSS, GH_OAUTH),
            false,
        ),
        // MANIFEST: VALID (sigstore-python agrees). cairn rejects it: both RFC 3161 tokens have the
        // message imprint SHA-512("hello"), not a hash of the bundle's signature, so they do not
        // timestamp this signature. Recorded as a deliberate disagreement (see docs/sigstore.md).
        c(
            "py17 two TSA timestamps (deliberate disagreement)",
            p!("tsa/bundle.txt.sigstore"),
            File(p!("tsa/bundle.txt")),
            StagingWithTsa,
            Id(
                "alexis.challande@trailofbits.com",
                "https://accounts.google.com",
            ),
            false,
        ),
        c(
            "py18 33 timestamps",
            p!("tsa/bundle.many_timestamp.sigstore"),
            File(p!("tsa/bundle.txt")),
            StagingWithTsa,
            Id(
                "alexis.challande@trailofbits.com",
                "https://accounts.google.com",
            ),
            false,
        ),
        c(
            "py19 duplicate timestamp",
            p!("tsa/bundle.duplicate.sigstore"),
            File(p!("tsa/bundle.txt")),
            StagingWithTsa,
            Id(
                "alexis.challande@trailofbits.com",
                "https://accounts.google.com",
            ),
            false,
        ),
        c(
            "py20 late timestamp",
            p!("tsa/bundle.txt.late_timestamp.sigstore"),
            File(p!("tsa/bundle.txt")),
            StagingWithTsa,
            Id(
                "insecure-cloudtop-shared-user@cloudtop-prod-us-east.iam.gserviceaccount.com",
                "https://accounts.google.com",
            ),
            false,
        ),
        c(
            "py21 missing inclusion proof",
            p!("integration/Python-3.12.5.tgz.sigstore"),
            Digest("sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405"),
            Production,
            Id("thomas@python.org", "https://accounts.google.com"),
            false,
        ),
        c(
            "py22",
            p!("integration/bundle_v3.txt.sigstore"),
            File(p!("integration/bundle_v3.txt")),
            Staging,
            Id(YOSS, GH_OAUTH),
            true,
        ),
        // sigstore-go (MANIFEST rows)
        c(
            "go1 v0.1 intoto sha512",
            g!("examples/bundle-provenance.json"),
            Digest(
                "sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751",
            ),
            Custom(g!("examples/trusted-root-public-good.json")),
            Id(SJS, GHA),
            true,
        ),
        c(
            "go3",
            g!("pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json"),
            Digest(
                "sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c",
            ),
            Custom(g!("pkg/testing/data/trusted-roots/public-good.json")),
            Id(SJS, GHA),
            true,
        ),
        c(
            "go4 digest mismatch",
            g!("pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json"),
            Digest(
                "sha512:56d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c",
            ),
            Custom(g!("pkg/testing/data/trusted-roots/public-good.json")),
            Id(SJS, GHA),
            false,
        ),
        c(
            "go5 bad SAN",
            g!("pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json"),
            Digest(
                "sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c",
            ),
            Custom(g!("pkg/testing/data/trusted-roots/public-good.json")),
            Id("BadSANValue", GHA),
            false,
        ),
        c(
            "go7 two DSSE signatures",
            g!("pkg/testing/data/bundles/dsse-2sigs.sigstore.json"),
            Digest("sha256:0000000000000000000000000000000000000000000000000000000000000000"),
            Custom(g!("pkg/testing/data/trusted-roots/public-good.json")),
            Id("brian@dehamer.com", GH_OAUTH),
            false,
        ),
        c(
            "go10 key + TSA, no tlog",
            g!("pkg/testing/data/bundles/public-key-validity.sigstore.json"),
            Digest("sha256:6ae8a75555209fd6c44157c0aed8016e763ff435a19cf186f76863140143ff72"),
            Custom(g!(
                "pkg/testing/data/trusted-roots/public-key-validity.json"
            )),
            Key(g!("pkg/testing/data/public-keys/public-key-validity.pem")),
            true,
        ),
        // GitHub CLI (gh attestation)
        gh(
            c(
                "gh1 intoto sha512",
                gh!("sigstore-js-2.1.0-bundle.json"),
                Digest(SJS_SHA512),
                Production,
                Re(r"https://github\.com/sigstore/.*", GHA),
                true,
            ),
            |g| g.repository = Some("sigstore/sigstore-js".into()),
        ),
        gh(
            c(
                "gh2 wrong repo",
                gh!("sigstore-js-2.1.0-bundle.json"),
                Digest(SJS_SHA512),
                Production,
                Re(r"https://github\.com/sigstore/.*", GHA),
                false,
            ),
            |g| g.repository = Some("sigstore/fakerepo".into()),
        ),
        c(
            "gh1 tgz bytes",
            gh!("sigstore-js-2.1.0-bundle.json"),
            File(gh!("sigstore-js-2.1.0.tgz")),
            Custom(gh!("trusted_root.json")),
            Id(SJS, GHA),
            true,
        ),
        c(
            "gh5 v0.1 (gh refuses by policy; conformance requires acceptance)",
            gh!("sigstore-js-2.1.0-bundle-v0.1.json"),
            Digest(SJS_SHA512),
            Production,
            Id(SJS, GHA),
            true,
        ),
        gh(
            c(
                "gh6 reusable workflow",
                gh!("reusable-workflow-attestation.sigstore.json"),
                File(gh!("reusable-workflow-artifact")),
                Production,
                Id(
                    "https://github.com/github/artifact-attestations-workflows/.github/workflows/attest.yml@09b495c3f12c7881b3cc17209a327792065c1a1d",
                    GHA,
                ),
                true,
            ),
            |g| g.repository = Some("malancas/attest-demo".into()),
        ),
        c(
            "gh7 custom issuer",
            gh!("custom-issuer.sigstore.json"),
            File(gh!("custom-issuer-artifact")),
            Production,
            Id(
                "https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main",
                "https://token.actions.githubusercontent.com/hammer-time",
            ),
            true,
        ),
        c(
            "gh8 custom issuer, default expected",
            gh!("custom-issuer.sigstore.json"),
            File(gh!("custom-issuer-artifact")),
            Production,
            Id(
                "https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main",
                GHA,
            ),
            false,
        ),
        c(
            "gh9 GitHub instance against public-good",
            gh!("github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl"),
            File(gh!("github_provenance_demo-0.0.12-py3-none-any.whl")),
            Production,
            Id(
                "https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main",
                GHA,
            ),
            false,
        ),
        c(
            "gh10 missing verification material",
            gh!(
                "github_provenance_demo-0.0.12-py3-none-any-bundle-missing-verification-material.jsonl"
            ),
            File(gh!("github_provenance_demo-0.0.12-py3-none-any.whl")),
            Production,
            Id(
                "https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main",
                GHA,
            ),
            false,
        ),
        c(
            "gh11 missing certificate",
            gh!("github_provenance_demo-0.0.12-py3-none-any-bundle-missing-cert.jsonl"),
            File(gh!("github_provenance_demo-0.0.12-py3-none-any.whl")),
            Production,
            Id(
                "https://github.com/actions/attest-demo/.github/workflows/build-python.yml@refs/heads/main",
                GHA,
            ),
            false,
        ),
        c(
            "gh12 invalid signature",
            gh!("sigstoreBundle-invalid-signature.json"),
            Digest("sha256:0000000000000000000000000000000000000000000000000000000000000000"),
            Production,
            Id("brian@dehamer.com", GH_OAUTH),
            false,
        ),
        // slsa-verifier (the signer identity part of its checks)
        gh(
            c(
                "slsa A1",
                sv!("gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl"),
                Digest("FROM_BUNDLE"),
                Production,
                Id(GEN, GHA),
                true,
            ),
            |g| {
                g.repository = Some("slsa-framework/example-package".into());
                g.git_ref = Some("refs/heads/main".into());
            },
        ),
        gh(
            c(
                "slsa A2 wrong branch",
                sv!("gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl"),
                Digest("FROM_BUNDLE"),
                Production,
                Id(GEN, GHA),
                false,
            ),
            |g| g.git_ref = Some("refs/heads/master".into()),
        ),
        gh(
            c(
                "slsa A3 wrong source",
                sv!("gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl"),
                Digest("FROM_BUNDLE"),
                Production,
                Id(GEN, GHA),
                false,
            ),
            |g| g.repository = Some("laurentsimon/slsa-verifier-test-gen".into()),
        ),
        c(
            "slsa A5 untrusted builder",
            sv!("gha_generic/v2.1.0/binary-linux-amd64-workflow_dispatch.intoto.jsonl"),
            Digest("FROM_BUNDLE"),
            Production,
            Re(
                r"https://github\.com/slsa-framework/slsa-github-generator/\.github/workflows/not-trusted\.yml@.*",
                GHA,
            ),
            false,
        ),
        gh(
            c(
                "slsa A6 tag",
                sv!("gha_generic/v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl"),
                Digest("FROM_BUNDLE"),
                Production,
                Id(GEN, GHA),
                true,
            ),
            |g| g.git_ref = Some("refs/tags/v13.0.30".into()),
        ),
        gh(
            c(
                "slsa A7 wrong tag",
                sv!("gha_generic/v2.1.0/binary-linux-amd64-push-v13.0.30.intoto.jsonl"),
                Digest("FROM_BUNDLE"),
                Production,
                Id(GEN, GHA),
                false,
            ),
            |g| g.git_ref = Some("refs/tags/v13.0.29".into()),
        ),
        c(
            "slsa B1 delegator",
            sv!("gha_delegator/v2.1.0/binary-linux-amd64-workflow_dispatch.build.slsa"),
            File(sv!(
                "gha_delegator/v2.1.0/binary-linux-amd64-workflow_dispatch"
            )),
            Production,
            Id(
                "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml@refs/tags/v2.1.0",
                GHA,
            ),
            true,
        ),
        c(
            "slsa C1 bcr",
            sv!("bcr/MODULE.bazel.intoto.jsonl"),
            File(sv!("bcr/MODULE.bazel")),
            Production,
            Re(
                r"https://github\.com/bazel-contrib/publish-to-bcr/\.github/workflows/publish\.yaml@.*",
                GHA,
            ),
            true,
        ),
        c(
            "slsa C3 wrong signer",
            sv!("bcr/MODULE-wrong-signer.bazel.intoto.jsonl"),
            File(sv!("bcr/MODULE-wrong-signer.bazel")),
            Production,
            Re(
                r"https://github\.com/bazel-contrib/publish-to-bcr/\.github/workflows/publish\.yaml@.*",
                GHA,
            ),
            false,
        ),
        c(
            "slsa G1 untrusted builder, no proof",
            sv!("binary-linux-amd64-untrusted-builder.intoto.jsonl"),
            Digest("sha256:b01c4f22b92c57fe1c94ba99b568e8d704bbf544882784b5b8c765fc32e627c4"),
            Production,
            Re(
                r"https://github\.com/slsa-framework/slsa-github-generator/.*",
                GHA,
            ),
            false,
        ),
    ]
}

/// For slsa-verifier rows whose artifact is not shipped: the first subject's sha256 in the
/// bundle's statement (the signature, log and identity checks are what is being tested).
fn digest_from_bundle(bundle: &[u8]) -> String {
    let line = bundle.split(|b| *b == b'\n').next().unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(line).unwrap_or_else(|_| serde_json::from_slice(bundle).unwrap());
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD
        .decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let st: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    format!(
        "sha256:{}",
        st["subject"][0]["digest"]["sha256"].as_str().unwrap()
    )
}

#[test]
fn third_party_bundles() {
    let mut wrong = Vec::new();
    let mut counts = (0, 0);
    for case in cases() {
        let raw = std::fs::read(td(case.bundle)).unwrap_or_else(|e| panic!("{}: {e}", case.bundle));
        // .jsonl files hold one bundle per line; the first is the one under test.
        let bundle: Vec<u8> = if case.bundle.ends_with(".jsonl") {
            raw.split(|b| *b == b'\n').next().unwrap().to_vec()
        } else {
            raw.clone()
        };
        let signer = match &case.who {
            Who::Id(id, iss) => SignerPolicy::Certificate(
                CertificatePolicy::new(Identity::exact(*id), *iss).with_github(case.github.clone()),
            ),
            Who::Re(re, iss) => SignerPolicy::Certificate(
                CertificatePolicy::new(Identity::pattern(re).unwrap(), *iss)
                    .with_github(case.github.clone()),
            ),
            Who::Key(p) => SignerPolicy::Key(
                PublicKey::from_pem(&std::fs::read_to_string(td(p)).unwrap()).unwrap(),
            ),
        };
        let root = root(&case.root);
        let opts = VerifyOptions {
            now: NOW,
            allow_missing_tlog: matches!(case.who, Who::Key(_)),
        };
        let file_bytes = match &case.input {
            Input::File(p) => std::fs::read(td(p)).unwrap(),
            Input::Digest(_) => Vec::new(),
        };
        let artifact = match &case.input {
            Input::File(_) => Artifact::Bytes(&file_bytes),
            Input::Digest("FROM_BUNDLE") => {
                Artifact::parse_digest(&digest_from_bundle(&raw)).unwrap()
            }
            Input::Digest(d) => Artifact::parse_digest(d).unwrap(),
        };
        let got = verify_bundle(&bundle, artifact, &signer, &root, opts);
        let accepted = matches!(&got, Ok(v) if v.verified);
        if case.valid {
            counts.0 += 1
        } else {
            counts.1 += 1
        }
        let why = match &got {
            Ok(v) => v
                .first_failure()
                .map(|f| format!("{:?}: {}", f.check, f.detail))
                .unwrap_or_else(|| "verified".into()),
            Err(e) => format!("error: {e}"),
        };
        eprintln!(
            "{:<60} expect {:<7} -> {why}",
            case.name,
            if case.valid { "valid" } else { "invalid" }
        );
        if accepted != case.valid {
            wrong.push(format!("{}: expected {}, got {why}", case.name, case.valid));
        }
    }
    eprintln!("{} valid and {} invalid rows", counts.0, counts.1);
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
