//! The command runner: capture, exit codes, signals, timeouts, start failures.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_record::{CommandSpec, Error, Exit, run_command};

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn sh(script: &str) -> CommandSpec {
    let mut spec = CommandSpec::new(vec![script.to_owned()]);
    spec.shell = true;
    spec
}

#[test]
fn output_is_passed_through_and_captured() {
    let (out, err) = (Sink::default(), Sink::default());
    let r = run_command(
        &sh("echo hello; echo oops >&2; exit 3"),
        Box::new(out.clone()),
        Box::new(err.clone()),
    )
    .unwrap();
    assert_eq!(r.exit, Exit::Code(3));
    assert_eq!(r.exit.return_value(), 3);
    assert_eq!(r.stdout.text(), "hello\n");
    assert_eq!(r.stderr.text(), "oops\n");
    assert_eq!(&*out.0.lock().unwrap(), b"hello\n");
    assert_eq!(&*err.0.lock().unwrap(), b"oops\n");
    assert_eq!(sh("a && b").recorded_command(), ["sh", "-c", "a && b"]);
}

#[test]
fn no_shell_means_arguments_are_not_interpreted() {
    let spec = CommandSpec::new(vec!["echo".into(), "$HOME; rm -rf /".into()]);
    let r = run_command(&spec, Box::new(std::io::sink()), Box::new(std::io::sink())).unwrap();
    assert_eq!(r.stdout.text(), "$HOME; rm -rf /\n");
    assert!(r.exit.success());
}

#[test]
fn capture_is_capped_but_output_still_flows() {
    let out = Sink::default();
    let mut spec = sh("head -c 100000 /dev/zero");
    spec.capture_limit = 1000;
    let r = run_command(&spec, Box::new(out.clone()), Box::new(std::io::sink())).unwrap();
    assert_eq!(r.stdout.bytes.len(), 1000);
    assert_eq!(r.stdout.total, 100_000);
    assert!(r.stdout.truncated());
    assert_eq!(out.0.lock().unwrap().len(), 100_000);
}

#[test]
fn killed_by_a_signal() {
    let r = run_command(
        &sh("kill -TERM $$"),
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
    )
    .unwrap();
    assert_eq!(r.exit, Exit::Signal(15));
    assert_eq!(r.exit.return_value(), -15);
    assert_eq!(r.exit.shell_code(), 143);
}

#[test]
fn timeout_kills_the_command() {
    let mut spec = CommandSpec::new(vec!["sleep".into(), "30".into()]);
    spec.timeout = Some(Duration::from_millis(300));
    let start = Instant::now();
    let e = run_command(&spec, Box::new(std::io::sink()), Box::new(std::io::sink())).unwrap_err();
    assert!(matches!(e, Error::Timeout { after } if after == Duration::from_millis(300)));
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "the command was not killed"
    );
}

#[test]
fn a_command_that_cannot_start_is_an_error() {
    let spec = CommandSpec::new(vec!["/no/such/program-cairn".into()]);
    let e = run_command(&spec, Box::new(std::io::sink()), Box::new(std::io::sink())).unwrap_err();
    assert!(matches!(e, Error::Spawn { ref program, .. } if program == "/no/such/program-cairn"));
    assert!(matches!(
        run_command(
            &CommandSpec::new(vec![]),
            Box::new(std::io::sink()),
            Box::new(std::io::sink())
        ),
        Err(Error::EmptyCommand)
    ));
}

#[test]
fn a_background_process_holding_the_pipe_does_not_hang_the_recording() {
    let start = Instant::now();
    let r = run_command(
        &sh("echo started; sleep 30 &"),
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
    )
    .unwrap();
    assert!(r.exit.success());
    assert_eq!(r.stdout.text(), "started\n");
    assert!(r.stdout.left_open);
    assert!(start.elapsed() < Duration::from_secs(20));
}
