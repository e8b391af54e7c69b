//! Figure 4: the correlation map of critical noisy ReLU networks (panel a),
//! correlation dynamics over 30 layers (panel b) and the slope χ(c*) as a
//! function of μ₂ (panel c) (spec 3.3).

use serde::Serialize;

use noisyprop_plot::{LegendPos, LineChart, Marker, Panel, Series};
use noisyprop_sim::InputClass;
use noisyprop_theory::{
    Activation, Integration, MeanField, Network, Noise, NoiseLaw, VarianceRegime,
};

use super::{
    FigOptions, FigureOutput, Measurement, STARTS, Setting, correlation_starts, dynamics_chart,
    linspace, map_chart,
};
use crate::ExperimentError;
use crate::output::{write_csv, write_png};

#[derive(Serialize)]
struct MapRow<'a> {
    setting: &'a str,
    c_in: f64,
    c_out_sim_mean: f64,
    c_out_sim_std: f64,
    c_out_theory: f64,
}

#[derive(Serialize)]
struct DynRow<'a> {
    setting: &'a str,
    c0: f64,
    layer: usize,
    c_sim_mean: f64,
    c_sim_std: f64,
    c_pearson_sim_mean: f64,
    c_theory: f64,
}

#[derive(Serialize)]
struct PhaseRow {
    keep: f64,
    mu2: f64,
    c_star: f64,
    chi_c: f64,
}

/// c* and χ_c of critical ReLU with multiplicative noise of second moment μ₂.
pub fn relu_fixed_point(mu2: f64) -> Result<(f64, f64), ExperimentError> {
    let net = Network::new(
        Activation::Relu,
        Noise::from_law(NoiseLaw::Mult { mu2 }),
        2.0 / mu2,
        0.0,
    )?;
    let fp = MeanField::new(&net, Integration::default())
        .limiting_correlation_map(&VarianceRegime::Marginal)
        .fixed_point();
    Ok((fp.c_star, fp.chi_c))
}

/// The five critical settings of Figure 4.
pub fn settings() -> Result<Vec<Setting>, ExperimentError> {
    let r = Activation::Relu;
    Ok(vec![
        Setting::new("no noise", (31, 119, 180), r, NoiseLaw::None, 2.0)?,
        Setting::new(
            "dropout p = 0.6",
            (44, 160, 44),
            r,
            NoiseLaw::Dropout { keep: 0.6 },
            1.2,
        )?,
        Setting::new(
            "dropout p = 0.8",
            (148, 200, 60),
            r,
            NoiseLaw::Dropout { keep: 0.8 },
            1.6,
        )?,
        Setting::new(
            "Gauss σ_{ε} = 0.25",
            (214, 39, 40),
            r,
            NoiseLaw::GaussMult { std: 0.25 },
            2.0 / 1.0625,
        )?,
        Setting::new(
            "Gauss σ_{ε} = 2",
            (255, 127, 14),
            r,
            NoiseLaw::GaussMult { std: 2.0 },
            0.4,
        )?,
    ])
}

/// Figure 4.
pub fn figure4(
    opts: &FigOptions,
    progress: &(dyn Fn() -> bool + Sync),
) -> Result<FigureOutput, ExperimentError> {
    let c_in = linspace(0.0, 1.0, 21);
    let starts = STARTS;
    let (mut map_series, mut dyn_series) = (Vec::new(), Vec::new());
    let (mut map_rows, mut dyn_rows, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    let mut fixed = Vec::new();
    let mut measurements = Vec::new();
    let settings = settings()?;
    for (i, s) in settings.iter().enumerate() {
        let mf = MeanField::new(&s.network, Integration::default());
        let fp = mf
            .limiting_correlation_map(&VarianceRegime::Marginal)
            .fixed_point();
        // (a) one layer, 20 pairs per input correlation.
        let classes = c_in
            .iter()
            .map(|&c0| InputClass {
                q0: 1.0,
                c0: Some(c0),
                groups: 20,
                partners: 1,
            })
            .collect();
        let (_, a) = s.simulate(opts, classes, 1, opts.seed + 400 + i as u64, progress)?;
        let theory: Vec<(f64, f64)> = linspace(0.0, 1.0, 101)
            .into_iter()
            .map(|c| (c, mf.correlation_map(1.0, c)))
            .collect();
        map_series.push(Series::line(s.label.clone(), theory).with_color(s.color));
        let stat = |c: &noisyprop_sim::ClassResult| {
            c.layers[1]
                .c
                .map(|x| (x.mean, x.std))
                .unwrap_or((f64::NAN, f64::NAN))
        };
        map_series.push(
            Series::points(
                "",
                a.classes
                    .iter()
                    .map(|c| (c.class.c0.unwrap_or(0.0), stat(c).0))
                    .collect(),
            )
            .with_color(s.color)
            .with_band(
                a.classes
                    .iter()
                    .map(|c| {
                        let (m, sd) = stat(c);
                        (c.class.c0.unwrap_or(0.0), m - sd, m + sd)
                    })
                    .collect(),
            ),
        );
        for c in &a.classes {
            let (m, sd) = stat(c);
            let c0 = c.class.c0.unwrap_or(0.0);
            map_rows.push(MapRow {
                setting: &s.label,
                c_in: c0,
                c_out_sim_mean: m,
                c_out_sim_std: sd,
                c_out_theory: mf.correlation_map(1.0, c0),
            });
        }
        fixed.push((fp.c_star, fp.c_star));
        // (b) 30 layers from c⁰ ∈ {0, 0.5, 0.9}, one base with many partners.
        let classes = correlation_starts(opts.partners);
        let (_, b) = s.simulate(opts, classes, 30, opts.seed + 500 + i as u64, progress)?;
        for (k, c) in b.classes.iter().enumerate() {
            let c0 = starts[k];
            let traj = mf.correlation_trajectory(1.0, c0, 30);
            dyn_series.push(
                Series::line(
                    if k == 0 {
                        s.label.clone()
                    } else {
                        String::new()
                    },
                    traj.iter()
                        .enumerate()
                        .map(|(l, p)| (l as f64, p.1))
                        .collect(),
                )
                .with_color(s.color),
            );
            let pts: Vec<(f64, f64, f64)> = c
                .layers
                .iter()
                .map(|l| {
                    let x = l.c.map(|x| (x.mean, x.std)).unwrap_or((f64::NAN, 0.0));
                    (l.layer as f64, x.0, x.1)
                })
                .collect();
            dyn_series.push(
                Series::points("", pts.iter().map(|p| (p.0, p.1)).collect())
                    .with_color(s.color)
                    .with_band(pts.iter().map(|p| (p.0, p.1 - p.2, p.1 + p.2)).collect()),
            );
            for l in &c.layers {
                dyn_rows.push(DynRow {
                    setting: &s.label,
                    c0,
                    layer: l.layer,
                    c_sim_mean: l.c.map_or(f64::NAN, |x| x.mean),
                    c_sim_std: l.c.map_or(f64::NAN, |x| x.std),
                    c_pearson_sim_mean: l.c_pearson.map_or(f64::NAN, |x| x.mean),
                    c_theory: traj[l.layer].1,
                });
            }
        }
        let last: Vec<f64> = b
            .classes
            .iter()
            .filter_map(|c| c.layers[30].c.map(|x| x.mean))
            .collect();
        let mean_last = last.iter().sum::<f64>() / last.len().max(1) as f64;
        // c³⁰ against the theory trajectory, both averaged over c⁰; the
        // standard error from the per-start standard errors.
        let theory_last = starts
            .iter()
            .map(|&c0| mf.correlation_trajectory(1.0, c0, 30)[30].1)
            .sum::<f64>()
            / starts.len() as f64;
        let se = (b
            .classes
            .iter()
            .filter_map(|c| c.layers[30].c.map(|x| x.standard_error().powi(2)))
            .sum::<f64>())
        .sqrt()
            / b.classes.len().max(1) as f64;
        let label = noisyprop_plot::plain_text(&s.label);
        measurements.push(Measurement {
            setting: label.clone(),
            quantity: "c*".into(),
            theory: fp.c_star,
            simulated: None,
            std_error: None,
            note: None,
        });
        measurements.push(Measurement {
            setting: label,
            quantity: "c^30".into(),
            theory: theory_last,
            simulated: (last.len() == b.classes.len()).then_some(mean_last),
            std_error: Some(se),
            note: None,
        });
        notes.push(noisyprop_plot::plain_text(&format!(
            "{}: c* = {:.4} (theory), c^30 simulated {:.4} (mean over c⁰)",
            s.label, fp.c_star, mean_last
        )));
    }
    map_series.push(
        Series::points("fixed points c*", fixed)
            .with_color((0, 0, 0))
            .with_marker(Marker::Cross),
    );
    // (c) χ(c*) against μ₂ for dropout p ∈ [0.1, 1].
    let mut phase = Vec::new();
    for p in linspace(0.1, 1.0, 100) {
        let (c_star, chi_c) = relu_fixed_point(1.0 / p)?;
        phase.push(PhaseRow {
            keep: p,
            mu2: 1.0 / p,
            c_star,
            chi_c,
        });
    }
    let chi: Vec<(f64, f64)> = phase.iter().map(|r| (r.mu2, r.chi_c)).collect();
    let c = LineChart {
        title: "(c) Phase diagram".into(),
        x_label: "noise second moment μ_{2}".into(),
        y_label: "χ(c*)".into(),
        y_range: Some((0.0, 1.1)),
        series: vec![
            Series {
                label: "ordered regime (vanishing gradients)".into(),
                band: Some(phase.iter().map(|r| (r.mu2, 0.0, 1.0)).collect()),
                color: Some((150, 220, 230)),
                ..Default::default()
            },
            Series::line("χ(c*), dropout at criticality", chi).with_color((255, 127, 14)),
            Series::points("edge of chaos", vec![(1.0, 1.0)])
                .with_color((214, 39, 40))
                .with_marker(Marker::Star),
        ],
        legend: LegendPos::UpperRight,
        ..Default::default()
    };
    let a = map_chart(
        "(a) Iterative correlation map",
        "c^{l−1}",
        "c^{l}",
        (0.0, 1.0),
        Some((0.0, 1.0)),
        map_series,
    );
    let b = dynamics_chart(
        "(b) Correlation dynamics",
        "correlation c^{l}",
        Some((0.0, 1.0)),
        false,
        dyn_series,
    );
    let dir = &opts.out_dir;
    let files = vec![
        write_csv(&dir.join("fig4a.csv"), &map_rows)?,
        write_csv(&dir.join("fig4b.csv"), &dyn_rows)?,
        write_csv(&dir.join("fig4c.csv"), &phase)?,
        write_png(
            &dir.join("fig4.png"),
            &[Panel::Line(a), Panel::Line(b), Panel::Line(c)],
            3,
            "Propagating correlation information in noisy ReLU networks",
        )?,
    ];
    Ok((files, notes, measurements))
}
