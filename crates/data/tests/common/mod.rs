//! Builders of small synthetic IDX and CIFAR-10 files for the tests, and
//! [`require`] for a test's optional dependency.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

/// Deterministic pixel pattern for image `i`, pixel `j`.
pub fn pixel(i: usize, j: usize) -> u8 {
    ((i * 31 + j * 7) % 256) as u8
}

/// Raw IDX image bytes for `n` images of `rows × cols`.
pub fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0x0000_0803u32.to_be_bytes());
    for d in [n, rows, cols] {
        out.extend_from_slice(&d.to_be_bytes());
    }
    let dim = (rows * cols) as usize;
    for i in 0..n as usize {
        out.extend((0..dim).map(|j| pixel(i, j)));
    }
    out
}

/// Raw IDX label bytes.
pub fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0x0000_0801u32.to_be_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

/// `n` labels cycling through 0..=9.
pub fn cycling_labels(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 10) as u8).collect()
}

/// Gzip-compresses `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A CIFAR-10 batch of `n` records; record `i` has label `(i + offset) % 10`.
pub fn cifar_batch(n: usize, offset: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 3073);
    for i in 0..n {
        out.push(((i + offset) % 10) as u8);
        out.extend((0..3072).map(|j| pixel(i + offset, j)));
    }
    out
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// An optional dependency of a test (an installed data set): `found` when it is there.
/// Where it is missing, fails the test under CI (`CI=true`, where `.ci/run` provides
/// every one of them), naming `what` and `how` it is provided; elsewhere prints why the
/// test is skipped and returns `None`, so the test can `return`.
pub fn require<T>(found: Option<T>, what: &str, how: &str) -> Option<T> {
    if found.is_some() {
        return found;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is missing; {how} (CI=true: optional test dependencies are required)");
    }
    eprintln!("skipped: {what} is missing; {how} (a failure under CI=true)");
    None
}
