//! Heat maps with a colour bar.

use crate::axis::{self, Axis, FRAME, TEXT, Theme};
use crate::canvas::{Canvas, Rect};
use crate::legend;
use crate::line::{self, Frame};
use crate::text::{self, HAlign, Style, VAlign};
use crate::ticks::TickSet;
use crate::{HeatMap, LegendPos, PlotError};

fn check_edges(edges: &[f64], log: bool, name: &str) -> Result<(), PlotError> {
    if edges.len() < 2 {
        return Err(PlotError::EmptyData {
            what: format!(
                "heat map needs at least 2 {name} edges (one cell), got {}",
                edges.len()
            ),
        });
    }
    if edges.iter().any(|v| !v.is_finite()) {
        return Err(PlotError::InvalidInput {
            what: format!("heat map {name} edges must be finite"),
        });
    }
    if edges.windows(2).any(|w| w[1] <= w[0]) {
        return Err(PlotError::InvalidInput {
            what: format!("heat map {name} edges must be strictly increasing"),
        });
    }
    if log && edges[0] <= 0.0 {
        return Err(PlotError::InvalidInput {
            what: format!("heat map {name} edges must be > 0 on a log axis"),
        });
    }
    Ok(())
}

/// Colour range: the user's (validated) or that of the finite values.
fn color_range(map: &HeatMap) -> Result<(f64, f64), PlotError> {
    if let Some((a, b)) = map.color_range {
        if !(a.is_finite() && b.is_finite()) || a >= b {
            return Err(PlotError::InvalidInput {
                what: format!("heat map color_range ({a}, {b}) must be finite with min < max"),
            });
        }
        return Ok((a, b));
    }
    let Some((a, b)) = axis::extent(map.values.iter().copied(), false) else {
        return Err(PlotError::EmptyData {
            what: "heat map has no finite values (set color_range to draw it anyway)".into(),
        });
    };
    if b - a <= a.abs().max(b.abs()) * 1e-12 || a == b {
        let d = if a == 0.0 { 0.5 } else { a.abs() * 0.05 };
        return Ok((a - d, b + d));
    }
    if !(b - a).is_finite() {
        return Err(PlotError::InvalidInput {
            what: format!("heat map value range ({a}, {b}) is too large"),
        });
    }
    Ok((a, b))
}

/// Space right of the axes for the colour bar and its labels.
struct BarGeom {
    gap: f64,
    w: f64,
    label_w: f64,
}

impl BarGeom {
    fn total(&self, th: &Theme, label: &str) -> f64 {
        self.gap
            + self.w
            + axis::y_tick_band(th, self.label_w)
            + if label.trim().is_empty() {
                0.0
            } else {
                0.6 * th.pad + text::line_height(th.label) + text::extra_above(label, th.label)
            }
    }
}

fn bar_ticks(cv: &Canvas, range: (f64, f64), y0: f64, y1: f64, th: &Theme) -> (Axis, TickSet) {
    let a = Axis {
        lo: range.0,
        hi: range.1,
        log: false,
        p0: y1,
        p1: y0,
    };
    let t = axis::choose_ticks(cv, &a, false, th.tick, 9);
    (a, t)
}

/// Draws a complete heat map into `outer`.
pub(crate) fn draw(cv: &mut Canvas, map: &HeatMap, outer: Rect) -> Result<(), PlotError> {
    let th = Theme::for_size(outer.w(), outer.h());
    check_edges(&map.x_edges, map.log_x, "x")?;
    check_edges(&map.y_edges, map.log_y, "y")?;
    let nx = map.x_edges.len() - 1;
    let ny = map.y_edges.len() - 1;
    let expected = nx.checked_mul(ny).ok_or_else(|| PlotError::InvalidInput {
        what: "heat map grid is too large".into(),
    })?;
    if map.values.len() != expected {
        return Err(PlotError::ShapeMismatch {
            what: format!("heat map values (ny·nx = {ny}·{nx}, row-major)"),
            expected,
            got: map.values.len(),
        });
    }
    let crange = color_range(map)?;
    let has_nan = map.values.iter().any(|v| v.is_nan());
    let has_inf = map.values.iter().any(|v| v.is_infinite());
    let nan_label = match (has_nan, has_inf) {
        (true, true) => Some("NaN/±∞"),
        (true, false) => Some("NaN"),
        (false, true) => Some("±∞"),
        (false, false) => None,
    };

    let entries = line::entries(&map.overlays, &map.ref_lines);
    let pos = match (entries.is_empty(), map.legend) {
        (true, _) => LegendPos::None,
        (false, LegendPos::Auto) => LegendPos::Top,
        (false, p) => p,
    };
    let titles = (
        map.title.as_str(),
        map.x_label.as_str(),
        map.y_label.as_str(),
    );
    let xr = (map.x_edges[0], map.x_edges[nx], map.log_x);
    let yr = (map.y_edges[0], map.y_edges[ny], map.log_y);

    // legend reservations
    let mut top_extra = 0.0;
    let mut legend_right = 0.0;
    let mut pos = pos;
    let mut leg: Option<(Vec<legend::Entry>, legend::Layout)> = None;
    if pos == LegendPos::Right {
        let max_h = outer.y1 - th.pad - outer.y0 - axis::title_height(&map.title, &th);
        match legend::fit(cv, &entries, &th, 0.35 * outer.w(), max_h, false) {
            Some((es, l)) => {
                legend_right = l.w + th.pad;
                leg = Some((es, l));
            }
            None => pos = LegendPos::Top,
        }
    }
    if pos == LegendPos::Top {
        let max_w = outer.w() - 2.0 * th.pad;
        if let Some((es, l)) = legend::fit(cv, &entries, &th, max_w, 0.35 * outer.h(), true) {
            top_extra = l.h + 0.5 * th.pad;
            leg = Some((es, l));
        }
    }

    // colour bar: estimate its tick labels, lay out, then refine once
    let mut geom = BarGeom {
        gap: 0.9 * th.tick,
        w: 1.15 * th.tick,
        label_w: 0.0,
    };
    let est_h = outer.h() * 0.7;
    let (_, est_ticks) = bar_ticks(cv, crange, 0.0, est_h, &th);
    geom.label_w = axis::max_label_width(cv, &est_ticks, th.tick);
    let mut cb_label = axis::with_multiplier(&map.color_label, &est_ticks);
    let mut f: Frame;
    let mut pass = 0;
    loop {
        let right = geom.total(&th, &cb_label) + legend_right;
        f = line::layout(cv, &th, &outer, titles, xr, yr, right, top_extra)?;
        let (_, t) = bar_ticks(cv, crange, f.plot.y0, f.plot.y1, &th);
        let lw = axis::max_label_width(cv, &t, th.tick);
        let lbl = axis::with_multiplier(&map.color_label, &t);
        pass += 1;
        if (lw <= geom.label_w + 0.5 && lbl == cb_label) || pass >= 3 {
            break;
        }
        geom.label_w = geom.label_w.max(lw);
        cb_label = lbl;
    }

    // cells
    let xpx: Vec<f64> = map
        .x_edges
        .iter()
        .map(|&v| f.xa.px(v).unwrap_or(f.plot.x0))
        .collect();
    let ypx: Vec<f64> = map
        .y_edges
        .iter()
        .map(|&v| f.ya.px(v).unwrap_or(f.plot.y1))
        .collect();
    let (lo, hi) = crange;
    for iy in 0..ny {
        for ix in 0..nx {
            let v = map.values[iy * nx + ix];
            let c = if v.is_finite() {
                map.colormap.color((v - lo) / (hi - lo))
            } else {
                map.non_finite_color
            };
            cv.fill_rect(
                Rect::new(xpx[ix], ypx[iy + 1], xpx[ix + 1], ypx[iy]),
                c,
                1.0,
            );
        }
    }

    let white = Some((255, 255, 255));
    line::draw_ref_lines(cv, &map.ref_lines, &f, &th, white);
    line::draw_series(cv, &map.overlays, &f, &th, white);
    let cell_color = |x: f64, y: f64| {
        let ix = map
            .x_edges
            .windows(2)
            .position(|w| x >= w[0] && x <= w[1])?;
        let iy = map
            .y_edges
            .windows(2)
            .position(|w| y >= w[0] && y <= w[1])?;
        let v = map.values[iy * nx + ix];
        Some(if v.is_finite() {
            map.colormap.color((v - lo) / (hi - lo))
        } else {
            map.non_finite_color
        })
    };
    line::draw_annotations(cv, &map.annotations, &f, &th, cell_color)?;
    axis::draw_frame_and_ticks(cv, &f.plot, &f.xa, &f.ya, &f.xt, &f.yt, &th)?;
    axis::draw_titles(cv, &outer, &f.plot, &th, &map.title, &f.x_label, &f.y_label)?;

    // colour bar
    let bx0 = f.plot.x1 + geom.gap;
    let bx1 = bx0 + geom.w;
    let swatch = if nan_label.is_some() { geom.w } else { 0.0 };
    let bar_y1 = if swatch > 0.0 {
        f.plot.y1 - swatch - 0.8 * th.tick
    } else {
        f.plot.y1
    };
    let bar = Rect::new(bx0, f.plot.y0, bx1, bar_y1);
    if bar.h() > 4.0 {
        cv.vertical_gradient(bar, |t| map.colormap.color(t));
        axis::draw_frame(cv, &bar, &th);
        let (ba, bt) = bar_ticks(cv, crange, bar.y0, bar.y1, &th);
        let fw = th.frame_w;
        for t in &bt.major {
            if let Some(p) = ba.px(t.value) {
                cv.fill_rect(
                    Rect::new(bx1, p - fw / 2.0, bx1 + th.tick_len, p + fw / 2.0),
                    FRAME,
                    1.0,
                );
                text::draw(
                    cv,
                    &t.label,
                    (bx1 + th.tick_len + 0.35 * th.tick, p),
                    Style::new(th.tick, TEXT, HAlign::Left, VAlign::Middle),
                )?;
            }
        }
        let cb_label = axis::with_multiplier(&map.color_label, &bt);
        if !cb_label.trim().is_empty() {
            let size = text::fit_size(cv, &cb_label, th.label, th.tick, f.plot.h());
            let x = bx1
                + axis::y_tick_band(&th, geom.label_w)
                + 0.6 * th.pad
                + text::extra_above(&cb_label, size);
            // reads bottom-to-top like the y label; the letters' tops face the bar
            text::draw(
                cv,
                &cb_label,
                (x, (bar.y0 + bar.y1) / 2.0),
                Style::new(size, TEXT, HAlign::Center, VAlign::Top).rotated(),
            )?;
        }
    }
    if let Some(lbl) = nan_label {
        let sw = Rect::new(bx0, f.plot.y1 - swatch, bx1, f.plot.y1);
        cv.fill_rect(sw, map.non_finite_color, 1.0);
        axis::draw_frame(cv, &sw, &th);
        text::draw(
            cv,
            lbl,
            (bx1 + 0.4 * th.tick, (sw.y0 + sw.y1) / 2.0),
            Style::new(th.tick * 0.9, TEXT, HAlign::Left, VAlign::Middle),
        )?;
    }

    // legend
    match (pos, leg) {
        (LegendPos::Top, Some((es, l))) => {
            let x = ((f.plot.x0 + f.plot.x1) / 2.0 - l.w / 2.0)
                .clamp(outer.x0 + th.pad, (outer.x1 - th.pad - l.w).max(outer.x0));
            legend::draw(cv, &es, &l, (x, f.plot.y0 - l.h - 0.5 * th.pad), &th, 0.0)?;
        }
        (LegendPos::Right, Some((es, l))) => {
            let x = outer.x1 - th.pad - l.w;
            let y = ((f.plot.y0 + f.plot.y1) / 2.0 - l.h / 2.0)
                .min(outer.y1 - th.pad - l.h)
                .max(outer.y0 + axis::title_height(&map.title, &th));
            legend::draw(cv, &es, &l, (x, y), &th, 0.0)?;
        }
        (
            p @ (LegendPos::UpperLeft
            | LegendPos::UpperRight
            | LegendPos::LowerLeft
            | LegendPos::LowerRight),
            _,
        ) => {
            let margin = 0.6 * th.legend;
            let (mw, mh) = (f.plot.w() - 2.0 * margin, f.plot.h() - 2.0 * margin);
            if let Some((es, l)) = legend::fit(cv, &entries, &th, mw, mh, false) {
                let at = legend::corner(&f.plot, &l, p, margin);
                legend::draw(cv, &es, &l, at, &th, 0.9)?;
            }
        }
        _ => {}
    }
    Ok(())
}
