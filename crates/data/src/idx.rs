//! Reader for the IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed.
//!
//! An IDX file is a big-endian header — the magic number `0x0000TTDD` (`TT` the
//! element type, `0x08` for unsigned bytes; `DD` the number of dimensions),
//! then one `u32` per dimension — followed by the elements in row-major
//! order. Image files have magic `0x00000803` (n × rows × cols, here always
//! 28 × 28); label files have magic `0x00000801` (n).
//!
//! Compression is detected from the content (the gzip magic bytes `1f 8b`),
//! never from the file name. Nothing is allocated from header values before
//! the payload has been seen to be that long, so a lying header cannot make
//! the reader allocate huge buffers.

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::DataError;

/// Magic number of an IDX file of unsigned-byte images (3 dimensions).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (1 dimension).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;
/// Height of an MNIST / Fashion-MNIST image.
pub const IMAGE_ROWS: u32 = 28;
/// Width of an MNIST / Fashion-MNIST image.
pub const IMAGE_COLS: u32 = 28;
/// Largest valid label.
pub const MAX_LABEL: u8 = 9;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const IMAGES_KIND: &str = "IDX images: unsigned bytes, 3 dimensions";
const LABELS_KIND: &str = "IDX labels: unsigned bytes, 1 dimension";

/// The contents of an IDX image file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub n: usize,
    /// Rows per image (28).
    pub rows: usize,
    /// Columns per image (28).
    pub cols: usize,
    /// `n × rows × cols` pixel bytes, image after image, each row-major.
    pub pixels: Vec<u8>,
}

/// Reads an IDX image file (`*-images-idx3-ubyte`, raw or gzip) of 28 × 28 images.
///
/// # Errors
/// [`DataError::Io`], [`DataError::Gzip`], [`DataError::TruncatedHeader`],
/// [`DataError::BadMagic`], [`DataError::WrongDimensionCount`],
/// [`DataError::BadImageShape`], [`DataError::TruncatedPayload`] or
/// [`DataError::TrailingBytes`], each naming `path`.
pub fn read_idx_images(path: &Path) -> Result<IdxImages, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    images_from_reader(file, path)
}

/// Reads an IDX label file (`*-labels-idx1-ubyte`, raw or gzip); every label
/// must be in `0..=9`.
///
/// # Errors
/// As [`read_idx_images`] (less [`DataError::BadImageShape`]), plus
/// [`DataError::BadLabel`].
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    labels_from_reader(file, path)
}

/// Parses IDX image data held in memory (raw or gzip); `name` is only used in
/// error messages.
///
/// # Errors
/// As [`read_idx_images`].
pub fn parse_idx_images(bytes: &[u8], name: &Path) -> Result<IdxImages, DataError> {
    images_from_reader(bytes, name)
}

/// Parses IDX label data held in memory (raw or gzip); `name` is only used in
/// error messages.
///
/// # Errors
/// As [`read_idx_labels`].
pub fn parse_idx_labels(bytes: &[u8], name: &Path) -> Result<Vec<u8>, DataError> {
    labels_from_reader(bytes, name)
}

/// Reads a matching pair of IDX image and label files and checks that they
/// hold the same number of examples.
///
/// # Errors
/// Those of [`read_idx_images`] and [`read_idx_labels`], plus
/// [`DataError::CountMismatch`].
pub fn read_idx_pair(images: &Path, labels: &Path) -> Result<(IdxImages, Vec<u8>), DataError> {
    let imgs = read_idx_images(images)?;
    let labs = read_idx_labels(labels)?;
    check_counts(&imgs, &labs, images, labels)?;
    Ok((imgs, labs))
}

pub(crate) fn check_counts(
    imgs: &IdxImages,
    labels: &[u8],
    images_path: &Path,
    labels_path: &Path,
) -> Result<(), DataError> {
    if imgs.n != labels.len() {
        return Err(DataError::CountMismatch {
            images_path: images_path.to_path_buf(),
            labels_path: labels_path.to_path_buf(),
            images: imgs.n as u64,
            labels: labels.len() as u64,
        });
    }
    Ok(())
}

/// A byte source that maps read errors to the right [`DataError`] variant.
struct Source<'a> {
    inner: Box<dyn Read + 'a>,
    gzip: bool,
    path: &'a Path,
}

impl<'a> Source<'a> {
    /// Sniffs the first two bytes and wraps the reader in a gzip decoder when
    /// they are the gzip magic.
    fn new<R: Read + 'a>(mut reader: R, path: &'a Path) -> Result<Self, DataError> {
        let mut prefix = Vec::with_capacity(2);
        (&mut reader)
            .take(2)
            .read_to_end(&mut prefix)
            .map_err(|e| DataError::io(path, e))?;
        let gzip = prefix == GZIP_MAGIC;
        let chained = Cursor::new(prefix).chain(reader);
        let inner: Box<dyn Read + 'a> = if gzip {
            Box::new(MultiGzDecoder::new(chained))
        } else {
            Box::new(chained)
        };
        Ok(Source { inner, gzip, path })
    }

    fn error(&self, e: io::Error) -> DataError {
        if self.gzip {
            DataError::Gzip {
                path: self.path.to_path_buf(),
                cause: e,
            }
        } else {
            DataError::io(self.path, e)
        }
    }

    /// Reads up to `limit` bytes; fewer only at end of input.
    fn read_up_to(&mut self, limit: u64) -> Result<Vec<u8>, DataError> {
        let mut buf = Vec::new();
        match (&mut self.inner).take(limit).read_to_end(&mut buf) {
            Ok(_) => Ok(buf),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Reads exactly `N` header bytes, appending them to `header`.
    fn read_header_part(
        &mut self,
        header: &mut Vec<u8>,
        len: usize,
        header_len: u64,
    ) -> Result<(), DataError> {
        let part = self.read_up_to(len as u64)?;
        header.extend_from_slice(&part);
        if part.len() < len {
            return Err(DataError::TruncatedHeader {
                path: self.path.to_path_buf(),
                expected: header_len,
                found: header.len() as u64,
            });
        }
        Ok(())
    }

    /// Counts and discards what is left.
    fn count_rest(&mut self) -> Result<u64, DataError> {
        match io::copy(&mut self.inner, &mut io::sink()) {
            Ok(n) => Ok(n),
            Err(e) => Err(self.error(e)),
        }
    }

    /// Reads a payload of exactly `expected` bytes followed by end of input.
    fn read_payload(&mut self, expected: u64, what: &str) -> Result<Vec<u8>, DataError> {
        let payload = self.read_up_to(expected)?;
        let found = payload.len() as u64;
        if found < expected {
            return Err(DataError::TruncatedPayload {
                path: self.path.to_path_buf(),
                expected,
                found,
                what: what.to_owned(),
            });
        }
        let extra = self.count_rest()?;
        if extra > 0 {
            return Err(DataError::TrailingBytes {
                path: self.path.to_path_buf(),
                expected,
                extra,
                what: what.to_owned(),
            });
        }
        Ok(payload)
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    if let Some(src) = bytes.get(at..at + 4) {
        word.copy_from_slice(src);
    }
    u32::from_be_bytes(word)
}

/// Reads and checks the magic number; returns the header bytes read so far.
fn read_magic(
    src: &mut Source<'_>,
    expected: u32,
    header_len: u64,
    kind: &'static str,
) -> Result<Vec<u8>, DataError> {
    let mut header = Vec::with_capacity(header_len as usize);
    src.read_header_part(&mut header, 4, header_len)?;
    let found = be_u32(&header, 0);
    let [z0, z1, ty, dims] = found.to_be_bytes();
    let [_, _, want_ty, want_dims] = expected.to_be_bytes();
    if z0 != 0 || z1 != 0 || ty != want_ty {
        return Err(DataError::BadMagic {
            path: src.path.to_path_buf(),
            expected,
            found,
            kind,
        });
    }
    if dims != want_dims {
        return Err(DataError::WrongDimensionCount {
            path: src.path.to_path_buf(),
            expected: want_dims,
            found: dims,
            kind,
        });
    }
    Ok(header)
}

fn images_from_reader<'a, R: Read + 'a>(reader: R, path: &'a Path) -> Result<IdxImages, DataError> {
    const HEADER_LEN: u64 = 16;
    let mut src = Source::new(reader, path)?;
    let mut header = read_magic(&mut src, IDX_IMAGES_MAGIC, HEADER_LEN, IMAGES_KIND)?;
    src.read_header_part(&mut header, 12, HEADER_LEN)?;
    let n = be_u32(&header, 4);
    let rows = be_u32(&header, 8);
    let cols = be_u32(&header, 12);
    if rows != IMAGE_ROWS || cols != IMAGE_COLS {
        return Err(DataError::BadImageShape {
            path: path.to_path_buf(),
            rows,
            cols,
            expected_rows: IMAGE_ROWS,
            expected_cols: IMAGE_COLS,
        });
    }
    // n < 2^32 and rows·cols = 784, so this cannot overflow a u64.
    let expected = u64::from(n) * u64::from(rows) * u64::from(cols);
    let what = format!("image bytes for {n} images of {rows}×{cols}");
    let pixels = src.read_payload(expected, &what)?;
    let (rows, cols) = (rows as usize, cols as usize);
    Ok(IdxImages {
        n: pixels.len() / (rows * cols),
        rows,
        cols,
        pixels,
    })
}

fn labels_from_reader<'a, R: Read + 'a>(reader: R, path: &'a Path) -> Result<Vec<u8>, DataError> {
    const HEADER_LEN: u64 = 8;
    let mut src = Source::new(reader, path)?;
    let mut header = read_magic(&mut src, IDX_LABELS_MAGIC, HEADER_LEN, LABELS_KIND)?;
    src.read_header_part(&mut header, 4, HEADER_LEN)?;
    let n = be_u32(&header, 4);
    let what = format!("label bytes for {n} labels");
    let labels = src.read_payload(u64::from(n), &what)?;
    check_labels(&labels, path)?;
    Ok(labels)
}

pub(crate) fn check_labels(labels: &[u8], path: &Path) -> Result<(), DataError> {
    match labels.iter().position(|&l| l > MAX_LABEL) {
        Some(index) => Err(DataError::BadLabel {
            path: path.to_path_buf(),
            index: index as u64,
            label: labels[index],
        }),
        None => Ok(()),
    }
}
