//! The HTML verification report end to end: `cairn demo` builds an honest and a tampered chain,
//! `cairn verify layout --report` writes the pages, headless Chromium renders them, and the
//! screenshots must show the graph: step boxes of the node width in the pass colour (fetch and
//! build side by side) and, for the tampered chain, one in the fail colour (package). Skips
//! with a reason when Chromium is missing (CAIRN_REQUIRE_PEERS=1 makes that a failure).
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PASS: (u8, u8, u8) = (0x1a, 0x7f, 0x37);
const FAIL: (u8, u8, u8) = (0xcf, 0x22, 0x2e);
/// The node width in the SVG (render/html.rs NODE_W).
const NODE_W: usize = 220;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn cairn(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CAIRN_JSON")
        .output()
        .unwrap()
}

/// Renders `html` to a PNG with headless Chromium; returns (width, height, RGBA pixels).
fn screenshot(browser: &Path, html: &Path, tmp: &Path) -> (usize, usize, Vec<u8>) {
    let shot = tmp.join(format!(
        "{}.png",
        html.file_stem().unwrap().to_string_lossy()
    ));
    let profile = tmp.join("profile");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--window-size=1280,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(shot.exists(), "no screenshot: {err}");
    decode_png(&std::fs::read(&shot).unwrap())
}

/// A minimal PNG decoder: 8-bit RGB or RGBA, not interlaced (what Chromium writes).
fn decode_png(data: &[u8]) -> (usize, usize, Vec<u8>) {
    assert_eq!(&data[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let mut pos = 8;
    let (mut w, mut h, mut channels) = (0usize, 0usize, 0usize);
    let mut idat = Vec::new();
    while pos + 8 <= data.len() {
        let len = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &data[pos + 4..pos + 8];
        let body = &data[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                h = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
                assert_eq!(body[8], 8, "bit depth");
                channels = match body[9] {
                    2 => 3,
                    6 => 4,
                    t => panic!("colour type {t}"),
                };
                assert_eq!(body[12], 0, "interlaced");
            }
            b"IDAT" => idat.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = w * channels;
    let mut out = vec![0u8; w * h * 4];
    let mut prev = vec![0u8; stride];
    let mut cur = vec![0u8; stride];
    for y in 0..h {
        let line = &raw[y * (stride + 1)..(y + 1) * (stride + 1)];
        let filter = line[0];
        for x in 0..stride {
            let a = if x >= channels { cur[x - channels] } else { 0 };
            let b = prev[x];
            let c = if x >= channels { prev[x - channels] } else { 0 };
            let v = line[1 + x];
            cur[x] = match filter {
                0 => v,
                1 => v.wrapping_add(a),
                2 => v.wrapping_add(b),
                3 => v.wrapping_add(((u16::from(a) + u16::from(b)) / 2) as u8),
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    let pred = if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    };
                    v.wrapping_add(pred)
                }
                f => panic!("filter {f}"),
            };
        }
        for x in 0..w {
            let src = &cur[x * channels..x * channels + channels];
            let dst = &mut out[(y * w + x) * 4..(y * w + x) * 4 + 4];
            dst[..3].copy_from_slice(&src[..3]);
            dst[3] = if channels == 4 { src[3] } else { 255 };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (w, h, out)
}

fn near(px: &[u8], c: (u8, u8, u8)) -> bool {
    px[0].abs_diff(c.0) <= 6 && px[1].abs_diff(c.1) <= 6 && px[2].abs_diff(c.2) <= 6
}

/// For each row, the lengths of the horizontal runs of colour `c`.
fn runs(img: &(usize, usize, Vec<u8>), c: (u8, u8, u8)) -> Vec<Vec<usize>> {
    let (w, h, px) = img;
    (0..*h)
        .map(|y| {
            let mut out = Vec::new();
            let mut run = 0;
            for x in 0..*w {
                if near(&px[(y * w + x) * 4..], c) {
                    run += 1;
                } else if run > 0 {
                    out.push(run);
                    run = 0;
                }
            }
            if run > 0 {
                out.push(run);
            }
            out
        })
        .collect()
}

fn node_like(r: usize) -> bool {
    (NODE_W - 6..=NODE_W + 2).contains(&r)
}

#[test]
fn html_report_renders_the_supply_chain_graph_in_chromium() {
    let Some(browser) = chromium() else {
        cairn_testkit::peers::missing(
            "html_report_renders_the_supply_chain_graph_in_chromium",
            "chromium not on PATH",
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let demo = tmp.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["demo", "-q", "--dir"])
        .arg(&demo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let good = tmp.path().join("good.html");
    let out = cairn(
        &demo,
        &[
            "verify",
            "layout",
            "root.layout",
            "--layout-key",
            "keys/owner.pub",
            "--links",
            "links",
            "--report",
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let bad = tmp.path().join("bad.html");
    let out = cairn(
        &demo,
        &[
            "verify",
            "layout",
            "root.layout",
            "--layout-key",
            "keys/owner.pub",
            "--links",
            "attack/links",
            "--report",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));

    let good_img = screenshot(&browser, &good, tmp.path());
    let bad_img = screenshot(&browser, &bad, tmp.path());
    let distinct: std::collections::BTreeSet<_> =
        good_img.2.chunks(4).map(|p| (p[0], p[1], p[2])).collect();
    assert!(
        distinct.len() > 20,
        "the screenshot is blank ({} colours)",
        distinct.len()
    );

    // Honest chain: two green step boxes side by side on some row (fetch, build) and a third
    // (package) further right, nothing red at all.
    let good_pass = runs(&good_img, PASS);
    assert!(
        good_pass
            .iter()
            .any(|row| row.iter().filter(|r| node_like(**r)).count() >= 3),
        "no row with three pass-coloured step boxes"
    );
    let good_fail: usize = runs(&good_img, FAIL).iter().flatten().sum();
    assert!(
        good_fail < 50,
        "{good_fail} fail-coloured pixels in a passing report"
    );

    // Tampered chain: fetch and build green, package red, on the same rows.
    let bad_pass = runs(&bad_img, PASS);
    let bad_fail = runs(&bad_img, FAIL);
    let rows_with_graph = (0..bad_img.1)
        .filter(|&y| {
            bad_pass[y].iter().filter(|r| node_like(**r)).count() == 2
                && bad_fail[y].iter().filter(|r| node_like(**r)).count() == 1
        })
        .count();
    assert!(
        rows_with_graph > 30,
        "expected two pass and one fail step box on the rows between the text lines, found {rows_with_graph} rows"
    );
}
