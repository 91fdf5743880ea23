//! The in-process Sigstore stack: an OIDC issuer (ES256 tokens), Fulcio v2 (`signingCert` with
//! proof of possession and an embedded SCT from a CT log key), and Rekor v1 (hashedrekord and dsse
//! entries in a real RFC 6962 Merkle tree, signed checkpoints, SETs) and an RFC 3161 TSA
//! (`POST /api/v1/timestamp`, CMS-signed TSTInfo, see [`super::tsa`]), on a loopback port, with
//! fault injection for the negative tests. Real cryptography throughout; fresh keys per stack.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::merkle;
use super::oidc::{self, OidcFault};
use super::tsa::{self, TsaKeys, TsaTamper};
use super::tuf;
use super::x509::{self, LeafRequest};

/// The TSA endpoint's path on the stack.
pub const TSA_PATH: &str = "/api/v1/timestamp";

/// How the next Rekor answer is corrupted (to prove verifiers notice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RekorTamper {
    /// Honest answers.
    #[default]
    None,
    /// One hash of the inclusion proof is flipped.
    InclusionProof,
    /// The checkpoint signature is made by another key.
    Checkpoint,
    /// The SET is made by another key.
    Set,
    /// The SET is honest but the integrated time is moved by an hour.
    IntegratedTime,
}

/// Knobs for failure tests. All counters count down per request.
#[derive(Debug, Default)]
pub struct Faults {
    /// Answer this many Fulcio requests with HTTP 503.
    pub fulcio_unavailable: AtomicU32,
    /// Answer this many Rekor requests with HTTP 500.
    pub rekor_unavailable: AtomicU32,
    /// Certify a fresh key instead of the one in the request.
    pub fulcio_wrong_key: AtomicBool,
    /// Corrupt Rekor answers this way.
    pub rekor_tamper: Mutex<RekorTamper>,
    /// Requests seen by Fulcio and Rekor (for retry tests).
    pub fulcio_requests: AtomicU32,
    /// Requests seen by Rekor.
    pub rekor_requests: AtomicU32,
    /// Answer this many TSA requests with HTTP 500.
    pub tsa_unavailable: AtomicU32,
    /// Hold this many TSA requests for [`Faults::tsa_stall_for`] before answering.
    pub tsa_stall: AtomicU32,
    /// How long a stalled TSA request is held, in milliseconds (default 5000).
    pub tsa_stall_ms: AtomicU32,
    /// Spoil TSA answers this way.
    pub tsa_tamper: Mutex<TsaTamper>,
    /// Seconds added to the TSA's `genTime` (negative: in the past).
    pub tsa_time_offset: AtomicI64,
    /// Requests seen by the TSA.
    pub tsa_requests: AtomicU32,
    /// How the OIDC authorization endpoint misbehaves.
    pub oidc_fault: Mutex<OidcFault>,
    /// Code exchanges seen by the OIDC token endpoint.
    pub oidc_token_requests: AtomicU32,
    /// Serve the TUF target `trusted_root.json` with one byte changed.
    pub tuf_tamper_target: AtomicBool,
    /// Requests seen by the TUF repository.
    pub tuf_requests: AtomicU32,
}

impl Faults {
    /// How long a stalled TSA request is held.
    pub fn tsa_stall_for(&self) -> Duration {
        match self.tsa_stall_ms.load(Ordering::SeqCst) {
            0 => Duration::from_secs(5),
            ms => Duration::from_millis(u64::from(ms)),
        }
    }
}

struct Keys {
    oidc: SigningKey,
    ca: SigningKey,
    ct: SigningKey,
    rekor: SigningKey,
    ca_cert: Vec<u8>,
    tsa: TsaKeys,
    rogue_tsa: TsaKeys,
    tuf: SigningKey,
}

struct Log {
    leaves: Vec<[u8; 32]>,
}

struct Shared {
    keys: Keys,
    log: Mutex<Log>,
    faults: Arc<Faults>,
    url: String,
    serial: AtomicU32,
    started: SystemTime,
    codes: oidc::Codes,
    browser_user: Mutex<String>,
    tuf: OnceLock<tuf::Repo>,
}

/// A running in-process stack. Dropping it stops accepting connections.
pub struct Stack {
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Fault injection.
    pub faults: Arc<Faults>,
}

fn random_key() -> SigningKey {
    loop {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).expect("OS randomness");
        if let Ok(k) = SigningKey::from_slice(&b) {
            return k;
        }
    }
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

pub(super) fn rfc3339(t: SystemTime) -> String {
    let secs = unix(t);
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // civil-from-days (Howard Hinnant)
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

impl Stack {
    /// Starts a stack on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let started = SystemTime::now();
        let ca = random_key();
        let ca_cert = x509::root_cert(&ca, "CN=cairn-testkit-fulcio,O=cairn.test", started);
        let faults = Arc::new(Faults::default());
        let shared = Arc::new(Shared {
            keys: Keys {
                oidc: random_key(),
                ca,
                ct: random_key(),
                rekor: random_key(),
                ca_cert,
                tsa: TsaKeys::generate("cairn-testkit-tsa", started, random_key),
                rogue_tsa: TsaKeys::generate("cairn-testkit-rogue-tsa", started, random_key),
                tuf: random_key(),
            },
            log: Mutex::new(Log { leaves: Vec::new() }),
            faults: faults.clone(),
            url: url.clone(),
            serial: AtomicU32::new(1000),
            started,
            codes: oidc::Codes::default(),
            browser_user: Mutex::new("browser-user@cairn.test".into()),
            tuf: OnceLock::new(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        listener.set_nonblocking(true).expect("nonblocking");
        let (s, st) = (shared.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let s = s.clone();
                        std::thread::spawn(move || {
                            let _ = serve(conn, &s);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        let stack = Self {
            shared,
            stop,
            url,
            faults,
        };
        let targets = [
            (
                "trusted_root.json",
                serde_json::to_vec_pretty(&stack.trusted_root()).expect("JSON"),
            ),
            (
                "signing_config.v0.2.json",
                serde_json::to_vec_pretty(&stack.signing_config()).expect("JSON"),
            ),
        ];
        let expires = rfc3339(started + Duration::from_secs(365 * 86400));
        let repo = tuf::Repo::build(&stack.shared.keys.tuf, &targets, &expires);
        let _ = stack.shared.tuf.set(repo);
        stack
    }

    /// The base URL of the stack's TUF repository (publishing its trusted root and signing
    /// config as targets).
    pub fn tuf_url(&self) -> String {
        format!("{}/tuf", self.url)
    }

    /// The TUF repository's `1.root.json`: the root a client bootstraps from.
    pub fn tuf_root(&self) -> Vec<u8> {
        self.shared.tuf.get().expect("built at start").files["1.root.json"].clone()
    }

    /// The RFC 3161 endpoint (`{url}/api/v1/timestamp`).
    pub fn tsa_url(&self) -> String {
        format!("{}{TSA_PATH}", self.url)
    }

    /// The TSA's certificate chain (leaf, root), DER.
    pub fn tsa_chain(&self) -> [Vec<u8>; 2] {
        let t = &self.shared.keys.tsa;
        [t.leaf_cert.clone(), t.root_cert.clone()]
    }

    /// The OIDC issuer URL tokens carry.
    pub fn issuer(&self) -> String {
        format!("{}/oidc", self.url)
    }

    /// Mints an ES256 token for `sub` with audience `aud`, expiring `exp_in` seconds from now
    /// (negative: already expired).
    pub fn token(&self, sub: &str, aud: &str, exp_in: i64) -> String {
        mint(&self.shared, sub, aud, exp_in)
    }

    /// Who signs in through the browser flow (`GET /oidc/auth`); default
    /// `browser-user@cairn.test`.
    pub fn set_browser_user(&self, sub: &str) {
        *self.shared.browser_user.lock().expect("user lock") = sub.to_string();
    }

    /// The Sigstore `trusted_root.json` for this stack.
    pub fn trusted_root(&self) -> Value {
        let k = &self.shared.keys;
        let start = rfc3339(self.shared.started - Duration::from_secs(3600));
        let log = |key: &SigningKey| {
            let spki = x509::spki_der(key.verifying_key());
            json!({
                "baseUrl": self.url, "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": STANDARD.encode(&spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": {"start": start}},
                "logId": {"keyId": STANDARD.encode(Sha256::digest(&spki))}
            })
        };
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(&k.rekor)],
            "certificateAuthorities": [{
                "subject": {"organization": "cairn.test", "commonName": "cairn-testkit-fulcio"},
                "uri": self.url,
                "certChain": {"certificates": [{"rawBytes": STANDARD.encode(&k.ca_cert)}]},
                "validFor": {"start": start}
            }],
            "ctlogs": [log(&k.ct)],
            "timestampAuthorities": [{
                "subject": {"organization": "cairn.test", "commonName": "cairn-testkit-tsa"},
                "uri": self.tsa_url(),
                "certChain": {"certificates": [
                    {"rawBytes": STANDARD.encode(&k.tsa.leaf_cert)},
                    {"rawBytes": STANDARD.encode(&k.tsa.root_cert)}
                ]},
                "validFor": {"start": start}
            }]
        })
    }

    /// The Sigstore signing config v0.2 for this stack.
    pub fn signing_config(&self) -> Value {
        let start = rfc3339(self.shared.started - Duration::from_secs(3600));
        let svc = |url: String| json!([{"url": url, "majorApiVersion": 1, "validFor": {"start": start}, "operator": "cairn.test"}]);
        json!({
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": svc(self.url.clone()),
            "oidcUrls": svc(self.issuer()),
            "rekorTlogUrls": svc(self.url.clone()),
            "tsaUrls": svc(self.tsa_url()),
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"}
        })
    }

    /// A `ClientTrustConfig` with both.
    pub fn trust_config(&self) -> Value {
        json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": self.trusted_root(),
            "signingConfig": self.signing_config()
        })
    }

    /// Number of entries in the log.
    pub fn log_size(&self) -> usize {
        self.shared.log.lock().expect("log lock").leaves.len()
    }
}

fn mint(s: &Shared, sub: &str, aud: &str, exp_in: i64) -> String {
    let now = unix(SystemTime::now());
    let iss = format!("{}/oidc", s.url);
    let mut claims = json!({"iss": iss, "sub": sub, "aud": aud, "iat": now, "nbf": now - 60, "exp": now + exp_in});
    if sub.contains('@') {
        claims["email"] = json!(sub);
        claims["email_verified"] = json!(true);
    }
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"JWT","kid":"cairn-testkit"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{head}.{body}");
    let sig: Signature = s.keys.oidc.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// The browser endpoints of the OIDC provider.
fn oidc_route(method: &str, path: &str, body: &[u8], s: &Shared) -> oidc::Reply {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    match (method, route) {
        ("GET", "/oidc/auth") => {
            let fault = *s.faults.oidc_fault.lock().expect("fault lock");
            let user = s.browser_user.lock().expect("user lock").clone();
            oidc::authorize(query, &s.codes, &user, fault, || {
                let mut b = [0u8; 16];
                getrandom::fill(&mut b).expect("OS randomness");
                hex::encode(b)
            })
        }
        ("POST", "/oidc/token") => {
            s.faults.oidc_token_requests.fetch_add(1, Ordering::SeqCst);
            match oidc::exchange(body, &s.codes) {
                Ok(sub) => (
                    200,
                    Vec::new(),
                    json!({"access_token": "opaque", "token_type": "Bearer", "expires_in": 600,
                           "id_token": mint(s, &sub, "sigstore", 600)}),
                ),
                Err(reply) => reply,
            }
        }
        _ => (404, Vec::new(), json!({"error": "not_found"})),
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(conn: TcpStream, s: &Shared) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; len.min(16 << 20)];
    reader.read_exact(&mut body)?;
    if method == "POST" && path == TSA_PATH {
        let (status, content_type, out) = timestamp(&body, s);
        let mut conn = conn;
        write!(
            conn,
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            if status == 200 { "OK" } else { "Error" },
            out.len()
        )?;
        conn.write_all(&out)?;
        return conn.flush();
    }
    if let Some(name) = path.strip_prefix("/tuf/") {
        s.faults.tuf_requests.fetch_add(1, Ordering::SeqCst);
        let file = s.tuf.get().and_then(|r| r.files.get(name)).cloned();
        let (status, mut out) = match file {
            Some(bytes) => (200, bytes),
            None => (404, b"not found".to_vec()),
        };
        if status == 200
            && name.ends_with(".trusted_root.json")
            && s.faults.tuf_tamper_target.load(Ordering::SeqCst)
            && let Some(b) = out.iter_mut().rev().find(|b| b.is_ascii_digit())
        {
            *b = if *b == b'0' { b'1' } else { b'0' };
        }
        let mut conn = conn;
        write!(
            conn,
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            if status == 200 { "OK" } else { "Not Found" },
            out.len()
        )?;
        conn.write_all(&out)?;
        return conn.flush();
    }
    if path.starts_with("/oidc/") {
        let (status, headers, out) = oidc_route(&method, &path, &body, s);
        let text = if out.is_null() {
            String::new()
        } else {
            out.to_string()
        };
        let mut head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            if status == 302 { "Found" } else { "Status" },
            text.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let mut conn = conn;
        write!(conn, "{head}\r\n{text}")?;
        return conn.flush();
    }
    let (status, out) = route(&method, &path, &body, s);
    let reason = match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let text = out.to_string();
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    conn.flush()
}

/// The TSA: faults first, then an honest (or deliberately spoiled) `TimeStampResp`.
fn timestamp(body: &[u8], s: &Shared) -> (u16, &'static str, Vec<u8>) {
    s.faults.tsa_requests.fetch_add(1, Ordering::SeqCst);
    if take(&s.faults.tsa_stall) {
        std::thread::sleep(s.faults.tsa_stall_for());
    }
    if take(&s.faults.tsa_unavailable) {
        return (500, "text/plain", b"tsa had an internal error".to_vec());
    }
    let tamper = *s.faults.tsa_tamper.lock().expect("tamper lock");
    if tamper == TsaTamper::Corrupt {
        return (
            200,
            "application/timestamp-reply",
            b"\x30\x82garbage".to_vec(),
        );
    }
    let keys = if tamper == TsaTamper::UntrustedSigner {
        &s.keys.rogue_tsa
    } else {
        &s.keys.tsa
    };
    let offset = s.faults.tsa_time_offset.load(Ordering::SeqCst);
    let now = SystemTime::now();
    let gen_time = if offset >= 0 {
        now + Duration::from_secs(offset as u64)
    } else {
        now - Duration::from_secs(offset.unsigned_abs())
    };
    let serial = u64::from(s.serial.fetch_add(1, Ordering::SeqCst));
    match tsa::respond(body, keys, serial, gen_time, tamper) {
        Ok(der) => (200, "application/timestamp-reply", der),
        Err(e) => (400, "text/plain", e.into_bytes()),
    }
}

fn err(status: u16, msg: &str) -> (u16, Value) {
    (status, json!({"code": status, "message": msg}))
}

fn route(method: &str, path: &str, body: &[u8], s: &Shared) -> (u16, Value) {
    match (method, path) {
        ("POST", "/api/v2/signingCert") => {
            s.faults.fulcio_requests.fetch_add(1, Ordering::SeqCst);
            if take(&s.faults.fulcio_unavailable) {
                return err(503, "fulcio is unavailable");
            }
            fulcio(body, s)
        }
        ("POST", "/api/v1/log/entries") => {
            s.faults.rekor_requests.fetch_add(1, Ordering::SeqCst);
            if take(&s.faults.rekor_unavailable) {
                return err(500, "rekor had an internal error");
            }
            rekor(body, s)
        }
        _ => err(404, "not found"),
    }
}

fn take(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

fn b64d(v: &Value) -> Option<Vec<u8>> {
    STANDARD.decode(v.as_str()?).ok()
}

/// Fulcio v2: check the token (signature, issuer, audience, expiry), the proof of possession,
/// then issue a leaf for the requested key.
fn fulcio(body: &[u8], s: &Shared) -> (u16, Value) {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return err(400, "request is not JSON");
    };
    let Some(token) = req["credentials"]["oidcIdentityToken"].as_str() else {
        return err(400, "missing credentials.oidcIdentityToken");
    };
    let claims = match check_token(token, s) {
        Ok(c) => c,
        Err(e) => return err(401, &e),
    };
    let identity = claims["email"]
        .as_str()
        .or(claims["sub"].as_str())
        .unwrap_or("")
        .to_string();
    let Some(spki) = req["publicKeyRequest"]["publicKey"]["content"]
        .as_str()
        .and_then(x509::spki_of_pem)
    else {
        return err(400, "publicKey.content is not a PEM public key");
    };
    let Ok(key) = <VerifyingKey as p256::pkcs8::DecodePublicKey>::from_public_key_der(&spki) else {
        return err(400, "only P-256 keys are supported");
    };
    let pop = b64d(&req["publicKeyRequest"]["proofOfPossession"])
        .and_then(|d| Signature::from_der(&d).ok());
    let subject = claims["sub"].as_str().unwrap_or("");
    let pop_ok = pop.is_some_and(|sig| {
        key.verify(identity.as_bytes(), &sig).is_ok()
            || key.verify(subject.as_bytes(), &sig).is_ok()
    });
    if !pop_ok {
        return err(400, "proof of possession does not verify");
    }
    let certified = if s.faults.fulcio_wrong_key.load(Ordering::SeqCst) {
        x509::spki_der(random_key().verifying_key())
    } else {
        spki
    };
    let leaf = x509::leaf_cert(
        &LeafRequest {
            spki: &certified,
            identity: &identity,
            issuer: claims["iss"].as_str().unwrap_or(""),
            serial: u64::from(s.serial.fetch_add(1, Ordering::SeqCst)),
            now: SystemTime::now() - Duration::from_secs(1),
        },
        &s.keys.ca,
        &s.keys.ca_cert,
        &s.keys.ct,
    );
    (
        201,
        json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [x509::pem("CERTIFICATE", &leaf), x509::pem("CERTIFICATE", &s.keys.ca_cert)]}}}),
    )
}

fn check_token(token: &str, s: &Shared) -> Result<Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("token is not a JWT".into());
    }
    let sig = URL_SAFE_NO_PAD
        .decode(parts[2])
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or("token signature is malformed")?;
    s.keys
        .oidc
        .verifying_key()
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .map_err(|_| "token signature does not verify")?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(parts[1])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("token claims are malformed")?;
    if claims["iss"].as_str() != Some(&format!("{}/oidc", s.url)) {
        return Err("token issuer is not trusted".into());
    }
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a == "sigstore",
        Value::Array(l) => l.iter().any(|a| a == "sigstore"),
        _ => false,
    };
    if !aud_ok {
        return Err("token audience is not sigstore".into());
    }
    if claims["exp"].as_i64().unwrap_or(0) <= unix(SystemTime::now()) {
        return Err("token has expired".into());
    }
    Ok(claims)
}

/// Rekor v1 `POST /api/v1/log/entries`: verify the entry's signature, append it, answer with the
/// inclusion proof, a signed checkpoint and a SET.
fn rekor(body: &[u8], s: &Shared) -> (u16, Value) {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return err(400, "request is not JSON");
    };
    let canonical = match (req["kind"].as_str(), req["apiVersion"].as_str()) {
        (Some("hashedrekord"), Some("0.0.1")) => hashedrekord(&req),
        (Some("dsse"), Some("0.0.1")) => dsse(&req),
        _ => Err("unsupported entry kind".to_string()),
    };
    let body = match canonical {
        Ok(v) => cairn_model::canonical::to_vec(&v).expect("canonical JSON"),
        Err(e) => return err(400, &e),
    };
    let tamper = *s.faults.rekor_tamper.lock().expect("tamper lock");
    let (index, size, root, proof) = {
        let mut log = s.log.lock().expect("log lock");
        log.leaves.push(merkle::leaf_hash(&body));
        let size = log.leaves.len();
        let index = size - 1;
        (
            index,
            size,
            merkle::root(&log.leaves),
            merkle::inclusion_proof(index, &log.leaves),
        )
    };
    let rekor_spki = x509::spki_der(s.keys.rekor.verifying_key());
    let log_id = hex::encode(Sha256::digest(&rekor_spki));
    let mut integrated = unix(SystemTime::now());
    let body_b64 = STANDARD.encode(&body);
    let set_payload =
        json!({"body": body_b64, "integratedTime": integrated, "logID": log_id, "logIndex": index});
    let set_key = if tamper == RekorTamper::Set {
        random_key()
    } else {
        s.keys.rekor.clone()
    };
    let set: Signature =
        set_key.sign(&cairn_model::canonical::to_vec(&set_payload).expect("canonical"));
    if tamper == RekorTamper::IntegratedTime {
        integrated -= 3600;
    }
    let origin = "cairn-testkit-rekor";
    let note = format!("{origin}\n{size}\n{}\n", STANDARD.encode(root));
    let cp_key = if tamper == RekorTamper::Checkpoint {
        random_key()
    } else {
        s.keys.rekor.clone()
    };
    let cp_sig: Signature = cp_key.sign(note.as_bytes());
    let mut signed = Sha256::digest(&rekor_spki)[..4].to_vec();
    signed.extend(cp_sig.to_der().as_bytes());
    let checkpoint = format!("{note}\n\u{2014} {origin} {}\n", STANDARD.encode(signed));
    let mut hashes: Vec<String> = proof.iter().map(hex::encode).collect();
    if tamper == RekorTamper::InclusionProof {
        if let Some(h) = hashes.first_mut() {
            let mut b = hex::decode(&*h).expect("hex");
            b[0] ^= 1;
            *h = hex::encode(b);
        } else {
            hashes.push(hex::encode([7u8; 32]));
        }
    }
    let uuid = hex::encode(merkle::leaf_hash(&body));
    (
        201,
        json!({uuid: {
            "body": body_b64, "integratedTime": integrated, "logID": log_id, "logIndex": index,
            "verification": {
                "inclusionProof": {"checkpoint": checkpoint, "hashes": hashes, "logIndex": index, "rootHash": hex::encode(root), "treeSize": size},
                "signedEntryTimestamp": STANDARD.encode(set.to_der().as_bytes())
            }
        }}),
    )
}

fn verifying_key_of(pem_b64: &Value) -> Result<VerifyingKey, String> {
    let pem = b64d(pem_b64)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("verifier is not base64 PEM")?;
    let spki = x509::spki_of_pem(&pem).ok_or("verifier is not a certificate or public key")?;
    <VerifyingKey as p256::pkcs8::DecodePublicKey>::from_public_key_der(&spki)
        .map_err(|_| "only P-256 verifiers are supported".into())
}

fn hashedrekord(req: &Value) -> Result<Value, String> {
    let spec = &req["spec"];
    let digest = hex::decode(spec["data"]["hash"]["value"].as_str().unwrap_or(""))
        .map_err(|_| "bad digest")?;
    let sig = b64d(&spec["signature"]["content"])
        .and_then(|d| Signature::from_der(&d).ok())
        .ok_or("bad signature")?;
    let key = verifying_key_of(&spec["signature"]["publicKey"]["content"])?;
    key.verify_prehash(&digest, &sig)
        .map_err(|_| "signature does not verify over the digest")?;
    Ok(
        json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": spec["data"]["hash"]["value"]}},
            "signature": {"content": spec["signature"]["content"], "publicKey": {"content": spec["signature"]["publicKey"]["content"]}}
        }}),
    )
}

fn dsse(req: &Value) -> Result<Value, String> {
    let content = &req["spec"]["proposedContent"];
    let env_text = content["envelope"].as_str().ok_or("missing envelope")?;
    let env: Value = serde_json::from_str(env_text).map_err(|_| "envelope is not JSON")?;
    let payload = b64d(&env["payload"]).ok_or("bad payload")?;
    let ptype = env["payloadType"].as_str().ok_or("bad payloadType")?;
    let pae = cairn_model::dsse::pae(ptype, &payload);
    let verifiers = content["verifiers"].as_array().ok_or("missing verifiers")?;
    let mut signatures = Vec::new();
    for sig in env["signatures"].as_array().ok_or("missing signatures")? {
        let s = b64d(&sig["sig"])
            .and_then(|d| Signature::from_der(&d).ok())
            .ok_or("bad signature")?;
        let verifier = verifiers
            .iter()
            .find(|v| verifying_key_of(v).is_ok_and(|k| k.verify(&pae, &s).is_ok()))
            .ok_or("no verifier verifies the envelope signature")?;
        signatures.push(json!({"signature": sig["sig"], "verifier": verifier}));
    }
    Ok(json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {
        "envelopeHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(env_text.as_bytes()))},
        "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&payload))},
        "signatures": signatures
    }}))
}
