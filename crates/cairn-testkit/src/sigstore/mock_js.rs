//! The @sigstore/mock stack (Fulcio, CT log, Rekor v1, TSA, OIDC token minting) served by
//! `scripts/sigstore-mock-server.mjs` on loopback: the peer that sigstore-python and sigstore-js
//! sign against in the interop tests.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers;

/// A running mock stack; killed when dropped.
pub struct JsMockStack {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Holds `trusted_root.json`, `signing_config.json`, `trust_config.json`, `token.jwt`.
    pub state_dir: tempfile::TempDir,
}

impl JsMockStack {
    /// Starts the stack, or returns `None` (skip) when node or @sigstore/mock is missing.
    pub fn start(test: &str) -> Option<Self> {
        Self::start_with(test, &[])
    }

    /// [`JsMockStack::start`] with extra server flags (e.g. `--tsa-whole-seconds`).
    pub fn start_with(test: &str, flags: &[&str]) -> Option<Self> {
        let node_dir = peers::peers_dir().join("node");
        if !node_dir.join("node_modules/@sigstore/mock").is_dir() {
            peers::missing(test, "@sigstore/mock is not installed")?;
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../scripts/sigstore-mock-server.mjs");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let state_dir = tempfile::tempdir().expect("temp dir");
        let spawned = Command::new("node")
            .arg(&script)
            .args(["--port", &port.to_string(), "--state-dir"])
            .arg(state_dir.path())
            .args(flags)
            .env("SIGSTORE_NODE_DIR", &node_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                peers::missing(test, &format!("cannot run node: {e}"))?;
                unreachable!("missing() returns None or panics")
            }
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("READY ") {
                    // "READY <url> state=... issuer=...": the URL is the first word.
                    let url = url
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = tx.send(url);
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = loop {
            if let Ok(url) = rx.recv_timeout(Duration::from_millis(100)) {
                break url;
            }
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                panic!("{test}: sigstore mock server did not become ready");
            }
        };
        Some(Self {
            child,
            url,
            state_dir,
        })
    }

    /// A path in the state directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.state_dir.path().join(name)
    }

    /// A fresh OIDC token for `sub` (ES256, `aud=sigstore`, issuer `URL/oidc`).
    pub fn token(&self) -> String {
        std::fs::read_to_string(self.file("token.jwt"))
            .expect("token.jwt written by the mock")
            .trim()
            .to_string()
    }
}

impl Drop for JsMockStack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
