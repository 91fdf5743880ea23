//! The GitLab CI template (templates/cairn.gitlab-ci.yml) run locally: each hidden job's
//! before_script + script lines, as the runner's shell executor runs them, with the variables
//! GitLab sets (CI_*, the `id_tokens` SIGSTORE_ID_TOKEN) against the in-process Sigstore stack
//! and OCI layout directories. Checks the JUnit report artifact the verify job publishes.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cairn_oci::blob::Blob;
use cairn_oci::manifest::{Descriptor, media};
use cairn_oci::{Layout, Repository};
use cairn_testkit::sigstore::Stack;
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn template() -> Value {
    let text = std::fs::read_to_string(root().join("templates/cairn.gitlab-ci.yml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn lines(job: &Value, key: &str) -> Vec<String> {
    job[key]
        .as_array()
        .map(|a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The shell script a runner executes for `job` (with `extends` resolved one level).
fn job_script(t: &Value, job: &str) -> String {
    let j = &t[job];
    let mut before = lines(j, "before_script");
    if before.is_empty()
        && let Some(parent) = j["extends"].as_str()
    {
        before = lines(&t[parent], "before_script");
    }
    let mut script = String::from("set -e\n");
    for l in before.iter().chain(lines(j, "script").iter()) {
        script.push_str(l);
        script.push('\n');
    }
    script
}

struct Pipeline {
    _tmp: tempfile::TempDir,
    project: PathBuf,
    bin: PathBuf,
    trust: PathBuf,
    stack: Stack,
    token: String,
}

impl Pipeline {
    fn new() -> Pipeline {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("project");
        std::fs::create_dir_all(&project).unwrap();
        // cairn on PATH, as after the install step.
        let bin = tmp.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cairn"), bin.join("cairn")).unwrap();
        let stack = Stack::start();
        let trust = tmp.path().join("trust_config.json");
        std::fs::write(&trust, serde_json::to_vec(&stack.trust_config()).unwrap()).unwrap();
        let token = stack.token("ci@cairn.test", "sigstore", 600);
        Pipeline {
            project,
            bin,
            trust,
            stack,
            token,
            _tmp: tmp,
        }
    }

    fn run(&self, job: &str, vars: &[(&str, &str)]) -> Output {
        let t = template();
        let script = job_script(&t, job);
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(script)
            .current_dir(&self.project)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &self.project)
            .env("NO_COLOR", "1")
            // What GitLab sets for every job.
            .env("CI", "true")
            .env("GITLAB_CI", "true")
            .env("CI_SERVER_URL", "https://gitlab.com")
            .env("CI_SERVER_HOST", "gitlab.com")
            .env("CI_PROJECT_ID", "4242")
            .env("CI_PROJECT_PATH", "acme/app")
            .env("CI_PROJECT_NAMESPACE", "acme")
            .env("CI_PROJECT_URL", "https://gitlab.com/acme/app")
            .env("CI_PROJECT_DIR", &self.project)
            .env("CI_DEFAULT_BRANCH", "main")
            .env("CI_COMMIT_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("CI_COMMIT_SHORT_SHA", "01234567")
            .env("CI_COMMIT_REF_NAME", "main")
            .env("CI_COMMIT_BRANCH", "main")
            .env("CI_COMMIT_REF_PROTECTED", "true")
            .env("CI_CONFIG_PATH", ".gitlab-ci.yml")
            .env("CI_PIPELINE_ID", "1000")
            .env("CI_PIPELINE_SOURCE", "push")
            .env(
                "CI_PIPELINE_URL",
                "https://gitlab.com/acme/app/-/pipelines/1000",
            )
            .env("CI_JOB_ID", "2000")
            .env("CI_JOB_NAME", job.trim_start_matches('.'))
            .env("CI_JOB_URL", "https://gitlab.com/acme/app/-/jobs/2000")
            .env("CI_RUNNER_ID", "12")
            .env("CI_RUNNER_DESCRIPTION", "shared runner")
            .env("CI_RUNNER_TAGS", "[\"saas-linux-small-amd64\"]")
            .env("GITLAB_USER_LOGIN", "octo")
            // The template's own defaults (its `variables:` block).
            .env("CAIRN_VERSION", "latest")
            .env("CAIRN_REPOSITORY", "cairn-dev/cairn")
            .env("CAIRN_DOWNLOAD_URL", "")
            .env("CAIRN_WORK_DIR", ".cairn")
            // This stack instead of public-good Sigstore (a CI/CD variable in real use).
            .env("CAIRN_TRUST_CONFIG", &self.trust);
        if t[job]["id_tokens"]["SIGSTORE_ID_TOKEN"]["aud"] == "sigstore" {
            cmd.env("SIGSTORE_ID_TOKEN", &self.token);
        }
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

use cairn_testkit::show;

fn image(dir: &Path, tag: &str) -> String {
    let l = Layout::open_or_create(dir).unwrap();
    let content = b"layer bytes".repeat(50);
    let ld = Descriptor::for_bytes("application/vnd.oci.image.layer.v1.tar", &content);
    l.push_blob(&ld, &Blob::from_vec(content.clone())).unwrap();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
        ld.digest
    );
    let cd = Descriptor::for_bytes(
        "application/vnd.oci.image.config.v1+json",
        config.as_bytes(),
    );
    l.push_blob(&cd, &Blob::from_vec(config.into_bytes()))
        .unwrap();
    let m = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "config": cd, "layers": [ld]
    }))
    .unwrap();
    l.push_manifest(media::OCI_MANIFEST, &m, Some(tag)).unwrap();
    Descriptor::for_bytes(media::OCI_MANIFEST, &m)
        .digest
        .to_string()
}

#[test]
fn template_declares_keyless_id_tokens_and_a_junit_report() {
    let t = template();
    assert_eq!(
        t[".cairn-attest"]["id_tokens"]["SIGSTORE_ID_TOKEN"]["aud"],
        "sigstore"
    );
    assert_eq!(
        t[".cairn-verify"]["artifacts"]["reports"]["junit"],
        "cairn-verify.junit.xml"
    );
    assert_eq!(t[".cairn-verify"]["artifacts"]["when"], "always");
    for job in [
        ".cairn-record",
        ".cairn-attest",
        ".cairn-verify",
        ".cairn-promote",
    ] {
        assert_eq!(t[job]["extends"], ".cairn-install", "{job}");
    }
    // The example pipeline is valid YAML and uses the template's jobs.
    let text = std::fs::read_to_string(root().join("examples/gitlab/.gitlab-ci.yml")).unwrap();
    for job in [
        ".cairn-record",
        ".cairn-attest",
        ".cairn-verify",
        ".cairn-promote",
    ] {
        assert!(text.contains(&format!("extends: {job}")), "{job}");
    }
}

#[test]
fn record_attest_verify_promote_jobs_run_with_gitlab_variables() {
    let p = Pipeline::new();
    let ws = &p.project;
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(ws.join("src/main.c"), "int main(void){return 0;}\n").unwrap();

    let out = p.run(
        ".cairn-record",
        &[
            ("CAIRN_STEP", "build"),
            ("CAIRN_MATERIALS", "src"),
            ("CAIRN_PRODUCTS", "dist"),
            ("CAIRN_COMMAND", "mkdir -p dist && cp src/main.c dist/app"),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    assert!(ws.join(".cairn/links/build.link").exists());

    let digest = image(&ws.join("staging"), "1.0");
    let out = p.run(
        ".cairn-attest",
        &[
            ("CAIRN_SUBJECTS", "dist/app"),
            ("CAIRN_IMAGE", "oci:staging:1.0"),
            ("CAIRN_ATTACH", "true"),
            ("CAIRN_SBOM_SOURCE", "src"),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    let prov: Value = serde_json::from_slice(
        &std::fs::read(ws.join(".cairn/attestations/provenance.json")).unwrap(),
    )
    .unwrap();
    assert!(
        prov["predicate"]["buildDefinition"]["buildType"]
            .as_str()
            .unwrap()
            .contains("gitlab"),
        "{prov}"
    );
    assert!(
        prov["subject"]
            .to_string()
            .contains(digest.trim_start_matches("sha256:"))
    );

    let policy = format!(
        "version: 1\nsigners:\n  - name: ci\n    identity: ci@cairn.test\n    issuer: {}\nrequirements:\n  - name: provenance\n    predicateType: slsa\n  - name: sbom\n    predicateType: sbom\n",
        p.stack.issuer()
    );
    std::fs::write(ws.join("policy.yaml"), policy).unwrap();
    let out = p.run(
        ".cairn-verify",
        &[
            ("CAIRN_IMAGE", "oci:staging:1.0"),
            ("CAIRN_POLICY", "policy.yaml"),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    let junit = std::fs::read_to_string(ws.join("cairn-verify.junit.xml")).unwrap();
    assert!(junit.contains(r#"failures="0""#), "{junit}");
    assert!(
        std::fs::read_to_string(ws.join("cairn-report.html"))
            .unwrap()
            .contains("<svg")
    );

    // A policy the image does not satisfy: the job fails (exit 1), the report shows why.
    std::fs::write(
        ws.join("strict.yaml"),
        format!(
            "version: 1\nsigners:\n  - name: other\n    identity: release@acme.example\n    issuer: {}\nrequirements:\n  - name: provenance\n    predicateType: slsa\n",
            p.stack.issuer()
        ),
    )
    .unwrap();
    let out = p.run(
        ".cairn-verify",
        &[
            ("CAIRN_IMAGE", "oci:staging:1.0"),
            ("CAIRN_POLICY", "strict.yaml"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let junit = std::fs::read_to_string(ws.join("cairn-verify.junit.xml")).unwrap();
    assert!(junit.contains("<failure "), "{junit}");

    let out = p.run(
        ".cairn-promote",
        &[
            ("CAIRN_IMAGE", "oci:staging:1.0"),
            ("CAIRN_DESTINATION", "oci:prod:1.0"),
            ("CAIRN_POLICY", "policy.yaml"),
        ],
    );
    assert!(out.status.success(), "{}", show(&out));
    assert!(
        std::fs::read_to_string(ws.join("prod/index.json"))
            .unwrap()
            .contains(&digest)
    );
}
