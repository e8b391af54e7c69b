//! Harness of the fuzz target `idx`: `parse_idx_images` and
//! `parse_idx_labels` (MNIST / Fashion-MNIST IDX files, raw or gzip) on
//! arbitrary bytes, and on the same bytes gzip-compressed, as one member and
//! as two (the gzip path: `MultiGzDecoder`, detected from the content).
//!
//! Properties: no panic and no allocation beyond the input (a lying header
//! cannot ask for gigabytes); every `Ok` has 28 × 28 images with exactly
//! n·784 pixel bytes, or labels in 0..=9; the compressed input reads exactly
//! as the raw one (same images or labels, or an error for both).
//!
//! Shared by `fuzz/fuzz_targets/idx.rs` and the data crate's
//! `tests/fuzz_regressions.rs` (which replays `fuzz/corpus/idx/`).

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use noisyprop_data::{IdxImages, parse_idx_images, parse_idx_labels};

/// Runs every check on `data`; panics on a violated property.
pub fn run(data: &[u8]) {
    let name = Path::new("fuzz.idx");
    let images = parse_idx_images(data, name);
    let labels = parse_idx_labels(data, name);
    match &images {
        Ok(i) => check_images(i),
        Err(e) => assert!(e.to_string().contains("fuzz.idx"), "{e}"),
    }
    match &labels {
        Ok(l) => assert!(l.iter().all(|&x| x <= 9), "labels above 9: {l:?}"),
        Err(e) => assert!(e.to_string().contains("fuzz.idx"), "{e}"),
    }
    // Raw input that starts with the gzip magic is already read as gzip; its
    // compressed form would hold those two bytes as IDX content.
    if data.starts_with(&[0x1f, 0x8b]) {
        return;
    }
    let half = data.len() / 2;
    for gz in [gzip(&[data]), gzip(&[&data[..half], &data[half..]])] {
        let gi = parse_idx_images(&gz, name);
        assert_eq!(gi.as_ref().ok(), images.as_ref().ok(), "images: gzip ≠ raw");
        assert_eq!(gi.is_ok(), images.is_ok());
        let gl = parse_idx_labels(&gz, name);
        assert_eq!(gl.as_ref().ok(), labels.as_ref().ok(), "labels: gzip ≠ raw");
        assert_eq!(gl.is_ok(), labels.is_ok());
    }
}

fn check_images(i: &IdxImages) {
    assert_eq!((i.rows, i.cols), (28, 28), "image shape");
    assert_eq!(i.pixels.len(), i.n * i.rows * i.cols, "pixel count");
}

/// `members` compressed, one gzip member each, concatenated.
fn gzip(members: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        if enc.write_all(m).is_ok()
            && let Ok(bytes) = enc.finish()
        {
            out.extend_from_slice(&bytes);
        }
    }
    out
}
