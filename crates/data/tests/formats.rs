//! IDX and CIFAR-10 readers: round trips, locating files, and rejection of
//! every kind of malformed input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::*;
use noisyprop_data::*;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn expect_err<T: std::fmt::Debug>(r: Result<T, DataError>) -> DataError {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

/// The message must name the file.
fn assert_names(e: &DataError, path: &Path) {
    let msg = e.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "message does not name `{}`: {msg}",
        path.display()
    );
}

// ---------------------------------------------------------------- round trips

#[test]
fn idx_round_trip_raw_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let raw = idx_images(5, 28, 28);
    let labels = [3, 1, 4, 1, 5];
    for (suffix, img_bytes, lab_bytes) in [
        ("", raw.clone(), idx_labels(&labels)),
        (".gz", gzip(&raw), gzip(&idx_labels(&labels))),
    ] {
        let ip = write(dir.path(), &format!("imgs{suffix}"), &img_bytes);
        let lp = write(dir.path(), &format!("labs{suffix}"), &lab_bytes);
        let (imgs, labs) = read_idx_pair(&ip, &lp).unwrap();
        assert_eq!((imgs.n, imgs.rows, imgs.cols), (5, 28, 28));
        assert_eq!(imgs.pixels, raw[16..]);
        assert_eq!(labs, labels);
        // In memory too.
        assert_eq!(parse_idx_images(&img_bytes, &ip).unwrap(), imgs);
        assert_eq!(parse_idx_labels(&lab_bytes, &lp).unwrap(), labels);
    }
}

#[test]
fn gzip_detected_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    // Compressed content under a raw name, raw content under a .gz name.
    let ip = write(dir.path(), "images", &gzip(&idx_images(2, 28, 28)));
    let lp = write(dir.path(), "labels.gz", &idx_labels(&[7, 9]));
    let (imgs, labs) = read_idx_pair(&ip, &lp).unwrap();
    assert_eq!(imgs.n, 2);
    assert_eq!(labs, [7, 9]);
}

#[test]
fn empty_idx_files_are_valid() {
    let imgs = parse_idx_images(&idx_images(0, 28, 28), Path::new("e")).unwrap();
    assert_eq!((imgs.n, imgs.pixels.len()), (0, 0));
    assert!(
        parse_idx_labels(&idx_labels(&[]), Path::new("e"))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn load_mnist_and_fashion_from_dir() {
    let dir = tempfile::tempdir().unwrap();
    let n = 12;
    let labels = cycling_labels(n);
    // MNIST: gzip train files at the top level, raw test files.
    write(
        dir.path(),
        "train-images-idx3-ubyte.gz",
        &gzip(&idx_images(n as u32, 28, 28)),
    );
    write(
        dir.path(),
        "train-labels-idx1-ubyte.gz",
        &gzip(&idx_labels(&labels)),
    );
    write(dir.path(), "t10k-images-idx3-ubyte", &idx_images(3, 28, 28));
    write(
        dir.path(),
        "t10k-labels-idx1-ubyte",
        &idx_labels(&[0, 1, 2]),
    );
    let train = load(DatasetName::Mnist, Some(dir.path()), Split::Train).unwrap();
    assert_eq!(
        (train.name, train.n, train.dim),
        (DatasetName::Mnist, n, 784)
    );
    assert_eq!(train.labels, labels);
    assert_eq!(train.example(1).unwrap()[5], pixel(1, 5));
    assert!(train.source.contains("train-images-idx3-ubyte.gz"));
    let test = load(DatasetName::Mnist, Some(dir.path()), Split::Test).unwrap();
    assert_eq!((test.n, test.labels.as_slice()), (3, &[0u8, 1, 2][..]));

    // Fashion-MNIST in a `fashion-mnist/` subfolder: preferred over the
    // (MNIST) files at the top level.
    let sub = dir.path().join("fashion-mnist");
    std::fs::create_dir(&sub).unwrap();
    write(
        &sub,
        "train-images-idx3-ubyte.gz",
        &gzip(&idx_images(4, 28, 28)),
    );
    write(
        &sub,
        "train-labels-idx1-ubyte.gz",
        &gzip(&idx_labels(&[9, 8, 7, 6])),
    );
    let f = load(DatasetName::FashionMnist, Some(dir.path()), Split::Train).unwrap();
    assert_eq!((f.name, f.n), (DatasetName::FashionMnist, 4));
    assert_eq!(f.labels, [9, 8, 7, 6]);
    assert_eq!(
        load(DatasetName::Mnist, Some(dir.path()), Split::Train)
            .unwrap()
            .n,
        n
    );

    // MNIST in a `mnist/` subfolder.
    let dir2 = tempfile::tempdir().unwrap();
    let sub = dir2.path().join("mnist");
    std::fs::create_dir(&sub).unwrap();
    write(&sub, "train-images-idx3-ubyte", &idx_images(2, 28, 28));
    write(&sub, "train-labels-idx1-ubyte", &idx_labels(&[1, 2]));
    assert_eq!(
        load(DatasetName::Mnist, Some(dir2.path()), Split::Train)
            .unwrap()
            .n,
        2
    );
}

#[test]
fn cifar_round_trip_and_nested_dir() {
    for nested in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = if nested {
            let d = tmp.path().join("cifar-10-batches-bin");
            std::fs::create_dir(&d).unwrap();
            d
        } else {
            tmp.path().to_path_buf()
        };
        for (k, name) in CIFAR10_TRAIN_FILES.iter().enumerate() {
            write(&dir, name, &cifar_batch(3, 3 * k));
        }
        write(&dir, "test_batch.bin", &cifar_batch(2, 100));

        let train = load(DatasetName::Cifar10, Some(tmp.path()), Split::Train).unwrap();
        assert_eq!(
            (train.name, train.n, train.dim),
            (DatasetName::Cifar10, 15, 3072)
        );
        assert_eq!(train.labels, cycling_labels(15));
        for i in 0..15 {
            let ex = train.example(i).unwrap();
            assert_eq!(
                (ex[0], ex[1024], ex[3071]),
                (pixel(i, 0), pixel(i, 1024), pixel(i, 3071))
            );
        }
        let test = load(DatasetName::Cifar10, Some(tmp.path()), Split::Test).unwrap();
        assert_eq!(test.n, 2);
        assert_eq!(test.labels, [0, 1]);
    }
}

// ------------------------------------------------------------ corrupt IDX

#[test]
fn idx_wrong_magic() {
    let dir = tempfile::tempdir().unwrap();
    // A label file where images are expected.
    let p = write(dir.path(), "train-images-idx3-ubyte", &idx_labels(&[1, 2]));
    let e = expect_err(read_idx_images(&p));
    assert!(
        matches!(
            e,
            DataError::WrongDimensionCount {
                expected: 3,
                found: 1,
                ..
            }
        ),
        "{e}"
    );
    assert_names(&e, &p);
    // Garbage magic (type byte not 0x08), gzip-compressed.
    let mut bytes = idx_images(1, 28, 28);
    bytes[2] = 0x0b;
    let p = write(dir.path(), "x.gz", &gzip(&bytes));
    let e = expect_err(read_idx_images(&p));
    assert!(
        matches!(
            e,
            DataError::BadMagic {
                found: 0x0000_0b03,
                expected: 0x0000_0803,
                ..
            }
        ),
        "{e}"
    );
    assert_names(&e, &p);
    assert!(e.to_string().contains("0x00000b03"), "{e}");
    // Images where labels are expected.
    let p = write(dir.path(), "labels", &idx_images(1, 28, 28));
    let e = expect_err(read_idx_labels(&p));
    assert!(
        matches!(
            e,
            DataError::WrongDimensionCount {
                expected: 1,
                found: 3,
                ..
            }
        ),
        "{e}"
    );
    // Non-zero leading bytes.
    let mut bytes = idx_labels(&[1]);
    bytes[0] = 0xff;
    let p = write(dir.path(), "labels2", &bytes);
    let e = expect_err(read_idx_labels(&p));
    assert!(matches!(e, DataError::BadMagic { .. }), "{e}");
    assert_names(&e, &p);
}

#[test]
fn idx_bad_image_shape() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "imgs", &idx_images(2, 32, 28));
    let e = expect_err(read_idx_images(&p));
    assert!(
        matches!(
            e,
            DataError::BadImageShape {
                rows: 32,
                cols: 28,
                ..
            }
        ),
        "{e}"
    );
    assert_names(&e, &p);
}

#[test]
fn idx_truncated_header() {
    let dir = tempfile::tempdir().unwrap();
    let full = idx_images(2, 28, 28);
    for (len, name) in [
        (0, "empty"),
        (1, "one"),
        (3, "three"),
        (10, "ten"),
        (15, "fifteen"),
    ] {
        let p = write(dir.path(), name, &full[..len]);
        let e = expect_err(read_idx_images(&p));
        assert!(
            matches!(e, DataError::TruncatedHeader { expected: 16, found, .. } if found == len as u64),
            "{len}: {e}"
        );
        assert_names(&e, &p);
    }
    let p = write(dir.path(), "labs.gz", &gzip(&idx_labels(&[1, 2])[..6]));
    let e = expect_err(read_idx_labels(&p));
    assert!(
        matches!(
            e,
            DataError::TruncatedHeader {
                expected: 8,
                found: 6,
                ..
            }
        ),
        "{e}"
    );
    assert_names(&e, &p);
}

#[test]
fn idx_truncated_payload_message() {
    let dir = tempfile::tempdir().unwrap();
    // Header says 60000 images, 1000 payload bytes follow.
    let mut bytes = idx_images(0, 28, 28);
    bytes[4..8].copy_from_slice(&60_000u32.to_be_bytes());
    bytes.extend(std::iter::repeat_n(0u8, 1000));
    let p = write(dir.path(), "train-images-idx3-ubyte.gz", &gzip(&bytes));
    let e = expect_err(read_idx_images(&p));
    assert!(
        matches!(
            e,
            DataError::TruncatedPayload {
                expected: 47_040_000,
                found: 1000,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "`{}`: expected 47040000 image bytes for 60000 images of 28×28, found 1000",
            p.display()
        )
    );
    // Labels.
    let p = write(dir.path(), "labs", &idx_labels(&[1, 2, 3])[..9]);
    let e = expect_err(read_idx_labels(&p));
    assert!(
        matches!(
            e,
            DataError::TruncatedPayload {
                expected: 3,
                found: 1,
                ..
            }
        ),
        "{e}"
    );
    assert_names(&e, &p);
}

#[test]
fn idx_huge_header_count_does_not_allocate() {
    // n = u32::MAX with a tiny payload must fail fast, not try to allocate 3 TB.
    let mut bytes = idx_images(0, 28, 28);
    bytes[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    let e = expect_err(parse_idx_images(&bytes, Path::new("huge")));
    assert!(
        matches!(e, DataError::TruncatedPayload { found: 0, .. }),
        "{e}"
    );
}

#[test]
fn idx_trailing_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = idx_images(2, 28, 28);
    bytes.extend_from_slice(b"junk");
    for (name, content) in [("imgs", bytes.clone()), ("imgs.gz", gzip(&bytes))] {
        let p = write(dir.path(), name, &content);
        let e = expect_err(read_idx_images(&p));
        assert!(
            matches!(
                e,
                DataError::TrailingBytes {
                    extra: 4,
                    expected: 1568,
                    ..
                }
            ),
            "{e}"
        );
        assert_names(&e, &p);
    }
    let mut labs = idx_labels(&[1, 2]);
    labs.push(3);
    let p = write(dir.path(), "labs", &labs);
    let e = expect_err(read_idx_labels(&p));
    assert!(
        matches!(e, DataError::TrailingBytes { extra: 1, .. }),
        "{e}"
    );
    // Garbage after a complete gzip member.
    let mut gz = gzip(&idx_labels(&[1, 2]));
    gz.extend_from_slice(b"garbage!");
    let p = write(dir.path(), "labs.gz", &gz);
    let e = expect_err(read_idx_labels(&p));
    assert!(matches!(e, DataError::Gzip { .. }), "{e}");
    assert_names(&e, &p);
}

#[test]
fn idx_count_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let ip = write(
        dir.path(),
        "train-images-idx3-ubyte",
        &idx_images(3, 28, 28),
    );
    let lp = write(dir.path(), "train-labels-idx1-ubyte", &idx_labels(&[1, 2]));
    let e = expect_err(read_idx_pair(&ip, &lp));
    assert!(
        matches!(
            e,
            DataError::CountMismatch {
                images: 3,
                labels: 2,
                ..
            }
        ),
        "{e}"
    );
    assert_names(&e, &ip);
    assert_names(&e, &lp);
    let e = expect_err(load(DatasetName::Mnist, Some(dir.path()), Split::Train));
    assert!(matches!(e, DataError::CountMismatch { .. }), "{e}");
}

#[test]
fn idx_bad_label() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "labs.gz", &gzip(&idx_labels(&[0, 9, 10, 3])));
    let e = expect_err(read_idx_labels(&p));
    assert!(
        matches!(
            e,
            DataError::BadLabel {
                index: 2,
                label: 10,
                ..
            }
        ),
        "{e}"
    );
    assert_names(&e, &p);
    assert!(e.to_string().contains("label 10"), "{e}");
}

#[test]
fn idx_corrupt_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let good = gzip(&idx_images(2, 28, 28));
    // Flip a byte inside the deflate stream.
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    // Break the CRC in the trailer.
    let mut bad_crc = good.clone();
    let at = bad_crc.len() - 8;
    bad_crc[at] ^= 0xff;
    // Gzip magic followed by nonsense.
    let nonsense = vec![0x1f, 0x8b, 0x00, 0x42, 0x42];
    for (name, bytes) in [
        ("flip.gz", bad),
        ("crc.gz", bad_crc),
        ("nonsense", nonsense),
    ] {
        let p = write(dir.path(), name, &bytes);
        let e = expect_err(read_idx_images(&p));
        assert!(matches!(e, DataError::Gzip { .. }), "{name}: {e}");
        assert_names(&e, &p);
    }
}

#[test]
fn idx_missing_file_is_io_error() {
    let p = Path::new("/nonexistent/dir/train-images-idx3-ubyte.gz");
    let e = expect_err(read_idx_images(p));
    assert!(matches!(e, DataError::Io { .. }), "{e}");
    assert_names(&e, p);
}

#[test]
fn idx_any_truncation_is_an_error() {
    let labels = [1, 2, 3];
    let files: [(&str, Vec<u8>, bool); 4] = [
        ("images", idx_images(3, 28, 28), true),
        ("images.gz", gzip(&idx_images(3, 28, 28)), true),
        ("labels", idx_labels(&labels), false),
        ("labels.gz", gzip(&idx_labels(&labels)), false),
    ];
    for (name, bytes, is_images) in &files {
        let path = Path::new(name);
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            let failed = if *is_images {
                parse_idx_images(cut, path).is_err()
            } else {
                parse_idx_labels(cut, path).is_err()
            };
            assert!(
                failed,
                "{name} truncated to {len} of {} bytes was accepted",
                bytes.len()
            );
        }
    }
}

#[test]
fn idx_random_corruption_never_panics() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let bases = [
        idx_images(2, 28, 28),
        gzip(&idx_images(2, 28, 28)),
        idx_labels(&[1, 2, 3]),
        gzip(&idx_labels(&[1, 2, 3])),
    ];
    for base in &bases {
        for _ in 0..300 {
            let mut b = base.clone();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            if rng.random_bool(0.3) {
                b.truncate(rng.random_range(0..=b.len()));
            }
            // Either result is fine; a panic fails the test.
            let _ = parse_idx_images(&b, Path::new("fuzz"));
            let _ = parse_idx_labels(&b, Path::new("fuzz"));
        }
    }
}

// ------------------------------------------------------------ corrupt CIFAR

#[test]
fn cifar_bad_length() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = cifar_batch(2, 0);
    bytes.pop();
    let p = write(dir.path(), "data_batch_1.bin", &bytes);
    let e = expect_err(read_cifar10_batch(&p));
    assert!(
        matches!(
            e,
            DataError::CifarLength {
                len: 6145,
                record: 3073,
                ..
            }
        ),
        "{e}"
    );
    assert_names(&e, &p);
    assert!(
        e.to_string()
            .contains("1 whole records and 3072 bytes left over"),
        "{e}"
    );
    let p = write(dir.path(), "empty.bin", &[]);
    let e = expect_err(read_cifar10_batch(&p));
    assert!(matches!(e, DataError::CifarLength { len: 0, .. }), "{e}");
}

#[test]
fn cifar_bad_label() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = cifar_batch(3, 0);
    bytes[2 * 3073] = 200;
    let p = write(dir.path(), "test_batch.bin", &bytes);
    let e = expect_err(read_cifar10_batch(&p));
    assert!(
        matches!(
            e,
            DataError::BadLabel {
                index: 2,
                label: 200,
                ..
            }
        ),
        "{e}"
    );
    assert_names(&e, &p);
    // And through load().
    let e = expect_err(load(DatasetName::Cifar10, Some(dir.path()), Split::Test));
    assert!(matches!(e, DataError::BadLabel { .. }), "{e}");
}

#[test]
fn cifar_missing_files_listed() {
    let dir = tempfile::tempdir().unwrap();
    for name in &CIFAR10_TRAIN_FILES[..4] {
        write(dir.path(), name, &cifar_batch(1, 0));
    }
    let e = expect_err(load(DatasetName::Cifar10, Some(dir.path()), Split::Train));
    let DataError::MissingFiles {
        looked_for,
        dataset,
        split,
        ..
    } = &e
    else {
        panic!("wrong variant: {e}");
    };
    assert_eq!((*dataset, *split), (DatasetName::Cifar10, Split::Train));
    // data_batch_5.bin at the top level, and all five in the nested dir.
    assert_eq!(looked_for.len(), 6);
    let msg = e.to_string();
    assert!(
        msg.contains(&dir.path().join("data_batch_5.bin").display().to_string()),
        "{msg}"
    );
    assert!(
        msg.contains(
            &dir.path()
                .join("cifar-10-batches-bin/data_batch_1.bin")
                .display()
                .to_string()
        ),
        "{msg}"
    );
    let e = expect_err(load(DatasetName::Cifar10, Some(dir.path()), Split::Test));
    assert!(e.to_string().contains("test_batch.bin"), "{e}");
}

#[test]
fn cifar_truncations() {
    let bytes = cifar_batch(2, 0);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut lens: Vec<usize> = (0..bytes.len()).collect();
    lens.shuffle(&mut rng);
    lens.truncate(400);
    lens.extend([0, 1, 3072, 3073, 3074, 6145]);
    for len in lens {
        let r = parse_cifar10_batch(&bytes[..len], Path::new("b"));
        if len == 3073 {
            assert_eq!(r.unwrap().labels, [0]); // one whole record
        } else {
            assert!(matches!(r, Err(DataError::CifarLength { .. })), "len {len}");
        }
    }
}

// --------------------------------------------------------- missing IDX files

#[test]
fn idx_missing_files_listed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "train-images-idx3-ubyte.gz",
        &gzip(&idx_images(1, 28, 28)),
    );
    let e = expect_err(load(DatasetName::Mnist, Some(dir.path()), Split::Train));
    let DataError::MissingFiles { looked_for, .. } = &e else {
        panic!("{e}")
    };
    let msg = e.to_string();
    // All four in mnist/, and the labels (raw and .gz) at the top level.
    assert_eq!(looked_for.len(), 6, "{msg}");
    assert!(msg.contains("train-labels-idx1-ubyte.gz"), "{msg}");
    let e = expect_err(load(
        DatasetName::FashionMnist,
        Some(dir.path()),
        Split::Test,
    ));
    assert!(e.to_string().contains("t10k-images-idx3-ubyte"), "{e}");
}
