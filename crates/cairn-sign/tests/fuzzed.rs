//! Replays the `key_file` fuzzing regression fixtures (`testdata/fuzz-regressions/`) as
//! `fuzz/fuzz_targets/key_file.rs` calls the parser: no input may panic or hang.
#![allow(clippy::unwrap_used)]

fn key_file(data: &[u8]) {
    let _ = cairn_sign::is_encrypted(data);
    if let Ok(key) = cairn_sign::parse_key(data, None) {
        let _ = key.public_key();
    }
}

#[test]
fn key_file_fixtures() {
    replay("key_file", key_file);
}

/// With a password, an encrypted key whose KDF parameters are absurd is refused quickly
/// (not derived for hours).
#[test]
fn key_file_fixtures_with_a_password() {
    fn with_password(data: &[u8]) {
        let pw = cairn_sign::Password::new("fuzz");
        let _ = cairn_sign::parse_key(data, Some(&pw));
    }
    replay("key_file", with_password);
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
