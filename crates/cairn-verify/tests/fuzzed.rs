//! Replays the policy fuzzing regression fixtures (`testdata/fuzz-regressions/policy_yaml`)
//! as `fuzz/fuzz_targets/policy_yaml.rs` does: no input may panic or hang.
#![allow(clippy::unwrap_used)]

#[test]
fn policy_yaml_fixtures() {
    replay("policy_yaml", |data| {
        let _ = cairn_verify::policy::Policy::from_yaml(
            data,
            std::path::Path::new("/nonexistent-fuzz-base"),
        );
    });
}

/// Feeds every file in `testdata/fuzz-regressions/<target>/` to `run` on its own thread and
/// fails on a panic or when one input takes longer than the time bound. Returns the count.
fn replay(target: &str, run: fn(&[u8])) -> usize {
    use std::sync::mpsc::{RecvTimeoutError, channel};
    use std::time::Duration;
    const BOUND: Duration = Duration::from_secs(30);
    let dir = cairn_testkit::testdata()
        .join("fuzz-regressions")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let (tx, rx) = channel();
        let worker = std::thread::spawn(move || {
            run(&bytes);
            let _ = tx.send(());
        });
        match rx.recv_timeout(BOUND) {
            Ok(()) => worker.join().unwrap(),
            Err(RecvTimeoutError::Timeout) => {
                panic!("{}: still running after {BOUND:?}", path.display())
            }
            Err(RecvTimeoutError::Disconnected) => {
                let _ = worker.join();
                panic!("{}: panicked (see above)", path.display())
            }
        }
    }
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());
    files.len()
}
