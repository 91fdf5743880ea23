//! The single-pass link reader against the general reader on every link metablock of the
//! third-party vectors: same canonical bytes (what signatures cover), same signatures, same typed
//! link; every other document (DSSE, layouts as links) is handed back to the general reader.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use cairn_model::link_reader::{LinkReadError, read_link_metablock};
use cairn_model::{Link, Metablock};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".link") || n.ends_with(".layout"))
        {
            out.push(path);
        }
    }
}

#[test]
fn canonical_bytes_equal_the_general_reader_on_every_vector() {
    let mut paths = Vec::new();
    for folder in ["in-toto-python", "in-toto-golang", "in-toto-rs", "slsa"] {
        files(&cairn_testkit::testdata().join(folder), &mut paths);
    }
    paths.sort();
    let (mut links, mut others) = (0, 0);
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let general = Metablock::from_slice(&bytes);
        let is_link = general
            .as_ref()
            .is_ok_and(|mb| mb.signed.get("_type").and_then(|t| t.as_str()) == Some("link"));
        match read_link_metablock(&bytes) {
            Ok(fast) => {
                let mb = general.unwrap();
                assert!(is_link, "{}", path.display());
                assert_eq!(
                    fast.signed_bytes(),
                    mb.signed_bytes().unwrap().as_slice(),
                    "{}",
                    path.display()
                );
                assert_eq!(fast.signatures, mb.signatures, "{}", path.display());
                assert_eq!(
                    fast.link.into_link(),
                    Link::from_signed(&mb.signed).unwrap()
                );
                links += 1;
            }
            Err(LinkReadError::NotALinkMetablock) => {
                assert!(!is_link, "{} is a link metablock", path.display());
                others += 1;
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    // 14 metablock links (python, golang, rs, slsa) and the layouts and DSSE links around them.
    assert!(links >= 14, "only {links} link metablocks read");
    assert!(others >= 10, "only {others} other documents");
}
