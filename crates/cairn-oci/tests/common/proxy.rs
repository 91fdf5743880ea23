//! A loopback HTTP proxy in front of the registry that injects faults: 500s, stalls, dropped
//! connections, or a dead upstream. One request per connection (`Connection: close`).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward it.
    Pass,
    /// Answer 500.
    Error500,
    /// Answer 503 with `Retry-After: 0`... as 429.
    TooMany,
    /// Say nothing for this long, then close.
    Stall(Duration),
    /// Close without answering.
    Drop,
    /// Forward, but cut the response body after this many bytes.
    Truncate(usize),
    /// Forward, with the last byte of the response body flipped (a lying server).
    Corrupt,
}

/// The rule deciding each request's fate: (method, path, index of matching requests so far).
pub type Rule = dyn Fn(&str, &str) -> Fault + Send + Sync;

/// The proxy.
#[allow(dead_code)]
pub struct Proxy {
    pub port: u16,
    pub injected: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    pub fn start(upstream: u16, rule: Arc<Rule>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let injected = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (inj, reqs, stp) = (injected.clone(), requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stp.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (rule, inj, reqs) = (rule.clone(), inj.clone(), reqs.clone());
                std::thread::spawn(move || handle(conn, upstream, &*rule, &inj, &reqs));
            }
        });
        Proxy {
            port,
            injected,
            requests,
            stop,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn injected(&self) -> usize {
        self.injected.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle(
    mut client: TcpStream,
    upstream: u16,
    rule: &Rule,
    injected: &AtomicUsize,
    requests: &Mutex<Vec<String>>,
) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    // Read the head.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default().to_string();
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut content_length = 0usize;
    let mut headers = Vec::new();
    for l in lines {
        if l.is_empty() {
            continue;
        }
        let lower = l.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") {
            continue;
        }
        headers.push(l.to_string());
    }
    let mut body = vec![0u8; content_length];
    if client.read_exact(&mut body).is_err() {
        return;
    }
    requests
        .lock()
        .expect("lock")
        .push(format!("{method} {path}"));
    let fault = rule(&method, &path);
    if fault != Fault::Pass {
        injected.fetch_add(1, Ordering::SeqCst);
    }
    match fault {
        Fault::Error500 => {
            let _ = client.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }
        Fault::TooMany => {
            let _ = client.write_all(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        }
        Fault::Stall(d) => {
            std::thread::sleep(d);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        Fault::Drop => {
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        Fault::Pass | Fault::Truncate(_) | Fault::Corrupt => {}
    }
    let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let mut req = format!("{first}\r\n");
    for h in &headers {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("Connection: close\r\n\r\n");
    if up.write_all(req.as_bytes()).is_err() || up.write_all(&body).is_err() {
        return;
    }
    let mut resp = Vec::new();
    let _ = up.read_to_end(&mut resp);
    if let Fault::Truncate(n) = fault {
        // Keep the head, cut the body.
        if let Some(pos) = resp.windows(4).position(|w| w == b"\r\n\r\n") {
            let end = (pos + 4 + n).min(resp.len());
            let _ = client.write_all(&resp[..end]);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
    }
    if fault == Fault::Corrupt && resp.len() > 1 {
        let last = resp.len() - 1;
        resp[last] ^= 0x55;
    }
    let _ = client.write_all(&resp);
    let _ = client.shutdown(Shutdown::Both);
}
