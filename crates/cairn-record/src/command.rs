//! Running the step's command: no shell unless asked, output streamed through live and captured
//! (up to a cap) for the link's byproducts, an optional time limit.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::Error;

/// Default cap on captured output per stream (the link carries it; keep links small).
pub const DEFAULT_CAPTURE_LIMIT: usize = 1024 * 1024;

/// What to run and how.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    /// Program and arguments. With `shell`, they are joined with spaces into one script.
    pub argv: Vec<String>,
    /// Run through `sh -c` (the recorded command is then `["sh", "-c", script]`).
    pub shell: bool,
    /// Kill the command after this long (no default).
    pub timeout: Option<Duration>,
    /// Bytes kept per stream for the byproducts; output beyond it is still passed through.
    pub capture_limit: usize,
    /// Working directory (`None`: the current one).
    pub cwd: Option<PathBuf>,
    /// Extra environment for the command.
    pub env: Vec<(OsString, OsString)>,
}

impl CommandSpec {
    /// A spec for `argv` with the defaults: no shell, no timeout, 1 MiB capture.
    pub fn new(argv: Vec<String>) -> Self {
        CommandSpec {
            argv,
            shell: false,
            timeout: None,
            capture_limit: DEFAULT_CAPTURE_LIMIT,
            cwd: None,
            env: Vec::new(),
        }
    }

    /// The command line as it is run and recorded in the link.
    pub fn recorded_command(&self) -> Vec<String> {
        if self.shell {
            vec!["sh".to_owned(), "-c".to_owned(), self.argv.join(" ")]
        } else {
            self.argv.clone()
        }
    }
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl Exit {
    /// The link's `return-value`: the exit code, or minus the signal number (as python's
    /// `returncode`, which in-toto records).
    pub fn return_value(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => -s,
        }
    }

    /// The exit code a shell would report: the code, or 128 + the signal number.
    pub fn shell_code(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(s) => 128 + s,
        }
    }

    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

/// One captured output stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The first `capture_limit` bytes.
    pub bytes: Vec<u8>,
    /// Total bytes the command wrote.
    pub total: u64,
    /// The stream was still held open (by a background process) when cairn stopped reading.
    pub left_open: bool,
}

impl Captured {
    /// True when output beyond the cap was not kept.
    pub fn truncated(&self) -> bool {
        self.total > self.bytes.len() as u64
    }

    /// The captured text (invalid UTF-8 replaced by U+FFFD).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// The result of running the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    /// How it ended.
    pub exit: Exit,
    /// Its standard output.
    pub stdout: Captured,
    /// Its standard error.
    pub stderr: Captured,
    /// Wall-clock run time.
    pub duration: Duration,
}

/// How long to keep reading after the command exited, when a background process it started
/// still holds its output open.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Runs the command, copying its output to `out` and `err` as it arrives.
///
/// Standard input is inherited. A command that cannot be started is [`Error::Spawn`]; one that
/// outlives `timeout` is killed and gives [`Error::Timeout`]. Exiting non-zero, or being killed
/// by a signal, is a normal outcome.
pub fn run_command(
    spec: &CommandSpec,
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
) -> Result<CommandOutcome, Error> {
    let argv = spec.recorded_command();
    let (program, args) = argv.split_first().ok_or(Error::EmptyCommand)?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = &spec.cwd {
        cmd.current_dir(dir);
    }
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        program: program.clone(),
        source,
    })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (out_buf, out_thread) = pump(stdout, out, spec.capture_limit);
    let (err_buf, err_thread) = pump(stderr, err, spec.capture_limit);

    let status = wait(&mut child, spec.timeout, start)?;
    let duration = start.elapsed();
    let drained_by = Instant::now() + DRAIN_GRACE;
    let stdout = finish(out_buf, out_thread, drained_by);
    let stderr = finish(err_buf, err_thread, drained_by);
    let exit = match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(sig)) => Exit::Signal(sig),
        (None, None) => Exit::Code(-1),
    };
    Ok(CommandOutcome {
        exit,
        stdout,
        stderr,
        duration,
    })
}

fn wait(child: &mut Child, timeout: Option<Duration>, start: Instant) -> Result<ExitStatus, Error> {
    let Some(limit) = timeout else {
        return child.wait().map_err(|source| Error::Wait { source });
    };
    let mut nap = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait().map_err(|source| Error::Wait { source })? {
            return Ok(status);
        }
        if start.elapsed() >= limit {
            // SIGKILL: a command that ignores SIGTERM must not outlive the limit.
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::Timeout { after: limit });
        }
        std::thread::sleep(nap.min(limit.saturating_sub(start.elapsed())));
        nap = (nap * 2).min(Duration::from_millis(20));
    }
}

type Shared = Arc<Mutex<Captured>>;

/// Copies a child's stream to `sink` while keeping the first `limit` bytes.
fn pump(
    mut from: impl Read + Send + 'static,
    mut sink: Box<dyn Write + Send>,
    limit: usize,
) -> (Shared, JoinHandle<()>) {
    let shared: Shared = Arc::new(Mutex::new(Captured::default()));
    let captured = Arc::clone(&shared);
    let handle = std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut sink_ok = true;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let chunk = &buf[..n];
            if sink_ok {
                // A closed terminal must not stop the capture or kill the command.
                sink_ok = sink.write_all(chunk).and_then(|()| sink.flush()).is_ok();
            }
            let mut c = captured.lock().expect("capture lock is never poisoned");
            let room = limit.saturating_sub(c.bytes.len());
            c.bytes.extend_from_slice(&chunk[..room.min(n)]);
            c.total += n as u64;
        }
    });
    (shared, handle)
}

fn finish(shared: Shared, handle: JoinHandle<()>, deadline: Instant) -> Captured {
    while !handle.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let left_open = !handle.is_finished();
    if !left_open {
        let _ = handle.join();
    }
    let mut c = shared
        .lock()
        .expect("capture lock is never poisoned")
        .clone();
    c.left_open = left_open;
    c
}
