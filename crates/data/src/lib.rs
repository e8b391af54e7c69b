//! Strictly validated readers for the image data sets of the noisyprop
//! real-data experiments (spec §4): MNIST, Fashion-MNIST and CIFAR-10.
//!
//! * [`load`] finds and reads a split of a data set by [`DatasetName`]:
//!   MNIST from a directory of IDX files or, without one, from a 10 000-image
//!   subset compiled into the library ([`embedded_mnist_subset`]);
//!   Fashion-MNIST from a directory or from Debian's `dataset-fashion-mnist`
//!   package ([`FASHION_MNIST_DEBIAN_DIR`]); CIFAR-10 from a directory of
//!   binary batches.
//! * The format readers ([`read_idx_images`], [`read_idx_labels`],
//!   [`read_cifar10_batch`], …) accept raw or gzip input (detected from the
//!   content) and reject every malformed file with a typed [`DataError`] that
//!   names the file and the offending value. They never panic on any input.
//! * [`prepare`] / [`prepare_with`] turn a [`RawDataset`] into the paper's
//!   inputs: flattened, scaled to `[0, 1]` by /255, shuffled once with a seeded
//!   `ChaCha8Rng`, the first 90 % for training and the last 10 % for
//!   validation.
//!
//! ```
//! use noisyprop_data::{load, prepare, DatasetName, Split};
//!
//! let raw = load(DatasetName::Mnist, None, Split::Train)?; // embedded subset
//! assert_eq!((raw.n, raw.dim), (10_000, 784));
//! let data = prepare(&raw, 42, 0.1)?;
//! assert_eq!((data.train.n, data.val.n), (9_000, 1_000));
//! # Ok::<(), noisyprop_data::DataError>(())
//! ```
#![deny(missing_docs)]

mod cifar;
mod dataset;
mod embedded;
mod error;
mod idx;
mod prepare;

pub use cifar::{
    CIFAR10_IMAGE_BYTES, CIFAR10_RECORD_BYTES, CIFAR10_SUBDIR, CIFAR10_TEST_FILES,
    CIFAR10_TRAIN_FILES, CifarBatch, load_cifar10, parse_cifar10_batch, read_cifar10_batch,
};
pub use dataset::{
    DatasetName, FASHION_MNIST_DEBIAN_DIR, RawDataset, Split, load, load_idx_dataset,
};
pub use embedded::{
    MNIST_SUBSET_IMAGES_GZ, MNIST_SUBSET_IMAGES_SHA256, MNIST_SUBSET_LABELS_GZ,
    MNIST_SUBSET_LABELS_SHA256, MNIST_SUBSET_LEN, MNIST_SUBSET_SOURCE, embedded_mnist_subset,
};
pub use error::DataError;
pub use idx::{
    IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IMAGE_COLS, IMAGE_ROWS, IdxImages, MAX_LABEL,
    parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels, read_idx_pair,
};
pub use prepare::{
    DEFAULT_VAL_FRACTION, Examples, PrepareOptions, Prepared, prepare, prepare_with, split_sizes,
};
