//! `simulate`: random finite-width noisy networks, Monte-Carlo, compared
//! with the theory layer by layer (variance, correlation of input pairs,
//! and with `backward` the gradient), with the simulator's PASS/FAIL
//! verdict ([`noisyprop_sim::verdict::RULE`]).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use noisyprop_experiments::record::{ClassRecord, LayerArrays, SimulationRecord};
use noisyprop_sim::{InputClass, Precision, SimConfig, simulate, theory, verdict};

use crate::form::MaybeNumber;
use crate::network::{IntegrationParams, NetworkParams, network, noise};
use crate::{Error, Hint, Observer, Operation, Q0, form};

/// What `simulate` is asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimulateRequest {
    /// φ, the noise and σ_b².
    #[serde(flatten)]
    pub network: NetworkParams,
    /// σ_w²; `None` for the critical one.
    pub sigma_w2: Option<f64>,
    /// Width of every hidden layer.
    pub width: usize,
    /// Dimension of the inputs; `None` for the width (at least 2, so two
    /// inputs can be correlated).
    pub input_dim: Option<usize>,
    /// Number of weight layers.
    pub depth: usize,
    /// Independent random networks.
    pub networks: usize,
    /// Input variances q⁰, one input class each (× each `c0`).
    #[serde(deserialize_with = "form::numbers")]
    pub q0: Vec<f64>,
    /// Correlations c⁰ of each partner with its base input; `None` for
    /// independent inputs only.
    #[serde(deserialize_with = "form::maybe_numbers")]
    pub c0: Vec<MaybeNumber>,
    /// Base inputs per class.
    pub pairs: usize,
    /// Partners per base input.
    pub partners: usize,
    /// Feed the raw input to the first weight layer (no φ and no noise on
    /// it; the paper's code applies both).
    pub raw_input: bool,
    /// Also simulate the backward pass.
    pub backward: bool,
    /// Simulate in f64 instead of f32.
    pub f64: bool,
    /// Seed of every random draw (the same on any number of threads).
    pub seed: u64,
    /// Memory the backward pass may keep per network (MiB) before it
    /// recomputes from checkpoints.
    pub memory_mb: usize,
    /// Judge the simulation against the theory (needs ≥ 2 networks).
    pub compare: bool,
    /// Compare against the theory of this noise instead (to see a wrong
    /// theory fail); empty for the network's own.
    #[serde(deserialize_with = "form::strings")]
    pub theory_noise: Vec<String>,
    /// How Gaussian expectations are integrated.
    #[serde(flatten)]
    pub integration: IntegrationParams,
}

impl Default for SimulateRequest {
    fn default() -> Self {
        SimulateRequest {
            network: NetworkParams::default(),
            sigma_w2: None,
            width: 1000,
            input_dim: None,
            depth: 15,
            networks: 50,
            q0: vec![Q0],
            c0: vec![MaybeNumber(Some(0.5))],
            pairs: 10,
            partners: 1,
            raw_input: false,
            backward: false,
            f64: false,
            seed: 0,
            memory_mb: 64,
            compare: false,
            theory_noise: Vec::new(),
            integration: IntegrationParams::default(),
        }
    }
}

/// The `simulate` command.
pub struct Simulate;

impl Operation for Simulate {
    const NAME: &'static str = "simulate";
    type Request = SimulateRequest;
    type Record = SimulationRecord;
    const LONG_RUNNING: bool = true;

    fn run(r: &SimulateRequest, observer: &dyn Observer) -> Result<SimulationRecord, Error> {
        let integration = r.integration.integration()?;
        let net = network(
            &r.network.family()?,
            r.sigma_w2,
            integration,
            Hint::GiveSigmaW2,
        )?;
        if !(1..=1_000_000).contains(&r.pairs) {
            return Err(Error::out_of_range("pairs", r.pairs, "[1, 1000000]"));
        }
        if r.compare && r.networks < 2 {
            return Err(Error::out_of_range(
                "networks",
                r.networks,
                "[2, inf) to compare (the verdict uses their spread)",
            ));
        }
        let inputs =
            r.q0.iter()
                .flat_map(|&q0| {
                    r.c0.iter().map(move |&MaybeNumber(c0)| InputClass {
                        q0,
                        c0,
                        groups: r.pairs,
                        partners: if c0.is_some() { r.partners } else { 0 },
                    })
                })
                .collect();
        let cfg = SimConfig {
            network: net.clone(),
            width: r.width,
            input_dim: r.input_dim.unwrap_or(r.width.max(2)),
            depth: r.depth,
            networks: r.networks,
            inputs,
            input_activation: !r.raw_input,
            backward: r.backward,
            precision: if r.f64 {
                Precision::F64
            } else {
                Precision::F32
            },
            seed: r.seed,
            memory_limit: r.memory_mb.saturating_mul(1 << 20),
        };
        cfg.validate()?;
        let theory_net = if r.theory_noise.is_empty() {
            net.clone()
        } else {
            net.with_noise(noise(&r.theory_noise)?)?
        };
        observer.start(r.networks as u64, "networks");
        let start = Instant::now();
        let result = simulate(&cfg, &|| observer.tick());
        observer.finish();
        let result = result?;
        let seconds = start.elapsed().as_secs_f64();
        let th = theory(&cfg, &theory_net);
        let v = verdict(&result.classes, &th, cfg.width, cfg.precision);
        let classes: Vec<ClassRecord> = result
            .classes
            .iter()
            .zip(&th)
            .map(|(c, t)| ClassRecord {
                q0: c.class.q0,
                c0: c.class.c0,
                groups: c.class.groups,
                partners: c.class.partners,
                layers: LayerArrays::new(c, t, cfg.backward),
            })
            .collect();
        Ok(SimulationRecord {
            activation: net.activation().spec(),
            noise: net.noise().to_string(),
            theory_noise: theory_net.noise().to_string(),
            sigma_w2: net.sigma_w2(),
            sigma_b2: net.sigma_b2(),
            width: cfg.width,
            input_dim: cfg.input_dim,
            depth: cfg.depth,
            networks: cfg.networks,
            seed: cfg.seed,
            precision: cfg.precision,
            input_activation: cfg.input_activation,
            backward: cfg.backward,
            seconds,
            layers: classes[0].layers.clone(),
            classes,
            verdict: v,
        })
    }
}
