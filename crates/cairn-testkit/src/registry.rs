//! A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on a free
//! 127.0.0.1 port with a temporary storage root, stopped when dropped.
//!
//! [`Registry::start`] returns `None` (after printing why) when `docker-registry` is not
//! installed, or panics with `CAIRN_REQUIRE_PEERS=1`; `scripts/install-peers.sh` installs it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers;

/// A running registry.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    port: u16,
    _root: tempfile::TempDir,
}

/// Finds an executable on `PATH` (or at `/usr/bin/<name>`).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `skopeo`, or `None` after printing why (panics with `CAIRN_REQUIRE_PEERS=1`).
pub fn skopeo(test: &str) -> Option<PathBuf> {
    match find_tool("skopeo") {
        Some(p) => Some(p),
        None => peers::missing(test, "skopeo is not installed"),
    }
}

impl Registry {
    /// Starts a registry, or returns `None` when `docker-registry` is missing (see module docs).
    pub fn start(test: &str) -> Option<Registry> {
        let Some(bin) = find_tool("docker-registry") else {
            peers::missing(test, "docker-registry is not installed");
            return None;
        };
        // A few tries: another process may take the port between probing and binding.
        for _ in 0..5 {
            if let Some(r) = Registry::try_start(&bin) {
                return Some(r);
            }
        }
        panic!("{test}: docker-registry did not start on 127.0.0.1");
    }

    fn try_start(bin: &Path) -> Option<Registry> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let root = tempfile::tempdir().expect("temp dir for registry storage");
        let config = root.path().join("config.yml");
        let storage = root.path().join("storage");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: cairn-test-only\nhealth:\n  storagedriver:\n    enabled: false\n",
                storage.display()
            ),
        )
        .expect("write registry config");
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn docker-registry");
        let mut reg = Registry {
            child,
            port,
            _root: root,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = reg.child.try_wait() {
                return None; // exited (port taken?): try again
            }
            if reg.ping() {
                return Some(reg);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let req = format!(
            "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        );
        if s.write_all(req.as_bytes()).is_err() {
            return false;
        }
        let mut buf = [0u8; 12];
        s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1 200")
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the registry now (the storage stays until drop).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}
