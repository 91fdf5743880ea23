use super::*;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const ABC_SHA512: &str = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

#[test]
fn hashes_a_file_once_with_both_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("abc");
    std::fs::write(&f, b"abc").unwrap();
    let d = hash_file(&f, &[HashAlgorithm::Sha256, HashAlgorithm::Sha512]).unwrap();
    assert_eq!(d["sha256"], ABC_SHA256);
    assert_eq!(d["sha512"], ABC_SHA512);
    let only = hash_file(&f, &[HashAlgorithm::Sha512]).unwrap();
    assert!(!only.contains_key("sha256"));
}

#[test]
fn directory_subjects_are_sorted_relative_and_skip_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("dist");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("b.txt"), b"abc").unwrap();
    std::fs::write(root.join("sub/a.txt"), b"").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
    let mut warnings = Vec::new();
    let subjects = from_path(&root, &[HashAlgorithm::Sha256], &mut warnings).unwrap();
    let names: Vec<_> = subjects.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["b.txt", "sub/a.txt"]);
    assert_eq!(subjects[1].digest["sha256"], EMPTY_SHA256);
    #[cfg(unix)]
    assert!(matches!(&warnings[..], [Warning::SkippedSymlink { .. }]));
}

#[test]
fn names_follow_the_relative_path_given() {
    assert_eq!(normalise(Path::new("./dist//x/../a.tgz")), "dist/a.tgz");
    assert_eq!(normalise(Path::new("../out/a")), "../out/a");
    assert_eq!(normalise(Path::new(".")), ".");
}

#[test]
fn unreadable_and_missing_subjects_are_errors_naming_the_path() {
    let mut w = Vec::new();
    let err = from_path(
        Path::new("/nonexistent/cairn-subject"),
        &[HashAlgorithm::Sha256],
        &mut w,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Subject { path, .. } if path.ends_with("cairn-subject")),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let err = from_path(dir.path(), &[HashAlgorithm::Sha256], &mut w).unwrap_err();
    assert!(matches!(err, Error::EmptyDirectory { .. }));
}

#[test]
fn reads_gnu_and_bsd_checksum_lines() {
    let text = format!(
        "{ABC_SHA256}  dist/a.tgz\n{EMPTY_SHA256} *bin/x\n\\{EMPTY_SHA256}  we\\\\ird\\nname\nSHA512 (pkg.whl) = {ABC_SHA512}\n\n"
    );
    let s = parse_checksums(Path::new("SUMS"), text.as_bytes()).unwrap();
    assert_eq!(s.len(), 4);
    assert_eq!(s[0].name, "dist/a.tgz");
    assert_eq!(s[1].name, "bin/x");
    assert_eq!(s[2].name, "we\\ird\nname");
    assert_eq!(s[3].digest["sha512"], ABC_SHA512);
}

#[test]
fn malformed_checksum_lines_report_their_line() {
    for (text, line) in [
        (format!("{ABC_SHA256}  a\nzz  b\n"), 2),
        (format!("{}  a\n", &ABC_SHA256[..60]), 1),
        (format!("{ABC_SHA256} a\n"), 1),
        ("MD5 (a) = d41d8cd98f00b204e9800998ecf8427e\n".to_owned(), 1),
    ] {
        match parse_checksums(Path::new("SUMS"), text.as_bytes()) {
            Err(Error::Checksums { line: l, .. }) => assert_eq!(l, line, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    assert!(parse_checksums(Path::new("SUMS"), b"\n\n").is_err());
}

#[test]
fn merge_unites_digests_and_rejects_conflicts() {
    let mk = |name: &str, alg: &str, v: &str| Subject {
        name: name.into(),
        digest: [(alg.to_owned(), v.to_owned())].into(),
    };
    let merged = merge(vec![
        mk("b", "sha256", ABC_SHA256),
        mk("a", "sha256", EMPTY_SHA256),
        mk("b", "sha512", ABC_SHA512),
    ])
    .unwrap();
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[0].name, "a");
    assert_eq!(merged[1].digest.len(), 2);
    assert!(matches!(
        merge(vec![
            mk("a", "sha256", ABC_SHA256),
            mk("a", "sha256", EMPTY_SHA256)
        ]),
        Err(Error::ConflictingSubject { .. })
    ));
}
