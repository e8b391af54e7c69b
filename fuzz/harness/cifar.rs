//! Harness of the fuzz target `cifar`: `parse_cifar10_batch` (the CIFAR-10
//! binary version, 3073-byte records) on arbitrary bytes.
//!
//! Properties of every `Ok`: the input is a whole number (≥ 1) of records,
//! there is one label in 0..=9 and 3072 pixel bytes per record, and they are
//! the record's bytes in order; every error names the file.
//!
//! Shared by `fuzz/fuzz_targets/cifar.rs` and the data crate's
//! `tests/fuzz_regressions.rs` (which replays `fuzz/corpus/cifar/`).

use std::path::Path;

use noisyprop_data::{CIFAR10_IMAGE_BYTES, CIFAR10_RECORD_BYTES, parse_cifar10_batch};

/// Runs every check on `data`; panics on a violated property.
pub fn run(data: &[u8]) {
    match parse_cifar10_batch(data, Path::new("fuzz.bin")) {
        Ok(b) => {
            let n = b.labels.len();
            assert!(
                n >= 1 && data.len() == n * CIFAR10_RECORD_BYTES,
                "{n} records"
            );
            assert_eq!(b.pixels.len(), n * CIFAR10_IMAGE_BYTES, "pixel count");
            for (i, record) in data.chunks_exact(CIFAR10_RECORD_BYTES).enumerate() {
                assert!(b.labels[i] <= 9, "label {} at {i}", b.labels[i]);
                assert_eq!(record[0], b.labels[i], "label {i}");
                let image = &b.pixels[i * CIFAR10_IMAGE_BYTES..(i + 1) * CIFAR10_IMAGE_BYTES];
                assert_eq!(&record[1..], image, "pixels of {i}");
            }
        }
        Err(e) => assert!(e.to_string().contains("fuzz.bin"), "{e}"),
    }
}
