//! The theory's prediction for a simulation's layers (spec 2.1, 2.7, 2.11),
//! in the simulation's conventions.

use serde::Serialize;

use noisyprop_theory::{Integration, MeanField, Network};

use crate::config::{InputClass, SimConfig};

/// Per-layer theory for one input class (layers 0..=depth).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TheoryLayers {
    /// q^l.
    pub q: Vec<f64>,
    /// c^l (NaN without pairs).
    pub c: Vec<f64>,
    /// E[(δ^l)²] relative to the top layer.
    pub grad_q: Vec<f64>,
    /// Correlation of δ^l between base and partner (top correlation 1).
    pub grad_c: Vec<f64>,
}

/// The theory for every class of `cfg`, computed for `net`: normally the
/// simulated network, `&cfg.network`; a different one (e.g. a wrong noise)
/// tests the verdict. Only `net`'s parameters enter the maps; `cfg` gives
/// the layers, widths, input classes and the input convention.
///
/// With `input_activation` the maps apply from the input (it is h⁰). On the
/// raw input the first layer is linear: q¹ = σ_w² q⁰ + σ_b²,
/// c¹ = (σ_w² c⁰ q⁰ + σ_b²)/q¹, and the gradient picks up σ_w²·n₁/n₀ there.
pub fn theory(cfg: &SimConfig, net: &Network) -> Vec<TheoryLayers> {
    let mf = MeanField::with_kernel(
        net,
        Integration::default()
            .kernel(net.activation())
            .with_nodes(64),
    );
    cfg.inputs
        .iter()
        .map(|class| class_theory(cfg, &mf, class))
        .collect()
}

fn class_theory(cfg: &SimConfig, mf: &MeanField, class: &InputClass) -> TheoryLayers {
    let c0 = class.c0.unwrap_or(0.0);
    let (sw2, sb2) = (mf.sigma_w2(), mf.sigma_b2());
    let fwd: Vec<(f64, f64)> = if cfg.input_activation {
        mf.correlation_trajectory(class.q0, c0, cfg.depth)
    } else {
        let q1 = sw2 * class.q0 + sb2;
        let c1 = (sw2 * c0 * class.q0 + sb2) / q1;
        let mut t = vec![(class.q0, c0)];
        t.extend(mf.correlation_trajectory(q1, c1, cfg.depth - 1));
        t
    };
    let mut grad = mf.gradient_trajectory(&fwd, 1.0);
    if !cfg.input_activation {
        // δ⁰ = δ¹W¹: no φ′, no noise; fan-in n₀, fan-out n₁.
        let ratio = cfg.width as f64 / cfg.input_dim as f64;
        let (g1, c1) = (grad[1].second_moment, grad[1].correlation);
        grad[0].second_moment = sw2 * ratio * g1;
        grad[0].correlation = c1;
    } else if cfg.input_dim != cfg.width {
        grad[0].second_moment *= cfg.width as f64 / cfg.input_dim as f64;
    }
    let pairs = class.c0.is_some();
    TheoryLayers {
        q: fwd.iter().map(|p| p.0).collect(),
        c: fwd
            .iter()
            .map(|p| if pairs { p.1 } else { f64::NAN })
            .collect(),
        grad_q: grad.iter().map(|g| g.second_moment).collect(),
        grad_c: grad
            .iter()
            .map(|g| if pairs { g.correlation } else { f64::NAN })
            .collect(),
    }
}
