//! Heat maps with a colour bar.

use std::borrow::Cow;

use crate::axis::{self, Axis, FRAME, TEXT, Theme};
use crate::canvas::{Canvas, Rect};
use crate::legend;
use crate::line::{self, AxisSpec, Frame};
use crate::text::{self, HAlign, Style, VAlign};
use crate::ticks::TickSet;
use crate::{HeatMap, LegendPos, PlotError, category_edges, widen_degenerate};

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

/// The cell edges along one axis: the user's (validated) or, with categories, the category
/// indices `0..=n`.
fn resolve_edges<'a>(
    edges: &'a [f64],
    categories: Option<&[String]>,
    log: bool,
    name: &str,
) -> Result<Cow<'a, [f64]>, PlotError> {
    let Some(cats) = categories else {
        check_edges(edges, log, name)?;
        return Ok(Cow::Borrowed(edges));
    };
    if cats.is_empty() {
        return Err(PlotError::EmptyData {
            what: format!("heat map {name}_categories is empty (one label per cell needed)"),
        });
    }
    if log {
        return Err(PlotError::InvalidInput {
            what: format!(
                "heat map log_{name} cannot be combined with {name}_categories (categories are \
                 equally wide cells)"
            ),
        });
    }
    let want = category_edges(cats.len());
    if edges.is_empty() {
        return Ok(Cow::Owned(want));
    }
    if edges.len() != want.len() {
        return Err(PlotError::ShapeMismatch {
            what: format!(
                "heat map {name}_edges with {} {name}_categories (leave {name}_edges empty: it is \
                 then category_edges({}))",
                cats.len(),
                cats.len()
            ),
            expected: want.len(),
            got: edges.len(),
        });
    }
    if edges != want.as_slice() {
        return Err(PlotError::InvalidInput {
            what: format!(
                "heat map {name}_edges must be empty or category_edges({}) = 0, 1, …, {} when \
                 {name}_categories is set",
                cats.len(),
                cats.len()
            ),
        });
    }
    Ok(Cow::Owned(want))
}

/// Colour range: the user's (validated; `min == max` widened) or that of the finite values.
fn color_range(map: &HeatMap) -> Result<(f64, f64), PlotError> {
    if let Some((a, b)) = map.color_range {
        if !(a.is_finite() && b.is_finite()) || a > b {
            return Err(PlotError::InvalidInput {
                what: format!("heat map color_range ({a}, {b}) must be finite with min ≤ max"),
            });
        }
        return Ok(if a == b {
            widen_degenerate(a, b)
        } else {
            (a, b)
        });
    }
    let Some((a, b)) = axis::extent(map.values.iter().copied(), false) else {
        return Err(PlotError::EmptyData {
            what: "heat map has no finite values (set color_range to draw it anyway)".into(),
        });
    };
    let (wa, wb) = widen_degenerate(a, b);
    if (wa, wb) != (a, b) {
        return Ok((wa, wb));
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

/// Font size of the non-finite swatch's label.
fn nan_size(th: &Theme) -> f64 {
    th.tick * 0.9
}

/// Offset of the non-finite swatch's label from the bar's right edge.
fn nan_offset(th: &Theme) -> f64 {
    0.4 * th.tick
}

impl BarGeom {
    /// Width right of the bar taken by its tick labels and its (rotated) label.
    fn labels_w(&self, th: &Theme, label: &str) -> f64 {
        axis::y_tick_band(th, self.label_w)
            + if label.trim().is_empty() {
                0.0
            } else {
                0.6 * th.pad + text::line_height(th.label) + text::extra_above(label, th.label)
            }
    }

    /// The non-finite label on one or two lines for the space right of the bar (at least a
    /// few words wide), and the width it needs from the bar's right edge.
    fn nan_lines(
        &self,
        cv: &Canvas,
        th: &Theme,
        label: &str,
        nan: Option<&str>,
    ) -> (Vec<String>, f64) {
        let Some(nan) = nan else {
            return (Vec::new(), 0.0);
        };
        let fs = nan_size(th);
        let room = (self.labels_w(th, label) - nan_offset(th)).max(4.5 * fs);
        let lines = wrap(cv, nan, fs, room);
        let w = lines
            .iter()
            .map(|l| text::width(cv, l, fs))
            .fold(0.0, f64::max);
        (lines, nan_offset(th) + w)
    }

    fn total(&self, cv: &Canvas, th: &Theme, label: &str, nan: Option<&str>) -> f64 {
        let (_, nan_w) = self.nan_lines(cv, th, label, nan);
        self.gap + self.w + self.labels_w(th, label).max(nan_w)
    }
}

/// `s` on one line if it fits into `max_w`, else split in two at the space (outside `{…}`)
/// that makes the wider line narrowest.
fn wrap(cv: &Canvas, s: &str, fs: f64, max_w: f64) -> Vec<String> {
    let s = s.trim();
    if text::width(cv, s, fs) <= max_w {
        return vec![s.to_string()];
    }
    let mut depth = 0usize;
    let mut best: Option<(f64, usize)> = None;
    for (i, ch) in s.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if c.is_whitespace() && depth == 0 => {
                let (a, b) = (s[..i].trim_end(), s[i..].trim_start());
                if a.is_empty() || b.is_empty() {
                    continue;
                }
                let w = text::width(cv, a, fs).max(text::width(cv, b, fs));
                if best.is_none_or(|(bw, _)| w < bw) {
                    best = Some((w, i));
                }
            }
            _ => {}
        }
    }
    match best {
        Some((_, i)) => vec![
            s[..i].trim_end().to_string(),
            s[i..].trim_start().to_string(),
        ],
        None => vec![s.to_string()],
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
    let (x_cats, y_cats) = (map.x_categories.as_deref(), map.y_categories.as_deref());
    let x_edges = resolve_edges(&map.x_edges, x_cats, map.log_x, "x")?;
    let y_edges = resolve_edges(&map.y_edges, y_cats, map.log_y, "y")?;
    let nx = x_edges.len() - 1;
    let ny = y_edges.len() - 1;
    let expected = nx.checked_mul(ny).ok_or_else(|| PlotError::InvalidInput {
        what: "heat map grid is too large".into(),
    })?;
    if map.values.len() != expected {
        let from = |cats: Option<&[String]>, name: &str| {
            if cats.is_some() {
                format!("{name}_categories")
            } else {
                format!("{name}_edges − 1")
            }
        };
        return Err(PlotError::ShapeMismatch {
            what: format!(
                "heat map values (ny·nx = {ny}·{nx}, row-major; nx = {}, ny = {})",
                from(x_cats, "x"),
                from(y_cats, "y")
            ),
            expected,
            got: map.values.len(),
        });
    }
    let crange = color_range(map)?;
    let nan_label = map.non_finite_legend();

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
    let xr = AxisSpec {
        lo: x_edges[0],
        hi: x_edges[nx],
        log: map.log_x,
        categories: x_cats,
    };
    let yr = AxisSpec {
        lo: y_edges[0],
        hi: y_edges[ny],
        log: map.log_y,
        categories: y_cats,
    };

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
        let right = geom.total(cv, &th, &cb_label, nan_label.as_deref()) + legend_right;
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
    let xpx: Vec<f64> = x_edges
        .iter()
        .map(|&v| f.xa.px(v).unwrap_or(f.plot.x0))
        .collect();
    let ypx: Vec<f64> = y_edges
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
        let ix = x_edges.windows(2).position(|w| x >= w[0] && x <= w[1])?;
        let iy = y_edges.windows(2).position(|w| y >= w[0] && y <= w[1])?;
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
    if nan_label.is_some() {
        let sw = Rect::new(bx0, f.plot.y1 - swatch, bx1, f.plot.y1);
        cv.fill_rect(sw, map.non_finite_color, 1.0);
        axis::draw_frame(cv, &sw, &th);
        // the first line beside the swatch, further lines below it (where the bar's tick
        // labels cannot be)
        let (lines, _) = geom.nan_lines(cv, &th, &cb_label, nan_label.as_deref());
        let fs = nan_size(&th);
        for (k, l) in lines.iter().enumerate() {
            text::draw(
                cv,
                l,
                (
                    bx1 + nan_offset(&th),
                    (sw.y0 + sw.y1) / 2.0 + k as f64 * text::line_height(fs),
                ),
                Style::new(fs, TEXT, HAlign::Left, VAlign::Middle),
            )?;
        }
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
