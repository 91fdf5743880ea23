//! `cairn layout sign|init`: authoring in-toto layouts.
//!
//! `init --from-links DIR` proposes a layout from a recorded run: one step per link name, in
//! the order artifacts flow, each step's functionaries taken from the keys that signed its links
//! (links carry key ids, not keys, so the public keys come from `--key-dir` or
//! `--functionary STEP=PUB`), `MATCH` rules chaining each step's materials to the products of the
//! step that made them, `CREATE`/`MODIFY`/`ALLOW` for products, and a final `DISALLOW *` on
//! both sides. The owner reviews it, then signs it with `layout sign`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cairn_model::layout::Layout;
use cairn_model::metablock::Metablock;
use cairn_sign::{KeyIdRule, PublicKey};
use cairn_verify::layout::document::{Container, Document, Payload};
use cairn_verify::layout::rules::ArtifactMap;
use chrono::{Duration, Utc};
use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::output::{Ctx, Status};
use crate::report::with_hint;

/// Author in-toto layouts.
#[derive(Debug, Subcommand)]
pub enum LayoutCommand {
    /// Sign a layout (adds a signature, or replaces this key's earlier one).
    ///
    /// Example: cairn layout sign root.layout --key owner.key
    Sign(SignArgs),
    /// Propose a layout from the links of a recorded run, for the owner to review and sign.
    ///
    /// Example: cairn layout init --from-links ./links --key-dir ./keys --out root.layout
    Init(InitArgs),
}

/// `layout sign` arguments.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The layout (metablock or DSSE envelope).
    #[arg(value_name = "LAYOUT")]
    pub layout: PathBuf,
    /// Private key to sign with (password from CAIRN_PASSWORD when encrypted).
    #[arg(long, value_name = "KEY", env = "CAIRN_KEY")]
    pub key: PathBuf,
    /// Where to write the signed layout; default: overwrite LAYOUT.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Key-id rule for the signature: `securesystemslib-1` (in-toto 3.x) or `legacy`
    /// (in-toto-golang, older python).
    #[arg(
        long,
        value_name = "RULE",
        default_value = "securesystemslib-1",
        env = "CAIRN_KEYID_RULE"
    )]
    pub keyid_rule: String,
}

/// `layout init` arguments.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory holding the recorded links (`*.link`, any form).
    #[arg(long, value_name = "DIR")]
    pub from_links: PathBuf,
    /// Directory of functionary public keys (every file that parses as a key is tried).
    #[arg(long, value_name = "DIR")]
    pub key_dir: Option<PathBuf>,
    /// A functionary public key for one step (repeatable): `STEP=PUB`.
    #[arg(long = "functionary", value_name = "STEP=PUB")]
    pub functionaries: Vec<String>,
    /// Expiry of the proposed layout (RFC 3339); default: one year from now.
    #[arg(long, value_name = "RFC3339")]
    pub expires: Option<String>,
    /// Where to write the proposal (unsigned); default: stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl LayoutCommand {
    pub fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        match self {
            LayoutCommand::Sign(a) => a.run(ctx),
            LayoutCommand::Init(a) => a.run(ctx),
        }
    }
}

impl SignArgs {
    fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let rule = match self.keyid_rule.as_str() {
            "securesystemslib-1" => KeyIdRule::Securesystemslib1,
            "legacy" => KeyIdRule::Legacy,
            other => bail!("unknown --keyid-rule {other:?} (securesystemslib-1 or legacy)"),
        };
        let bytes = std::fs::read(&self.layout)
            .with_context(|| format!("cannot read {}", self.layout.display()))?;
        let doc = Document::from_slice(&bytes)
            .with_context(|| format!("{} is not an in-toto layout", self.layout.display()))?;
        let Payload::Layout(signed) = &doc.payload else {
            bail!("{} is a link, not a layout", self.layout.display());
        };
        // Never sign something that would not verify as a layout.
        let layout = Layout::from_signed(signed)
            .with_context(|| format!("{} is not a valid layout", self.layout.display()))?;
        layout
            .validate()
            .with_context(|| format!("{} is not a valid layout", self.layout.display()))?;
        let password = cairn_sign::Password::from_env()?;
        let key = match cairn_sign::load_key(&self.key, password.as_ref())
            .with_context(|| format!("cannot load key {}", self.key.display()))?
        {
            cairn_sign::ParsedKey::Private(k) => k.with_key_id_rule(rule),
            _ => {
                return Err(with_hint(
                    anyhow::anyhow!(
                        "{} is a public key; signing needs the private key",
                        self.key.display()
                    ),
                    "cairn key generate --out owner writes owner (private) and owner.pub",
                ));
            }
        };
        let keyid = cairn_sign::Signer::key_id(&key).clone();
        let out_bytes = match doc.container {
            Container::Metablock(mut mb) => {
                cairn_sign::metablock::sign(&mut mb, &key)?;
                mb.to_pretty_json()
            }
            Container::Dsse(mut env) => {
                cairn_sign::dsse::add_signature(&mut env, &key)?;
                serde_json::to_vec_pretty(&env)?
            }
        };
        let out = self.out.unwrap_or(self.layout);
        crate::output::write_atomic(&out, &out_bytes)?;
        if ctx.json {
            ctx.out_json(&json!({"layout": out.display().to_string(), "keyid": keyid.as_str()}))?;
        } else {
            ctx.info(format!(
                "signed {} with key {}",
                out.display(),
                keyid.as_str()
            ));
        }
        Ok(Status::Success)
    }
}

/// Functionary keys given per step with `--functionary STEP=PUB`.
type StepKeys = BTreeMap<String, Vec<PublicKey>>;

/// A recorded link and who signed it.
struct Recorded {
    file: String,
    doc: Document,
    name: String,
    materials: ArtifactMap,
    products: ArtifactMap,
    command: Vec<String>,
}

/// Above this many paths, rules use a directory pattern instead of one rule per path.
const PER_PATH_LIMIT: usize = 20;

/// Patterns covering `paths`: each path when few, else their common directory (`dir/*`) or `*`.
fn patterns(paths: &[&str]) -> Vec<String> {
    if paths.len() <= PER_PATH_LIMIT {
        return paths.iter().map(|p| (*p).to_owned()).collect();
    }
    let first = paths[0];
    let mut prefix_len = first.rfind('/').map_or(0, |i| i + 1);
    for p in &paths[1..] {
        while prefix_len > 0 && !p.starts_with(&first[..prefix_len]) {
            prefix_len = first[..prefix_len - 1].rfind('/').map_or(0, |i| i + 1);
        }
    }
    if prefix_len == 0 {
        vec!["*".to_owned()]
    } else {
        vec![format!("{}*", &first[..prefix_len])]
    }
}

/// Orders steps so that producers come before consumers (ties and cycles: by name).
fn order(steps: &BTreeMap<String, (ArtifactMap, ArtifactMap)>) -> Vec<String> {
    let names: Vec<&String> = steps.keys().collect();
    let feeds = |a: &str, b: &str| {
        let (_, prod) = &steps[a];
        let (mat, _) = &steps[b];
        a != b && mat.iter().any(|(p, d)| prod.get(p) == Some(d))
    };
    let mut remaining: BTreeSet<&String> = names.iter().copied().collect();
    let mut out = Vec::new();
    while !remaining.is_empty() {
        let pick = remaining
            .iter()
            .min_by_key(|n| {
                let incoming = remaining.iter().filter(|m| feeds(m, n)).count();
                (incoming, (**n).clone())
            })
            .copied()
            .expect("remaining is not empty");
        remaining.remove(pick);
        out.push(pick.clone());
    }
    out
}

fn rule(words: &[&str]) -> Value {
    Value::Array(
        words
            .iter()
            .map(|w| Value::String((*w).to_owned()))
            .collect(),
    )
}

impl InitArgs {
    fn load_keys(&self) -> anyhow::Result<(Vec<PublicKey>, StepKeys)> {
        let mut pool = Vec::new();
        if let Some(dir) = &self.key_dir {
            for entry in
                std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?
            {
                let path = entry?.path();
                if !path.is_file() {
                    continue;
                }
                // Only public keys (and the public half of unencrypted private keys) are used.
                if let Ok(k) = cairn_sign::load_key(&path, None) {
                    pool.push(k.public_key().clone());
                }
            }
        }
        let mut per_step: StepKeys = BTreeMap::new();
        for item in &self.functionaries {
            let Some((step, path)) = item.split_once('=') else {
                bail!("--functionary {item:?} is not of the form STEP=PUB");
            };
            let key = cairn_sign::load_key(Path::new(path), None)
                .with_context(|| format!("cannot load functionary key {path}"))?
                .public_key()
                .clone();
            per_step.entry(step.to_owned()).or_default().push(key);
        }
        Ok((pool, per_step))
    }

    fn run(self, ctx: &Ctx) -> anyhow::Result<Status> {
        let expires = match &self.expires {
            Some(t) => cairn_model::time::Timestamp::parse(t)
                .with_context(|| format!("--expires {t:?} is not an RFC 3339 time"))?,
            None => cairn_model::time::Timestamp::from_datetime(Utc::now() + Duration::days(365)),
        };
        let (pool, per_step) = self.load_keys()?;
        let mut recorded = Vec::new();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&self.from_links)
            .with_context(|| format!("cannot read {}", self.from_links.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "link"))
            .collect();
        entries.sort();
        for path in entries {
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let doc = Document::from_slice(&bytes)
                .with_context(|| format!("{file} is not an in-toto link"))?;
            let Payload::Link(data) = &doc.payload else {
                ctx.warn(format!("{file} is a (sub)layout; skipped"));
                continue;
            };
            if doc.declared_keyids().is_empty() {
                ctx.warn(format!("{file} is unsigned; skipped"));
                continue;
            }
            recorded.push(Recorded {
                file,
                name: data.name.clone(),
                materials: data.artifacts.materials.clone(),
                products: data.artifacts.products.clone(),
                command: data.command.clone(),
                doc,
            });
        }
        if recorded.is_empty() {
            bail!("no signed links in {}", self.from_links.display());
        }

        // Functionaries: the key that verifies each link's signature.
        let mut keys: BTreeMap<String, Value> = BTreeMap::new();
        let mut step_keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut step_arts: BTreeMap<String, (ArtifactMap, ArtifactMap)> = BTreeMap::new();
        let mut step_cmd: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in &recorded {
            let candidates: Vec<&PublicKey> = per_step
                .get(&r.name)
                .map(|v| v.iter().collect())
                .unwrap_or_else(|| pool.iter().collect());
            let mut found = None;
            for key in candidates {
                if let cairn_sign::Verdict::Verified(m) = r.doc.verify(key, None) {
                    found = Some((key, m.keyid));
                    break;
                }
            }
            let Some((key, declared)) = found else {
                return Err(with_hint(
                    anyhow::anyhow!(
                        "no public key verifies {} (signed by key id {})",
                        r.file,
                        r.doc.declared_keyids().join(", ")
                    ),
                    format!("pass --key-dir DIR or --functionary {}=PUB", r.name),
                ));
            };
            // List the key under the id its signature declares, so link file names match.
            let ids = key.key_ids();
            let (keyid, rule) = match ids.rule_of(&declared) {
                Some(rule) => (ids.get(rule).as_str().to_owned(), rule),
                None => (
                    ids.securesystemslib1.as_str().to_owned(),
                    KeyIdRule::Securesystemslib1,
                ),
            };
            let mut obj = key.to_securesystemslib_json(rule);
            if let Value::Object(m) = &mut obj {
                m.insert("keyid".into(), Value::String(keyid.clone()));
            }
            keys.insert(keyid.clone(), obj);
            let list = step_keys.entry(r.name.clone()).or_default();
            if !list.contains(&keyid) {
                list.push(keyid);
            }
            match step_arts.get(&r.name) {
                Some((m, p)) if *m != r.materials || *p != r.products => {
                    bail!(
                        "links for step '{}' disagree on their artifacts ({})",
                        r.name,
                        r.file
                    );
                }
                _ => {
                    step_arts.insert(r.name.clone(), (r.materials.clone(), r.products.clone()));
                    step_cmd.insert(r.name.clone(), r.command.clone());
                }
            }
        }

        let ordered = order(&step_arts);
        let last = ordered.last().cloned().unwrap_or_default();
        let mut steps_json = Vec::new();
        for (pos, name) in ordered.iter().enumerate() {
            let (materials, products) = &step_arts[name];
            // Materials: MATCH each to the latest earlier step that produced it unchanged.
            let mut by_source: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
            let mut external: Vec<&str> = Vec::new();
            for (path, digest) in materials {
                let source = (0..pos)
                    .rev()
                    .find(|i| step_arts[&ordered[*i]].1.get(path) == Some(digest));
                match source {
                    Some(i) => by_source.entry(i).or_default().push(path),
                    None => external.push(path),
                }
            }
            let mut m_rules = Vec::new();
            // Artifacts that flow from earlier steps must keep flowing.
            let chained: Vec<&str> = by_source.values().flatten().copied().collect();
            if chained.len() <= PER_PATH_LIMIT {
                let mut chained = chained;
                chained.sort_unstable();
                for path in chained {
                    m_rules.push(rule(&["REQUIRE", path]));
                }
            }
            for (i, paths) in by_source.iter().rev() {
                for pat in patterns(paths) {
                    m_rules.push(rule(&[
                        "MATCH",
                        &pat,
                        "WITH",
                        "PRODUCTS",
                        "FROM",
                        &ordered[*i],
                    ]));
                }
            }
            for pat in patterns(&external) {
                m_rules.push(rule(&["ALLOW", &pat]));
            }
            m_rules.push(rule(&["DISALLOW", "*"]));

            let mut created = Vec::new();
            let mut modified = Vec::new();
            let mut unchanged = Vec::new();
            for (path, digest) in products {
                match materials.get(path) {
                    None => created.push(path.as_str()),
                    Some(d) if d != digest => modified.push(path.as_str()),
                    Some(_) => unchanged.push(path.as_str()),
                }
            }
            let mut p_rules = Vec::new();
            if *name == last && products.len() <= PER_PATH_LIMIT {
                for path in products.keys() {
                    p_rules.push(rule(&["REQUIRE", path]));
                }
            }
            for (kw, list) in [
                ("CREATE", &created),
                ("MODIFY", &modified),
                ("ALLOW", &unchanged),
            ] {
                for pat in patterns(list) {
                    p_rules.push(rule(&[kw, &pat]));
                }
            }
            p_rules.push(rule(&["DISALLOW", "*"]));
            let pubkeys = &step_keys[name];
            steps_json.push(json!({
                "_type": "step",
                "name": name,
                "expected_command": step_cmd[name],
                "expected_materials": m_rules,
                "expected_products": p_rules,
                "pubkeys": pubkeys,
                "threshold": pubkeys.len(),
            }));
        }
        let signed = json!({
            "_type": "layout",
            "expires": expires.as_str(),
            "readme": format!(
                "Proposed by `cairn layout init` from the links in {}. Review the steps, functionaries and rules, then sign with `cairn layout sign`.",
                self.from_links.display()
            ),
            "keys": Value::Object(keys.into_iter().collect::<Map<_, _>>()),
            "steps": steps_json,
            "inspect": [],
        });
        // The proposal must itself be a valid layout.
        let layout = Layout::from_signed(&signed)
            .context("internal error: the proposed layout does not parse")?;
        layout
            .validate()
            .context("internal error: the proposed layout is invalid")?;
        let bytes = Metablock::unsigned(signed).to_pretty_json();
        match &self.out {
            Some(out) => {
                crate::output::write_atomic(out, &bytes)?;
                ctx.info(format!(
                    "proposed a layout with {} step(s) in {}; review it, then: cairn layout sign {} --key OWNER_KEY",
                    ordered.len(),
                    out.display(),
                    out.display()
                ));
            }
            None => ctx.out(String::from_utf8_lossy(&bytes))?,
        }
        Ok(Status::Success)
    }
}
