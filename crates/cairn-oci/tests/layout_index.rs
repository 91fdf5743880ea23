//! The parsed `index.json` of a layout is reused between lookups (one parse per process, not
//! one per lookup), and never outlives the file: writes through another handle, or by another
//! program, are seen by the next lookup.

use cairn_oci::blob::Blob;
use cairn_oci::manifest::{Descriptor, media};
use cairn_oci::{Layout, Reference, Repository};

fn manifest(l: &Layout, seed: usize, tag: Option<&str>) -> Descriptor {
    let config = format!("{{\"n\":{seed}}}").into_bytes();
    let cd = Descriptor::for_bytes("application/vnd.oci.image.config.v1+json", &config);
    l.push_blob(&cd, &Blob::from_vec(config)).expect("config");
    let m = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "config": cd, "layers": []
    }))
    .expect("json");
    l.push_manifest(media::OCI_MANIFEST, &m, tag).expect("push");
    Descriptor::for_bytes(media::OCI_MANIFEST, &m)
}

fn tag_digest(l: &Layout, tag: &str) -> Option<String> {
    l.fetch_manifest(&Reference::Tag(tag.into()))
        .ok()
        .map(|m| m.descriptor.digest.to_string())
}

#[test]
fn writes_by_another_handle_or_program_are_seen() {
    let dir = tempfile::tempdir().expect("tmp");
    let a = Layout::open_or_create(dir.path()).expect("layout");
    let b = Layout::open(dir.path()).expect("layout");
    let one = manifest(&a, 1, Some("v1"));
    assert_eq!(tag_digest(&b, "v1"), Some(one.digest.to_string()));
    assert_eq!(tag_digest(&b, "v2"), None);
    // Another handle moves the tag and adds one: the first handle's cached index is stale.
    let two = manifest(&b, 2, Some("v1"));
    manifest(&b, 3, Some("v2"));
    assert_eq!(tag_digest(&a, "v1"), Some(two.digest.to_string()));
    assert!(tag_digest(&a, "v2").is_some());
    assert_eq!(a.list_tags().expect("tags"), vec!["v1", "v2"]);
    // Another program rewrites index.json (same length: only the inode and time differ).
    let path = dir.path().join("index.json");
    let text = std::fs::read_to_string(&path).expect("read");
    let edited = text.replace("\"v2\"", "\"v3\"");
    assert_eq!(edited.len(), text.len());
    let tmp = dir.path().join("index.json.new");
    std::fs::write(&tmp, edited).expect("write");
    std::fs::rename(&tmp, &path).expect("rename");
    assert_eq!(tag_digest(&a, "v2"), None);
    assert!(tag_digest(&a, "v3").is_some());
    // A duplicated tag entry (hand-edited index): the last one wins, as before the cache.
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let mut dup = v["manifests"][0].clone();
    dup["annotations"]["org.opencontainers.image.ref.name"] = "v3".into();
    v["manifests"]
        .as_array_mut()
        .expect("array")
        .push(dup.clone());
    std::fs::write(&tmp, serde_json::to_vec(&v).expect("json")).expect("write");
    std::fs::rename(&tmp, &path).expect("rename");
    assert_eq!(
        tag_digest(&a, "v3"),
        dup["digest"].as_str().map(str::to_owned)
    );
    // A broken index.json is an error, not a stale answer.
    std::fs::write(&tmp, b"{\"schemaVersion\": 2, \"manifests\": [").expect("write");
    std::fs::rename(&tmp, &path).expect("rename");
    assert!(a.fetch_manifest(&Reference::Tag("v1".into())).is_err());
}

#[test]
fn lookups_in_a_big_index_do_not_reparse_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let l = Layout::open_or_create(dir.path()).expect("layout");
    let target = manifest(&l, 0, Some("app"));
    // 5,000 tags written straight into index.json (pushing them one by one is quadratic).
    let path = dir.path().join("index.json");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let entries = v["manifests"].as_array_mut().expect("array");
    let template = entries[0].clone();
    for i in 0..5000 {
        let mut e = template.clone();
        e["annotations"]["org.opencontainers.image.ref.name"] = format!("img-{i}").into();
        entries.insert(0, e);
    }
    std::fs::write(&path, serde_json::to_vec(&v).expect("json")).expect("write");
    let l = Layout::open(dir.path()).expect("layout");
    // 2,000 lookups read and parse index.json once (no timing: the parse count is the fact).
    for i in 0..1000 {
        assert_eq!(tag_digest(&l, "app"), Some(target.digest.to_string()));
        assert!(tag_digest(&l, &format!("img-{i}")).is_some());
    }
    assert_eq!(l.index_loads(), 1, "index.json re-parsed during lookups");
    // A new version of the file (renamed over it, as writers do) is read once more.
    let tmp = dir.path().join("index.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(&v).expect("json")).expect("write");
    std::fs::rename(&tmp, &path).expect("rename");
    assert_eq!(tag_digest(&l, "app"), Some(target.digest.to_string()));
    assert_eq!(tag_digest(&l, "img-7"), tag_digest(&l, "img-7"));
    assert_eq!(
        l.index_loads(),
        2,
        "a replaced index.json is read again, once"
    );
}
