//! Data-set names, splits, the raw in-memory data set, and [`load`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::DataError;
use crate::cifar::load_cifar10;
use crate::embedded::{MNIST_SUBSET_SOURCE, embedded_mnist_subset};
use crate::idx::read_idx_pair;

/// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST
/// (`train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
/// `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`).
pub const FASHION_MNIST_DEBIAN_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The data sets this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetName {
    /// MNIST handwritten digits, 28 × 28 grey levels.
    Mnist,
    /// Zalando's Fashion-MNIST, 28 × 28 grey levels.
    FashionMnist,
    /// CIFAR-10, 32 × 32 RGB.
    Cifar10,
}

impl DatasetName {
    /// Every data set, in the order used in messages.
    pub const ALL: [DatasetName; 3] = [
        DatasetName::Mnist,
        DatasetName::FashionMnist,
        DatasetName::Cifar10,
    ];

    /// The name accepted by [`FromStr`] and printed by [`fmt::Display`]:
    /// `mnist`, `fashion-mnist` or `cifar10`.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
            DatasetName::Cifar10 => "cifar10",
        }
    }

    /// Values per example: 784 (28 × 28) or 3072 (3 × 32 × 32).
    pub fn dim(self) -> usize {
        match self {
            DatasetName::Mnist | DatasetName::FashionMnist => 784,
            DatasetName::Cifar10 => 3072,
        }
    }

    /// The valid names, comma-separated, for messages.
    pub fn valid_names() -> String {
        DatasetName::ALL
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DatasetName {
    type Err = DataError;

    /// Parses `mnist`, `fashion-mnist` or `cifar10` (exactly, lower case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatasetName::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| DataError::UnknownDataset { name: s.to_owned() })
    }
}

/// Which official split to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Split {
    /// The official training split (the only one the paper uses).
    #[default]
    Train,
    /// The official test split.
    Test,
}

impl Split {
    /// `train` or `test`.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Split {
    type Err = DataError;

    /// Parses `train` or `test`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "train" => Ok(Split::Train),
            "test" => Ok(Split::Test),
            _ => Err(DataError::UnknownSplit { name: s.to_owned() }),
        }
    }
}

/// A data set as stored: `n` examples of `dim` bytes each plus their labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDataset {
    /// Which data set this is.
    pub name: DatasetName,
    /// Number of examples.
    pub n: usize,
    /// Bytes per example: 784 for (Fashion-)MNIST, 3072 for CIFAR-10.
    pub dim: usize,
    /// `n × dim` pixel bytes, example after example (CIFAR-10: R, G, B planes).
    pub pixels: Vec<u8>,
    /// `n` labels in `0..=9`.
    pub labels: Vec<u8>,
    /// Where the data came from (file paths, or the embedded subset).
    pub source: String,
}

impl RawDataset {
    /// The pixel bytes of example `i`, or `None` when `i >= n`.
    pub fn example(&self, i: usize) -> Option<&[u8]> {
        let start = i.checked_mul(self.dim)?;
        self.pixels.get(start..start.checked_add(self.dim)?)
    }
}

/// Loads a split of a data set.
///
/// * `mnist`: with `data_dir`, the standard files `train-images-idx3-ubyte`,
///   `train-labels-idx1-ubyte` (or `t10k-…` for the test split), each raw or
///   with a `.gz` suffix, in `data_dir/mnist/` or else `data_dir`. Without
///   `data_dir`, the embedded 10 000-image subset (train split only; asking
///   for the test split is an error).
/// * `fashion-mnist`: the same file names, in `data_dir/fashion-mnist/` or
///   else `data_dir`; without `data_dir`, in
///   [`FASHION_MNIST_DEBIAN_DIR`] (Debian package `dataset-fashion-mnist`).
/// * `cifar10`: `data_dir` is required; see [`crate::load_cifar10`].
///
/// # Errors
/// [`DataError::MissingFiles`] (with an install hint),
/// [`DataError::DataDirRequired`], [`DataError::SplitUnavailable`], or any
/// format error of the files read.
///
/// The subfolder named after the data set is searched before `data_dir`
/// itself, so one directory can hold `mnist/` and `fashion-mnist/` side by
/// side without one being mistaken for the other.
pub fn load(
    name: DatasetName,
    data_dir: Option<&Path>,
    split: Split,
) -> Result<RawDataset, DataError> {
    match (name, data_dir) {
        (DatasetName::Mnist, None) => match split {
            Split::Train => embedded_mnist_subset(),
            Split::Test => Err(DataError::SplitUnavailable {
                dataset: name,
                split,
                source_desc: MNIST_SUBSET_SOURCE.to_owned(),
                hint: "pass a data directory holding t10k-images-idx3-ubyte[.gz] and \
                       t10k-labels-idx1-ubyte[.gz]"
                    .to_owned(),
            }),
        },
        (DatasetName::Mnist, Some(dir)) => load_idx_dataset(
            name,
            &[dir.join("mnist"), dir.to_path_buf()],
            split,
            "Pass a directory holding the four MNIST IDX files (raw or .gz), or omit the data \
             directory to use the embedded 10000-image training subset.",
        ),
        (DatasetName::FashionMnist, Some(dir)) => load_idx_dataset(
            name,
            &[dir.join("fashion-mnist"), dir.to_path_buf()],
            split,
            "Pass a directory holding the four Fashion-MNIST IDX files (raw or .gz).",
        ),
        (DatasetName::FashionMnist, None) => load_idx_dataset(
            name,
            &[PathBuf::from(FASHION_MNIST_DEBIAN_DIR)],
            split,
            "Install it with `apt-get install dataset-fashion-mnist`, or give a data directory \
             (data_dir) with the four Fashion-MNIST IDX files.",
        ),
        (DatasetName::Cifar10, Some(dir)) => load_cifar10(dir, split),
        (DatasetName::Cifar10, None) => Err(DataError::DataDirRequired {
            dataset: name,
            hint: format!(
                "give a data directory (data_dir) with data_batch_1.bin … data_batch_5.bin and \
                 test_batch.bin (or the `{}/` directory holding them)",
                crate::cifar::CIFAR10_SUBDIR
            ),
        }),
    }
}

/// Standard IDX file stems for a split: (images, labels).
fn idx_stems(split: Split) -> (&'static str, &'static str) {
    match split {
        Split::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        Split::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
}

/// Finds `stem` or `stem.gz` in `dir`; on failure pushes both onto `missing`.
fn find_variant(dir: &Path, stem: &str, missing: &mut Vec<PathBuf>) -> Option<PathBuf> {
    let raw = dir.join(stem);
    let gz = dir.join(format!("{stem}.gz"));
    if raw.is_file() {
        Some(raw)
    } else if gz.is_file() {
        Some(gz)
    } else {
        missing.push(raw);
        missing.push(gz);
        None
    }
}

/// Loads an IDX data set from the first candidate directory that holds both
/// files of the split.
///
/// # Errors
/// [`DataError::MissingFiles`] with `hint` when no candidate holds both files;
/// otherwise those of [`crate::read_idx_pair`].
pub fn load_idx_dataset(
    name: DatasetName,
    candidates: &[PathBuf],
    split: Split,
    hint: &str,
) -> Result<RawDataset, DataError> {
    let (img_stem, lab_stem) = idx_stems(split);
    let mut missing = Vec::new();
    for dir in candidates {
        let mut absent = Vec::new();
        let images = find_variant(dir, img_stem, &mut absent);
        let labels = find_variant(dir, lab_stem, &mut absent);
        if let (Some(images), Some(labels)) = (images, labels) {
            let (imgs, labs) = read_idx_pair(&images, &labels)?;
            return Ok(RawDataset {
                name,
                n: imgs.n,
                dim: imgs.rows * imgs.cols,
                pixels: imgs.pixels,
                labels: labs,
                source: format!("{} + {}", images.display(), labels.display()),
            });
        }
        missing.extend(absent);
    }
    Err(DataError::MissingFiles {
        dataset: name,
        split,
        looked_for: missing,
        hint: hint.to_owned(),
    })
}
