//! `variance-depth`: real images pushed through deep random noisy ReLU
//! networks in f32 over a σ_w² sweep; per σ_w² the first layer whose
//! variance leaves the f32 range, beside the theory's L* (paper Figure
//! 6a/d, spec 2.6); CSV, JSON and a PNG heat map of ln q^l.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use noisyprop_experiments::record::VarianceDepthRecord;
use noisyprop_experiments::variance_depth::{VarianceDepthSpec, variance_depth, write_outputs};

use crate::form::Range;
use crate::network::noise;
use crate::recipe::DataParams;
use crate::{Error, Observer, Operation, form};

/// What `variance-depth` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VarianceDepthRequest {
    /// The images.
    #[serde(flatten)]
    pub data: DataParams,
    /// Multiplicative noise on every layer's input (and the pixels).
    #[serde(deserialize_with = "form::strings")]
    pub noise: Vec<String>,
    /// The σ_w² sweep.
    pub sigma_w2_range: Range,
    /// Deepest layer computed.
    pub max_depth: usize,
    /// Hidden width.
    pub width: usize,
    /// Images pushed through each network (the paper used all 60 000).
    pub examples: usize,
    /// Seed of the weights, the noise and the choice of images.
    pub seed: u64,
    /// Output directory for CSV, JSON and PNG.
    pub out: PathBuf,
}

impl Default for VarianceDepthRequest {
    fn default() -> Self {
        let paper = VarianceDepthSpec::default();
        VarianceDepthRequest {
            data: DataParams::default(),
            noise: vec!["dropout:keep=0.6".into()],
            sigma_w2_range: Range(0.1, 2.5, 25),
            max_depth: paper.max_depth,
            width: paper.width,
            examples: 256,
            seed: 0,
            out: "variance-depth".into(),
        }
    }
}

/// The `variance-depth` command.
pub struct VarianceDepth;

impl Operation for VarianceDepth {
    const NAME: &'static str = "variance-depth";
    type Request = VarianceDepthRequest;
    type Record = VarianceDepthRecord;
    const LONG_RUNNING: bool = true;
    const ALIASES: &'static [(&'static str, &'static str)] = &[("sigma_w2", "sigma_w2_range")];

    fn run(
        r: &VarianceDepthRequest,
        observer: &dyn Observer,
    ) -> Result<VarianceDepthRecord, Error> {
        if r.examples == 0 {
            return Err(Error::out_of_range("examples", 0, "[1, inf)"));
        }
        let spec = VarianceDepthSpec {
            noise: noise(&r.noise)?,
            sigma_w2: r
                .sigma_w2_range
                .sweep(false)
                .checked_values("sigma_w2_range")?,
            max_depth: r.max_depth,
            width: r.width,
            batch: VarianceDepthSpec::default().batch,
            seed: r.seed,
        };
        spec.validate()?;
        let data = r.data.choice()?;
        let prepared = data.load(r.seed, 0.0, Some(r.examples))?;
        let x = &prepared.train;
        observer.start(spec.sigma_w2.len() as u64, "σ_w² values");
        let rows = variance_depth(&spec, &x.x, x.dim, &|| observer.tick());
        observer.finish();
        let rows = rows?;
        let files = write_outputs(&r.out, &spec, &rows, data.name.as_str(), x.n)?;
        Ok(VarianceDepthRecord {
            dataset: data.name.to_string(),
            examples: x.n,
            noise: spec.noise.to_string(),
            width: spec.width,
            max_depth: spec.max_depth,
            sigma_w2: rows.iter().map(|r| r.summary()).collect(),
            files,
        })
    }
}
