//! Replays the fuzz regression fixtures (`testdata/fuzz-regressions/<target>/`) in `cargo test`.

/// Feeds every file in `testdata/fuzz-regressions/<target>/` to `run` on its own thread and
/// fails on a panic or when one input takes longer than the time bound. Returns the count.
pub fn replay(target: &str, run: fn(&[u8])) -> usize {
    use std::sync::mpsc::{RecvTimeoutError, channel};
    use std::time::Duration;
    const BOUND: Duration = Duration::from_secs(30);
    let dir = crate::testdata().join("fuzz-regressions").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for path in &files {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (tx, rx) = channel();
        let worker = std::thread::spawn(move || {
            run(&bytes);
            let _ = tx.send(());
        });
        match rx.recv_timeout(BOUND) {
            Ok(()) => worker.join().expect("worker finished"),
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
