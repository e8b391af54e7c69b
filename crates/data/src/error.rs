//! The crate's single error type.

use std::fmt;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while locating, reading or preparing a data set.
///
/// Every variant that concerns a file names that file (in the `path`-like
/// fields and in the message) together with the offending value, so that the
/// message alone tells a user what to fix. Messages are complete on their
/// own: an underlying I/O or decoder error is part of the message and not
/// also exposed as `source()`, so a printed error chain does not say it twice.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("`{}`: cannot read: {cause}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        cause: std::io::Error,
    },

    /// The file starts with the gzip magic bytes `1f 8b` but its gzip stream is
    /// corrupt or cut short.
    #[error("`{}`: corrupt or truncated gzip data: {cause}", .path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// The decoder's error.
        cause: std::io::Error,
    },

    /// The file is shorter than its fixed-size header.
    #[error(
        "`{}`: truncated header: expected {expected} header bytes, found {found}",
        .path.display()
    )]
    TruncatedHeader {
        /// The file.
        path: PathBuf,
        /// Header length in bytes.
        expected: u64,
        /// Bytes actually present (after decompression).
        found: u64,
    },

    /// The IDX magic number is not the one expected for this kind of file
    /// (for example a label file given where an image file was expected).
    #[error(
        "`{}`: bad IDX magic number 0x{found:08x}, expected 0x{expected:08x} ({kind})",
        .path.display()
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The magic number expected.
        expected: u32,
        /// The magic number found in the first four bytes.
        found: u32,
        /// What kind of file was expected, e.g. `"IDX images, u8, 3 dimensions"`.
        kind: &'static str,
    },

    /// The IDX header declares unsigned bytes but the wrong number of
    /// dimensions (the fourth magic byte).
    #[error(
        "`{}`: IDX file has {found} dimensions, expected {expected} ({kind})",
        .path.display()
    )]
    WrongDimensionCount {
        /// The file.
        path: PathBuf,
        /// Number of dimensions expected (3 for images, 1 for labels).
        expected: u8,
        /// Number of dimensions declared by the file.
        found: u8,
        /// What kind of file was expected.
        kind: &'static str,
    },

    /// The images are not of the expected size.
    #[error(
        "`{}`: images are {rows}×{cols}, expected {expected_rows}×{expected_cols}",
        .path.display()
    )]
    BadImageShape {
        /// The file.
        path: PathBuf,
        /// Rows declared by the file.
        rows: u32,
        /// Columns declared by the file.
        cols: u32,
        /// Rows expected.
        expected_rows: u32,
        /// Columns expected.
        expected_cols: u32,
    },

    /// The payload after the header is shorter than the header promises.
    #[error("`{}`: expected {expected} {what}, found {found}", .path.display())]
    TruncatedPayload {
        /// The file.
        path: PathBuf,
        /// Payload bytes the header promises.
        expected: u64,
        /// Payload bytes present.
        found: u64,
        /// What the bytes are, e.g. `"image bytes for 60000 images of 28×28"`.
        what: String,
    },

    /// Bytes follow the payload that the header promises.
    #[error(
        "`{}`: {extra} trailing bytes after the {expected} {what}",
        .path.display()
    )]
    TrailingBytes {
        /// The file.
        path: PathBuf,
        /// Payload bytes the header promises.
        expected: u64,
        /// Number of surplus bytes.
        extra: u64,
        /// What the payload is.
        what: String,
    },

    /// The image and label files hold different numbers of examples.
    #[error(
        "`{}` holds {images} images but `{}` holds {labels} labels",
        .images_path.display(),
        .labels_path.display()
    )]
    CountMismatch {
        /// The image file.
        images_path: PathBuf,
        /// The label file.
        labels_path: PathBuf,
        /// Number of images.
        images: u64,
        /// Number of labels.
        labels: u64,
    },

    /// A label is outside `0..=9`.
    #[error(
        "`{}`: label {label} of example {index} is out of range 0..=9",
        .path.display()
    )]
    BadLabel {
        /// The file.
        path: PathBuf,
        /// Zero-based index of the example within the file.
        index: u64,
        /// The label found.
        label: u8,
    },

    /// A CIFAR-10 binary batch whose length is not a positive multiple of the
    /// 3073-byte record (1 label byte + 3072 pixel bytes).
    #[error(
        "`{}`: length {len} bytes is not a positive multiple of the {record}-byte CIFAR-10 record \
         ({} whole records and {} bytes left over)",
        .path.display(),
        .len / .record,
        .len % .record
    )]
    CifarLength {
        /// The file.
        path: PathBuf,
        /// The file's length in bytes.
        len: u64,
        /// The record length, 3073.
        record: u64,
    },

    /// The files of a data set were not found.
    #[error("{dataset} {split} data not found; looked for: {}. {hint}", PathList(.looked_for))]
    MissingFiles {
        /// The data set.
        dataset: crate::DatasetName,
        /// The split.
        split: crate::Split,
        /// Every path that was tried and is absent.
        looked_for: Vec<PathBuf>,
        /// How to obtain the data.
        hint: String,
    },

    /// The data set needs a data directory and none was given.
    #[error("{dataset} needs a data directory: {hint}")]
    DataDirRequired {
        /// The data set.
        dataset: crate::DatasetName,
        /// What the directory must contain.
        hint: String,
    },

    /// The requested split is not available from the chosen source.
    #[error("{dataset} {split} split is not available from {source_desc}: {hint}")]
    SplitUnavailable {
        /// The data set.
        dataset: crate::DatasetName,
        /// The split asked for.
        split: crate::Split,
        /// The source that lacks it.
        source_desc: String,
        /// What to do instead.
        hint: String,
    },

    /// A data-set name that is not one of [`crate::DatasetName::ALL`].
    #[error(
        "unknown data set `{name}`; valid names: {}",
        crate::DatasetName::valid_names()
    )]
    UnknownDataset {
        /// The name given.
        name: String,
    },

    /// A split name other than `train` or `test`.
    #[error("unknown split `{name}`; valid names: train, test")]
    UnknownSplit {
        /// The name given.
        name: String,
    },

    /// The validation fraction is not in `[0, 1)`.
    #[error("validation fraction {value} is not in [0, 1)")]
    InvalidValFraction {
        /// The value given.
        value: f64,
    },

    /// After capping and splitting, the training part would be empty.
    #[error(
        "no training examples left: {n} examples with validation fraction {val_fraction} \
         leave {n_train} for training"
    )]
    EmptyTrainingSet {
        /// Examples available after `max_examples`.
        n: usize,
        /// The validation fraction.
        val_fraction: f64,
        /// Training examples that would remain.
        n_train: usize,
    },

    /// A [`crate::RawDataset`] whose fields disagree with each other.
    #[error("inconsistent data set `{source_desc}`: {detail}")]
    InconsistentDataset {
        /// The data set's `source`.
        source_desc: String,
        /// What disagrees.
        detail: String,
    },
}

impl DataError {
    pub(crate) fn io(path: &Path, cause: std::io::Error) -> Self {
        DataError::Io {
            path: path.to_path_buf(),
            cause,
        }
    }
}

/// Formats a list of paths as `` `a`, `b` ``.
struct PathList<'a>(&'a [PathBuf]);

impl fmt::Display for PathList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{}`", p.display())?;
        }
        Ok(())
    }
}
