//! `figures`: the data (CSV) and PNG of the paper's simulated Figures 2–5
//! with the original settings: theory as lines, simulation as points with
//! ±1 std bands; Figure 5 fits ξ_c to the simulated correlations.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use noisyprop_experiments::figs::{self, FigOptions};
use noisyprop_experiments::record::FiguresRecord;

use crate::{Error, Observer, Operation};

/// What `figures` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FiguresRequest {
    /// Figures to make (2, 3, 4, 5).
    pub fig: Vec<u8>,
    /// Output directory.
    pub out: PathBuf,
    /// Width of every layer (paper: 1000).
    pub width: usize,
    /// Networks per setting (paper: 50).
    pub networks: usize,
    /// Partners per base input in Figures 4(b) and 5 (paper: 100).
    pub partners: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for FiguresRequest {
    fn default() -> Self {
        let paper = FigOptions::default();
        FiguresRequest {
            fig: vec![2, 3, 4, 5],
            out: "figures".into(),
            width: paper.width,
            networks: paper.networks,
            partners: paper.partners,
            seed: paper.seed,
        }
    }
}

/// The `figures` command.
pub struct Figures;

impl Operation for Figures {
    const NAME: &'static str = "figures";
    type Request = FiguresRequest;
    type Record = FiguresRecord;
    const LONG_RUNNING: bool = true;

    fn run(r: &FiguresRequest, observer: &dyn Observer) -> Result<FiguresRecord, Error> {
        if let Some(&f) = r.fig.iter().find(|f| !(2..=5).contains(*f)) {
            return Err(Error::out_of_range(
                "fig",
                f,
                "2, 3, 4, 5 (Figure 6 is `variance-depth` and `trainable-depth`)",
            ));
        }
        let opts = FigOptions {
            out_dir: r.out.clone(),
            width: r.width,
            networks: r.networks,
            partners: r.partners,
            seed: r.seed,
        };
        opts.validate()?;
        let total: u64 = r
            .fig
            .iter()
            .map(|&f| figs::simulation_count(f, &opts))
            .sum();
        if let Some(w) = r
            .fig
            .contains(&5)
            .then(|| figs::fig5_warning(&opts))
            .flatten()
        {
            observer.warn(&w);
        }
        observer.start(total, "networks");
        let figures: Result<Vec<_>, noisyprop_experiments::ExperimentError> = r
            .fig
            .iter()
            .map(|&f| {
                let rep = figs::run(f, &opts, &|| observer.tick())?;
                observer.finished(&rep.summary());
                Ok(rep)
            })
            .collect();
        observer.finish();
        Ok(FiguresRecord { figures: figures? })
    }
}
