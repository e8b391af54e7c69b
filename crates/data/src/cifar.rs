//! Reader for the CIFAR-10 binary version (`cifar-10-batches-bin`).
//!
//! Each batch file is a sequence of 3073-byte records: one label byte (0–9)
//! followed by 3072 pixel bytes — the 1024 red, then 1024 green, then 1024
//! blue values of a 32 × 32 image, each plane row-major. The pixels are kept
//! in that (channel-major) order.

use std::path::{Path, PathBuf};

use crate::idx::check_labels;
use crate::{DataError, DatasetName, RawDataset, Split};

/// Pixel bytes per CIFAR-10 image (3 × 32 × 32).
pub const CIFAR10_IMAGE_BYTES: usize = 3072;
/// Bytes per CIFAR-10 record (1 label byte + 3072 pixel bytes).
pub const CIFAR10_RECORD_BYTES: usize = 1 + CIFAR10_IMAGE_BYTES;
/// File names of the five training batches.
pub const CIFAR10_TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// File name of the test batch.
pub const CIFAR10_TEST_FILES: [&str; 1] = ["test_batch.bin"];
/// Name of the directory inside the official archive, also searched for
/// inside the data directory.
pub const CIFAR10_SUBDIR: &str = "cifar-10-batches-bin";

/// One decoded CIFAR-10 batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CifarBatch {
    /// `n × 3072` pixel bytes, image after image, each as R, G, B planes.
    pub pixels: Vec<u8>,
    /// `n` labels in `0..=9`.
    pub labels: Vec<u8>,
}

/// Reads one CIFAR-10 binary batch file.
///
/// # Errors
/// [`DataError::Io`]; [`DataError::CifarLength`] when the length is zero or not
/// a multiple of 3073 bytes; [`DataError::BadLabel`] for a label above 9.
pub fn read_cifar10_batch(path: &Path) -> Result<CifarBatch, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    parse_cifar10_batch(&bytes, path)
}

/// Parses a CIFAR-10 binary batch held in memory; `name` is used in error
/// messages only.
///
/// # Errors
/// As [`read_cifar10_batch`], less [`DataError::Io`].
pub fn parse_cifar10_batch(bytes: &[u8], name: &Path) -> Result<CifarBatch, DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(CIFAR10_RECORD_BYTES) {
        return Err(DataError::CifarLength {
            path: name.to_path_buf(),
            len: bytes.len() as u64,
            record: CIFAR10_RECORD_BYTES as u64,
        });
    }
    let n = bytes.len() / CIFAR10_RECORD_BYTES;
    let mut labels = Vec::with_capacity(n);
    let mut pixels = Vec::with_capacity(n * CIFAR10_IMAGE_BYTES);
    for record in bytes.chunks_exact(CIFAR10_RECORD_BYTES) {
        if let Some((&label, image)) = record.split_first() {
            labels.push(label);
            pixels.extend_from_slice(image);
        }
    }
    check_labels(&labels, name)?;
    Ok(CifarBatch { pixels, labels })
}

/// Loads a CIFAR-10 split from `dir`, or from `dir/cifar-10-batches-bin/`.
///
/// The train split is the concatenation of `data_batch_1.bin` …
/// `data_batch_5.bin` in that order; the test split is `test_batch.bin`. The
/// first of the two directories that holds every file of the split is used.
///
/// # Errors
/// [`DataError::MissingFiles`] listing every path tried when neither directory
/// holds all the files; otherwise those of [`read_cifar10_batch`].
pub fn load_cifar10(dir: &Path, split: Split) -> Result<RawDataset, DataError> {
    let names: &[&str] = match split {
        Split::Train => &CIFAR10_TRAIN_FILES,
        Split::Test => &CIFAR10_TEST_FILES,
    };
    let candidates = [dir.to_path_buf(), dir.join(CIFAR10_SUBDIR)];
    let mut missing = Vec::new();
    let mut found: Option<Vec<PathBuf>> = None;
    for cand in &candidates {
        let paths: Vec<PathBuf> = names.iter().map(|f| cand.join(f)).collect();
        let absent: Vec<PathBuf> = paths.iter().filter(|p| !p.is_file()).cloned().collect();
        if absent.is_empty() {
            found = Some(paths);
            break;
        }
        missing.extend(absent);
    }
    let Some(paths) = found else {
        return Err(DataError::MissingFiles {
            dataset: DatasetName::Cifar10,
            split,
            looked_for: missing,
            hint: format!(
                "Download the binary version (cifar-10-binary.tar.gz) of CIFAR-10 and pass the \
                 directory that holds `{CIFAR10_SUBDIR}/` (or its contents) as the data directory."
            ),
        });
    };

    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for path in &paths {
        let batch = read_cifar10_batch(path)?;
        pixels.extend_from_slice(&batch.pixels);
        labels.extend_from_slice(&batch.labels);
    }
    let source = match paths.as_slice() {
        [one] => one.display().to_string(),
        [first, .., last] => format!(
            "{} … {}",
            first.display(),
            last.file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        [] => String::new(),
    };
    Ok(RawDataset {
        name: DatasetName::Cifar10,
        n: labels.len(),
        dim: CIFAR10_IMAGE_BYTES,
        pixels,
        labels,
        source,
    })
}
