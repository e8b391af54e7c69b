//! Line charts.

use crate::axis::{self, Axis, TEXT, Theme};
use crate::canvas::{Canvas, Pt, Rect, clip_polygon, clip_polyline};
use crate::legend::{self, BAND_ALPHA, Entry};
use crate::text::{self, HAlign, Style, VAlign};
use crate::ticks::TickSet;
use crate::{LegendPos, LineChart, PlotError, RefLine, RefLineKind, Rgb, Series, SeriesStyle};

/// Axes geometry of one chart.
pub(crate) struct Frame {
    pub plot: Rect,
    pub xa: Axis,
    pub ya: Axis,
    pub xt: TickSet,
    pub yt: TickSet,
    /// Axis labels including any tick multiplier.
    pub x_label: String,
    pub y_label: String,
}

/// Colour of series `i`.
pub(crate) fn series_color(s: &Series, i: usize) -> Rgb {
    s.color.unwrap_or_else(|| crate::palette(i))
}

fn usable(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

/// Legend entries of a list of series and reference lines.
pub(crate) fn entries(series: &[Series], refs: &[RefLine]) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, s) in series.iter().enumerate() {
        if s.label.trim().is_empty() {
            continue;
        }
        let has_points = !s.points.is_empty() || s.band.is_none();
        out.push(Entry {
            label: s.label.clone(),
            color: series_color(s, i),
            line: has_points && s.style != SeriesStyle::Points,
            dashed: s.dashed,
            marker: (has_points && s.style != SeriesStyle::Line).then_some(s.marker),
            patch: s.band.is_some(),
        });
    }
    for r in refs {
        if !r.label.trim().is_empty() {
            out.push(Entry {
                label: r.label.clone(),
                color: r.color,
                line: true,
                dashed: r.dashed,
                marker: None,
                patch: false,
            });
        }
    }
    out
}

/// The data range of one axis and how it is ticked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AxisSpec<'a> {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    /// Category labels (category `i` centred at `i + 0.5`); `None` = numeric ticks.
    pub categories: Option<&'a [String]>,
}

impl AxisSpec<'_> {
    /// A numeric axis.
    pub fn numeric(lo: f64, hi: f64, log: bool) -> Self {
        AxisSpec {
            lo,
            hi,
            log,
            categories: None,
        }
    }
}

/// Computes axes geometry given the space reserved for an outside legend.
#[allow(clippy::too_many_arguments)]
pub(crate) fn layout(
    cv: &Canvas,
    th: &Theme,
    outer: &Rect,
    titles: (&str, &str, &str),
    xr: AxisSpec<'_>,
    yr: AxisSpec<'_>,
    right_extra: f64,
    top_extra: f64,
) -> Result<Frame, PlotError> {
    let (title, x_label, y_label) = titles;
    let top = outer.y0 + axis::title_height(title, th) + top_extra;
    let mut x_lab = x_label.to_string();
    let mut sup = false;
    let mut result = None;
    for _pass in 0..3 {
        let bottom = outer.y1 - axis::x_label_height(&x_lab, th) - axis::x_tick_band(th, sup);
        let ya = Axis {
            lo: yr.lo,
            hi: yr.hi,
            log: yr.log,
            p0: bottom,
            p1: top,
        };
        let yt = axis::ticks_for(cv, &ya, false, th.tick, 10, yr.categories);
        let yw = axis::max_label_width(cv, &yt, th.tick);
        let y_lab = axis::with_multiplier(y_label, &yt);
        let left = outer.x0 + axis::y_label_width(&y_lab, th) + axis::y_tick_band(th, yw);
        let mut right = outer.x1 - th.pad - right_extra;
        let mut xa = Axis {
            lo: xr.lo,
            hi: xr.hi,
            log: xr.log,
            p0: left,
            p1: right,
        };
        let mut xt = axis::ticks_for(cv, &xa, true, th.tick, 10, xr.categories);
        // keep the last x tick label inside the panel
        let limit = outer.x1 - 0.6 * th.pad - right_extra;
        let overhang = xt
            .major
            .iter()
            .filter_map(|t| {
                let p = xa.px(t.value)?;
                (p <= right + 0.5).then(|| p + text::width(cv, &t.label, th.tick) / 2.0 - limit)
            })
            .fold(0.0f64, f64::max);
        if overhang > 0.0 {
            right -= overhang;
            xa.p1 = right;
            xt = axis::ticks_for(cv, &xa, true, th.tick, 10, xr.categories);
        }
        let plot = Rect::new(left, top, right, bottom);
        if plot.w() < 10.0 || plot.h() < 10.0 {
            return Err(PlotError::InvalidInput {
                what: format!(
                    "panel of {:.0}×{:.0} px is too small for its labels",
                    outer.w(),
                    outer.h()
                ),
            });
        }
        let new_x_lab = axis::with_multiplier(x_label, &xt);
        let new_sup = axis::has_superscript(&xt);
        result = Some(Frame {
            plot,
            xa,
            ya,
            xt,
            yt,
            x_label: new_x_lab.clone(),
            y_label: y_lab,
        });
        if new_x_lab == x_lab && new_sup == sup {
            break;
        }
        x_lab = new_x_lab;
        sup = new_sup;
    }
    result.ok_or_else(|| PlotError::Backend("layout failed".into()))
}

/// Pixel polyline of a series (`None` breaks the line).
pub(crate) fn series_pixels(s: &Series, f: &Frame) -> Vec<Option<Pt>> {
    s.points
        .iter()
        .map(|&(x, y)| Some((f.xa.px(x)?, f.ya.px(y)?)))
        .collect()
}

/// Band polygons in pixels (split where rows are unusable).
pub(crate) fn band_polygons(band: &[(f64, f64, f64)], f: &Frame) -> Vec<Vec<Pt>> {
    let mut polys = Vec::new();
    let mut upper: Vec<Pt> = Vec::new();
    let mut lower: Vec<Pt> = Vec::new();
    let mut flush = |upper: &mut Vec<Pt>, lower: &mut Vec<Pt>| {
        if upper.len() >= 2 {
            let mut poly = std::mem::take(upper);
            poly.extend(lower.drain(..).rev());
            let clipped = clip_polygon(&poly, &f.plot);
            if clipped.len() >= 3 {
                polys.push(clipped);
            }
        }
        upper.clear();
        lower.clear();
    };
    for &(x, lo, hi) in band {
        let px = f.xa.px(x);
        let (plo, phi) = if lo.is_nan() || hi.is_nan() {
            (None, None)
        } else {
            (f.ya.px_extended(lo), f.ya.px_extended(hi))
        };
        match (px, plo, phi) {
            (Some(px), Some(plo), Some(phi)) => {
                upper.push((px, phi));
                lower.push((px, plo));
            }
            _ => flush(&mut upper, &mut lower),
        }
    }
    flush(&mut upper, &mut lower);
    polys
}

/// Pixel polylines of a reference line, clipped to the axes.
pub(crate) fn ref_line_pixels(r: &RefLine, f: &Frame) -> Vec<Vec<Pt>> {
    let p = &f.plot;
    let pts: Vec<Option<Pt>> = match r.kind {
        RefLineKind::Horizontal(y) => match f.ya.px(y) {
            Some(py) => vec![Some((p.x0, py)), Some((p.x1, py))],
            None => vec![],
        },
        RefLineKind::Vertical(x) => match f.xa.px(x) {
            Some(px) => vec![Some((px, p.y0)), Some((px, p.y1))],
            None => vec![],
        },
        RefLineKind::Line { slope, intercept } => {
            let n = if f.xa.log || f.ya.log { 400 } else { 1 };
            (0..=n)
                .map(|i| {
                    let px = p.x0 + (p.x1 - p.x0) * i as f64 / n as f64;
                    let x = f.xa.value_at(px);
                    let y = slope * x + intercept;
                    Some((px, f.ya.px_extended(y)?))
                })
                .collect()
        }
    };
    clip_polyline(&pts, p)
}

/// Points along a polyline every `step` pixels.
fn sample_polyline(run: &[Pt], step: f64, w: f64, out: &mut Vec<(Pt, f64)>) {
    for seg in run.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let n = (len / step).ceil().clamp(1.0, 1e5) as usize;
        for k in 0..=n {
            let t = k as f64 / n as f64;
            out.push(((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t), w));
        }
    }
}

/// Where the data is, for choosing a legend corner.
pub(crate) fn occupancy(
    cv: &Canvas,
    series: &[Series],
    refs: &[RefLine],
    annotations: &[(f64, f64, String)],
    f: &Frame,
    th: &Theme,
) -> Vec<(Pt, f64)> {
    let mut out = Vec::new();
    for s in series {
        if let Some(b) = &s.band {
            for poly in band_polygons(b, f) {
                // sample the band area on a coarse grid
                let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
                for p in &poly {
                    x0 = x0.min(p.0);
                    x1 = x1.max(p.0);
                    y0 = y0.min(p.1);
                    y1 = y1.max(p.1);
                }
                let step = 6.0;
                let mut y = y0;
                while y <= y1 {
                    let mut x = x0;
                    while x <= x1 {
                        if point_in_polygon((x, y), &poly) {
                            out.push(((x, y), 0.3));
                        }
                        x += step;
                    }
                    y += step;
                }
            }
        }
        let px = series_pixels(s, f);
        if s.style != SeriesStyle::Points {
            for run in clip_polyline(&px, &f.plot) {
                sample_polyline(&run, 3.0, 1.0, &mut out);
            }
        }
        if s.style != SeriesStyle::Line {
            let r = th.marker_r * 1.3;
            for p in px.into_iter().flatten() {
                if f.plot.contains(p) {
                    for d in [(0.0, 0.0), (r, 0.0), (-r, 0.0), (0.0, r), (0.0, -r)] {
                        out.push(((p.0 + d.0, p.1 + d.1), 1.0));
                    }
                }
            }
        }
    }
    for r in refs {
        for run in ref_line_pixels(r, f) {
            sample_polyline(&run, 4.0, 0.5, &mut out);
        }
    }
    for (x, y, s) in annotations {
        if let (Some(px), Some(py)) = (f.xa.px(*x), f.ya.px(*y)) {
            let w = text::width(cv, s, th.annot) / 2.0;
            let h = th.annot / 2.0;
            let mut xx = px - w;
            while xx <= px + w {
                for yy in [py - h, py, py + h] {
                    out.push(((xx, yy), 1.0));
                }
                xx += 4.0;
            }
        }
    }
    out
}

fn point_in_polygon(p: Pt, poly: &[Pt]) -> bool {
    let mut inside = false;
    let n = poly.len();
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + n - 1) % n]);
        if (a.1 > p.1) != (b.1 > p.1) && p.0 < (b.0 - a.0) * (p.1 - a.1) / (b.1 - a.1) + a.0 {
            inside = !inside;
        }
    }
    inside
}

/// Dash pattern for a line of width `w`.
pub(crate) fn dash(w: f64) -> (f64, f64) {
    (4.2 * w, 2.6 * w)
}

/// Draws bands, lines and markers of `series` (with an optional contrasting halo under the
/// lines, for heat-map overlays).
pub(crate) fn draw_series(
    cv: &mut Canvas,
    series: &[Series],
    f: &Frame,
    th: &Theme,
    halo: Option<Rgb>,
) {
    for (i, s) in series.iter().enumerate() {
        if let Some(b) = &s.band {
            let c = series_color(s, i);
            let polys = band_polygons(b, f);
            for poly in polys {
                cv.fill_polygon(&[poly], c, BAND_ALPHA);
            }
        }
    }
    for (i, s) in series.iter().enumerate() {
        if s.style == SeriesStyle::Points {
            continue;
        }
        let c = series_color(s, i);
        let runs = clip_polyline(&series_pixels(s, f), &f.plot);
        let d = s.dashed.then(|| dash(th.line_w));
        if let Some(h) = halo {
            for run in &runs {
                cv.stroke(run, th.line_w + 2.0 * th.frame_w, h, None);
            }
        }
        for run in &runs {
            cv.stroke(run, th.line_w, c, d);
        }
    }
    for (i, s) in series.iter().enumerate() {
        if s.style == SeriesStyle::Line {
            continue;
        }
        let c = series_color(s, i);
        for p in series_pixels(s, f).into_iter().flatten() {
            if f.plot.contains(p) {
                legend::draw_marker(cv, s.marker, p, th.marker_r, c);
            }
        }
    }
}

/// Draws reference lines.
pub(crate) fn draw_ref_lines(
    cv: &mut Canvas,
    refs: &[RefLine],
    f: &Frame,
    th: &Theme,
    halo: Option<Rgb>,
) {
    let w = th.line_w * 0.8;
    for r in refs {
        let runs = ref_line_pixels(r, f);
        if let Some(h) = halo {
            for run in &runs {
                cv.stroke(run, w + 2.0 * th.frame_w, h, None);
            }
        }
        for run in &runs {
            cv.stroke(run, w, r.color, r.dashed.then(|| dash(w)));
        }
    }
}

/// Draws text annotations with a halo: dark text on a white halo, or white text on a dark
/// halo where `background(x, y)` is dark.
pub(crate) fn draw_annotations(
    cv: &mut Canvas,
    annotations: &[(f64, f64, String)],
    f: &Frame,
    th: &Theme,
    background: impl Fn(f64, f64) -> Option<Rgb>,
) -> Result<(), PlotError> {
    for (x, y, s) in annotations {
        let (Some(px), Some(py)) = (f.xa.px(*x), f.ya.px(*y)) else {
            continue;
        };
        if f.plot.contains((px, py)) {
            let dark = background(*x, *y).is_some_and(|c| {
                0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2)
                    < 0.45 * 255.0
            });
            let (fg, halo) = if dark {
                ((255, 255, 255), (0, 0, 0))
            } else {
                (TEXT, (255, 255, 255))
            };
            text::draw_with_halo(
                cv,
                s,
                (px, py),
                Style::new(th.annot, fg, HAlign::Center, VAlign::Middle),
                halo,
            )?;
        }
    }
    Ok(())
}

/// Draws a complete line chart into `outer`.
pub(crate) fn draw(cv: &mut Canvas, chart: &LineChart, outer: Rect) -> Result<(), PlotError> {
    let th = Theme::for_size(outer.w(), outer.h());
    let (lx, ly) = (chart.log_x, chart.log_y);

    // data extents: points whose both coordinates are usable, band rows likewise
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    for s in &chart.series {
        for &(x, y) in &s.points {
            if usable(x, lx) && usable(y, ly) {
                xs.push(x);
                ys.push(y);
            }
        }
        if let Some(b) = &s.band {
            for &(x, lo, hi) in b {
                if !usable(x, lx) {
                    continue;
                }
                let mut any = false;
                for v in [lo, hi] {
                    if usable(v, ly) {
                        ys.push(v);
                        any = true;
                    }
                }
                if any {
                    xs.push(x);
                }
            }
        }
    }
    let no_data = xs.is_empty() && chart.series.iter().all(|s| s.points.is_empty());
    let xr = axis::axis_range(
        axis::extent(xs.into_iter(), lx),
        chart.x_range,
        lx,
        0.04,
        "x",
    )
    .map_err(|e| match e {
        PlotError::EmptyData { .. } if no_data => PlotError::EmptyData {
            what: "line chart has no series with finite points (set x_range and y_range to draw \
                   empty axes)"
                .into(),
        },
        PlotError::EmptyData { what } => PlotError::EmptyData {
            what: format!("line chart: {what}"),
        },
        other => other,
    })?;
    let yr = axis::axis_range(
        axis::extent(ys.into_iter(), ly),
        chart.y_range,
        ly,
        0.05,
        "y",
    )
    .map_err(|e| match e {
        PlotError::EmptyData { what } => PlotError::EmptyData {
            what: format!("line chart: {what}"),
        },
        other => other,
    })?;

    let entries = entries(&chart.series, &chart.ref_lines);
    let titles = (
        chart.title.as_str(),
        chart.x_label.as_str(),
        chart.y_label.as_str(),
    );
    let xr3 = AxisSpec::numeric(xr.0, xr.1, lx);
    let yr3 = AxisSpec::numeric(yr.0, yr.1, ly);
    let mut pos = if entries.is_empty() {
        LegendPos::None
    } else {
        chart.legend
    };
    let mut f = layout(cv, &th, &outer, titles, xr3, yr3, 0.0, 0.0)?;
    let margin = 0.6 * th.legend;
    if pos == LegendPos::Auto {
        let occ = occupancy(
            cv,
            &chart.series,
            &chart.ref_lines,
            &chart.annotations,
            &f,
            &th,
        );
        let l = legend::measure_column(cv, &entries, &th, f.plot.h() - 2.0 * margin);
        let mut best: Option<(f64, LegendPos)> = None;
        if l.w <= f.plot.w() * 0.7 && l.h <= f.plot.h() - 2.0 * margin {
            for cand in [
                LegendPos::UpperRight,
                LegendPos::UpperLeft,
                LegendPos::LowerLeft,
                LegendPos::LowerRight,
            ] {
                let at = legend::corner(&f.plot, &l, cand, margin);
                let score = legend::coverage(&occ, at, &l, 0.25 * th.legend);
                if best.is_none_or(|(b, _)| score < b) {
                    best = Some((score, cand));
                }
            }
        }
        pos = match best {
            Some((score, cand)) if score <= 0.0 => cand,
            _ => LegendPos::Right,
        };
    }
    // (entries, layout, top-left corner, background opacity)
    let mut placed: Option<(Vec<Entry>, legend::Layout, Pt, f64)> = None;
    if pos == LegendPos::Right {
        // between the title and the bottom edge
        let top = outer.y0 + axis::title_height(&chart.title, &th);
        let max_h = outer.y1 - th.pad - top;
        match legend::fit(cv, &entries, &th, 0.45 * outer.w(), max_h, false) {
            Some((es, l)) => {
                let reserve = l.w + th.pad;
                f = layout(cv, &th, &outer, titles, xr3, yr3, reserve, 0.0)?;
                let y = ((f.plot.y0 + f.plot.y1) / 2.0 - l.h / 2.0)
                    .min(outer.y1 - th.pad - l.h)
                    .max(top);
                let x = outer.x1 - th.pad - l.w;
                placed = Some((es, l, (x, y), 0.0));
            }
            None => pos = LegendPos::Top,
        }
    }
    if pos == LegendPos::Top {
        let max_w = outer.w() - 2.0 * th.pad;
        if let Some((es, l)) = legend::fit(cv, &entries, &th, max_w, 0.35 * outer.h(), true) {
            f = layout(cv, &th, &outer, titles, xr3, yr3, 0.0, l.h + 0.5 * th.pad)?;
            let x = ((f.plot.x0 + f.plot.x1) / 2.0 - l.w / 2.0)
                .clamp(outer.x0 + th.pad, (outer.x1 - th.pad - l.w).max(outer.x0));
            let y = f.plot.y0 - l.h - 0.5 * th.pad;
            placed = Some((es, l, (x, y), 0.0));
        }
    }
    if matches!(
        pos,
        LegendPos::UpperLeft | LegendPos::UpperRight | LegendPos::LowerLeft | LegendPos::LowerRight
    ) {
        let (mw, mh) = (f.plot.w() - 2.0 * margin, f.plot.h() - 2.0 * margin);
        if let Some((es, l)) = legend::fit(cv, &entries, &th, mw, mh, false) {
            let at = legend::corner(&f.plot, &l, pos, margin);
            placed = Some((es, l, at, 0.88));
        }
    }

    axis::draw_grid(cv, &f.plot, &f.xa, &f.ya, &f.xt, &f.yt, &th);
    draw_ref_lines(cv, &chart.ref_lines, &f, &th, None);
    draw_series(cv, &chart.series, &f, &th, None);
    draw_annotations(cv, &chart.annotations, &f, &th, |_, _| None)?;
    axis::draw_frame_and_ticks(cv, &f.plot, &f.xa, &f.ya, &f.xt, &f.yt, &th)?;
    axis::draw_titles(
        cv,
        &outer,
        &f.plot,
        &th,
        &chart.title,
        &f.x_label,
        &f.y_label,
    )?;
    if let Some((es, l, at, bg)) = placed {
        legend::draw(cv, &es, &l, at, &th, bg)?;
    }
    Ok(())
}
