//! The artifact engine on real trees: names, digests, excludes, lstrip, symlinks, special files,
//! line endings (in-toto-golang vectors), non-UTF-8 names.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use cairn_record::hash::hash_bytes;
use cairn_record::{
    ArtifactOptions, Artifacts, Error, Excludes, HashAlgorithm, NoProgress, Notice, SpecialKind,
    record_artifacts,
};

fn sha256(data: &[u8]) -> String {
    hash_bytes(data, &[HashAlgorithm::Sha256], false)[0]
        .1
        .clone()
}

fn write(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
}

fn opts(base: &Path) -> ArtifactOptions {
    ArtifactOptions {
        base_path: Some(base.to_path_buf()),
        ..ArtifactOptions::default()
    }
}

fn record(base: &Path, paths: &[&str], o: &ArtifactOptions) -> Result<Artifacts, Error> {
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    let mut o = o.clone();
    o.base_path = Some(base.to_path_buf());
    record_artifacts(&paths, &o, &NoProgress)
}

fn sha_map(a: &Artifacts) -> BTreeMap<String, String> {
    a.map
        .iter()
        .map(|(k, v)| (k.clone(), v[0].1.clone()))
        .collect()
}

fn names(a: &Artifacts) -> Vec<&str> {
    a.map.keys().map(String::as_str).collect()
}

#[test]
fn records_a_tree_with_relative_forward_slash_names() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "src/main.rs", b"fn main() {}\n");
    write(root, "src/lib/mod.rs", b"// mod\n");
    write(root, "README", b"hello");
    write(root, "empty", b"");
    let a = record(root, &["."], &opts(root)).unwrap();
    assert_eq!(
        names(&a),
        ["README", "empty", "src/lib/mod.rs", "src/main.rs"]
    );
    assert_eq!(a.map["README"][0].1, sha256(b"hello"));
    assert_eq!(a.map["empty"][0].1, sha256(b""));
    assert_eq!(a.files, 4);
    assert_eq!(a.bytes, 13 + 7 + 5);
    assert!(a.notices.is_empty(), "{:?}", a.notices);

    // The same files named differently: a subdirectory, a file, an absolute path, "./x/../".
    let abs = root.join("src/main.rs");
    let b = record(
        root,
        &["./src/lib/../lib/", abs.to_str().unwrap()],
        &opts(root),
    )
    .unwrap();
    assert_eq!(names(&b), ["src/lib/mod.rs", "src/main.rs"]);
    assert_eq!(sha_map(&b)["src/main.rs"], sha_map(&a)["src/main.rs"]);
}

#[test]
fn several_algorithms_in_one_pass() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "f", b"abc");
    let mut o = opts(t.path());
    o.algorithms = vec![HashAlgorithm::Sha256, HashAlgorithm::Sha512];
    let a = record(t.path(), &["f"], &o).unwrap();
    let d = &a.map["f"];
    assert_eq!(d.len(), 2);
    assert_eq!(d[0], (HashAlgorithm::Sha256, sha256(b"abc")));
    assert_eq!(d[1].0, HashAlgorithm::Sha512);
    assert_eq!(&d[1].1[..16], "ddaf35a193617aba");
}

#[test]
fn default_excludes_and_gitignore_patterns() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    for f in [
        "a.txt",
        "step.abcd1234.link",
        ".git/HEAD",
        "sub/.git/config",
        "x.pyc",
        "notes~",
        "build/out.o",
        "build/keep.o",
        "deep/build/z",
        "docs/a.tmp",
    ] {
        write(root, f, f.as_bytes());
    }
    let a = record(root, &["."], &opts(root)).unwrap();
    assert_eq!(
        names(&a),
        [
            "a.txt",
            "build/keep.o",
            "build/out.o",
            "deep/build/z",
            "docs/a.tmp"
        ]
    );

    let mut o = opts(root);
    let mut pats: Vec<String> = cairn_record::DEFAULT_EXCLUDES
        .iter()
        .map(|s| s.to_string())
        .collect();
    pats.extend(["build/".into(), "*.tmp".into()]);
    o.excludes = Excludes::new(&pats).unwrap();
    let b = record(root, &["."], &o).unwrap();
    assert_eq!(names(&b), ["a.txt"]);
    // A path named on the command line inside an excluded directory is excluded too.
    let c = record(root, &["build/keep.o", ".git/HEAD", "a.txt"], &o).unwrap();
    assert_eq!(names(&c), ["a.txt"]);

    // Re-including with "!" as in gitignore.
    o.excludes = Excludes::new(["*.o", "!keep.o"]).unwrap();
    let d = record(root, &["build"], &o).unwrap();
    assert_eq!(names(&d), ["build/keep.o"]);
}

#[test]
fn lstrip_and_collisions() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "dist/app", b"1");
    write(root, "dist/lib/x", b"2");
    write(root, "app", b"3");
    let mut o = opts(root);
    o.lstrip = vec!["dist/".into()];
    let a = record(root, &["dist"], &o).unwrap();
    assert_eq!(names(&a), ["app", "lib/x"]);
    let err = record(root, &["dist", "app"], &o).unwrap_err();
    match err {
        Error::NameCollision {
            name,
            first,
            second,
        } => {
            assert_eq!(name, "app");
            // The two paths in path order, whatever order the walk met them in.
            assert_eq!(first, Path::new("app"));
            assert_eq!(second, Path::new("dist/app"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Naming the same file twice is not a collision.
    let b = record(root, &["dist", "dist/app"], &o).unwrap();
    assert_eq!(names(&b), ["app", "lib/x"]);
    o.lstrip = vec!["dist/".into(), "dist/lib/".into()];
    assert!(matches!(
        record(root, &["dist"], &o),
        Err(Error::OverlappingPrefixes { .. })
    ));
}

#[test]
fn paths_outside_the_base_are_rejected_and_missing_ones_reported() {
    let t = tempfile::tempdir().unwrap();
    let base = t.path().join("base");
    write(&base, "in", b"x");
    write(t.path(), "outside", b"y");
    assert!(matches!(
        record(&base, &["../outside"], &opts(&base)),
        Err(Error::OutsideBase { .. })
    ));
    let abs = t.path().join("outside");
    assert!(matches!(
        record(&base, &[abs.to_str().unwrap()], &opts(&base)),
        Err(Error::OutsideBase { .. })
    ));
    let a = record(&base, &["in", "nope"], &opts(&base)).unwrap();
    assert_eq!(names(&a), ["in"]);
    assert_eq!(
        a.notices,
        [Notice::Missing {
            path: "nope".into()
        }]
    );
    assert!(matches!(
        record(
            &t.path().join("no-such-base"),
            &["."],
            &ArtifactOptions::default()
        ),
        Err(Error::BasePath { .. })
    ));
}

#[test]
fn symlinks_files_dirs_dangling_escape_and_loops() {
    let t = tempfile::tempdir().unwrap();
    let base = t.path().join("base");
    write(&base, "real/f", b"content");
    write(t.path(), "secret", b"outside");
    symlink("real/f", base.join("file-link")).unwrap();
    symlink("real", base.join("dir-link")).unwrap();
    symlink("missing", base.join("dangling")).unwrap();
    symlink("../secret", base.join("escape")).unwrap();
    symlink("..", base.join("real/up")).unwrap(); // a loop when followed
    symlink("self", base.join("self")).unwrap(); // ELOOP

    let a = record(&base, &["."], &opts(&base)).unwrap();
    assert_eq!(names(&a), ["file-link", "real/f"]);
    assert_eq!(a.map["file-link"][0].1, sha256(b"content"));
    let mut n = a.notices.clone();
    n.sort_by_key(|x| format!("{x:?}"));
    assert!(n.contains(&Notice::DanglingSymlink {
        path: "dangling".into()
    }));
    assert!(n.contains(&Notice::SymlinkDirNotFollowed {
        path: "dir-link".into()
    }));
    assert!(n.contains(&Notice::SymlinkDirNotFollowed {
        path: "real/up".into()
    }));
    assert!(n.contains(&Notice::SymlinkLoop {
        path: "self".into()
    }));
    assert!(
        n.iter().any(
            |x| matches!(x, Notice::SymlinkEscape { path, .. } if path == Path::new("escape"))
        )
    );

    let mut o = opts(&base);
    o.follow_symlinks = true;
    let b = record(&base, &["."], &o).unwrap();
    assert_eq!(names(&b), ["dir-link/f", "file-link", "real/f"]);
    // real/up -> base: base is an ancestor, so the loop is cut there (and dir-link/up likewise).
    assert!(b.notices.contains(&Notice::SymlinkLoop {
        path: "real/up".into()
    }));
    assert!(b.notices.contains(&Notice::SymlinkLoop {
        path: "dir-link/up".into()
    }));

    // A named path that resolves outside the base is not followed either.
    let c = record(&base, &["escape"], &o).unwrap();
    assert!(c.map.is_empty());
    assert!(matches!(&c.notices[..], [Notice::SymlinkEscape { .. }]));
}

#[test]
fn fifos_and_sockets_are_never_opened() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "f", b"x");
    let status = std::process::Command::new("mkfifo")
        .arg(root.join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let _sock = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
    // Opening the FIFO would block this test forever.
    let a = record(root, &[".", "pipe"], &opts(root)).unwrap();
    assert_eq!(names(&a), ["f"]);
    assert!(a.notices.contains(&Notice::SpecialFile {
        path: "pipe".into(),
        kind: SpecialKind::Fifo
    }));
    assert!(a.notices.contains(&Notice::SpecialFile {
        path: "sock".into(),
        kind: SpecialKind::Socket
    }));
    // The FIFO is named and also found in the walk: reported once.
    assert_eq!(a.notices.len(), 2, "{:?}", a.notices);
}

#[test]
fn device_files_are_skipped() {
    let t = tempfile::tempdir().unwrap();
    symlink("/dev/null", t.path().join("null")).unwrap();
    // /dev/null is outside the base, so point the base at /dev instead.
    let a = record(Path::new("/dev"), &["null"], &ArtifactOptions::default()).unwrap();
    assert!(a.map.is_empty());
    assert_eq!(
        a.notices,
        [Notice::SpecialFile {
            path: "null".into(),
            kind: SpecialKind::CharDevice
        }]
    );
}

#[test]
fn line_endings_match_the_in_toto_golang_vectors() {
    let data = cairn_testkit::testdata().join("in-toto-golang/test/data");
    let linux = "efb929dfabd55c93796fc61cbf1fe6157445f093167dbee82e8b069842a4fceb";
    let raw = [
        ("line-ending-linux", linux),
        (
            "line-ending-macos",
            "b6a2e9db9da0675d84ac7f5a1ccbf85e6eaad6fe4d8e3956830964620ae65f7f",
        ),
        (
            "line-ending-windows",
            "1ebdb97c8eb5ecc624c81b79d657d85b428d8416f8908690c37dead13b9bd1ac",
        ),
        (
            "line-ending-mixed",
            "14d6ac4ae3ac137dd78d0144c183a46ade63cc90dbc6230a0c8b4c6d71818501",
        ),
    ];
    let paths: Vec<&str> = raw.iter().map(|(n, _)| *n).collect();
    let mut o = opts(&data);
    o.excludes = Excludes::new(Vec::<String>::new()).unwrap();
    let plain = sha_map(&record(&data, &paths, &o).unwrap());
    o.normalize_line_endings = true;
    let normalized = sha_map(&record(&data, &paths, &o).unwrap());
    for (name, digest) in raw {
        assert_eq!(plain[name], digest, "{name} raw");
        assert_eq!(normalized[name], linux, "{name} normalised");
    }
}

#[test]
fn line_endings_split_across_read_chunks() {
    // A CR at the end of one 128 KiB read and the LF at the start of the next are one ending.
    let t = tempfile::tempdir().unwrap();
    let mut data = vec![b'a'; 128 * 1024 - 1];
    data.extend_from_slice(b"\r\nb\r");
    write(t.path(), "f", &data);
    let mut o = opts(t.path());
    o.normalize_line_endings = true;
    let a = record(t.path(), &["f"], &o).unwrap();
    let mut expect = vec![b'a'; 128 * 1024 - 1];
    expect.extend_from_slice(b"\nb\n");
    assert_eq!(a.map["f"][0].1, sha256(&expect));
}

#[test]
fn non_utf8_names_are_encoded_losslessly() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let name = OsStr::from_bytes(b"caf\xe9%.txt");
    fs::write(root.join(name), b"x").unwrap();
    let a = record(root, &["."], &opts(root)).unwrap();
    assert_eq!(names(&a), ["caf%E9%25.txt"]);
    assert_eq!(
        cairn_record::path::decode_name("caf%E9%25.txt"),
        b"caf\xe9%.txt"
    );
    assert!(
        matches!(&a.notices[..], [Notice::NonUtf8Name { name, .. }] if name == "caf%E9%25.txt")
    );
    // A literal file with the encoded name makes the encoding ambiguous: refuse.
    fs::write(root.join("caf%E9%25.txt"), b"y").unwrap();
    assert!(matches!(
        record(root, &["."], &opts(root)),
        Err(Error::NameCollision { .. })
    ));
}

#[test]
fn large_tree_is_complete_and_matches_sequential_hashing() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let mut expect = BTreeMap::new();
    for d in 0..20 {
        for f in 0..25 {
            let rel = format!("d{d:02}/f{f:02}");
            let data = format!("{d}-{f}-").repeat(d * 50 + f + 1);
            write(root, &rel, data.as_bytes());
            expect.insert(rel, sha256(data.as_bytes()));
        }
    }
    let a = record(root, &["."], &opts(root)).unwrap();
    assert_eq!(sha_map(&a), expect);
}
