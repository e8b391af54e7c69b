//! Figure 5: noise-dependent depth scales (spec 3.5).
//!
//! Unlike the original code (spec D1, D2), ξ_c is fitted to the **simulated**
//! correlations: for each starting correlation c⁰ ∈ {0, 0.5, 0.9} the
//! distance Δ_l = |c̄^l − c*| of the mean simulated correlation to the fixed
//! point decays like e^{−l/ξ_c}. The fit window runs from layer 1 while
//! Δ_l keeps falling and stays above the finite-width noise floor 3·SE_l
//! (SE_l the standard error of c̄^l over networks); one slope is fitted to
//! ln Δ_l over all windows with a separate intercept per c⁰ (pooled least
//! squares), giving ξ_fit = −1/slope with its standard error. The fixed point
//! c* is the theory's exact root; c̄^30 is reported next to it as a check of
//! c* itself. The theory's ξ_c = −1/ln χ_c is drawn against it.

use std::path::PathBuf;

use serde::Serialize;

use noisyprop_plot::{Colormap, LegendPos, LineChart, Marker, Panel, Series};
use noisyprop_sim::ClassResult;
use noisyprop_theory::{Activation, NoiseLaw};

use super::correlation::relu_fixed_point;
use super::{FigOptions, STARTS, Setting, correlation_starts, linspace};
use crate::ExperimentError;
use crate::output::{write_csv, write_png};

/// The fit of one setting.
#[derive(Debug, Clone, Serialize)]
pub struct DepthScaleFit {
    /// `dropout` or `gauss-mult`.
    pub noise: &'static str,
    /// Keep probability or σ_ε.
    pub param: f64,
    /// μ₂.
    pub mu2: f64,
    /// Theory c*.
    pub c_star: f64,
    /// Simulated c̄^30, mean over the starting correlations.
    pub c_sim_last: f64,
    /// Theory ξ_c = −1/ln χ_c.
    pub xi_theory: f64,
    /// ξ fitted to the simulation (NaN when no window had 2 points).
    pub xi_fit: f64,
    /// Standard error of `xi_fit`.
    pub xi_fit_se: f64,
    /// Layers used in the fit (all starting correlations).
    pub points: usize,
}

#[derive(Serialize)]
struct DecayRow {
    noise: &'static str,
    param: f64,
    mu2: f64,
    c0: f64,
    layer: usize,
    c_sim_mean: f64,
    c_sim_se: f64,
    abs_diff: f64,
    in_window: bool,
}

/// The fit window of one class: layers l ≥ 1 with Δ_l falling and above
/// 3·SE_l, up to the first that is not; of those, the ones with
/// Δ_l ≤ Δ_0/4 (the caption's "large l", where the map is close to linear
/// around c*) when at least two are, else all.
pub fn window(class: &ClassResult, c_star: f64) -> Vec<(usize, f64)> {
    let mut out = Vec::new();
    let mut prev = f64::INFINITY;
    for l in class.layers.iter().skip(1) {
        let Some(c) = l.c else { break };
        let d = (c.mean - c_star).abs();
        if !(d > 3.0 * c.standard_error() && d < prev) {
            break;
        }
        out.push((l.layer, d));
        prev = d;
    }
    let d0 = class
        .layers
        .first()
        .and_then(|l| l.c)
        .map_or(f64::INFINITY, |c| (c.mean - c_star).abs());
    let late: Vec<(usize, f64)> = out.iter().copied().filter(|p| p.1 <= d0 / 4.0).collect();
    if late.len() >= 2 { late } else { out }
}

/// Pooled least-squares slope of ln Δ against l with one intercept per
/// window: returns (ξ = −1/slope, its standard error, points used).
pub fn fit_depth_scale(windows: &[Vec<(usize, f64)>]) -> (f64, f64, usize) {
    let (mut sxy, mut sxx, mut n, mut groups) = (0.0, 0.0, 0usize, 0usize);
    let mut resid = Vec::new();
    for w in windows.iter().filter(|w| w.len() >= 2) {
        let k = w.len() as f64;
        let lx = w.iter().map(|p| p.0 as f64).sum::<f64>() / k;
        let ly = w.iter().map(|p| p.1.ln()).sum::<f64>() / k;
        for &(l, d) in w {
            sxy += (l as f64 - lx) * (d.ln() - ly);
            sxx += (l as f64 - lx).powi(2);
        }
        n += w.len();
        groups += 1;
        resid.push((w, lx, ly));
    }
    if sxx == 0.0 {
        return (f64::NAN, f64::NAN, n);
    }
    let slope = sxy / sxx;
    let mut ss = 0.0;
    for (w, lx, ly) in resid {
        for &(l, d) in w.iter() {
            ss += (d.ln() - (ly + slope * (l as f64 - lx))).powi(2);
        }
    }
    let dof = n.saturating_sub(groups + 1);
    let se_slope = if dof > 0 {
        (ss / dof as f64 / sxx).sqrt()
    } else {
        f64::NAN
    };
    let xi = -1.0 / slope;
    (xi, se_slope / (slope * slope), n)
}

/// Figure 5.
pub fn figure5(
    opts: &FigOptions,
    progress: &(dyn Fn() + Sync),
) -> Result<(Vec<PathBuf>, Vec<String>), ExperimentError> {
    let starts = STARTS;
    let dropout: Vec<f64> = (1..=9).map(|i| i as f64 / 10.0).collect();
    let gauss: Vec<f64> = (0..13).map(|i| 0.1 + 0.15 * i as f64).collect();
    let mut fits = Vec::new();
    let mut rows = Vec::new();
    let mut decay_panels = Vec::new();
    let mut xi_panels = Vec::new();
    for (name, params) in [("dropout", &dropout), ("gauss-mult", &gauss)] {
        let mut decay = Vec::new();
        let mut family = Vec::new();
        for (i, &param) in params.iter().enumerate() {
            let (law, mu2) = if name == "dropout" {
                (NoiseLaw::Dropout { keep: param }, 1.0 / param)
            } else {
                (NoiseLaw::GaussMult { std: param }, 1.0 + param * param)
            };
            let t = i as f64 / (params.len() - 1).max(1) as f64;
            let color = Colormap::Viridis.color(0.05 + 0.85 * t);
            let s = Setting::new(name, color, Activation::Relu, law, 2.0 / mu2)?;
            let (c_star, chi_c) = relu_fixed_point(mu2)?;
            let classes = correlation_starts(opts.partners);
            let seed = opts.seed + 600 + 100 * u64::from(name == "gauss-mult") + i as u64;
            let (_, r) = s.simulate(opts, classes, 30, seed, progress)?;
            let windows: Vec<Vec<(usize, f64)>> =
                r.classes.iter().map(|c| window(c, c_star)).collect();
            let (xi_fit, xi_se, points) = fit_depth_scale(&windows);
            let last: Vec<f64> = r
                .classes
                .iter()
                .filter_map(|c| c.layers[30].c.map(|x| x.mean))
                .collect();
            for (k, c) in r.classes.iter().enumerate() {
                for l in &c.layers {
                    let cs =
                        l.c.map_or((f64::NAN, f64::NAN), |x| (x.mean, x.standard_error()));
                    rows.push(DecayRow {
                        noise: name,
                        param,
                        mu2,
                        c0: starts[k],
                        layer: l.layer,
                        c_sim_mean: cs.0,
                        c_sim_se: cs.1,
                        abs_diff: (cs.0 - c_star).abs(),
                        in_window: windows[k].iter().any(|w| w.0 == l.layer),
                    });
                }
            }
            // Panel: the start farthest from c*, its window and fit.
            let label = if name == "dropout" {
                format!("p = {param:.1}")
            } else {
                format!("σ_{{ε}} = {param:.2}")
            };
            let far = (0..starts.len())
                .max_by(|&a, &b| {
                    (starts[a] - c_star)
                        .abs()
                        .total_cmp(&(starts[b] - c_star).abs())
                })
                .unwrap_or(0);
            let w0 = &windows[far];
            let pts: Vec<(f64, f64)> = r.classes[far]
                .layers
                .iter()
                .filter_map(|l| l.c.map(|c| (l.layer as f64, (c.mean - c_star).abs())))
                .filter(|p| p.1 > 0.0)
                .collect();
            decay.push(Series::line_points(label, pts).with_color(color));
            if w0.len() >= 2 && xi_fit.is_finite() {
                let k = w0.len() as f64;
                let lx = w0.iter().map(|p| p.0 as f64).sum::<f64>() / k;
                let ly = w0.iter().map(|p| p.1.ln()).sum::<f64>() / k;
                let line = w0
                    .iter()
                    .map(|&(l, _)| (l as f64, (ly - (l as f64 - lx) / xi_fit).exp()))
                    .collect();
                decay.push(Series::line("", line).with_color(color).with_dashed(true));
            }
            family.push(DepthScaleFit {
                noise: name,
                param,
                mu2,
                c_star,
                c_sim_last: last.iter().sum::<f64>() / last.len().max(1) as f64,
                xi_theory: -1.0 / chi_c.ln(),
                xi_fit,
                xi_fit_se: xi_se,
                points,
            });
        }
        // ξ against μ₂: theory curve and fitted points.
        let (lo, hi): (f64, f64) = if name == "dropout" {
            (1.0 / 0.95, 10.0)
        } else {
            (1.005, 1.0 + 1.9 * 1.9)
        };
        let theory: Vec<(f64, f64)> = linspace(lo.ln(), hi.ln(), 120)
            .into_iter()
            .filter_map(|lm| {
                let m = lm.exp();
                relu_fixed_point(m)
                    .ok()
                    .map(|(_, chi)| (m, -1.0 / chi.ln()))
            })
            .collect();
        let ok: Vec<&DepthScaleFit> = family.iter().filter(|f| f.xi_fit.is_finite()).collect();
        let fitted = Series::points(
            "fitted to simulation",
            ok.iter().map(|f| (f.mu2, f.xi_fit)).collect(),
        )
        .with_color((214, 39, 40))
        .with_marker(Marker::Circle)
        .with_band(
            ok.iter()
                .map(|f| (f.mu2, f.xi_fit - f.xi_fit_se, f.xi_fit + f.xi_fit_se))
                .collect(),
        );
        let title = if name == "dropout" {
            (
                "(a) Dropout: |c^{l} − c*| from the farthest c^{0}; fits dashed",
                "(b) Dropout: depth scale",
            )
        } else {
            (
                "(c) Gaussian: |c^{l} − c*| from the farthest c^{0}; fits dashed",
                "(d) Gaussian: depth scale",
            )
        };
        decay_panels.push(LineChart {
            title: title.0.into(),
            x_label: "layer l".into(),
            y_label: "|c^{l} − c*|".into(),
            log_y: true,
            x_range: Some((0.0, 30.0)),
            series: decay,
            legend: LegendPos::Right,
            ..Default::default()
        });
        xi_panels.push(LineChart {
            title: title.1.into(),
            x_label: "noise second moment μ_{2}".into(),
            y_label: "depth scale ξ_{c}".into(),
            series: vec![
                Series::line("theory −1/ln χ_{c}", theory).with_color((0, 0, 0)),
                fitted,
            ],
            legend: LegendPos::UpperRight,
            ..Default::default()
        });
        fits.extend(family);
    }
    let mut notes = Vec::new();
    for f in &fits {
        notes.push(format!(
            "{} {:.2}: ξ_c theory {:.3}, fitted {:.3} ± {:.3} ({} points); c* {:.4}, c̄^30 {:.4}",
            f.noise, f.param, f.xi_theory, f.xi_fit, f.xi_fit_se, f.points, f.c_star, f.c_sim_last
        ));
    }
    let mut dp = decay_panels.into_iter();
    let mut xp = xi_panels.into_iter();
    let panels: Vec<Panel> = [dp.next(), xp.next(), dp.next(), xp.next()]
        .into_iter()
        .flatten()
        .map(Panel::Line)
        .collect();
    let dir = &opts.out_dir;
    let files = vec![
        write_csv(&dir.join("fig5a.csv"), &rows)?,
        write_csv(&dir.join("fig5b.csv"), &fits)?,
        write_png(
            &dir.join("fig5.png"),
            &panels,
            2,
            "Noise-dependent depth scales for training",
        )?,
    ];
    Ok((files, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pooled_fit_recovers_an_exact_exponential() {
        let w1: Vec<(usize, f64)> = (1..8)
            .map(|l| (l, 0.4 * (-(l as f64) / 1.5).exp()))
            .collect();
        let w2: Vec<(usize, f64)> = (1..5)
            .map(|l| (l, 0.05 * (-(l as f64) / 1.5).exp()))
            .collect();
        let (xi, se, n) = fit_depth_scale(&[w1, w2, vec![(1, 0.3)]]);
        assert!((xi - 1.5).abs() < 1e-12);
        assert!(se < 1e-9);
        assert_eq!(n, 11);
        assert!(fit_depth_scale(&[vec![(1, 0.3)]]).0.is_nan());
    }
}
