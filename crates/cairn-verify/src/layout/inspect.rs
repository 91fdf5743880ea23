//! Running inspections: the verifier executes each inspection's `run` command (directly, no
//! shell) in a working directory, records every file there before (materials) and after
//! (products) as the reference does (`in-toto-run` on `.` with its default excludes), and keeps
//! the result as the inspection's link.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cairn_model::link_reader::ArtifactDigests;
use sha2::{Digest, Sha256};

use super::glob::Pattern;
use super::rules::ArtifactMap;

/// The reference's default excludes when it records an inspection (`*.link*`, `.git`, `*.pyc`,
/// `*~`), matched against every path component.
const DEFAULT_EXCLUDES: &[&str] = &["*.link*", ".git", "*.pyc", "*~"];

/// How inspections run.
#[derive(Debug, Clone)]
pub struct InspectionSettings {
    /// The directory the commands run in and whose files are recorded.
    pub workdir: PathBuf,
    /// How long one inspection may take before it is killed and fails.
    pub timeout: Duration,
    /// Where to write `<inspection>.link` (unsigned) for auditing; `None` writes nothing.
    pub link_dir: Option<PathBuf>,
}

/// What running one inspection gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionRun {
    /// Files before the command.
    pub materials: ArtifactMap,
    /// Files after the command.
    pub products: ArtifactMap,
    /// The exit code (`None` when killed by a signal or by the timeout).
    pub return_value: Option<i32>,
    /// Captured standard output (lossy UTF-8).
    pub stdout: String,
    /// Captured standard error (lossy UTF-8).
    pub stderr: String,
    /// True when the timeout killed the command.
    pub timed_out: bool,
}

/// Why an inspection could not be run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InspectionError {
    /// The inspection has an empty `run`.
    #[error("inspection has no command to run")]
    EmptyCommand,
    /// The command could not be started.
    #[error("could not start {program:?}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Recording the working directory failed.
    #[error("could not record {path}")]
    Record {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Runs one inspection command and records the working directory around it.
pub fn run(
    command: &[String],
    settings: &InspectionSettings,
) -> Result<InspectionRun, InspectionError> {
    let (program, args) = command.split_first().ok_or(InspectionError::EmptyCommand)?;
    let materials = record(&settings.workdir)?;
    let mut cmd = Command::new(program);
    // Own process group, so a timeout kills the command's children too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .args(args)
        .current_dir(&settings.workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| InspectionError::Spawn {
            program: program.clone(),
            source,
        })?;
    let out = child.stdout.take().map(drain);
    let err = child.stderr.take().map(drain);
    let started = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= settings.timeout => {
                timed_out = true;
                kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => break None,
        }
    };
    // After a timeout a grandchild may still hold the pipes: do not wait for them.
    let collect = |h: Option<std::thread::JoinHandle<String>>| match h {
        Some(h) if !timed_out || h.is_finished() => h.join().unwrap_or_default(),
        _ => String::new(),
    };
    let stdout = collect(out);
    let stderr = collect(err);
    let products = record(&settings.workdir)?;
    Ok(InspectionRun {
        materials,
        products,
        return_value: status.and_then(|s| s.code()),
        stdout,
        stderr,
        timed_out,
    })
}

/// Kills the process group `pgid` (the inspection and everything it started).
fn kill_group(pgid: u32) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    #[cfg(not(unix))]
    let _ = pgid;
}

fn drain<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Records every regular file under `root` (following symlinks to files, not to directories),
/// by path relative to `root` with `/` separators, skipping the default excludes.
pub fn record(root: &Path) -> Result<ArtifactMap, InspectionError> {
    let excludes: Vec<Pattern> = DEFAULT_EXCLUDES.iter().map(|p| Pattern::new(p)).collect();
    let mut out = BTreeMap::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| InspectionError::Record { path, source }
    };
    while let Some((dir, rel)) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(err(&dir))? {
            let entry = entry.map_err(err(&dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if excludes.iter().any(|p| p.matches(&name)) {
                continue;
            }
            let path = entry.path();
            let rel_path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type().map_err(err(&path))?;
            if kind.is_dir() {
                stack.push((path, rel_path));
            } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
                out.insert(rel_path, hash_file(&path)?);
            }
        }
    }
    Ok(out)
}

fn hash_file(path: &Path) -> Result<ArtifactDigests, InspectionError> {
    let mut file = std::fs::File::open(path).map_err(|source| InspectionError::Record {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|source| InspectionError::Record {
                path: path.to_path_buf(),
                source,
            })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let digest: [u8; 32] = hasher.finalize().into();
    Ok(ArtifactDigests::sha256(&digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_runs_and_times_out() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"hello").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.link"), b"x").unwrap();
        let settings = InspectionSettings {
            workdir: dir.path().to_path_buf(),
            timeout: Duration::from_secs(10),
            link_dir: None,
        };
        let cmd: Vec<String> = ["sh", "-c", "echo hi; cp a.txt c.txt"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let run = run(&cmd, &settings).unwrap();
        assert_eq!(run.return_value, Some(0));
        assert_eq!(run.stdout, "hi\n");
        assert_eq!(run.materials.keys().collect::<Vec<_>>(), vec!["a.txt"]);
        assert_eq!(
            run.products.keys().collect::<Vec<_>>(),
            vec!["a.txt", "c.txt"]
        );
        assert_eq!(
            run.products["a.txt"].get("sha256"),
            Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );

        let slow = InspectionSettings {
            timeout: Duration::from_millis(200),
            ..settings
        };
        let cmd: Vec<String> = ["sleep", "5"].iter().map(|s| s.to_string()).collect();
        let started = Instant::now();
        let r = super::run(&cmd, &slow).unwrap();
        assert!(r.timed_out && r.return_value.is_none());
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
