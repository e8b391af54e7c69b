//! Issue 9's independent check of the critical solver: for every row of the
//! critical-initialisation table (`noisyprop_theory::critical_table`, the
//! activations of the README's table with and without dropout, σ_b² ∈
//! {0, 0.05}) that has a critical σ_w², a Monte-Carlo network at that σ_w²
//! keeps the variance q^l and the gradient's second moment where the critical
//! theory puts them for 50 layers (verdict PASS), and networks with σ_w² 10 %
//! above or below fail the same comparison.
//!
//! Settings: width 1000 (inputs too), 50 weight layers, 6 networks, one class
//! of 2 inputs with q⁰ = 1, backward pass on, f32, seed 2018. The verdict is
//! the simulator's own (Bonferroni t·SE + 1/√width): the critical theory is
//! the claim under test, and the simulation knows nothing of it.
#![allow(clippy::unwrap_used)]

use noisyprop_sim::{InputClass, Precision, SimConfig, Verdict, simulate, theory, verdict};
use noisyprop_theory::{
    CriticalKind, Integration, Network, Noise, TABLE_ACTIVATIONS, critical_table,
};

fn config(network: Network) -> SimConfig {
    SimConfig {
        network,
        width: 1000,
        input_dim: 1000,
        depth: 50,
        networks: 6,
        inputs: vec![InputClass {
            q0: 1.0,
            c0: None,
            groups: 2,
            partners: 0,
        }],
        input_activation: true,
        backward: true,
        precision: Precision::F32,
        seed: 2018,
        memory_limit: 256 << 20,
    }
}

/// The simulation of `simulated` judged against the theory of `claimed`.
fn judge(simulated: Network, claimed: &Network) -> Verdict {
    let cfg = config(simulated);
    let sim = simulate(&cfg, &|| true).unwrap();
    verdict(
        &sim.classes,
        &theory(&cfg, claimed),
        cfg.width,
        cfg.precision,
    )
}

#[test]
fn issue_9_every_critical_init_of_the_table_survives_50_layers_and_10_percent_off_fails() {
    let noises = [
        Noise::none(),
        Noise::parse_all(&["dropout:keep=0.8"]).unwrap(),
    ];
    let rows = critical_table(
        &TABLE_ACTIVATIONS,
        &noises,
        &[0.0, 0.05],
        Integration::default(),
    )
    .unwrap();
    let mut checked = 0;
    for row in rows.iter().filter(|r| r.kind != CriticalKind::None) {
        let what = format!(
            "{} with {}, σ_b² = {}",
            row.activation, row.noise, row.sigma_b2
        );
        let noise: Noise = row.noise.parse().unwrap();
        let sw2 = row.sigma_w2.unwrap();
        let critical = Network::new(row.activation, noise, sw2, row.sigma_b2).unwrap();
        let v = judge(critical.clone(), &critical);
        assert!(
            v.pass,
            "{what} ({}): critical σ_w² {sw2} fails: {v:#?}",
            row.kind
        );
        for factor in [1.1, 0.9] {
            let off = critical.with_sigma_w2(factor * sw2).unwrap();
            let v = judge(off, &critical);
            assert!(
                !v.pass,
                "{what} ({}): σ_w² × {factor} passes as critical ({} checks)",
                row.kind, v.checks
            );
        }
        eprintln!("{what}: {} at σ_w² = {sw2:.6}: PASS; ±10 % FAIL", row.kind);
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} rows had a critical point");
}
