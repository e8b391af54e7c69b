//! Renders one figure of each kind into a directory:
//!
//! ```text
//! cargo run -p noisyprop-plot --example gallery -- out/gallery
//! ```
//!
//! The data are small closed-form stand-ins for the paper's figures (no noisyprop types),
//! with synthetic "simulation" scatter, so the pictures look like the real thing.

use std::error::Error;
use std::f64::consts::PI;
use std::path::PathBuf;

use noisyprop_plot::{
    Colormap, DEFAULT_SIZE, HeatMap, LegendPos, LineChart, Marker, PALETTE, Panel, RefLine, Series,
    categorical_position, category_labels, contour, edges_from_centers, render_heatmap,
    render_line_chart, render_panels, robust_color_range,
};

/// Deterministic pseudo-noise in [-1, 1].
fn wobble(i: usize, k: usize) -> f64 {
    let v = ((i as f64 + 1.0) * 12.9898 + (k as f64 + 1.0) * 78.233).sin() * 43758.5453;
    2.0 * (v - v.floor()) - 1.0
}

/// E_z[tanh(√q z)²] by the Riemann sum used in the paper's code.
fn tanh_sq(q: f64) -> f64 {
    let dz = 0.05;
    (0..400)
        .map(|i| {
            let z = -10.0 + i as f64 * dz;
            (q.sqrt() * z).tanh().powi(2) * (-z * z / 2.0).exp() / (2.0 * PI).sqrt() * dz
        })
        .sum()
}

/// Noiseless ReLU correlation map at He init.
fn relu_c(c: f64) -> f64 {
    let c = c.clamp(-1.0, 1.0);
    ((1.0 - c * c).sqrt() + (PI - c.acos()) * c) / PI
}

/// Fixed point c* and slope χ(c*) of c ↦ relu_c(c)/μ₂.
fn fixed_point(mu2: f64) -> (f64, f64) {
    let mut c = 0.5;
    for _ in 0..2000 {
        c = relu_c(c) / mu2;
    }
    (c, (PI - c.acos()) / (PI * mu2))
}

fn variance_map() -> LineChart {
    let qs: Vec<f64> = (0..30).map(|i| 15.0 * i as f64 / 29.0).collect();
    type Map = fn(f64) -> f64;
    let configs: [(&str, Map, usize); 4] = [
        ("tanh, no noise", |q| tanh_sq(q), 8),
        ("tanh + N(0, 1) additive", |q| tanh_sq(q) + 1.0, 3),
        ("ReLU, no noise", |q| q, 4),
        ("ReLU + N(0, 1) additive", |q| q + 2.0, 5),
    ];
    let mut series = Vec::new();
    for (ci, (name, f, col)) in configs.iter().enumerate() {
        let color = PALETTE[*col];
        series.push(Series::line(*name, qs.iter().map(|&q| (q, f(q))).collect()).with_color(color));
        let sim: Vec<(f64, f64)> = qs
            .iter()
            .enumerate()
            .map(|(i, &q)| (q, f(q) * (1.0 + 0.02 * wobble(i, ci))))
            .collect();
        let band = sim
            .iter()
            .map(|&(q, y)| (q, y - 0.03 * (1.0 + y), y + 0.03 * (1.0 + y)))
            .collect();
        series.push(Series::points("", sim).with_color(color).with_band(band));
    }
    LineChart {
        title: "(a) Iterative variance map".into(),
        x_label: "input variance q^{l−1}".into(),
        y_label: "output variance q^{l}".into(),
        series,
        ref_lines: vec![RefLine::identity().with_label("identity")],
        ..Default::default()
    }
}

fn log_dynamics() -> LineChart {
    let layers: Vec<f64> = (0..=15).map(f64::from).collect();
    let mut series = Vec::new();
    let cases = [
        ("critical, σ_{w}^{2} = 2p", 1.0f64, PALETTE[2], false),
        ("over, σ_{w}^{2} = 1.15^{2}·2p", 1.3225, PALETTE[3], true),
        ("under, σ_{w}^{2} = 0.85^{2}·2p", 0.7225, PALETTE[0], true),
    ];
    for (k, (name, slope, color, dashed)) in cases.into_iter().enumerate() {
        let theory: Vec<(f64, f64)> = layers.iter().map(|&l| (l, 4.0 * slope.powf(l))).collect();
        series.push(
            Series::line(name, theory.clone())
                .with_color(color)
                .with_dashed(dashed),
        );
        let sim: Vec<(f64, f64)> = theory
            .iter()
            .enumerate()
            .map(|(i, &(l, q))| (l, q * (1.0 + 0.04 * wobble(i, k))))
            .collect();
        // band widens with depth; the lower edge of the "under" band goes ≤ 0 and is clipped
        let band = sim
            .iter()
            .map(|&(l, q)| {
                (
                    l,
                    q - q * 0.06 * l.sqrt() - 0.02 * l,
                    q + q * 0.06 * l.sqrt(),
                )
            })
            .collect();
        series.push(
            Series::points("", sim)
                .with_color(color)
                .with_marker(Marker::Square)
                .with_band(band),
        );
    }
    LineChart {
        title: "(b) Variance dynamics, dropout p = 0.6".into(),
        x_label: "layer l".into(),
        y_label: "variance q^{l}".into(),
        log_y: true,
        series,
        ..Default::default()
    }
}

fn many_series() -> LineChart {
    let mut series = Vec::new();
    for k in 1..=9 {
        let p = k as f64 / 10.0;
        let (_, chi) = fixed_point(1.0 / p);
        let xi = -1.0 / chi.ln();
        let color = Colormap::Viridis.color((k - 1) as f64 / 8.0 * 0.9);
        let pts: Vec<(f64, f64)> = (0..30)
            .map(|l| {
                (
                    f64::from(l),
                    0.5 * (-f64::from(l) / xi).exp()
                        * (1.0 + 2.0 * (-f64::from(l) / 2.0).exp() + 0.05 * wobble(l as usize, k)),
                )
            })
            .collect();
        series.push(Series::line(format!("p = {p:.1}"), pts).with_color(color));
        let fit: Vec<(f64, f64)> = (0..30)
            .map(|l| (f64::from(l), 0.5 * (-f64::from(l) / xi).exp()))
            .collect();
        // "linear fit" of ln|c − c*|, shifted so it is visible next to the data
        let fit: Vec<(f64, f64)> = fit.into_iter().map(|(l, v)| (l, v * 0.6)).collect();
        series.push(Series::line("", fit).with_color(color).with_dashed(true));
    }
    // a legend-only entry explaining the dashed lines
    series.push(
        Series::line("linear fits", vec![])
            .with_color((90, 90, 90))
            .with_dashed(true),
    );
    LineChart {
        title: "Convergence to the fixed point (dropout)".into(),
        x_label: "layer l".into(),
        y_label: "|c^{l} − c*|".into(),
        log_y: true,
        y_range: Some((1e-12, 1.0)),
        series,
        ..Default::default()
    }
}

/// ln q^l over (σ_w², depth) for dropout p = 0.6, NaN/−∞ beyond float32 range.
fn variance_depth() -> HeatMap {
    let p = 0.6;
    let xc: Vec<f64> = (0..25).map(|i| 0.1 + 0.1 * i as f64).collect();
    let yc: Vec<f64> = (1..=100).map(|i| 10.0 * i as f64).collect();
    let q0: f64 = 0.22;
    let (ln_max, ln_min) = (88.7, -87.3);
    let mut values = Vec::new();
    for &l in &yc {
        for &s2 in &xc {
            let a: f64 = s2 / (2.0 * p) * 2.0 / 2.0;
            let v = q0.ln() + l * a.ln();
            values.push(if v > ln_max {
                f64::NAN
            } else if v < ln_min {
                f64::NEG_INFINITY
            } else {
                v
            });
        }
    }
    let lstar: Vec<(f64, f64)> = (0..=240)
        .map(|i| 0.1 + 2.4 * i as f64 / 240.0)
        .filter_map(|s2: f64| {
            let la = (s2 / (2.0 * p)).ln();
            if la.abs() < 1e-9 {
                return None;
            }
            let l = if la > 0.0 {
                (ln_max - q0.ln()) / la
            } else {
                (ln_min - q0.ln()) / la
            };
            Some((s2, l))
        })
        .collect();
    let (left, right): (Vec<_>, Vec<_>) = lstar.into_iter().partition(|&(s, _)| s < 2.0 * p);
    HeatMap {
        title: "Variance propagation depth, dropout p = 0.6".into(),
        x_label: "weight variance σ_{w}^{2}".into(),
        y_label: "layer l".into(),
        color_label: "log(q^{l})".into(),
        x_edges: edges_from_centers(&xc, false),
        y_edges: edges_from_centers(&yc, false),
        values,
        colormap: Colormap::Viridis,
        overlays: vec![
            Series::line("L* (float32 limit)", left).with_color((0, 215, 235)),
            Series::line("", right).with_color((0, 215, 235)),
        ],
        ref_lines: vec![
            RefLine::vertical(2.0 * p)
                .with_color((0, 0, 0))
                .with_label("criticality"),
        ],
        annotations: vec![
            (0.55, 700.0, "Underflow".into()),
            (2.05, 700.0, "Overflow".into()),
        ],
        non_finite_label: Some("left the f32 range".into()),
        ..Default::default()
    }
}

/// Synthetic loss over (2p, depth) with non-uniform cells, the 6ξ_c curve and a contour.
fn loss_depth() -> HeatMap {
    let ps: Vec<f64> = (1..=10).map(|i| i as f64 / 10.0).collect();
    let xc: Vec<f64> = ps.iter().map(|p| 2.0 * p).collect();
    let depths = [2.0, 6.0, 10.0, 14.0, 18.0, 23.0, 27.0, 31.0, 35.0, 40.0];
    let xi = xi_c;
    let mut values = Vec::new();
    for (iy, &d) in depths.iter().enumerate() {
        for (ix, &p) in ps.iter().enumerate() {
            let r = d / (6.0 * xi(p));
            let v = 0.065 + 0.045 / (1.0 + (-(r - 1.0) * 4.0).exp()) + 0.003 * wobble(ix, iy);
            // one failed run
            values.push(if ix == 3 && iy == 7 { f64::NAN } else { v });
        }
    }
    let curve: Vec<(f64, f64)> = (0..100)
        .map(|i| 0.1 + 0.9 * i as f64 / 99.0)
        .map(|p| (2.0 * p, 6.0 * xi(p)))
        .collect();
    let mut overlays = vec![Series::line("6ξ_{c}", curve).with_color((0, 110, 40))];
    for (k, line) in contour(&xc, &depths, &values, 0.09).into_iter().enumerate() {
        let label = if k == 0 { "loss = 0.09 contour" } else { "" };
        overlays.push(
            Series::line(label, line)
                .with_color((40, 40, 40))
                .with_dashed(true),
        );
    }
    HeatMap {
        title: "Validation loss at criticality".into(),
        x_label: "critical σ_{w}^{2} = 2p".into(),
        y_label: "number of hidden layers".into(),
        color_label: "validation loss".into(),
        x_edges: edges_from_centers(&xc, false),
        y_edges: edges_from_centers(&depths, false),
        values,
        colormap: Colormap::SpectralR,
        overlays,
        non_finite_label: Some("run failed".into()),
        ..Default::default()
    }
}

/// Correlation length ξ_c of a ReLU net with dropout keep probability `p` at criticality.
fn xi_c(p: f64) -> f64 {
    let (_, chi) = fixed_point(1.0 / p);
    if chi >= 1.0 {
        f64::INFINITY
    } else {
        -1.0 / chi.ln()
    }
}

/// Trainable depth: loss over a grid of chosen settings (10 keep probabilities × 10 depths)
/// on categorical axes, with the 6ξ_c curve mapped between the categories.
fn trainable_depth() -> HeatMap {
    let keeps: Vec<f64> = (1..=10).map(|i| f64::from(i) / 10.0).collect();
    let depths: Vec<f64> = (0..10).map(|i| f64::from(2 + 4 * i)).collect();
    let mut values = Vec::new();
    for (iy, &d) in depths.iter().enumerate() {
        for (ix, &p) in keeps.iter().enumerate() {
            let r = d / (6.0 * xi_c(p));
            let v = 0.065 + 0.045 / (1.0 + (-(r - 1.0) * 4.0).exp()) + 0.003 * wobble(ix, iy);
            // two runs that were never computed
            values.push(if (ix, iy) == (2, 8) || (ix, iy) == (6, 5) {
                f64::NAN
            } else {
                v
            });
        }
    }
    let curve: Vec<(f64, f64)> = (0..=300)
        .map(|i| 0.1 + 0.9 * f64::from(i) / 300.0)
        .filter_map(|p| {
            Some((
                categorical_position(&keeps, p)?,
                categorical_position(&depths, 6.0 * xi_c(p))?,
            ))
        })
        .collect();
    HeatMap {
        title: "Trainable depth (categorical axes)".into(),
        x_label: "dropout keep probability p".into(),
        y_label: "hidden layers".into(),
        color_label: "validation loss".into(),
        x_categories: Some(category_labels(&keeps)),
        y_categories: Some(category_labels(&depths)),
        color_range: robust_color_range(&values).map(|(r, _)| r),
        values,
        colormap: Colormap::SpectralR,
        overlays: vec![Series::line("6ξ_{c}", curve).with_color((20, 20, 20))],
        non_finite_label: Some("not computed".into()),
        legend: LegendPos::Top,
        ..Default::default()
    }
}

/// A single run: one keep × one depth, so the colour range is a single value.
fn one_cell() -> HeatMap {
    let values = vec![0.0731];
    HeatMap {
        title: "One setting".into(),
        x_label: "dropout keep probability p".into(),
        y_label: "hidden layers".into(),
        color_label: "validation loss".into(),
        x_categories: Some(category_labels(&[0.8])),
        y_categories: Some(category_labels(&[10.0])),
        color_range: robust_color_range(&values).map(|(r, _)| r),
        values,
        colormap: Colormap::SpectralR,
        ..Default::default()
    }
}

fn correlation_panels() -> Vec<Panel> {
    let configs = [
        ("no noise", 1.0, PALETTE[0]),
        ("dropout p = 0.8", 1.25, PALETTE[2]),
        ("dropout p = 0.6", 1.0 / 0.6, PALETTE[1]),
        ("Gauss σ_{ε} = 2", 5.0, PALETTE[3]),
    ];
    // (a) correlation map
    let cs: Vec<f64> = (0..=50).map(|i| i as f64 / 50.0).collect();
    let mut a_series = Vec::new();
    let mut fixed = Vec::new();
    for (k, (name, mu2, color)) in configs.iter().enumerate() {
        a_series.push(
            Series::line(*name, cs.iter().map(|&c| (c, relu_c(c) / mu2)).collect())
                .with_color(*color),
        );
        let sim: Vec<(f64, f64)> = cs
            .iter()
            .step_by(5)
            .enumerate()
            .map(|(i, &c)| (c, relu_c(c) / mu2 + 0.01 * wobble(i, k)))
            .collect();
        let band = sim
            .iter()
            .map(|&(c, y)| (c, y - 0.025, y + 0.025))
            .collect();
        a_series.push(Series::points("", sim).with_color(*color).with_band(band));
        let (cstar, _) = fixed_point(*mu2);
        fixed.push((cstar, cstar));
    }
    a_series.push(
        Series::points("fixed points c*", fixed)
            .with_color((20, 20, 20))
            .with_marker(Marker::Cross),
    );
    let a = LineChart {
        title: "(a) Correlation map".into(),
        x_label: "c^{l−1}".into(),
        y_label: "c^{l}".into(),
        x_range: Some((0.0, 1.0)),
        y_range: Some((0.0, 1.0)),
        series: a_series,
        ref_lines: vec![RefLine::identity()],
        legend: LegendPos::UpperLeft,
        ..Default::default()
    };
    // (b) dynamics
    let mut b_series = Vec::new();
    for (k, (name, mu2, color)) in configs.iter().enumerate().skip(1).take(2) {
        for (j, c0) in [0.0, 0.5, 0.9].into_iter().enumerate() {
            let mut c = c0;
            let mut pts = vec![(0.0, c)];
            for l in 1..=30 {
                c = relu_c(c) / mu2;
                pts.push((f64::from(l), c + 0.004 * wobble(l as usize, k + j)));
            }
            let label = if j == 0 {
                name.to_string()
            } else {
                String::new()
            };
            b_series.push(Series::line_points(label, pts).with_color(*color));
        }
    }
    let b = LineChart {
        title: "(b) Correlation dynamics".into(),
        x_label: "layer l".into(),
        y_label: "correlation c^{l}".into(),
        series: b_series,
        ..Default::default()
    };
    // (c) phase diagram χ(c*) vs μ₂
    let pts: Vec<(f64, f64)> = (0..100)
        .map(|i| 0.1 + 0.9 * i as f64 / 99.0)
        .map(|p| {
            let mu2 = 1.0 / p;
            (mu2, fixed_point(mu2).1)
        })
        .collect();
    let region: Vec<(f64, f64, f64)> = (0..=20)
        .map(|i| 1.0 + 9.0 * i as f64 / 20.0)
        .map(|m| (m, 0.0, 1.0))
        .collect();
    let c = LineChart {
        title: "(c) Phase diagram".into(),
        x_label: "noise second moment μ_{2}".into(),
        y_label: "χ(c*)".into(),
        y_range: Some((0.0, 1.1)),
        series: vec![
            Series::line("ordered regime (vanishing gradients)", vec![])
                .with_color(PALETTE[9])
                .with_band(region),
            Series::line("χ(c*), dropout", pts).with_color(PALETTE[1]),
            Series::points("edge of chaos", vec![(1.0, 1.0)])
                .with_color(PALETTE[3])
                .with_marker(Marker::Star),
        ],
        legend: LegendPos::UpperRight,
        ..Default::default()
    };
    vec![Panel::Line(a), Panel::Line(b), Panel::Line(c)]
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "gallery".into()));
    std::fs::create_dir_all(&dir)?;
    let t = std::time::Instant::now();
    render_line_chart(
        &variance_map(),
        &dir.join("line_band_points.png"),
        DEFAULT_SIZE,
    )?;
    render_line_chart(&log_dynamics(), &dir.join("line_log_y.png"), DEFAULT_SIZE)?;
    render_line_chart(
        &many_series(),
        &dir.join("line_many_series.png"),
        DEFAULT_SIZE,
    )?;
    render_heatmap(
        &variance_depth(),
        &dir.join("heat_nan_overlay.png"),
        DEFAULT_SIZE,
    )?;
    render_heatmap(
        &loss_depth(),
        &dir.join("heat_spectral_contour.png"),
        DEFAULT_SIZE,
    )?;
    render_heatmap(
        &trainable_depth(),
        &dir.join("heat_categorical.png"),
        DEFAULT_SIZE,
    )?;
    render_heatmap(&one_cell(), &dir.join("heat_one_cell.png"), DEFAULT_SIZE)?;
    render_panels(
        &correlation_panels(),
        3,
        &dir.join("panels_3.png"),
        DEFAULT_SIZE,
        Some("Propagating correlation information in noisy ReLU networks"),
    )?;
    println!(
        "wrote 8 figures to {} in {:.2?}",
        dir.display(),
        t.elapsed()
    );
    Ok(())
}
