//! The GitHub Action (action.yml -> scripts/action/*.sh) run locally with the environment a
//! runner sets: GITHUB_* variables, a temporary $GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT and
//! $GITHUB_PATH, and the job's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) served on
//! loopback, against the in-process Sigstore stack and OCI layout directories. No network.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cairn_oci::blob::Blob;
use cairn_oci::manifest::{Descriptor, media};
use cairn_oci::{Layout, Repository};
use cairn_testkit::sigstore::Stack;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Runner {
    _tmp: tempfile::TempDir,
    workspace: PathBuf,
    temp: PathBuf,
    summary: PathBuf,
    output: PathBuf,
    path_file: PathBuf,
    token_url: String,
    trust: PathBuf,
    stack: Stack,
}

/// Serves the job's ID token the way the Actions runtime does, to any number of requests.
fn token_server(token: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let body = format!(r#"{{"value":"{token}"}}"#);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

impl Runner {
    fn new() -> Runner {
        let tmp = tempfile::tempdir().unwrap();
        let workspace = tmp.path().join("workspace");
        let temp = tmp.path().join("runner-temp");
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::create_dir_all(&temp).unwrap();
        let stack = Stack::start();
        let trust = tmp.path().join("trust_config.json");
        std::fs::write(&trust, serde_json::to_vec(&stack.trust_config()).unwrap()).unwrap();
        let token_url = token_server(stack.token("ci@cairn.test", "sigstore", 600));
        Runner {
            summary: tmp.path().join("step_summary.md"),
            output: tmp.path().join("github_output"),
            path_file: tmp.path().join("github_path"),
            workspace,
            temp,
            token_url,
            trust,
            stack,
            _tmp: tmp,
        }
    }

    /// Runs the action's entry script with `inputs`, as the composite step does.
    fn action(&self, inputs: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("bash");
        cmd.arg(root().join("scripts/action/cairn-action.sh"))
            .current_dir(&self.workspace)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.temp.as_os_str())
            .env("NO_COLOR", "1")
            .env("CAIRN_BIN", env!("CARGO_BIN_EXE_cairn"))
            // What a GitHub-hosted runner sets for every step.
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", root())
            .env("GITHUB_WORKSPACE", &self.workspace)
            .env("RUNNER_TEMP", &self.temp)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_ENVIRONMENT", "github-hosted")
            .env("GITHUB_STEP_SUMMARY", &self.summary)
            .env("GITHUB_OUTPUT", &self.output)
            .env("GITHUB_PATH", &self.path_file)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "acme/app")
            .env("GITHUB_REPOSITORY_ID", "123456")
            .env("GITHUB_REPOSITORY_OWNER", "acme")
            .env("GITHUB_REPOSITORY_OWNER_ID", "654321")
            .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("GITHUB_REF", "refs/tags/v1.2.0")
            .env("GITHUB_REF_NAME", "v1.2.0")
            .env("GITHUB_REF_TYPE", "tag")
            .env(
                "GITHUB_WORKFLOW_REF",
                "acme/app/.github/workflows/release.yml@refs/tags/v1.2.0",
            )
            .env(
                "GITHUB_WORKFLOW_SHA",
                "0123456789abcdef0123456789abcdef01234567",
            )
            .env("GITHUB_WORKFLOW", "release")
            .env("GITHUB_EVENT_NAME", "push")
            .env("GITHUB_RUN_ID", "987654321")
            .env("GITHUB_RUN_NUMBER", "42")
            .env("GITHUB_RUN_ATTEMPT", "1")
            .env("GITHUB_ACTOR", "octocat")
            .env("GITHUB_ACTOR_ID", "1")
            .env("GITHUB_JOB", "release")
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", &self.token_url)
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-secret");
        for (k, v) in inputs {
            cmd.env(format!("INPUT_{}", k.to_uppercase().replace('-', "_")), v);
        }
        cmd.output().unwrap()
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(&self.summary).unwrap_or_default()
    }

    fn outputs(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }
}

use cairn_testkit::show;

/// A one-layer image of `content` tagged `tag` in the layout `dir`.
fn image(dir: &Path, tag: &str, content: &[u8]) -> String {
    let l = Layout::open_or_create(dir).unwrap();
    let ld = Descriptor::for_bytes("application/vnd.oci.image.layer.v1.tar", content);
    l.push_blob(&ld, &Blob::from_vec(content.to_vec())).unwrap();
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

fn tar_of(name: &str, body: &[u8]) -> Vec<u8> {
    // A minimal ustar archive with one file (enough for the SBOM scanner).
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..107].copy_from_slice(b"0000644");
    header[108..115].copy_from_slice(b"0000000");
    header[116..123].copy_from_slice(b"0000000");
    let size = format!("{:011o}", body.len());
    header[124..135].copy_from_slice(size.as_bytes());
    header[136..147].copy_from_slice(b"00000000000");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(body);
    out.resize(out.len().div_ceil(512) * 512 + 1024, 0);
    out
}

#[test]
fn install_mode_puts_cairn_on_the_path_and_checks_checksums() {
    let r = Runner::new();
    let out = r.action(&[
        ("mode", "install"),
        ("cairn-path", env!("CARGO_BIN_EXE_cairn")),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    let path = std::fs::read_to_string(&r.path_file).unwrap();
    let bin_dir = PathBuf::from(path.trim());
    assert!(bin_dir.join("cairn").exists());
    assert!(bin_dir.starts_with(&r.temp), "installed under RUNNER_TEMP");
    assert!(r.outputs().contains("version=0."), "{}", r.outputs());
    assert!(r.summary().contains("cairn install"), "{}", r.summary());

    // From a release mirror: the archive is installed only when its SHA-256 matches.
    let mirror = r.temp.join("mirror");
    std::fs::create_dir_all(&mirror).unwrap();
    let stage = r.temp.join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_cairn"), stage.join("cairn")).unwrap();
    let target = match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-musl",
        _ => "x86_64-unknown-linux-musl",
    };
    let archive = mirror.join(format!("cairn-{target}.tar.gz"));
    let st = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&stage)
        .arg("cairn")
        .status()
        .unwrap();
    assert!(st.success());
    let sum = Command::new("sha256sum").arg(&archive).output().unwrap();
    let sum = String::from_utf8_lossy(&sum.stdout)
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let sha_file = mirror.join(format!("cairn-{target}.tar.gz.sha256"));
    std::fs::write(&sha_file, format!("{sum}  cairn-{target}.tar.gz\n")).unwrap();
    let url = format!("file://{}", mirror.display());
    let out = r.action(&[("mode", "install"), ("download-url", &url)]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(r.summary().contains(&sum), "{}", r.summary());

    std::fs::write(&sha_file, format!("{}  x\n", "0".repeat(64))).unwrap();
    std::fs::remove_file(bin_dir.join("cairn")).unwrap();
    let out = r.action(&[("mode", "install"), ("download-url", &url)]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"));
    assert!(
        !bin_dir.join("cairn").exists(),
        "a mismatching archive is never installed"
    );
}

#[test]
fn record_attest_attach_verify_and_promote_like_a_release_workflow() {
    let r = Runner::new();
    let ws = &r.workspace;
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::write(ws.join("src/requirements.txt"), "click==8.1.7\n").unwrap();

    // record: a build step, recorded as an (unsigned) link in the work dir.
    let out = r.action(&[
        ("mode", "record"),
        ("step", "build"),
        ("materials", "src"),
        ("products", "dist"),
        (
            "command",
            "mkdir -p dist && cp src/requirements.txt dist/ && echo built > dist/app.txt",
        ),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(ws.join(".cairn/links/build.link").exists());
    assert!(
        r.outputs().contains("links-dir=.cairn/links"),
        "{}",
        r.outputs()
    );

    // The image the job built, as an OCI layout directory.
    let layer = tar_of("app/requirements.txt", b"click==8.1.7\n");
    let digest = image(&ws.join("staging"), "1.2.0", &layer);

    // attest: provenance + SBOM, keyless with the job's token, attached to the image.
    let trust = r.trust.display().to_string();
    let out = r.action(&[
        ("mode", "attest"),
        ("subjects", "dist/app.txt"),
        ("image", "oci:staging:1.2.0"),
        ("attach", "true"),
        ("trust-config", &trust),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    let prov = ws.join(".cairn/attestations/provenance.sigstore.json");
    assert!(prov.exists() && ws.join(".cairn/attestations/sbom.sigstore.json").exists());
    let summary = r.summary();
    assert!(summary.contains("| SLSA provenance v1 |"), "{summary}");
    assert!(
        summary.contains("cairn attach to oci:staging:1.2.0: passed"),
        "{summary}"
    );
    // The signed statement names both the file and the image digest as subjects.
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&prov).unwrap()).unwrap();
    let payload = bundle["dsseEnvelope"]["payload"].as_str().unwrap();
    let statement: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::STANDARD, payload).unwrap(),
    )
    .unwrap();
    let subjects = statement["subject"].to_string();
    assert!(
        subjects.contains(digest.trim_start_matches("sha256:")),
        "{subjects}"
    );
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(
        statement["predicate"]["buildDefinition"]["externalParameters"]["workflow"]["repository"],
        "https://github.com/acme/app",
        "{statement}"
    );

    // verify: the artifact against its bundle, with the keyless identity.
    let out = r.action(&[
        ("mode", "verify"),
        ("artifact", "dist/app.txt"),
        ("bundle", ".cairn/attestations/provenance.sigstore.json"),
        ("certificate-identity", "ci@cairn.test"),
        ("certificate-oidc-issuer", &r.stack.issuer()),
        ("trust-config", &trust),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(r.outputs().contains("verified=true"));

    // verify + promote the image with a policy naming the signer.
    let policy = format!(
        "version: 1\nname: release\nsigners:\n  - name: ci\n    identity: ci@cairn.test\n    issuer: {}\nrequirements:\n  - name: provenance\n    predicateType: slsa\n  - name: sbom\n    predicateType: sbom\n",
        r.stack.issuer()
    );
    std::fs::write(ws.join("policy.yaml"), policy).unwrap();
    let out = r.action(&[
        ("mode", "verify"),
        ("image", "oci:staging:1.2.0"),
        ("policy", "policy.yaml"),
        ("trust-config", &trust),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    let out = r.action(&[
        ("mode", "promote"),
        ("image", "oci:staging:1.2.0"),
        ("destination", "oci:prod:1.2.0"),
        ("policy", "policy.yaml"),
        ("trust-config", &trust),
    ]);
    assert!(out.status.success(), "{}", show(&out));
    assert!(r.outputs().contains("promoted=true"));
    let index = std::fs::read_to_string(ws.join("prod/index.json")).unwrap();
    assert!(index.contains(&digest), "{index}");

    // A policy naming another signer: verify fails (exit 1) and the summary says so.
    std::fs::write(
        ws.join("strict.yaml"),
        format!(
            "version: 1\nsigners:\n  - name: other\n    identity: release@acme.example\n    issuer: {}\nrequirements:\n  - name: provenance\n    predicateType: slsa\n",
            r.stack.issuer()
        ),
    )
    .unwrap();
    let out = r.action(&[
        ("mode", "promote"),
        ("image", "oci:staging:1.2.0"),
        ("destination", "oci:prod2:1.2.0"),
        ("policy", "strict.yaml"),
        ("trust-config", &trust),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(r.outputs().contains("promoted=false"));
    assert!(r.summary().contains("❌ cairn promote"), "{}", r.summary());
    assert!(
        !ws.join("prod2/index.json").exists()
            || !std::fs::read_to_string(ws.join("prod2/index.json"))
                .unwrap()
                .contains("1.2.0")
    );
}

#[test]
fn unknown_mode_and_missing_inputs_are_usage_errors() {
    let r = Runner::new();
    let out = r.action(&[("mode", "deploy")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("::error title=cairn deploy::unknown mode")
    );
    let out = r.action(&[("mode", "record")]);
    assert_eq!(out.status.code(), Some(2));
    let out = r.action(&[("mode", "verify")]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn action_yml_passes_every_input_to_the_script() {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let script = std::fs::read_to_string(root().join("scripts/action/cairn-action.sh")).unwrap()
        + &std::fs::read_to_string(root().join("scripts/action/install.sh")).unwrap();
    let inputs_block = text
        .split("\ninputs:\n")
        .nth(1)
        .unwrap()
        .split("\noutputs:\n")
        .next()
        .unwrap();
    let mut n = 0;
    for line in inputs_block.lines() {
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':')) {
            if name.starts_with(' ') {
                continue;
            }
            n += 1;
            let var = format!("INPUT_{}", name.to_uppercase().replace('-', "_"));
            assert!(
                text.contains(&format!("{var}: ${{{{ inputs.{name} }}}}")),
                "action.yml does not pass input {name} as {var}"
            );
            assert!(script.contains(&var), "the scripts never read {var}");
        }
    }
    assert!(n > 20, "{n} inputs");
}
