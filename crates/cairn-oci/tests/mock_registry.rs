//! Protocol paths distribution 2.8 cannot exercise, against a scripted loopback server: the
//! referrers API (filters, pagination, OCI-Subject), bearer-token and basic authentication.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use cairn_oci::auth::{Credential, StaticCredentials};
use cairn_oci::manifest::{Descriptor, media};
use cairn_oci::store::{ReferrersSource, push_referrer, referrers};
use cairn_oci::{Client, ClientConfig, Digest, Error, Reference, Repository};

struct Req {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn resp(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    Resp {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.to_vec(),
    }
}

type Handler = dyn Fn(&Req) -> Resp + Send + Sync;

struct Mock {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Mock {
    fn start(handler: Arc<Handler>) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let l2 = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (h, l) = (handler.clone(), l2.clone());
                std::thread::spawn(move || serve(conn, &*h, &l));
            }
        });
        Mock { port, log }
    }
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    fn log(&self) -> Vec<String> {
        self.log.lock().expect("lock").clone()
    }
}

fn serve(mut s: TcpStream, h: &Handler, log: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).ok() != Some(1) {
            return;
        }
        head.push(b[0]);
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let mut lines = text.split("\r\n");
    let first: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    let mut headers = BTreeMap::new();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    if s.read_exact(&mut body).is_err() {
        return;
    }
    let req = Req {
        method: first.first().unwrap_or(&"").to_string(),
        path: first.get(1).unwrap_or(&"").to_string(),
        headers,
    };
    log.lock().expect("lock").push(format!(
        "{} {} auth={}",
        req.method,
        req.path,
        req.headers
            .get("authorization")
            .cloned()
            .unwrap_or_default()
    ));
    let r = h(&req);
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        r.body.len()
    );
    for (k, v) in &r.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = s.write_all(out.as_bytes());
    let _ = s.write_all(&r.body);
}

fn client(creds: StaticCredentials) -> Arc<Client> {
    Client::new(
        ClientConfig {
            max_attempts: 2,
            initial_backoff: std::time::Duration::from_millis(5),
            ..ClientConfig::default()
        },
        Arc::new(creds),
    )
    .expect("client")
}

fn index_of(descs: &[Descriptor]) -> Vec<u8> {
    serde_json::to_vec(
        &serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": descs}),
    )
    .expect("json")
}

fn artifact(kind: &str, n: u8) -> Descriptor {
    let mut d = Descriptor::for_bytes(media::OCI_MANIFEST, &[n]);
    d.artifact_type = Some(kind.to_string());
    d
}

#[test]
fn referrers_api_with_filter_and_pagination() {
    let subject = Digest::sha256_of(b"image");
    let a = artifact(media::SIGSTORE_BUNDLE_V03, 1);
    let b = artifact("application/spdx+json", 2);
    let c = artifact(media::SIGSTORE_BUNDLE_V03, 3);
    let (page1, page2) = (
        index_of(&[a.clone(), b.clone()]),
        index_of(std::slice::from_ref(&c)),
    );
    let sub = subject.to_string();
    let handler: Arc<Handler> = Arc::new(move |r: &Req| {
        let base = format!("/v2/app/referrers/{sub}");
        if r.path == base || r.path.starts_with(&format!("{base}?artifactType")) {
            // This registry ignores the filter (no OCI-Filters-Applied) and paginates.
            let link = format!("<{base}?page=2>; rel=\"next\"");
            return resp(
                200,
                &[("Content-Type", media::OCI_INDEX), ("Link", &link)],
                &page1,
            );
        }
        if r.path == format!("{base}?page=2") {
            return resp(200, &[("Content-Type", media::OCI_INDEX)], &page2);
        }
        resp(404, &[], b"")
    });
    let mock = Mock::start(handler);
    let repo = client(StaticCredentials::default())
        .repository(&mock.host(), "app")
        .expect("repo");
    let (all, via) = referrers(&repo, &subject, None).expect("list");
    assert_eq!(via, ReferrersSource::Api);
    assert_eq!(
        all.iter().map(|d| d.digest.clone()).collect::<Vec<_>>(),
        vec![a.digest.clone(), b.digest.clone(), c.digest.clone()]
    );
    // The server did not apply the filter: cairn filters.
    let (bundles, _) =
        referrers(&repo, &subject, Some(media::SIGSTORE_BUNDLE_V03)).expect("filtered");
    assert_eq!(
        bundles.iter().map(|d| d.digest.clone()).collect::<Vec<_>>(),
        vec![a.digest, c.digest]
    );
    assert!(
        mock.log().iter().all(|l| !l.contains("/manifests/sha256-")),
        "no tag-schema fallback when the API exists"
    );
}

#[test]
fn oci_subject_header_means_no_tag_schema_write() {
    let subject = Digest::sha256_of(b"image");
    let handler: Arc<Handler> = Arc::new(move |r: &Req| {
        if r.method == "PUT" && r.path.contains("/manifests/sha256:") {
            let d = r.path.rsplit('/').next().unwrap_or_default().to_string();
            return resp(
                201,
                &[("Docker-Content-Digest", &d), ("OCI-Subject", "sha256:x")],
                b"",
            );
        }
        resp(404, &[], b"")
    });
    let mock = Mock::start(handler);
    let repo = client(StaticCredentials::default())
        .repository(&mock.host(), "app")
        .expect("repo");
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "artifactType": media::SIGSTORE_BUNDLE_V03,
        "config": Descriptor::empty(), "layers": [],
        "subject": {"mediaType": media::OCI_MANIFEST, "digest": subject, "size": 5}
    }))
    .expect("json");
    push_referrer(&repo, media::OCI_MANIFEST, &manifest, &subject).expect("push");
    let log = mock.log();
    assert_eq!(log.len(), 1, "only the manifest PUT: {log:?}");
}

#[test]
fn a_registry_announcing_another_digest_is_rejected() {
    let handler: Arc<Handler> = Arc::new(move |r: &Req| {
        if r.method == "GET" && r.path == "/v2/app/manifests/v1" {
            let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
            let wrong = Digest::sha256_of(b"something else").to_string();
            return resp(
                200,
                &[
                    ("Content-Type", media::OCI_INDEX),
                    ("Docker-Content-Digest", &wrong),
                ],
                body,
            );
        }
        resp(404, &[], b"")
    });
    let mock = Mock::start(handler);
    let repo = client(StaticCredentials::default())
        .repository(&mock.host(), "app")
        .expect("repo");
    assert!(matches!(
        repo.fetch_manifest(&Reference::Tag("v1".into())),
        Err(Error::DigestMismatch { .. })
    ));
}

#[test]
fn bearer_token_challenge_with_basic_credentials() {
    let body = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.to_vec();
    let digest = Digest::sha256_of(&body).to_string();
    let port = Arc::new(Mutex::new(0u16));
    let p2 = port.clone();
    let served = body.clone();
    let handler: Arc<Handler> = Arc::new(move |r: &Req| {
        let port = *p2.lock().expect("lock");
        if r.path.starts_with("/token?") {
            // alice:pw
            if r.headers.get("authorization").map(String::as_str) != Some("Basic YWxpY2U6cHc=") {
                return resp(401, &[], b"");
            }
            if !r.path.contains("scope=repository%3Ateam%2Fapp%3Apull")
                || !r.path.contains("service=mock")
            {
                return resp(400, &[], b"");
            }
            return resp(
                200,
                &[("Content-Type", "application/json")],
                br#"{"token":"tok123"}"#,
            );
        }
        if r.headers.get("authorization").map(String::as_str) != Some("Bearer tok123") {
            let chal = format!(
                "Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"mock\",scope=\"repository:team/app:pull\""
            );
            return resp(
                401,
                &[("WWW-Authenticate", &chal)],
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            );
        }
        resp(
            200,
            &[
                ("Content-Type", media::OCI_INDEX),
                ("Docker-Content-Digest", &digest),
            ],
            &served,
        )
    });
    let mock = Mock::start(handler);
    *port.lock().expect("lock") = mock.port;
    let mut creds = BTreeMap::new();
    creds.insert(
        mock.host(),
        Credential::Basic {
            username: "alice".into(),
            password: "pw".into(),
        },
    );
    let repo = client(StaticCredentials(creds))
        .repository(&mock.host(), "team/app")
        .expect("repo");
    let m = repo
        .fetch_manifest(&Reference::Tag("v1".into()))
        .expect("fetch with token");
    assert_eq!(m.bytes, body);
    // The token is reused: a second fetch makes one request.
    let before = mock.log().len();
    repo.fetch_manifest(&Reference::Tag("v1".into()))
        .expect("again");
    assert_eq!(mock.log().len(), before + 1);

    // Wrong password: a clear "not authorized", not a retry loop.
    let mut creds = BTreeMap::new();
    creds.insert(
        mock.host(),
        Credential::Basic {
            username: "alice".into(),
            password: "nope".into(),
        },
    );
    let repo = client(StaticCredentials(creds))
        .repository(&mock.host(), "team/app")
        .expect("repo");
    match repo.fetch_manifest(&Reference::Tag("v1".into())) {
        Err(Error::Unauthorized {
            action, repository, ..
        }) => {
            assert_eq!(action, "pull");
            assert_eq!(repository, "team/app");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

#[test]
fn basic_challenge() {
    let handler: Arc<Handler> = Arc::new(move |r: &Req| {
        if r.headers.get("authorization").map(String::as_str) != Some("Basic Ym9iOnNlY3JldA==") {
            return resp(401, &[("WWW-Authenticate", "Basic realm=\"reg\"")], b"");
        }
        resp(200, &[], br#"{"tags":["a","b"]}"#)
    });
    let mock = Mock::start(handler);
    let mut creds = BTreeMap::new();
    creds.insert(
        mock.host(),
        Credential::Basic {
            username: "bob".into(),
            password: "secret".into(),
        },
    );
    let repo = client(StaticCredentials(creds))
        .repository(&mock.host(), "x")
        .expect("repo");
    assert_eq!(
        repo.list_tags().expect("tags"),
        vec!["a".to_string(), "b".to_string()]
    );
    // Anonymous against a basic-auth registry: unauthorized.
    let repo = client(StaticCredentials::default())
        .repository(&mock.host(), "x")
        .expect("repo");
    assert!(matches!(repo.list_tags(), Err(Error::Unauthorized { .. })));
}

#[cfg(unix)]
#[test]
fn docker_config_credential_helper_end_to_end() {
    use std::os::unix::fs::PermissionsExt;
    let handler: Arc<Handler> = Arc::new(move |r: &Req| {
        if r.headers.get("authorization").map(String::as_str) != Some("Basic Ym9iOnNlY3JldA==") {
            return resp(401, &[("WWW-Authenticate", "Basic realm=\"reg\"")], b"");
        }
        resp(200, &[], br#"{"tags":["v1"]}"#)
    });
    let mock = Mock::start(handler);
    let dir = tempfile::tempdir().expect("tmp");
    // A credential helper speaking the docker-credential protocol: server URL on stdin.
    let helper = dir.path().join("docker-credential-cairnmock");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\nread url\n[ \"$1\" = get ] || exit 3\nif [ \"$url\" = \"{}\" ]; then echo '{{\"Username\":\"bob\",\"Secret\":\"secret\"}}'; else echo 'credentials not found in native keychain'; exit 1; fi\n",
            mock.host()
        ),
    )
    .expect("helper");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let cfg = dir.path().join("config.json");
    std::fs::write(
        &cfg,
        format!(r#"{{"credHelpers":{{"{}":"cairnmock"}}}}"#, mock.host()),
    )
    .expect("config");
    let creds = cairn_oci::auth::DockerConfig::load(&cfg)
        .expect("load")
        .with_helper_dir(dir.path());
    let client = Client::new(ClientConfig::default(), Arc::new(creds)).expect("client");
    let repo = client.repository(&mock.host(), "x").expect("repo");
    assert_eq!(repo.list_tags().expect("tags"), vec!["v1".to_string()]);
}
