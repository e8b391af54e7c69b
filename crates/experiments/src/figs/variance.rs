//! Figures 2 and 3: the variance map q^{l−1} ↦ q^l (panel a) and the
//! variance over 15 layers from q⁰ = 4 (panel b) (spec 3.1, 3.2); Figure 3
//! adds the critical boundary σ_w² = 2/μ₂ (panel c).

use std::path::PathBuf;

use serde::Serialize;

use noisyprop_plot::{Colormap, HeatMap, Panel, Series, edges_from_centers};
use noisyprop_sim::{InputClass, SimResult};
use noisyprop_theory::{Activation, Integration, MeanField, NoiseLaw};

use super::{FigOptions, FigureOutput, Measurement, Setting, dynamics_chart, linspace, map_chart};
use crate::ExperimentError;
use crate::output::{write_csv, write_png};

#[derive(Serialize)]
struct MapRow<'a> {
    setting: &'a str,
    q_in: f64,
    q_out_sim_mean: f64,
    q_out_sim_std: f64,
    q_out_theory: f64,
}

#[derive(Serialize)]
struct DynRow<'a> {
    setting: &'a str,
    layer: usize,
    q_sim_mean: f64,
    q_sim_std: f64,
    q_theory: f64,
}

/// Input variances of panel (a): linspace(0, 15, 30) without 0.
fn map_inputs() -> Vec<f64> {
    linspace(0.0, 15.0, 30).into_iter().skip(1).collect()
}

/// Panels, files written, notes and measurements of a figure.
type Panels = (Vec<Panel>, Vec<PathBuf>, Vec<String>, Vec<Measurement>);

/// Layers of panel (b) reported as measurements.
pub const MEASURED_LAYERS: [usize; 5] = [1, 5, 10, 14, 15];

/// Runs panels (a) and (b) for `settings`; returns the two panels and the
/// notes.
fn variance_panels(
    figure: u8,
    settings: &[Setting],
    opts: &FigOptions,
    log_dynamics: bool,
    progress: &(dyn Fn() -> bool + Sync),
) -> Result<Panels, ExperimentError> {
    let q_in = map_inputs();
    let mut map_series = Vec::new();
    let mut dyn_series = Vec::new();
    let mut map_rows = Vec::new();
    let mut dyn_rows = Vec::new();
    let mut notes = Vec::new();
    let mut measurements = Vec::new();
    let mut sims: Vec<(SimResult, SimResult)> = Vec::new();
    for (i, s) in settings.iter().enumerate() {
        let classes = q_in
            .iter()
            .map(|&q0| InputClass {
                q0,
                c0: None,
                groups: 30,
                partners: 0,
            })
            .collect();
        let (_, a) = s.simulate(opts, classes, 1, opts.seed + 100 + i as u64, progress)?;
        let (_, b) = s.simulate(
            opts,
            vec![InputClass {
                q0: 4.0,
                c0: None,
                groups: 50,
                partners: 0,
            }],
            15,
            opts.seed + 200 + i as u64,
            progress,
        )?;
        sims.push((a, b));
    }
    for (s, (a, b)) in settings.iter().zip(&sims) {
        let mf = MeanField::new(&s.network, Integration::default());
        let theory_map: Vec<(f64, f64)> = linspace(0.0, 15.0, 151)
            .into_iter()
            .map(|q| (q, mf.variance_map(q)))
            .collect();
        map_series.push(Series::line(s.label.clone(), theory_map).with_color(s.color));
        let pts: Vec<(f64, f64)> = a
            .classes
            .iter()
            .map(|c| (c.class.q0, c.layers[1].q.mean))
            .collect();
        let band = a
            .classes
            .iter()
            .map(|c| {
                (
                    c.class.q0,
                    c.layers[1].q.mean - c.layers[1].q.std,
                    c.layers[1].q.mean + c.layers[1].q.std,
                )
            })
            .collect();
        map_series.push(Series::points("", pts).with_color(s.color).with_band(band));
        for c in &a.classes {
            map_rows.push(MapRow {
                setting: &s.label,
                q_in: c.class.q0,
                q_out_sim_mean: c.layers[1].q.mean,
                q_out_sim_std: c.layers[1].q.std,
                q_out_theory: mf.variance_map(c.class.q0),
            });
        }
        let theory_dyn = mf.variance_trajectory(4.0, 15);
        dyn_series.push(
            Series::line(
                s.label.clone(),
                theory_dyn
                    .iter()
                    .enumerate()
                    .map(|(l, &q)| (l as f64, q))
                    .collect(),
            )
            .with_color(s.color),
        );
        let layers = &b.classes[0].layers;
        dyn_series.push(
            Series::points(
                "",
                layers.iter().map(|l| (l.layer as f64, l.q.mean)).collect(),
            )
            .with_color(s.color)
            .with_band(
                layers
                    .iter()
                    .map(|l| (l.layer as f64, l.q.mean - l.q.std, l.q.mean + l.q.std))
                    .collect(),
            ),
        );
        for l in layers {
            dyn_rows.push(DynRow {
                setting: &s.label,
                layer: l.layer,
                q_sim_mean: l.q.mean,
                q_sim_std: l.q.std,
                q_theory: theory_dyn[l.layer],
            });
        }
        for &l in &MEASURED_LAYERS {
            measurements.push(Measurement {
                setting: noisyprop_plot::plain_text(&s.label),
                quantity: format!("q^{l}"),
                theory: theory_dyn[l],
                simulated: Some(layers[l].q.mean),
                std_error: Some(layers[l].q.standard_error()),
                note: None,
            });
        }
        notes.push(noisyprop_plot::plain_text(&format!(
            "{}: q^15 simulated {:.4} ± {:.4} (theory {:.4})",
            s.label, layers[15].q.mean, layers[15].q.std, theory_dyn[15]
        )));
    }
    let dir = &opts.out_dir;
    let files = vec![
        write_csv(&dir.join(format!("fig{figure}a.csv")), &map_rows)?,
        write_csv(&dir.join(format!("fig{figure}b.csv")), &dyn_rows)?,
    ];
    let a = map_chart(
        "(a) Iterative variance map",
        "q^{l−1}",
        "q^{l}",
        (0.0, 15.0),
        None,
        map_series,
    );
    let b = dynamics_chart(
        "(b) Variance dynamics",
        "q^{l}",
        None,
        log_dynamics,
        dyn_series,
    );
    Ok((
        vec![Panel::Line(a), Panel::Line(b)],
        files,
        notes,
        measurements,
    ))
}

/// Figure 2: tanh and ReLU with and without additive Gaussian noise.
pub fn figure2(
    opts: &FigOptions,
    progress: &(dyn Fn() -> bool + Sync),
) -> Result<FigureOutput, ExperimentError> {
    let add = NoiseLaw::GaussAdd { std: 1.0 };
    let settings = [
        Setting::new(
            "tanh, no noise (σ_{w}^{2} = 1)",
            (230, 180, 0),
            Activation::Tanh,
            NoiseLaw::None,
            1.0,
        )?,
        Setting::new(
            "tanh, additive N(0, 1)",
            (214, 39, 40),
            Activation::Tanh,
            add,
            1.0,
        )?,
        Setting::new(
            "ReLU, no noise (He, σ_{w}^{2} = 2)",
            (148, 103, 189),
            Activation::Relu,
            NoiseLaw::None,
            2.0,
        )?,
        Setting::new(
            "ReLU, additive N(0, 1) (He)",
            (140, 86, 75),
            Activation::Relu,
            add,
            2.0,
        )?,
    ];
    let (panels, mut files, notes, measurements) =
        variance_panels(2, &settings, opts, false, progress)?;
    files.push(write_png(
        &opts.out_dir.join("fig2.png"),
        &panels,
        2,
        "Deep signal propagation with and without noise",
    )?);
    Ok((files, notes, measurements))
}

/// Figure 3: critical, over- and under-critical ReLU with dropout p = 0.6 and
/// multiplicative Gaussian σ_ε = 0.25, and the boundary σ_w² = 2/μ₂.
pub fn figure3(
    opts: &FigOptions,
    progress: &(dyn Fn() -> bool + Sync),
) -> Result<FigureOutput, ExperimentError> {
    let drop = NoiseLaw::Dropout { keep: 0.6 };
    let gauss = NoiseLaw::GaussMult { std: 0.25 };
    let (cd, cg) = (1.2, 2.0 / 1.0625);
    let r = Activation::Relu;
    let settings = [
        Setting::new("dropout p = 0.6, critical", (0, 128, 0), r, drop, cd)?,
        Setting::new(
            "dropout, σ_{w} ×1.15 (overflow)",
            (102, 194, 102),
            r,
            drop,
            1.15f64.powi(2) * cd,
        )?,
        Setting::new(
            "dropout, σ_{w} ×0.85 (underflow)",
            (0, 80, 40),
            r,
            drop,
            0.85f64.powi(2) * cd,
        )?,
        Setting::new("Gauss σ_{ε} = 0.25, critical", (200, 30, 30), r, gauss, cg)?,
        Setting::new(
            "Gauss, σ_{w} ×1.25 (overflow)",
            (250, 128, 114),
            r,
            gauss,
            1.25f64.powi(2) * cg,
        )?,
        Setting::new(
            "Gauss, σ_{w} ×0.75 (underflow)",
            (120, 10, 10),
            r,
            gauss,
            0.75f64.powi(2) * cg,
        )?,
    ];
    let (mut panels, mut files, notes, measurements) =
        variance_panels(3, &settings, opts, true, progress)?;
    // (c) per-layer log growth ln(σ_w² μ₂ / 2) over σ_w², μ₂ ∈ [1, 2].
    let xs = linspace(1.0, 2.0, 101);
    let ys = linspace(1.0, 2.0, 101);
    let values = ys
        .iter()
        .flat_map(|&m| xs.iter().map(move |&s| (s * m / 2.0).ln()))
        .collect();
    let boundary: Vec<(f64, f64)> = linspace(1.0, 2.0, 101)
        .into_iter()
        .map(|s| (s, 2.0 / s))
        .collect();
    let c = HeatMap {
        title: "(c) Variance critical boundary".into(),
        x_label: "weight variance σ_{w}^{2}".into(),
        y_label: "noise second moment μ_{2}".into(),
        color_label: "ln(σ_{w}^{2}μ_{2}/2) per layer".into(),
        x_edges: edges_from_centers(&xs, false),
        y_edges: edges_from_centers(&ys, false),
        values,
        colormap: Colormap::RdBuR,
        color_range: Some((-0.7, 0.7)),
        overlays: vec![Series::line("σ_{w}^{2} = 2/μ_{2}", boundary).with_color((0, 0, 0))],
        annotations: vec![
            (1.75, 1.8, "Overflow (σ_{w}^{2} > 2/μ_{2})".into()),
            (1.25, 1.2, "Underflow (σ_{w}^{2} < 2/μ_{2})".into()),
        ],
        ..Default::default()
    };
    panels.push(Panel::Heat(c));
    files.push(write_png(
        &opts.out_dir.join("fig3.png"),
        &panels,
        3,
        "Critical initialisation for noisy ReLU networks",
    )?);
    Ok((files, notes, measurements))
}
