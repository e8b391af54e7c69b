//! [`prepare`]: shapes, scaling, determinism and split sizes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use noisyprop_data::*;

/// A synthetic data set whose example `i` is filled with `i % 256` and labelled `i % 10`.
fn synthetic(n: usize, dim: usize) -> RawDataset {
    RawDataset {
        name: DatasetName::Mnist,
        n,
        dim,
        pixels: (0..n)
            .flat_map(|i| std::iter::repeat_n((i % 256) as u8, dim))
            .collect(),
        labels: (0..n).map(|i| (i % 10) as u8).collect(),
        source: "synthetic".to_owned(),
    }
}

#[test]
fn shapes_range_and_split_sizes() {
    let raw = embedded_mnist_subset().unwrap();
    let p = prepare(&raw, 1, 0.1).unwrap();
    assert_eq!((p.train.n, p.val.n), (9000, 1000));
    assert_eq!((p.train.dim, p.val.dim), (784, 784));
    assert_eq!((p.train.x.len(), p.train.labels.len()), (9000 * 784, 9000));
    assert_eq!((p.val.x.len(), p.val.labels.len()), (1000 * 784, 1000));
    assert_eq!(p.name, DatasetName::Mnist);
    assert!(
        p.train
            .x
            .iter()
            .chain(&p.val.x)
            .all(|&v| (0.0..=1.0).contains(&v))
    );
    assert!(p.train.x.contains(&1.0));
    // Shuffled: the sorted labels are mixed, both parts hold every digit.
    for part in [&p.train, &p.val] {
        let mut seen = [false; 10];
        part.labels
            .iter()
            .for_each(|&l| seen[usize::from(l)] = true);
        assert!(seen.iter().all(|&s| s), "missing digit");
    }
    // Same multiset of pixels: the mean of x is preserved.
    let mean_raw = raw.pixels.iter().map(|&b| f64::from(b)).sum::<f64>() / 255.0;
    let mean_p = p
        .train
        .x
        .iter()
        .chain(&p.val.x)
        .map(|&v| f64::from(v))
        .sum::<f64>();
    assert!((mean_raw - mean_p).abs() / mean_raw < 1e-6);

    // Paper's sizes: 60000 → 54000/6000 and 50000 → 45000/5000.
    for (n, train, val) in [(60_000, 54_000, 6_000), (50_000, 45_000, 5_000), (10, 9, 1)] {
        let p = prepare(&synthetic(n, 1), 0, 0.1).unwrap();
        assert_eq!((p.train.n, p.val.n), (train, val), "n = {n}");
    }
    let p = prepare(&synthetic(7, 3), 0, 0.0).unwrap();
    assert_eq!((p.train.n, p.val.n), (7, 0));
}

#[test]
fn rows_stay_with_their_labels() {
    let raw = synthetic(250, 5); // < 256, so the pixel value identifies the example
    let p = prepare(&raw, 9, 0.2).unwrap();
    for part in [&p.train, &p.val] {
        for i in 0..part.n {
            let row = part.row(i).unwrap();
            let orig = (row[0] * 255.0).round() as usize;
            assert!(row.iter().all(|&v| v == row[0]));
            assert_eq!(usize::from(part.labels[i]), orig % 10);
        }
    }
}

#[test]
fn deterministic_per_seed() {
    let raw = embedded_mnist_subset().unwrap();
    let a = prepare(&raw, 42, 0.1).unwrap();
    let b = prepare(&raw, 42, 0.1).unwrap();
    assert_eq!(a, b);
    let c = prepare(&raw, 43, 0.1).unwrap();
    assert_ne!(a.train.labels, c.train.labels);
    // The permutation itself is pinned (ChaCha8 + rand 0.10's Fisher–Yates), so
    // a value-breaking change of either crate is noticed.
    let p = prepare(&synthetic(10, 1), 42, 0.0).unwrap();
    assert_eq!(p.train.labels, [7, 1, 5, 4, 6, 9, 3, 8, 2, 0]);
}

#[test]
fn max_examples_takes_first_after_shuffle() {
    let raw = synthetic(1000, 4);
    let full = prepare(&raw, 5, 0.0).unwrap();
    let opts = PrepareOptions {
        seed: 5,
        val_fraction: 0.1,
        max_examples: Some(100),
    };
    let capped = prepare_with(&raw, &opts).unwrap();
    assert_eq!((capped.train.n, capped.val.n), (90, 10));
    assert_eq!(capped.train.labels[..], full.train.labels[..90]);
    assert_eq!(capped.val.labels[..], full.train.labels[90..100]);
    assert_eq!(capped.val.x[..], full.train.x[90 * 4..100 * 4]);
    // A cap above n keeps everything.
    let opts = PrepareOptions {
        max_examples: Some(5000),
        ..opts
    };
    assert_eq!(prepare_with(&raw, &opts).unwrap().train.n, 900);
    assert_eq!(PrepareOptions::default().val_fraction, 0.1);
}

#[test]
fn invalid_options_rejected() {
    let raw = synthetic(10, 2);
    for vf in [-0.1, 1.0, 1.5, f64::NAN, f64::INFINITY] {
        let e = prepare(&raw, 0, vf).unwrap_err();
        assert!(
            matches!(e, DataError::InvalidValFraction { .. }),
            "{vf}: {e}"
        );
        assert!(e.to_string().contains("[0, 1)"), "{e}");
    }
    let opts = PrepareOptions {
        seed: 0,
        val_fraction: 0.1,
        max_examples: Some(0),
    };
    assert!(matches!(
        prepare_with(&raw, &opts),
        Err(DataError::EmptyTrainingSet { .. })
    ));
    assert!(matches!(
        prepare(&synthetic(1, 2), 0, 0.6),
        Err(DataError::EmptyTrainingSet {
            n: 1,
            n_train: 0,
            ..
        })
    ));
    assert!(matches!(
        prepare(&synthetic(0, 2), 0, 0.1),
        Err(DataError::EmptyTrainingSet { .. })
    ));
    let mut bad = synthetic(10, 2);
    bad.pixels.pop();
    let e = prepare(&bad, 0, 0.1).unwrap_err();
    assert!(matches!(e, DataError::InconsistentDataset { .. }), "{e}");
    let mut bad = synthetic(10, 2);
    bad.labels.push(1);
    assert!(matches!(
        prepare(&bad, 0, 0.1),
        Err(DataError::InconsistentDataset { .. })
    ));
}
