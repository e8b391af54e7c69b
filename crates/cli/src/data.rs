/*!
Loading a dataset from the `--dataset`/`--data-dir` flags.
*/

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use noisyprop_data::{DatasetName, PrepareOptions, Prepared, Split, load, prepare_with};

/// Which data, from where.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// mnist (the embedded 10 000-image subset unless --data-dir has a full
    /// copy), fashion-mnist (Debian's dataset-fashion-mnist or --data-dir),
    /// cifar10 (--data-dir)
    #[arg(long, default_value = "mnist", value_name = "NAME")]
    pub dataset: String,

    /// Directory with the dataset's files (IDX for (Fashion-)MNIST, the
    /// binary batches for CIFAR-10)
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DataArgs {
    /// Loads the training split, shuffles it with `seed` and splits off
    /// `val_fraction`, keeping at most `max_examples`.
    pub fn prepare(
        &self,
        seed: u64,
        val_fraction: f64,
        max_examples: Option<usize>,
    ) -> Result<Prepared> {
        let name: DatasetName = self.dataset.parse()?;
        let raw = load(name, self.data_dir.as_deref(), Split::Train)
            .with_context(|| format!("loading `{}`", self.dataset))?;
        Ok(prepare_with(
            &raw,
            &PrepareOptions {
                seed,
                val_fraction,
                max_examples,
            },
        )?)
    }
}
