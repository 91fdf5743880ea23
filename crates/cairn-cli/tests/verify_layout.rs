//! `cairn verify layout`, `cairn layout init|sign`, end to end.
//!
//! The mutation suite records a multi-step chain with the in-toto 3.1.0 reference tools
//! (`in-toto-run`, `in-toto-sign`), then, for each mutation, runs `cairn verify layout` and
//! `in-toto-verify` side by side and asserts that they agree on accept/reject and that cairn's
//! verdict names the right check (and, for rules, explains which rule let the artifact through).
//! Mutated links are re-signed with the functionary's key, as a compromised or careless
//! functionary would produce them.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cairn_model::metablock::Metablock;
use cairn_sign::{KeyIdRule, KeyType, PrivateKey, Signer};
use serde_json::{Value, json};

const KEYS: &[&str] = &["owner", "alice", "bob", "carl", "dan"];

fn cairn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
}

struct Keys {
    dir: PathBuf,
    keys: BTreeMap<&'static str, PrivateKey>,
}

impl Keys {
    fn new(dir: &Path) -> Keys {
        std::fs::create_dir_all(dir.join("pub")).unwrap();
        let mut keys = BTreeMap::new();
        for name in KEYS {
            let k = PrivateKey::generate(KeyType::Ed25519).unwrap();
            std::fs::write(
                dir.join(format!("{name}.pem")),
                k.to_pkcs8_pem(None).unwrap().as_bytes(),
            )
            .unwrap();
            let pem = k.public_key().to_spki_pem();
            std::fs::write(dir.join(format!("{name}.pub")), &pem).unwrap();
            if *name != "owner" && *name != "dan" {
                std::fs::write(dir.join("pub").join(format!("{name}.pub")), &pem).unwrap();
            }
            keys.insert(*name, k);
        }
        Keys {
            dir: dir.to_path_buf(),
            keys,
        }
    }
    fn pem(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pem"))
    }
    fn public(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.pub"))
    }
    fn id(&self, name: &str) -> String {
        self.keys[name]
            .public_key()
            .key_id(KeyIdRule::Securesystemslib1)
            .as_str()
            .to_owned()
    }
    fn short(&self, name: &str) -> String {
        self.id(name)[..8].to_owned()
    }
    fn json(&self, name: &str) -> Value {
        let mut v = self.keys[name]
            .public_key()
            .to_securesystemslib_json(KeyIdRule::Securesystemslib1);
        v["keyid"] = Value::String(self.id(name));
        v
    }
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

fn r(words: &[&str]) -> Value {
    json!(words)
}

/// The layout of the recorded chain, exercising every rule type.
fn layout_json(k: &Keys) -> Value {
    json!({
        "_type": "layout",
        "expires": "2099-01-01T00:00:00Z",
        "readme": "cairn mutation suite",
        "keys": {
            k.id("alice"): k.json("alice"),
            k.id("bob"): k.json("bob"),
            k.id("carl"): k.json("carl"),
        },
        "steps": [
            {"_type": "step", "name": "write-code", "threshold": 1,
             "pubkeys": [k.id("alice")],
             "expected_command": [],
             "expected_materials": [],
             "expected_products": [r(&["CREATE", "src/*"]), r(&["CREATE", "tmp/*"]), r(&["DISALLOW", "*"])]},
            {"_type": "step", "name": "build", "threshold": 2,
             "pubkeys": [k.id("bob"), k.id("carl")],
             "expected_command": ["sh", "-c", BUILD_CMD],
             "expected_materials": [
                 r(&["MATCH", "src/*", "WITH", "PRODUCTS", "FROM", "write-code"]),
                 r(&["MATCH", "keep", "IN", "tmp", "WITH", "PRODUCTS", "IN", "tmp", "FROM", "write-code"]),
                 r(&["DELETE", "tmp/scratch"]),
                 r(&["DISALLOW", "*"])],
             "expected_products": [
                 r(&["CREATE", "out/app"]),
                 r(&["MODIFY", "src/version.txt"]),
                 r(&["ALLOW", "src/main.c"]),
                 r(&["ALLOW", "tmp/keep"]),
                 r(&["DISALLOW", "*"])]},
            {"_type": "step", "name": "package", "threshold": 1,
             "pubkeys": [k.id("carl")],
             "expected_command": ["tar", "czf", "pkg.tar.gz", "out/app"],
             "expected_materials": [
                 r(&["REQUIRE", "out/app"]),
                 r(&["MATCH", "out/*", "WITH", "PRODUCTS", "FROM", "build"]),
                 r(&["DISALLOW", "*"])],
             "expected_products": [r(&["CREATE", "pkg.tar.gz"]), r(&["DISALLOW", "*"])]},
        ],
        "inspect": [
            {"_type": "inspection", "name": "untar",
             "run": ["tar", "xzf", "pkg.tar.gz"],
             "expected_materials": [
                 r(&["MATCH", "pkg.tar.gz", "WITH", "PRODUCTS", "FROM", "package"]),
                 r(&["DISALLOW", "*"])],
             "expected_products": [
                 r(&["MATCH", "out/app", "WITH", "PRODUCTS", "FROM", "build"]),
                 r(&["MATCH", "pkg.tar.gz", "WITH", "PRODUCTS", "FROM", "package"]),
                 r(&["DISALLOW", "*"])]},
        ],
    })
}

const BUILD_CMD: &str =
    "mkdir -p out && cat src/main.c > out/app && echo 2 >> src/version.txt && rm tmp/scratch";

struct Peers {
    run: PathBuf,
    sign: PathBuf,
    verify: PathBuf,
}

fn peers(test: &str) -> Option<Peers> {
    Some(Peers {
        run: cairn_testkit::peers::require(test, "venv/bin/in-toto-run")?,
        sign: cairn_testkit::peers::require(test, "venv/bin/in-toto-sign")?,
        verify: cairn_testkit::peers::require(test, "venv/bin/in-toto-verify")?,
    })
}

/// A chain recorded with the reference tools.
struct Chain {
    tmp: tempfile::TempDir,
    keys: Keys,
    peers: Peers,
    links: PathBuf,
    /// What the inspection directory holds (pkg.tar.gz).
    inspect_src: PathBuf,
    layout: PathBuf,
}

impl Chain {
    fn record(peers: Peers) -> Chain {
        let tmp = tempfile::tempdir().unwrap();
        let keys = Keys::new(&tmp.path().join("keys"));
        let ws = tmp.path().join("ws");
        std::fs::create_dir(&ws).unwrap();
        let run = |dir: &Path, step: &str, key: &str, m: &[&str], p: &[&str], cmd: &[&str]| {
            let mut c = Command::new(&peers.run);
            c.current_dir(dir)
                .args(["-n", step, "--signing-key"])
                .arg(keys.pem(key));
            if !m.is_empty() {
                c.arg("-m").args(m);
            }
            c.arg("-p").args(p).arg("--").args(cmd);
            run_ok(&mut c);
        };
        run(
            &ws,
            "write-code",
            "alice",
            &[],
            &["src", "tmp"],
            &[
                "sh",
                "-c",
                "mkdir -p src tmp && echo 'int main(){return 0;}' > src/main.c && echo 1 > src/version.txt && echo k > tmp/keep && echo s > tmp/scratch",
            ],
        );
        let ws2 = tmp.path().join("ws2");
        copy_dir(&ws, &ws2);
        run(
            &ws,
            "build",
            "bob",
            &["src", "tmp"],
            &["src", "out", "tmp"],
            &["sh", "-c", BUILD_CMD],
        );
        run(
            &ws2,
            "build",
            "carl",
            &["src", "tmp"],
            &["src", "out", "tmp"],
            &["sh", "-c", BUILD_CMD],
        );
        run(
            &ws,
            "package",
            "carl",
            &["out"],
            &["pkg.tar.gz"],
            &["tar", "czf", "pkg.tar.gz", "out/app"],
        );
        let links = tmp.path().join("links");
        std::fs::create_dir(&links).unwrap();
        for dir in [&ws, &ws2] {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "link") {
                    std::fs::copy(&p, links.join(p.file_name().unwrap())).unwrap();
                }
            }
        }
        let inspect_src = tmp.path().join("inspect");
        std::fs::create_dir(&inspect_src).unwrap();
        std::fs::copy(ws.join("pkg.tar.gz"), inspect_src.join("pkg.tar.gz")).unwrap();
        let mut chain = Chain {
            layout: PathBuf::new(),
            tmp,
            keys,
            peers,
            links,
            inspect_src,
        };
        chain.layout = chain.sign_layout("root", &layout_json(&chain.keys), "owner");
        chain
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Writes `signed` as an unsigned layout and signs it with in-toto-sign.
    fn sign_layout(&self, name: &str, signed: &Value, key: &str) -> PathBuf {
        let unsigned = self.path(&format!("{name}.unsigned"));
        std::fs::write(
            &unsigned,
            Metablock::unsigned(signed.clone()).to_pretty_json(),
        )
        .unwrap();
        let out = self.path(&format!("{name}.layout"));
        run_ok(
            Command::new(&self.peers.sign)
                .arg("-f")
                .arg(&unsigned)
                .arg("-k")
                .arg(self.keys.pem(key))
                .arg("-o")
                .arg(&out),
        );
        out
    }

    /// A copy of the links, for a mutation.
    fn links_copy(&self, name: &str) -> PathBuf {
        let dir = self.path(&format!("links-{name}"));
        copy_dir(&self.links, &dir);
        dir
    }

    fn link_file(&self, step: &str, key: &str) -> String {
        format!("{step}.{}.link", self.keys.short(key))
    }

    /// Edits the `signed` part of a link and re-signs it with `key`.
    fn edit_link(
        &self,
        dir: &Path,
        step: &str,
        filed_under: &str,
        key: &str,
        edit: impl FnOnce(&mut Value),
    ) {
        let path = dir.join(self.link_file(step, filed_under));
        let mut mb = Metablock::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        edit(&mut mb.signed);
        mb.signatures.clear();
        cairn_sign::metablock::sign(&mut mb, &self.keys.keys[key]).unwrap();
        std::fs::write(&path, mb.to_pretty_json()).unwrap();
    }

    fn inspect_dir(&self, tag: &str) -> PathBuf {
        let dir = self.path(&format!("inspect-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(&self.inspect_src, &dir);
        dir
    }

    /// Runs cairn; returns (exit code, JSON verdict).
    fn cairn(&self, layout: &Path, links: &Path, inspect: &Path) -> (i32, Value) {
        let out = cairn()
            .args(["--json", "verify", "layout"])
            .arg(layout)
            .arg("--layout-key")
            .arg(self.keys.public("owner"))
            .arg("--links")
            .arg(links)
            .arg("--workdir")
            .arg(inspect)
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "cairn gave no JSON ({e}), exit {code}:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code, v)
    }

    /// Runs in-toto-verify (in the inspection directory, as it expects); returns its exit code.
    fn reference(&self, layout: &Path, links: &Path, inspect: &Path) -> (i32, String) {
        let out = Command::new(&self.peers.verify)
            .current_dir(inspect)
            .arg("-l")
            .arg(layout)
            .arg("--verification-keys")
            .arg(self.keys.public("owner"))
            .arg("--link-dir")
            .arg(links)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn find<'a>(v: &'a Value, id: &str) -> Option<&'a Value> {
    fn walk<'a>(c: &'a Value, id: &str) -> Option<&'a Value> {
        if c["id"] == id {
            return Some(c);
        }
        c["children"].as_array()?.iter().find_map(|k| walk(k, id))
    }
    v["checks"].as_array()?.iter().find_map(|c| walk(c, id))
}

fn root_failures(v: &Value) -> Vec<String> {
    fn walk(c: &Value, out: &mut Vec<String>) {
        let kids = c["children"].as_array().cloned().unwrap_or_default();
        if c["outcome"] == "fail" && !kids.iter().any(|k| k["outcome"] == "fail") {
            out.push(format!(
                "{}: {}",
                c["id"].as_str().unwrap_or(""),
                c["reason"].as_str().unwrap_or("")
            ));
        }
        for k in &kids {
            walk(k, out);
        }
    }
    let mut out = Vec::new();
    for c in v["checks"].as_array().into_iter().flatten() {
        walk(c, &mut out);
    }
    out
}

struct Case<'a> {
    name: &'a str,
    layout: PathBuf,
    links: PathBuf,
    inspect: Option<PathBuf>,
    /// `None`: must pass. `Some(id)`: must fail, with this check failing.
    fails_at: Option<&'a str>,
    /// Text the failing check (reason or evidence) must contain.
    mentions: Option<&'a str>,
}

fn check_case(chain: &Chain, case: Case<'_>) {
    let insp_c = case
        .inspect
        .clone()
        .unwrap_or_else(|| chain.inspect_dir(&format!("{}-c", case.name)));
    let insp_r = match &case.inspect {
        Some(src) => {
            let d = chain.path(&format!("inspect-{}-r", case.name));
            copy_dir(src, &d);
            d
        }
        None => chain.inspect_dir(&format!("{}-r", case.name)),
    };
    let (code, verdict) = chain.cairn(&case.layout, &case.links, &insp_c);
    let (ref_code, ref_err) = chain.reference(&case.layout, &case.links, &insp_r);
    let expected = if case.fails_at.is_some() { 1 } else { 0 };
    let fails = root_failures(&verdict).join("\n");
    assert_eq!(
        code, expected,
        "{}: cairn exit {code}, failures:\n{fails}",
        case.name
    );
    assert_eq!(
        ref_code, expected,
        "{}: in-toto-verify exit {ref_code}:\n{ref_err}",
        case.name
    );
    if let Some(id) = case.fails_at {
        let check = find(&verdict, id)
            .unwrap_or_else(|| panic!("{}: no check {id}; failures:\n{fails}", case.name));
        assert_eq!(
            check["outcome"], "fail",
            "{}: {id} did not fail; failures:\n{fails}",
            case.name
        );
        if let Some(text) = case.mentions {
            let all = check.to_string();
            assert!(
                all.contains(text),
                "{}: {id} does not mention {text:?}: {all}",
                case.name
            );
        }
    }
}

#[test]
fn mutation_suite_agrees_with_in_toto_verify() {
    let Some(peers) = peers("mutation_suite_agrees_with_in_toto_verify") else {
        return;
    };
    let chain = Chain::record(peers);
    let k = &chain.keys;
    let base = |name| Case {
        name,
        layout: chain.layout.clone(),
        links: chain.links.clone(),
        inspect: None,
        fails_at: None,
        mentions: None,
    };
    check_case(&chain, base("baseline"));

    // Modified artifact: write-code reports another src/main.c.
    let links = chain.links_copy("modified");
    chain.edit_link(&links, "write-code", "alice", "alice", |s| {
        s["products"]["src/main.c"]["sha256"] = json!("0".repeat(64));
    });
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.build.materials.rule[3]"),
            mentions: Some("MATCH src/* WITH PRODUCTS FROM write-code: digest changed"),
            ..base("modified-artifact")
        },
    );

    // Modified artifact under an IN prefix.
    let links = chain.links_copy("modified-prefix");
    chain.edit_link(&links, "write-code", "alice", "alice", |s| {
        s["products"]["tmp/keep"]["sha256"] = json!("1".repeat(64));
    });
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.build.materials.rule[3]"),
            mentions: Some(
                "MATCH keep IN tmp WITH PRODUCTS IN tmp FROM write-code: digest changed",
            ),
            ..base("modified-artifact-prefix")
        },
    );

    // Added artifact (DISALLOW): package produced something else too.
    let links = chain.links_copy("added");
    chain.edit_link(&links, "package", "carl", "carl", |s| {
        s["products"]["backdoor.sh"] = json!({"sha256": "2".repeat(64)});
    });
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.package.products.rule[1]"),
            mentions: Some("backdoor.sh"),
            ..base("added-artifact")
        },
    );

    // Removed artifact: build no longer reports out/app (both threshold links agree).
    let links = chain.links_copy("removed");
    for who in ["bob", "carl"] {
        chain.edit_link(&links, "build", who, who, |s| {
            s["products"].as_object_mut().unwrap().remove("out/app");
        });
    }
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.package.materials.rule[2]"),
            mentions: Some("'build' has no product 'out/app'"),
            ..base("removed-artifact")
        },
    );

    // REQUIRE: package's materials no longer contain out/app.
    let links = chain.links_copy("require");
    chain.edit_link(&links, "package", "carl", "carl", |s| {
        s["materials"].as_object_mut().unwrap().remove("out/app");
    });
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.package.materials.rule[0]"),
            mentions: Some("has no material 'out/app'"),
            ..base("require-violation")
        },
    );

    // CREATE: out/app was already a material of build.
    let links = chain.links_copy("create");
    for who in ["bob", "carl"] {
        chain.edit_link(&links, "build", who, who, |s| {
            let app = s["products"]["out/app"].clone();
            s["materials"]["out/app"] = app;
        });
    }
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.build.products.rule[4]"),
            mentions: Some("CREATE out/app: not created: it is also a material"),
            ..base("create-violation")
        },
    );

    // MODIFY: src/version.txt left unchanged by build.
    let links = chain.links_copy("modify");
    for who in ["bob", "carl"] {
        chain.edit_link(&links, "build", who, who, |s| {
            let before = s["materials"]["src/version.txt"].clone();
            s["products"]["src/version.txt"] = before;
        });
    }
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.build.products.rule[4]"),
            mentions: Some("MODIFY src/version.txt: not modified"),
            ..base("modify-violation")
        },
    );

    // DELETE: tmp/scratch survived the build.
    let links = chain.links_copy("delete");
    for who in ["bob", "carl"] {
        chain.edit_link(&links, "build", who, who, |s| {
            let m = s["materials"]["tmp/scratch"].clone();
            s["products"]["tmp/scratch"] = m;
        });
    }
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.build.materials.rule[3]"),
            mentions: Some("DELETE tmp/scratch: not deleted: it is still a product"),
            ..base("delete-violation")
        },
    );

    // ALLOW: an artifact no ALLOW covers.
    let links = chain.links_copy("allow");
    for who in ["bob", "carl"] {
        chain.edit_link(&links, "build", who, who, |s| {
            s["products"]["src/generated.c"] = json!({"sha256": "3".repeat(64)});
        });
    }
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.build.products.rule[4]"),
            mentions: Some("src/generated.c"),
            ..base("allow-violation")
        },
    );

    // Missing link.
    let links = chain.links_copy("missing");
    std::fs::remove_file(links.join(chain.link_file("package", "carl"))).unwrap();
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.package.threshold"),
            mentions: Some("no link file"),
            ..base("missing-link")
        },
    );

    // Wrong key: dan signs package's link, filed under carl's name.
    let links = chain.links_copy("wrong-key");
    chain.edit_link(&links, "package", "carl", "dan", |_| {});
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.package.threshold"),
            mentions: Some("not signed by this functionary"),
            ..base("wrong-key")
        },
    );

    // Below threshold: only bob's build link.
    let links = chain.links_copy("threshold");
    std::fs::remove_file(links.join(chain.link_file("build", "carl"))).unwrap();
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.build.threshold"),
            mentions: Some("2 distinct"),
            ..base("below-threshold")
        },
    );

    // Disagreeing threshold links.
    let links = chain.links_copy("disagree");
    chain.edit_link(&links, "build", "carl", "carl", |s| {
        s["products"]["out/app"]["sha256"] = json!("4".repeat(64));
    });
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.build.agreement"),
            mentions: Some("out/app"),
            ..base("disagreeing-threshold-links")
        },
    );

    // Tampered link signature.
    let links = chain.links_copy("tampered");
    let path = links.join(chain.link_file("write-code", "alice"));
    let mut mb = Metablock::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let sig = &mut mb.signatures[0].sig;
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    sig.replace_range(0..1, flipped);
    std::fs::write(&path, mb.to_pretty_json()).unwrap();
    check_case(
        &chain,
        Case {
            links,
            fails_at: Some("steps.write-code.threshold"),
            ..base("tampered-link-signature")
        },
    );

    // Tampered layout (content changed after signing).
    let tampered = chain.path("tampered.layout");
    let mut mb = Metablock::from_slice(&std::fs::read(&chain.layout).unwrap()).unwrap();
    mb.signed["steps"][0]["expected_products"] = json!([["ALLOW", "*"]]);
    std::fs::write(&tampered, mb.to_pretty_json()).unwrap();
    check_case(
        &chain,
        Case {
            layout: tampered,
            fails_at: Some("layout.signatures"),
            ..base("tampered-layout")
        },
    );

    // Layout signed by another key.
    let other = chain.sign_layout("by-alice", &layout_json(k), "alice");
    check_case(
        &chain,
        Case {
            layout: other,
            fails_at: Some("layout.signatures.key[0]"),
            ..base("layout-wrong-key")
        },
    );

    // Expired layout.
    let mut expired = layout_json(k);
    expired["expires"] = json!("2020-01-01T00:00:00Z");
    let expired = chain.sign_layout("expired", &expired, "owner");
    check_case(
        &chain,
        Case {
            layout: expired,
            fails_at: Some("layout.expiry"),
            mentions: Some("expired"),
            ..base("expired-layout")
        },
    );

    // Failing inspection.
    let mut failing = layout_json(k);
    failing["inspect"][0]["run"] = json!(["tar", "xzf", "missing.tar.gz"]);
    let failing = chain.sign_layout("failing-inspection", &failing, "owner");
    check_case(
        &chain,
        Case {
            layout: failing,
            fails_at: Some("inspections.untar.run"),
            mentions: Some("exited with status"),
            ..base("failing-inspection")
        },
    );

    // Inspection rules: the package in the verifier's hands is not the one recorded.
    let swapped = chain.path("inspect-swapped-src");
    copy_dir(&chain.inspect_src, &swapped);
    run_ok(Command::new("sh").current_dir(&swapped).args([
        "-c",
        "mkdir -p out && echo evil > out/app && tar czf pkg.tar.gz out/app && rm -r out",
    ]));
    check_case(
        &chain,
        Case {
            inspect: Some(swapped),
            fails_at: Some("inspections.untar.materials.rule[1]"),
            mentions: Some("MATCH pkg.tar.gz WITH PRODUCTS FROM package: digest changed"),
            ..base("swapped-package")
        },
    );

    // Command that differs from the expected one: a warning for both, not a failure.
    let mut cmd = layout_json(k);
    cmd["steps"][2]["expected_command"] = json!(["tar", "cjf", "pkg.tar.bz2", "out/app"]);
    let cmd = chain.sign_layout("command", &cmd, "owner");
    let (code, v) = chain.cairn(&cmd, &chain.links, &chain.inspect_dir("command-c"));
    assert_eq!(code, 0);
    assert_eq!(
        find(&v, "steps.package.command").unwrap()["outcome"],
        "warn"
    );

    // Sublayouts: the whole chain as one step of a super layout, signed by alice.
    sublayout_cases(&chain);
}

fn sublayout_cases(chain: &Chain) {
    let k = &chain.keys;
    let sub = chain.sign_layout("sub", &layout_json(k), "alice");
    let super_json = json!({
        "_type": "layout",
        "expires": "2099-01-01T00:00:00Z",
        "readme": "",
        "keys": {k.id("alice"): k.json("alice")},
        "steps": [{"_type": "step", "name": "supply", "threshold": 1,
                   "pubkeys": [k.id("alice")], "expected_command": ["tar", "czf", "pkg.tar.gz", "out/app"],
                   "expected_materials": [["DISALLOW", "*"]],
                   "expected_products": [["REQUIRE", "pkg.tar.gz"], ["CREATE", "pkg.tar.gz"], ["DISALLOW", "*"]]}],
        "inspect": [],
    });
    let sup = chain.sign_layout("super", &super_json, "owner");
    let make = |name: &str| {
        let links = chain.path(&format!("super-links-{name}"));
        std::fs::create_dir_all(&links).unwrap();
        std::fs::copy(
            &sub,
            links.join(format!("supply.{}.link", k.short("alice"))),
        )
        .unwrap();
        copy_dir(
            &chain.links,
            &links.join(format!("supply.{}", k.short("alice"))),
        );
        links
    };
    check_case(
        chain,
        Case {
            name: "sublayout",
            layout: sup.clone(),
            links: make("ok"),
            inspect: None,
            fails_at: None,
            mentions: None,
        },
    );
    let bad = make("bad");
    std::fs::remove_file(
        bad.join(format!("supply.{}", k.short("alice")))
            .join(chain.link_file("package", "carl")),
    )
    .unwrap();
    check_case(
        chain,
        Case {
            name: "bad-sublayout",
            layout: sup,
            links: bad,
            inspect: None,
            fails_at: Some("steps.supply.sublayout.steps.package.threshold"),
            mentions: None,
        },
    );
}

/// `layout init` proposes a layout that, once signed, verifies the recorded chain and rejects
/// the link mutations above.
#[test]
fn layout_init_round_trip() {
    let Some(peers) = peers("layout_init_round_trip") else {
        return;
    };
    let chain = Chain::record(peers);
    let proposed = chain.path("proposed.layout");
    run_ok(
        cairn()
            .args(["layout", "init", "--from-links"])
            .arg(&chain.links)
            .arg("--key-dir")
            .arg(chain.keys.dir.join("pub"))
            .arg("--out")
            .arg(&proposed),
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&proposed).unwrap()).unwrap();
    let names: Vec<&str> = doc["signed"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["write-code", "build", "package"]);
    assert_eq!(doc["signed"]["steps"][1]["threshold"], 2);
    assert!(
        doc["signed"]["steps"][2]["expected_materials"]
            .as_array()
            .unwrap()
            .contains(&json!([
                "MATCH", "out/app", "WITH", "PRODUCTS", "FROM", "build"
            ]))
    );
    run_ok(
        cairn()
            .args(["layout", "sign"])
            .arg(&proposed)
            .arg("--key")
            .arg(chain.keys.pem("owner")),
    );

    let verify = |links: &Path| -> (i32, Value) {
        chain.cairn(&proposed, links, &chain.inspect_dir("init"))
    };
    let (code, v) = verify(&chain.links);
    assert_eq!(code, 0, "{}", root_failures(&v).join("\n"));
    // in-toto-verify accepts the proposal too (signed by cairn, securesystemslib-1 key ids).
    let (ref_code, err) = chain.reference(&proposed, &chain.links, &chain.inspect_dir("init-r"));
    assert_eq!(ref_code, 0, "{err}");

    type Mutation<'a> = (&'a str, Box<dyn Fn(&Path) + 'a>);
    let mutations: Vec<Mutation<'_>> = vec![
        (
            "modified",
            Box::new(|l: &Path| {
                chain.edit_link(l, "write-code", "alice", "alice", |s| {
                    s["products"]["src/main.c"]["sha256"] = json!("0".repeat(64));
                })
            }),
        ),
        (
            "added",
            Box::new(|l: &Path| {
                chain.edit_link(l, "package", "carl", "carl", |s| {
                    s["products"]["backdoor.sh"] = json!({"sha256": "2".repeat(64)});
                })
            }),
        ),
        (
            "removed",
            Box::new(|l: &Path| {
                for who in ["bob", "carl"] {
                    chain.edit_link(l, "build", who, who, |s| {
                        s["products"].as_object_mut().unwrap().remove("out/app");
                    })
                }
            }),
        ),
        (
            "require",
            Box::new(|l: &Path| {
                chain.edit_link(l, "package", "carl", "carl", |s| {
                    s["materials"].as_object_mut().unwrap().remove("out/app");
                })
            }),
        ),
        (
            "modify",
            Box::new(|l: &Path| {
                for who in ["bob", "carl"] {
                    chain.edit_link(l, "build", who, who, |s| {
                        let before = s["materials"]["src/version.txt"].clone();
                        s["products"]["src/version.txt"] = before;
                    })
                }
            }),
        ),
        (
            "delete",
            Box::new(|l: &Path| {
                for who in ["bob", "carl"] {
                    chain.edit_link(l, "build", who, who, |s| {
                        let m = s["materials"]["tmp/scratch"].clone();
                        s["products"]["tmp/scratch"] = m;
                    })
                }
            }),
        ),
        (
            "missing",
            Box::new(|l: &Path| {
                std::fs::remove_file(l.join(chain.link_file("package", "carl"))).unwrap()
            }),
        ),
        (
            "wrong-key",
            Box::new(|l: &Path| chain.edit_link(l, "package", "carl", "dan", |_| {})),
        ),
        (
            "threshold",
            Box::new(|l: &Path| {
                std::fs::remove_file(l.join(chain.link_file("build", "carl"))).unwrap()
            }),
        ),
        (
            "disagree",
            Box::new(|l: &Path| {
                chain.edit_link(l, "build", "carl", "carl", |s| {
                    s["products"]["out/app"]["sha256"] = json!("4".repeat(64));
                })
            }),
        ),
    ];
    for (name, mutate) in mutations {
        let links = chain.links_copy(&format!("init-{name}"));
        mutate(&links);
        let (code, v) = verify(&links);
        assert_eq!(code, 1, "init layout accepted mutation {name}");
        assert!(!root_failures(&v).is_empty());
    }
}

// ---- bad input (no peers needed: links and layouts are made and signed with cairn) ----

struct Mini {
    tmp: tempfile::TempDir,
    owner: PrivateKey,
    func: PrivateKey,
}

impl Mini {
    fn new() -> Mini {
        let tmp = tempfile::tempdir().unwrap();
        let owner = PrivateKey::generate(KeyType::Ed25519).unwrap();
        let func = PrivateKey::generate(KeyType::Ed25519).unwrap();
        std::fs::write(
            tmp.path().join("owner.pub"),
            owner.public_key().to_spki_pem(),
        )
        .unwrap();
        Mini { tmp, owner, func }
    }
    fn fid(&self) -> String {
        self.func.key_id().as_str().to_owned()
    }
    fn link(&self, dir: &Path, step: &str, name: &str, products: Value) {
        let signed = json!({"_type": "link", "name": name, "command": [], "materials": {},
                            "products": products, "byproducts": {}, "environment": {}});
        let mut mb = Metablock::unsigned(signed);
        cairn_sign::metablock::sign(&mut mb, &self.func).unwrap();
        std::fs::write(
            dir.join(format!("{step}.{}.link", &self.fid()[..8])),
            mb.to_pretty_json(),
        )
        .unwrap();
    }
    fn layout(&self, path: &Path, steps: Value, signer: &PrivateKey) {
        let mut key = self
            .func
            .public_key()
            .to_securesystemslib_json(KeyIdRule::Securesystemslib1);
        key["keyid"] = json!(self.fid());
        let signed = json!({"_type": "layout", "expires": "2099-01-01T00:00:00Z", "readme": "",
                            "keys": {self.fid(): key}, "steps": steps, "inspect": []});
        let mut mb = Metablock::unsigned(signed);
        cairn_sign::metablock::sign(&mut mb, signer).unwrap();
        std::fs::write(path, mb.to_pretty_json()).unwrap();
    }
    fn step(&self, name: &str, products: Value) -> Value {
        json!({"_type": "step", "name": name, "threshold": 1, "pubkeys": [self.fid()],
               "expected_command": [], "expected_materials": [], "expected_products": products})
    }
    fn verify(&self, layout: &Path, links: &Path) -> (i32, Value, String) {
        let out = cairn()
            .args(["--json", "verify", "layout"])
            .arg(layout)
            .arg("--layout-key")
            .arg(self.tmp.path().join("owner.pub"))
            .arg("--links")
            .arg(links)
            .arg("--workdir")
            .arg(self.tmp.path())
            .output()
            .unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.code().unwrap_or(-1),
            v,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn unparseable_rules_and_unknown_keywords_fail_clearly() {
    let m = Mini::new();
    let d = m.tmp.path();
    m.link(
        d,
        "build",
        "build",
        json!({"a": {"sha256": "a".repeat(64)}}),
    );
    for (tag, rule) in [
        ("short", json!(["MATCH", "a"])),
        ("keyword", json!(["FROB", "a"])),
        (
            "type",
            json!(["MATCH", "a", "WITH", "ARTIFACTS", "FROM", "x"]),
        ),
        ("arity", json!(["CREATE", "a", "b"])),
    ] {
        let layout = d.join(format!("{tag}.layout"));
        m.layout(&layout, json!([m.step("build", json!([rule]))]), &m.owner);
        let (code, v, err) = m.verify(&layout, d);
        assert_eq!(code, 1, "{tag}: {err}");
        let c = find(&v, "layout.format").unwrap_or_else(|| panic!("{tag}: {v}"));
        assert_eq!(c["outcome"], "fail");
        let reason = c["reason"].as_str().unwrap();
        assert!(
            reason.contains("rule 0 of expected_products"),
            "{tag}: {reason}"
        );
    }
    // A rule that parses verifies.
    let layout = d.join("ok.layout");
    m.layout(
        &layout,
        json!([m.step("build", json!([["CREATE", "a"], ["DISALLOW", "*"]]))]),
        &m.owner,
    );
    let (code, v, err) = m.verify(&layout, d);
    assert_eq!(code, 0, "{err} {v}");
}

#[test]
fn link_claiming_another_steps_name_is_not_counted() {
    let m = Mini::new();
    let d = m.tmp.path();
    // The functionary's `test` link, filed as the `build` link.
    m.link(d, "build", "test", json!({}));
    let layout = d.join("root.layout");
    m.layout(
        &layout,
        json!([m.step("build", json!([])), m.step("test", json!([]))]),
        &m.owner,
    );
    let (code, v, _) = m.verify(&layout, d);
    assert_eq!(code, 1);
    let c = find(&v, "steps.build.threshold").unwrap();
    assert_eq!(c["outcome"], "fail");
    assert!(
        c.to_string()
            .contains("the link is for step 'test', not 'build'"),
        "{c}"
    );
}

#[cfg(unix)]
#[test]
fn cyclic_sublayouts_are_detected() {
    let m = Mini::new();
    let d = m.tmp.path().join("links");
    std::fs::create_dir(&d).unwrap();
    // Step `sub` is delegated to the functionary, whose "link" is a layout with the same step:
    // its links directory `sub.<id>/` points back at itself.
    let sub_layout = d.join(format!("sub.{}.link", &m.fid()[..8]));
    m.layout(&sub_layout, json!([m.step("sub", json!([]))]), &m.func);
    std::os::unix::fs::symlink(".", d.join(format!("sub.{}", &m.fid()[..8]))).unwrap();
    let layout = m.tmp.path().join("root.layout");
    m.layout(&layout, json!([m.step("sub", json!([]))]), &m.owner);
    let (code, v, err) = m.verify(&layout, &d);
    assert_eq!(code, 1, "{err}");
    assert!(v.to_string().contains("cyclic sublayout"), "{v}");
}

#[test]
fn usage_errors_exit_2() {
    let m = Mini::new();
    let d = m.tmp.path();
    let out = cairn()
        .args(["verify", "layout"])
        .arg(d.join("nope.layout"))
        .arg("--layout-key")
        .arg(d.join("owner.pub"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error:"));
    let layout = d.join("root.layout");
    m.layout(&layout, json!([]), &m.owner);
    let out = cairn()
        .args(["verify", "layout"])
        .arg(&layout)
        .arg("--layout-key")
        .arg(d.join("owner.pub"))
        .args(["--at", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn human_view_names_the_rule_the_artifact_and_its_origin() {
    let m = Mini::new();
    let d = m.tmp.path();
    m.link(
        d,
        "build",
        "build",
        json!({"app": {"sha256": "a".repeat(64)}}),
    );
    let signed = json!({"_type": "link", "name": "ship", "command": [], "products": {},
                        "materials": {"app": {"sha256": "b".repeat(64)}}, "byproducts": {}, "environment": {}});
    let mut mb = Metablock::unsigned(signed);
    cairn_sign::metablock::sign(&mut mb, &m.func).unwrap();
    std::fs::write(
        d.join(format!("ship.{}.link", &m.fid()[..8])),
        mb.to_pretty_json(),
    )
    .unwrap();
    let mut ship = m.step("ship", json!([]));
    ship["expected_materials"] = json!([
        ["MATCH", "app", "WITH", "PRODUCTS", "FROM", "build"],
        ["DISALLOW", "*"]
    ]);
    let layout = d.join("root.layout");
    m.layout(
        &layout,
        json!([m.step("build", json!([["CREATE", "app"]])), ship]),
        &m.owner,
    );
    let out = cairn()
        .args(["--color", "never", "verify", "layout"])
        .arg(&layout)
        .arg("--layout-key")
        .arg(d.join("owner.pub"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("FAIL "), "{text}");
    for needle in [
        "DISALLOW * [steps.ship.materials.rule[1]]",
        "app  (material of 'ship' sha256:bbbbbbbbbbbbbbbb)",
        "MATCH app WITH PRODUCTS FROM build: digest changed: build product 'app' and ship material 'app' differ (sha256 aaaaaaaaaaaa… vs bbbbbbbbbbbb…)",
        "also: product of 'build' sha256:aaaaaaaaaaaaaaaa",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}
