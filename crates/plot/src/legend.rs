//! Legends: measuring, placing and drawing.

use crate::axis::{TEXT, Theme};
use crate::canvas::{Canvas, Pt, Rect};
use crate::text::{self, HAlign, Style, VAlign};
use crate::{Marker, PlotError, Rgb};

/// Opacity of shaded bands (and their legend patches).
pub(crate) const BAND_ALPHA: f64 = 0.2;

/// One legend entry.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub label: String,
    pub color: Rgb,
    pub line: bool,
    pub dashed: bool,
    pub marker: Option<Marker>,
    pub patch: bool,
}

/// A measured legend: a grid of `cols` columns filled row by row.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub w: f64,
    pub h: f64,
    pub cols: usize,
    col_w: Vec<f64>,
    row_h: f64,
    pad: f64,
    swatch: f64,
    sgap: f64,
    cgap: f64,
    fs: f64,
}

fn metrics(th: &Theme) -> (f64, f64, f64, f64, f64, f64) {
    let fs = th.legend;
    // (fs, row height, padding, swatch length, swatch→text gap, column gap)
    (fs, 1.45 * fs, 0.55 * fs, 2.3 * fs, 0.5 * fs, 1.3 * fs)
}

fn layout_with_cols(cv: &Canvas, entries: &[Entry], th: &Theme, cols: usize) -> Layout {
    let (fs, row_h, pad, swatch, sgap, cgap) = metrics(th);
    let cols = cols.clamp(1, entries.len().max(1));
    let rows = entries.len().div_ceil(cols);
    let mut col_w = vec![0.0f64; cols];
    for (i, e) in entries.iter().enumerate() {
        let w = swatch + sgap + text::width(cv, &e.label, fs);
        col_w[i % cols] = col_w[i % cols].max(w);
    }
    let w = 2.0 * pad + col_w.iter().sum::<f64>() + cgap * (cols as f64 - 1.0);
    let h = 2.0 * pad + rows as f64 * row_h - (row_h - 1.1 * fs);
    Layout {
        w,
        h,
        cols,
        col_w,
        row_h,
        pad,
        swatch,
        sgap,
        cgap,
        fs,
    }
}

/// A legend that is at most `max_h` tall (adding columns as needed).
pub(crate) fn measure_column(cv: &Canvas, entries: &[Entry], th: &Theme, max_h: f64) -> Layout {
    let mut cols = 1;
    loop {
        let l = layout_with_cols(cv, entries, th, cols);
        if l.h <= max_h || cols >= entries.len() {
            return l;
        }
        cols += 1;
    }
}

/// A legend that is at most `max_w` wide (as many columns as fit, at least one).
pub(crate) fn measure_row(cv: &Canvas, entries: &[Entry], th: &Theme, max_w: f64) -> Layout {
    let mut cols = entries.len().max(1);
    loop {
        let l = layout_with_cols(cv, entries, th, cols);
        if l.w <= max_w || cols == 1 {
            return l;
        }
        cols -= 1;
    }
}

/// Longest legend label, in characters.
const MAX_LABEL_CHARS: usize = 60;

/// Entries and layout of a legend that fits into `max_w × max_h`: long labels are shortened
/// and, if there are too many entries, the tail is replaced by "… N more". `row` lays the
/// entries out in a row (wrapping) instead of a column. `None` if not even one entry fits.
pub(crate) fn fit(
    cv: &Canvas,
    entries: &[Entry],
    th: &Theme,
    max_w: f64,
    max_h: f64,
    row: bool,
) -> Option<(Vec<Entry>, Layout)> {
    let mut es: Vec<Entry> = entries.to_vec();
    for e in &mut es {
        if e.label.chars().count() > MAX_LABEL_CHARS {
            e.label = e
                .label
                .chars()
                .take(MAX_LABEL_CHARS - 1)
                .collect::<String>()
                + "…";
        }
    }
    let measure = |es: &[Entry]| {
        if row {
            measure_row(cv, es, th, max_w)
        } else {
            measure_column(cv, es, th, max_h)
        }
    };
    let ok = |l: &Layout| l.w <= max_w && l.h <= max_h;
    let l = measure(&es);
    if ok(&l) {
        return Some((es, l));
    }
    for n in (1..es.len()).rev() {
        let mut part: Vec<Entry> = es[..n].to_vec();
        part.push(Entry {
            label: format!("… {} more", es.len() - n),
            color: TEXT,
            line: false,
            dashed: false,
            marker: None,
            patch: false,
        });
        let l = measure(&part);
        if ok(&l) {
            return Some((part, l));
        }
    }
    None
}

/// Draws the legend with its top-left corner at `(x, y)`; `bg_alpha` is the opacity of the
/// white background (0 = none).
pub(crate) fn draw(
    cv: &mut Canvas,
    entries: &[Entry],
    l: &Layout,
    at: Pt,
    th: &Theme,
    bg_alpha: f64,
) -> Result<(), PlotError> {
    let (x, y) = at;
    if bg_alpha > 0.0 {
        let r = Rect::new(x, y, x + l.w, y + l.h);
        cv.fill_rect(r, (255, 255, 255), bg_alpha);
        let b = (th.frame_w * 0.8).max(1.0);
        let edge = (200, 200, 200);
        cv.fill_rect(Rect::new(r.x0, r.y0, r.x1, r.y0 + b), edge, 1.0);
        cv.fill_rect(Rect::new(r.x0, r.y1 - b, r.x1, r.y1), edge, 1.0);
        cv.fill_rect(Rect::new(r.x0, r.y0, r.x0 + b, r.y1), edge, 1.0);
        cv.fill_rect(Rect::new(r.x1 - b, r.y0, r.x1, r.y1), edge, 1.0);
    }
    for (i, e) in entries.iter().enumerate() {
        let (row, col) = (i / l.cols, i % l.cols);
        let cx = x + l.pad + l.col_w[..col].iter().sum::<f64>() + l.cgap * col as f64;
        let cy = y + l.pad + row as f64 * l.row_h + 0.55 * l.fs;
        // swatch
        if e.patch {
            let hh = 0.38 * l.fs;
            cv.fill_rect(
                Rect::new(cx, cy - hh, cx + l.swatch, cy + hh),
                e.color,
                BAND_ALPHA * 1.4,
            );
        }
        if e.line {
            let dash = e.dashed.then_some((0.75 * l.fs, 0.4 * l.fs));
            cv.stroke(&[(cx, cy), (cx + l.swatch, cy)], th.line_w, e.color, dash);
        }
        if let Some(m) = e.marker {
            draw_marker(cv, m, (cx + l.swatch / 2.0, cy), th.marker_r, e.color);
        }
        text::draw(
            cv,
            &e.label,
            (cx + l.swatch + l.sgap, cy),
            Style::new(l.fs, TEXT, HAlign::Left, VAlign::Middle),
        )?;
    }
    Ok(())
}

/// Draws a marker of radius `r` centred at `c`, with a thin white outline.
pub(crate) fn draw_marker(cv: &mut Canvas, m: Marker, c: Pt, r: f64, color: Rgb) {
    let white = (255, 255, 255);
    let o = (0.22 * r).max(0.8);
    let poly = |k: usize, rad: f64, rot: f64, inner: Option<f64>| -> Vec<Pt> {
        let n = if inner.is_some() { 2 * k } else { k };
        (0..n)
            .map(|i| {
                let a = rot + i as f64 * std::f64::consts::TAU / n as f64;
                let rr = match inner {
                    Some(f) if i % 2 == 1 => rad * f,
                    _ => rad,
                };
                (c.0 + rr * a.sin(), c.1 - rr * a.cos())
            })
            .collect()
    };
    match m {
        Marker::Circle => {
            cv.fill_circle(c, r + o, white, 1.0);
            cv.fill_circle(c, r, color, 1.0);
        }
        Marker::Square => {
            let s = r * 0.9;
            cv.fill_rect(
                Rect::new(c.0 - s - o, c.1 - s - o, c.0 + s + o, c.1 + s + o),
                white,
                1.0,
            );
            cv.fill_rect(Rect::new(c.0 - s, c.1 - s, c.0 + s, c.1 + s), color, 1.0);
        }
        Marker::Diamond => {
            cv.fill_polygon(&[poly(4, r * 1.25 + o * 1.4, 0.0, None)], white, 1.0);
            cv.fill_polygon(&[poly(4, r * 1.25, 0.0, None)], color, 1.0);
        }
        Marker::Triangle => {
            cv.fill_polygon(&[poly(3, r * 1.3 + o * 2.0, 0.0, None)], white, 1.0);
            cv.fill_polygon(&[poly(3, r * 1.3, 0.0, None)], color, 1.0);
        }
        Marker::Star => {
            cv.fill_polygon(&[poly(5, r * 2.1 + o * 2.0, 0.0, Some(0.45))], white, 1.0);
            cv.fill_polygon(&[poly(5, r * 2.1, 0.0, Some(0.45))], color, 1.0);
        }
        Marker::Cross | Marker::Plus => {
            let d = r * 1.15;
            let lw = (0.45 * r).max(1.2);
            let arms: [(Pt, Pt); 2] = if m == Marker::Cross {
                [
                    ((c.0 - d, c.1 - d), (c.0 + d, c.1 + d)),
                    ((c.0 - d, c.1 + d), (c.0 + d, c.1 - d)),
                ]
            } else {
                let d = d * 1.25;
                [
                    ((c.0 - d, c.1), (c.0 + d, c.1)),
                    ((c.0, c.1 - d), (c.0, c.1 + d)),
                ]
            };
            for (p, q) in arms {
                cv.fill_capsule(p, q, lw / 2.0 + o, white, 1.0);
            }
            for (p, q) in arms {
                cv.fill_capsule(p, q, lw / 2.0, color, 1.0);
            }
        }
    }
}

/// Inside-corner positions (top-left of the legend box) in the order tried by `Auto`.
pub(crate) fn corner(plot: &Rect, l: &Layout, which: crate::LegendPos, margin: f64) -> Pt {
    use crate::LegendPos as L;
    match which {
        L::UpperLeft => (plot.x0 + margin, plot.y0 + margin),
        L::LowerLeft => (plot.x0 + margin, plot.y1 - margin - l.h),
        L::LowerRight => (plot.x1 - margin - l.w, plot.y1 - margin - l.h),
        _ => (plot.x1 - margin - l.w, plot.y0 + margin),
    }
}

/// Total weight of `samples` inside the box at `at` with the size of `l`.
pub(crate) fn coverage(samples: &[(Pt, f64)], at: Pt, l: &Layout, slack: f64) -> f64 {
    let r = Rect::new(
        at.0 - slack,
        at.1 - slack,
        at.0 + l.w + slack,
        at.1 + l.h + slack,
    );
    samples
        .iter()
        .filter(|(p, _)| r.contains(*p))
        .map(|(_, w)| *w)
        .sum()
}
