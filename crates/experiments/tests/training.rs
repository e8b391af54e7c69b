//! Training on real data lowers the loss; the trainable-depth grid resumes
//! without redoing finished cells.
#![allow(clippy::unwrap_used)]

use noisyprop_data::{DatasetName, PrepareOptions, Split, load, prepare_with};
use noisyprop_experiments::grid::{
    GridSpec, RunOptions, Shard, cell_key, report, run_grid, write_report,
};
use noisyprop_experiments::training::{Init, OpenDevice, OptimizerSpec, Task, TrainSpec, train};

fn mnist(n: usize) -> noisyprop_data::Prepared {
    let raw = load(DatasetName::Mnist, None, Split::Train).unwrap();
    prepare_with(
        &raw,
        &PrepareOptions {
            seed: 3,
            val_fraction: 0.2,
            max_examples: Some(n),
        },
    )
    .unwrap()
}

fn spec(depth: usize, width: usize, epochs: usize) -> TrainSpec {
    TrainSpec {
        dataset: "mnist".into(),
        data_source: "embedded subset".into(),
        examples: 0,
        val_fraction: 0.2,
        task: Task::Reconstruction,
        depth,
        width,
        activation: "relu".parse().unwrap(),
        noise: "dropout:keep=0.9".parse().unwrap(),
        init: Init::Critical,
        optimizer: OptimizerSpec::adam(1e-3),
        batch: 32,
        epochs,
        seed: 5,
    }
}

#[test]
fn reconstruction_on_the_embedded_mnist_subset_lowers_the_loss() {
    let data = mnist(600);
    let mut seen = 0;
    let r = train(&OpenDevice::cpu(), &spec(2, 64, 4), &data, &mut |_| {
        seen += 1;
        true
    })
    .unwrap();
    assert_eq!(seen, 4);
    assert!((r.sigma_w2 - 1.8).abs() < 1e-12, "critical init 2p");
    let last = r.epochs.last().unwrap();
    assert!(
        last.val_loss < 0.9 * r.val_loss_init,
        "{} vs {}",
        last.val_loss,
        r.val_loss_init
    );
    assert!(last.train_loss < r.epochs[0].train_loss);
    // The all-zero predictor's MSE is E[x²] ≈ 0.11 on MNIST; initial loss is of that order.
    assert!(
        r.val_loss_init > 0.05 && r.val_loss_init < 1.0,
        "{}",
        r.val_loss_init
    );
}

#[test]
fn classification_reports_accuracy() {
    let data = mnist(500);
    let s = TrainSpec {
        task: Task::Classification,
        ..spec(1, 64, 3)
    };
    let r = train(&OpenDevice::cpu(), &s, &data, &mut |_| true).unwrap();
    let acc = r.epochs.last().unwrap().val_accuracy.unwrap();
    assert!(acc > 0.5, "{acc}");
}

#[test]
fn cell_keys_are_canonical() {
    let key = |s: &TrainSpec| cell_key(s).unwrap();
    let a = spec(2, 64, 4);
    assert_eq!(key(&a), key(&a.clone()));
    assert_eq!(key(&a).len(), 64);
    assert_ne!(
        key(&a),
        key(&TrainSpec {
            depth: 3,
            ..a.clone()
        })
    );
    assert_ne!(
        key(&a),
        key(&TrainSpec {
            seed: 6,
            ..a.clone()
        })
    );
    // numpy's 0.30000000000000004 and 0.3 are the same cell.
    let k = |p: f64| {
        key(&TrainSpec {
            noise: GridSpec::noise(p),
            ..a.clone()
        })
    };
    assert_eq!(k(0.1 + 2.0 * ((1.0 - 0.1) / 9.0)), k(0.3));
    assert_ne!(k(0.3), k(0.31));
}

#[test]
fn an_interrupted_grid_resumes_without_redoing_finished_cells() {
    let data = mnist(200);
    let dir = tempfile::tempdir().unwrap();
    let grid = GridSpec::new(spec(1, 16, 1), &[0.5, 1.0], &[1, 3], 6.0, dir.path()).unwrap();
    let cpu = OpenDevice::cpu();
    // A run stopped after two cells (as if killed).
    let first = run_grid(
        &grid,
        &data,
        RunOptions {
            max_new_cells: Some(2),
            ..Default::default()
        },
        &cpu,
        &|_| true,
    )
    .unwrap();
    assert_eq!(
        (first.total, first.computed, first.skipped, first.missing),
        (4, 2, 0, 2)
    );
    let cells = dir.path().join("cells");
    let before: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(&cells)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    assert_eq!(before.len(), 2);
    // The rerun computes only the two missing cells and leaves the others alone.
    let second = run_grid(&grid, &data, RunOptions::default(), &cpu, &|_| true).unwrap();
    assert_eq!((second.computed, second.skipped, second.missing), (2, 2, 0));
    for (p, bytes) in &before {
        assert_eq!(&std::fs::read(p).unwrap(), bytes);
    }
    // A third run has nothing to do; a sharded run sees its half.
    let third = run_grid(&grid, &data, RunOptions::default(), &cpu, &|_| true).unwrap();
    assert_eq!(third.computed, 0);
    let shard = run_grid(
        &grid,
        &data,
        RunOptions {
            shard: Some(Shard::new(1, 2).unwrap()),
            ..Default::default()
        },
        &cpu,
        &|_| true,
    )
    .unwrap();
    assert_eq!((shard.in_shard, shard.computed), (2, 0));
    // Report and figures.
    let rep = report(&grid).unwrap();
    assert_eq!(rep.done, 4);
    let files = write_report(&grid, &rep).unwrap();
    assert!(files.iter().any(|f| f.ends_with("trainable-depth-val.png")));
    for f in files {
        assert!(
            std::fs::metadata(&f).unwrap().len() > 100,
            "{}",
            f.display()
        );
    }
    // p = 1 has infinite ξ_c: predicted trainable at any depth.
    assert!(
        rep.cells
            .iter()
            .filter(|c| c.keep == 1.0)
            .all(|c| c.predicted_trainable == Some(true))
    );
    assert!(Shard::new(2, 2).is_err());
}

/// The cell files of a store, with their bytes, sorted by name.
fn cell_files(store: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(store.join("cells"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.clone(), std::fs::read(p).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn a_stopped_grid_keeps_its_finished_cells_and_a_rerun_reuses_them() {
    use noisyprop_experiments::ExperimentError;
    use noisyprop_experiments::grid::{CellRecord, CellStatus, read_cell};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let data = mnist(200);
    let dir = tempfile::tempdir().unwrap();
    // 4 cells of 2 epochs.
    let grid = GridSpec::new(spec(1, 16, 2), &[0.5, 1.0], &[1, 3], 6.0, dir.path()).unwrap();
    let cpu = OpenDevice::cpu();
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    // Stop when the first cell is stored: one cell at a time, so exactly it
    // stays, and the callback is not asked again.
    let (epochs, records) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let stop_after_first_cell = |r: Option<&CellRecord>| match r {
        None => {
            epochs.fetch_add(1, Ordering::SeqCst);
            true
        }
        Some(_) => {
            records.fetch_add(1, Ordering::SeqCst);
            false
        }
    };
    let e = one_thread
        .install(|| {
            run_grid(
                &grid,
                &data,
                RunOptions::default(),
                &cpu,
                &stop_after_first_cell,
            )
        })
        .unwrap_err();
    assert!(matches!(e, ExperimentError::Cancelled), "{e}");
    assert_eq!(e.to_string(), "stopped before it finished (interrupted)");
    assert_eq!(
        (
            epochs.load(Ordering::SeqCst),
            records.load(Ordering::SeqCst)
        ),
        (2, 1)
    );
    let first = cell_files(dir.path());
    assert_eq!(first.len(), 1);
    let done = grid
        .cells()
        .unwrap()
        .into_iter()
        .filter(|c| {
            matches!(
                read_cell(&grid.cell_path(&c.key), &c.key),
                Ok(CellStatus::Done(_))
            )
        })
        .count();
    assert_eq!(done, 1);
    // A stop inside a cell's training (after its first epoch of two) writes
    // nothing for it.
    let e = one_thread
        .install(|| run_grid(&grid, &data, RunOptions::default(), &cpu, &|r| r.is_some()))
        .unwrap_err();
    assert!(matches!(e, ExperimentError::Cancelled), "{e}");
    assert_eq!(cell_files(dir.path()), first);
    // A rerun computes only the three missing cells and leaves the first alone.
    let again = run_grid(&grid, &data, RunOptions::default(), &cpu, &|_| true).unwrap();
    assert_eq!((again.computed, again.skipped, again.missing), (3, 1, 0));
    let all = cell_files(dir.path());
    assert_eq!(all.len(), 4);
    assert!(all.contains(&first[0]));

    // In parallel: the cells in training when the stop comes stop at their
    // next epoch; what is stored is whole cells only, and a rerun does the rest.
    let dir = tempfile::tempdir().unwrap();
    let grid = GridSpec::new(spec(1, 16, 2), &[0.5, 1.0], &[1, 3], 6.0, dir.path()).unwrap();
    let e = run_grid(&grid, &data, RunOptions::default(), &cpu, &|r| r.is_none()).unwrap_err();
    assert!(matches!(e, ExperimentError::Cancelled), "{e}");
    let stored = cell_files(dir.path()).len();
    let threads = rayon::current_num_threads();
    assert!(
        (1..=threads.min(4)).contains(&stored),
        "{stored} cells, {threads} threads"
    );
    let rep = report(&grid).unwrap();
    assert_eq!(rep.done, stored);
    let again = run_grid(&grid, &data, RunOptions::default(), &cpu, &|_| true).unwrap();
    assert_eq!((again.computed, again.skipped), (4 - stored, stored));
}
