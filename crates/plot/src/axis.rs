//! Shared pieces: sizes ("theme"), data→pixel axes, range selection, tick choice and the
//! drawing of grid, frame, ticks and axis labels.

use crate::canvas::{Canvas, Rect};
use crate::text::{self, HAlign, Style, VAlign};
use crate::ticks::{self, Tick, TickSet};
use crate::{PlotError, Rgb};

/// Text colour.
pub(crate) const TEXT: Rgb = (25, 25, 25);
/// Axis frame and tick colour.
pub(crate) const FRAME: Rgb = (60, 60, 60);
const GRID: Rgb = (222, 222, 222);
const GRID_MINOR: Rgb = (238, 238, 238);

/// Sizes in output pixels, scaled with the panel size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Theme {
    pub title: f64,
    pub label: f64,
    pub tick: f64,
    pub legend: f64,
    pub annot: f64,
    pub line_w: f64,
    pub marker_r: f64,
    pub pad: f64,
    pub tick_len: f64,
    pub frame_w: f64,
}

impl Theme {
    /// Sizes for a panel of `w × h` pixels (reference: 900 × 650).
    pub fn for_size(w: f64, h: f64) -> Theme {
        let s = ((w / 900.0) * (h / 650.0)).sqrt();
        let s = if s.is_finite() {
            s.clamp(0.55, 4.0)
        } else {
            1.0
        };
        let font = |base: f64, min: f64| (base * s).max(min);
        Theme {
            title: font(27.0, 15.0),
            label: font(24.0, 14.0),
            tick: font(20.0, 13.0),
            legend: font(19.0, 13.0),
            annot: font(21.0, 13.0),
            line_w: (2.6 * s).max(1.5),
            marker_r: (4.6 * s).max(2.5),
            pad: (14.0 * s).max(6.0),
            tick_len: (7.0 * s).max(4.0),
            frame_w: (1.3 * s).max(1.0),
        }
    }
}

/// A data → pixel mapping along one direction.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    /// Pixel position of `lo`.
    pub p0: f64,
    /// Pixel position of `hi`.
    pub p1: f64,
}

impl Axis {
    fn frac(&self, v: f64) -> Option<f64> {
        if v.is_nan() {
            return None;
        }
        let t = if self.log {
            if v <= 0.0 {
                return None;
            }
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        if t.is_nan() {
            None
        } else {
            Some(t.clamp(-1e4, 1e4))
        }
    }

    /// Pixel position of `v`, `None` for NaN, ±∞ and (on log axes) `v ≤ 0`.
    pub fn px(&self, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        self.frac(v).map(|t| self.p0 + t * (self.p1 - self.p0))
    }

    /// Like [`Axis::px`], but `v ≤ 0` on a log axis and ±∞ map far outside the axis instead of
    /// `None` (for band edges, which should run off the plot rather than disappear).
    pub fn px_extended(&self, v: f64) -> Option<f64> {
        let t = if v == f64::INFINITY {
            1e4
        } else if v == f64::NEG_INFINITY || (self.log && v <= 0.0) {
            -1e4
        } else {
            self.frac(v)?
        };
        Some(self.p0 + t * (self.p1 - self.p0))
    }

    /// Data value at pixel position `p`.
    pub fn value_at(&self, p: f64) -> f64 {
        let t = (p - self.p0) / (self.p1 - self.p0);
        if self.log {
            10f64.powf(self.lo.log10() + t * (self.hi.log10() - self.lo.log10()))
        } else {
            self.lo + t * (self.hi - self.lo)
        }
    }
}

/// Min and max of the usable values (finite, and > 0 on log axes).
pub(crate) fn extent(values: impl Iterator<Item = f64>, log: bool) -> Option<(f64, f64)> {
    let mut r: Option<(f64, f64)> = None;
    for v in values {
        if !v.is_finite() || (log && v <= 0.0) {
            continue;
        }
        r = Some(match r {
            None => (v, v),
            Some((a, b)) => (a.min(v), b.max(v)),
        });
    }
    r
}

/// The axis range: the user's (validated) or the data extent plus a margin.
pub(crate) fn axis_range(
    data: Option<(f64, f64)>,
    user: Option<(f64, f64)>,
    log: bool,
    margin: f64,
    name: &str,
) -> Result<(f64, f64), PlotError> {
    if let Some((a, b)) = user {
        if !(a.is_finite() && b.is_finite()) || a >= b {
            return Err(PlotError::InvalidInput {
                what: format!("{name} range ({a}, {b}) must be finite with min < max"),
            });
        }
        if log && a <= 0.0 {
            return Err(PlotError::InvalidInput {
                what: format!("{name} range ({a}, {b}) must be positive on a log axis"),
            });
        }
        return Ok((a, b));
    }
    let Some((a, b)) = data else {
        return Err(PlotError::EmptyData {
            what: format!("no finite {name} values{}", if log { " > 0" } else { "" }),
        });
    };
    let (lo, hi) = if log {
        let (la, lb) = (a.log10(), b.log10());
        let (la, lb) = if lb - la < 1e-9 {
            (la - 0.5, lb + 0.5)
        } else {
            let m = (lb - la) * margin;
            (la - m, lb + m)
        };
        (10f64.powf(la), 10f64.powf(lb))
    } else {
        let span = b - a;
        if span <= a.abs().max(b.abs()) * 1e-12 || span == 0.0 {
            let d = if a == 0.0 { 1.0 } else { a.abs() * 0.1 };
            (a - d, b + d)
        } else {
            let m = span * margin;
            (a - m, b + m)
        }
    };
    if !(lo.is_finite() && hi.is_finite() && (hi - lo).is_finite())
        || lo >= hi
        || (log && lo <= 0.0)
    {
        return Err(PlotError::InvalidInput {
            what: format!("{name} data range ({a}, {b}) is too large to plot"),
        });
    }
    Ok((lo, hi))
}

/// Picks the densest tick set whose labels fit along an axis of `len` pixels.
pub(crate) fn choose_ticks(
    cv: &Canvas,
    axis: &Axis,
    horizontal: bool,
    fs: f64,
    max_labels: usize,
) -> TickSet {
    let cands = ticks::candidates(axis.lo, axis.hi, axis.log);
    let gap = if horizontal { 1.1 * fs } else { 1.15 * fs };
    let fits = |set: &TickSet| -> bool {
        set.major.len() <= max_labels.max(2)
            && labels_fit(cv, axis, horizontal, fs, gap, &set.major)
    };
    let n = cands.len();
    cands
        .iter()
        .position(fits)
        .map(|i| cands[i].clone())
        .or_else(|| cands.get(n.saturating_sub(1)).cloned())
        .unwrap_or_default()
}

/// Whether the labels of `ticks` keep at least `gap` pixels between each other along the
/// axis (horizontal: measured text widths; vertical: the font size as label height).
fn labels_fit(
    cv: &Canvas,
    axis: &Axis,
    horizontal: bool,
    fs: f64,
    gap: f64,
    ticks: &[Tick],
) -> bool {
    let mut items: Vec<(f64, f64)> = ticks
        .iter()
        .filter_map(|t| {
            let p = axis.px(t.value)?;
            let size = if horizontal {
                text::width(cv, &t.label, fs)
            } else {
                fs
            };
            Some((p, size))
        })
        .collect();
    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    items
        .windows(2)
        .all(|w| (w[1].0 - w[0].0) >= (w[0].1 + w[1].1) / 2.0 + gap)
}

/// Ticks of a categorical axis with `labels.len()` categories (category `i` centred at
/// `i + 0.5`): the labels themselves, thinned to every k-th (smallest k whose labels do not
/// overlap, first and last always kept, the regular tick before the last dropped if it
/// would collide with it). Categories without a label get an unlabelled minor tick; there
/// are no other ticks and no multiplier.
pub(crate) fn categorical_ticks(
    cv: &Canvas,
    axis: &Axis,
    horizontal: bool,
    fs: f64,
    labels: &[String],
) -> TickSet {
    let n = labels.len();
    if n == 0 {
        return TickSet::default();
    }
    // Category labels are short and sit on evenly spaced centres: a little less white
    // space than between numeric tick labels still reads clearly.
    let gap = if horizontal { fs } else { 0.45 * fs };
    let ticks_of = |idx: &[usize]| -> Vec<Tick> {
        idx.iter()
            .map(|&i| Tick {
                value: i as f64 + 0.5,
                label: labels[i].clone(),
            })
            .collect()
    };
    let fits = |idx: &[usize]| labels_fit(cv, axis, horizontal, fs, gap, &ticks_of(idx));
    let mut chosen = None;
    for k in 1..n.max(2) {
        let mut idx: Vec<usize> = (0..n).step_by(k).collect();
        if idx.last() != Some(&(n - 1)) {
            idx.push(n - 1);
            if !fits(&idx) {
                let before_last = idx.len() - 2; // ≥ 1: idx holds 0, k and n - 1
                idx.remove(before_last);
            }
        }
        if fits(&idx) {
            chosen = Some(idx);
            break;
        }
    }
    // not even the first and last fit side by side: the first alone
    let idx = chosen.unwrap_or_else(|| vec![0]);
    let minor = (0..n)
        .filter(|i| !idx.contains(i))
        .map(|i| i as f64 + 0.5)
        .collect();
    TickSet {
        major: ticks_of(&idx),
        minor,
        multiplier: None,
    }
}

/// The ticks of an axis: [`categorical_ticks`] with categories, else [`choose_ticks`].
pub(crate) fn ticks_for(
    cv: &Canvas,
    axis: &Axis,
    horizontal: bool,
    fs: f64,
    max_labels: usize,
    categories: Option<&[String]>,
) -> TickSet {
    match categories {
        Some(labels) => categorical_ticks(cv, axis, horizontal, fs, labels),
        None => choose_ticks(cv, axis, horizontal, fs, max_labels),
    }
}

/// `label` with the tick multiplier appended, e.g. `"loss (×10^{−3})"`.
pub(crate) fn with_multiplier(label: &str, set: &TickSet) -> String {
    match &set.multiplier {
        None => label.to_string(),
        Some(m) if label.trim().is_empty() => m.clone(),
        Some(m) => format!("{label} ({m})"),
    }
}

/// Widest tick label of `set`.
pub(crate) fn max_label_width(cv: &Canvas, set: &TickSet, fs: f64) -> f64 {
    set.major
        .iter()
        .map(|t| text::width(cv, &t.label, fs))
        .fold(0.0, f64::max)
}

/// Whether any label of `set` carries a superscript (needs a little extra height).
pub(crate) fn has_superscript(set: &TickSet) -> bool {
    set.major.iter().any(|t| t.label.contains("^{"))
}

/// Light grid lines at the major (and, on log axes, minor) ticks.
pub(crate) fn draw_grid(
    cv: &mut Canvas,
    plot: &Rect,
    xa: &Axis,
    ya: &Axis,
    xt: &TickSet,
    yt: &TickSet,
    th: &Theme,
) {
    let w = (th.frame_w * 0.8).max(1.0);
    let minor_w = (th.frame_w * 0.6).max(0.8);
    for (ax, set, vertical) in [(xa, xt, true), (ya, yt, false)] {
        if ax.log {
            for &v in &set.minor {
                if let Some(p) = ax.px(v) {
                    grid_line(cv, plot, p, vertical, minor_w, GRID_MINOR);
                }
            }
        }
        for t in &set.major {
            if let Some(p) = ax.px(t.value) {
                grid_line(cv, plot, p, vertical, w, GRID);
            }
        }
    }
}

fn grid_line(cv: &mut Canvas, plot: &Rect, p: f64, vertical: bool, w: f64, c: Rgb) {
    let r = if vertical {
        if p < plot.x0 - 0.5 || p > plot.x1 + 0.5 {
            return;
        }
        Rect::new(p - w / 2.0, plot.y0, p + w / 2.0, plot.y1)
    } else {
        if p < plot.y0 - 0.5 || p > plot.y1 + 0.5 {
            return;
        }
        Rect::new(plot.x0, p - w / 2.0, plot.x1, p + w / 2.0)
    };
    cv.fill_rect(r, c, 1.0);
}

/// Frame, outward ticks and tick labels on the left and bottom.
pub(crate) fn draw_frame_and_ticks(
    cv: &mut Canvas,
    plot: &Rect,
    xa: &Axis,
    ya: &Axis,
    xt: &TickSet,
    yt: &TickSet,
    th: &Theme,
) -> Result<(), PlotError> {
    draw_frame(cv, plot, th);
    let fw = th.frame_w;
    let tl = th.tick_len;
    let gap = 0.35 * th.tick;
    // x ticks
    for t in &xt.major {
        if let Some(p) = xa
            .px(t.value)
            .filter(|p| *p >= plot.x0 - 0.5 && *p <= plot.x1 + 0.5)
        {
            cv.fill_rect(
                Rect::new(p - fw / 2.0, plot.y1, p + fw / 2.0, plot.y1 + tl),
                FRAME,
                1.0,
            );
            text::draw(
                cv,
                &t.label,
                (p, plot.y1 + tl + gap),
                Style::new(th.tick, TEXT, HAlign::Center, VAlign::Top),
            )?;
        }
    }
    for &v in &xt.minor {
        if let Some(p) = xa
            .px(v)
            .filter(|p| *p >= plot.x0 - 0.5 && *p <= plot.x1 + 0.5)
        {
            cv.fill_rect(
                Rect::new(p - fw * 0.4, plot.y1, p + fw * 0.4, plot.y1 + tl * 0.55),
                FRAME,
                1.0,
            );
        }
    }
    // y ticks
    for t in &yt.major {
        if let Some(p) = ya
            .px(t.value)
            .filter(|p| *p >= plot.y0 - 0.5 && *p <= plot.y1 + 0.5)
        {
            cv.fill_rect(
                Rect::new(plot.x0 - tl, p - fw / 2.0, plot.x0, p + fw / 2.0),
                FRAME,
                1.0,
            );
            text::draw(
                cv,
                &t.label,
                (plot.x0 - tl - gap, p),
                Style::new(th.tick, TEXT, HAlign::Right, VAlign::Middle),
            )?;
        }
    }
    for &v in &yt.minor {
        if let Some(p) = ya
            .px(v)
            .filter(|p| *p >= plot.y0 - 0.5 && *p <= plot.y1 + 0.5)
        {
            cv.fill_rect(
                Rect::new(plot.x0 - tl * 0.55, p - fw * 0.4, plot.x0, p + fw * 0.4),
                FRAME,
                1.0,
            );
        }
    }
    Ok(())
}

/// The rectangle outline of the axes.
pub(crate) fn draw_frame(cv: &mut Canvas, plot: &Rect, th: &Theme) {
    let fw = th.frame_w;
    let h = fw / 2.0;
    cv.fill_rect(
        Rect::new(plot.x0 - h, plot.y0 - h, plot.x1 + h, plot.y0 + h),
        FRAME,
        1.0,
    );
    cv.fill_rect(
        Rect::new(plot.x0 - h, plot.y1 - h, plot.x1 + h, plot.y1 + h),
        FRAME,
        1.0,
    );
    cv.fill_rect(
        Rect::new(plot.x0 - h, plot.y0 - h, plot.x0 + h, plot.y1 + h),
        FRAME,
        1.0,
    );
    cv.fill_rect(
        Rect::new(plot.x1 - h, plot.y0 - h, plot.x1 + h, plot.y1 + h),
        FRAME,
        1.0,
    );
}

/// Vertical space below the axes taken by x tick marks and labels.
pub(crate) fn x_tick_band(th: &Theme, superscript: bool) -> f64 {
    th.tick_len
        + 0.35 * th.tick
        + text::line_height(th.tick)
        + if superscript { 0.2 * th.tick } else { 0.0 }
}

/// Horizontal space left of the axes taken by y tick marks and labels.
pub(crate) fn y_tick_band(th: &Theme, label_w: f64) -> f64 {
    th.tick_len + 0.35 * th.tick + label_w
}

/// Title, x label (below) and y label (rotated, left) for axes `plot` inside `outer`.
pub(crate) fn draw_titles(
    cv: &mut Canvas,
    outer: &Rect,
    plot: &Rect,
    th: &Theme,
    title: &str,
    x_label: &str,
    y_label: &str,
) -> Result<(), PlotError> {
    if !title.trim().is_empty() {
        let size = text::fit_size(cv, title, th.title, th.tick, outer.w() - 2.0 * th.pad);
        // centre on the axes, but keep inside the panel
        let w = text::width(cv, title, size);
        let cx = ((plot.x0 + plot.x1) / 2.0)
            .min(outer.x1 - th.pad - w / 2.0)
            .max(outer.x0 + th.pad + w / 2.0);
        text::draw(
            cv,
            title,
            (cx, outer.y0 + th.pad + text::extra_above(title, size)),
            Style::new(size, TEXT, HAlign::Center, VAlign::Top),
        )?;
    }
    if !x_label.trim().is_empty() {
        let size = text::fit_size(cv, x_label, th.label, th.tick, outer.w() - 2.0 * th.pad);
        text::draw(
            cv,
            x_label,
            ((plot.x0 + plot.x1) / 2.0, outer.y1 - th.pad),
            Style::new(size, TEXT, HAlign::Center, VAlign::Bottom),
        )?;
    }
    if !y_label.trim().is_empty() {
        let size = text::fit_size(cv, y_label, th.label, th.tick, outer.h() - 2.0 * th.pad);
        text::draw(
            cv,
            y_label,
            (
                outer.x0 + th.pad + text::extra_above(y_label, size),
                (plot.y0 + plot.y1) / 2.0,
            ),
            Style::new(size, TEXT, HAlign::Center, VAlign::Top).rotated(),
        )?;
    }
    Ok(())
}

/// Height of the title block (0 if no title).
pub(crate) fn title_height(title: &str, th: &Theme) -> f64 {
    if title.trim().is_empty() {
        th.pad
    } else {
        th.pad + text::extra_above(title, th.title) + text::line_height(th.title) + 0.7 * th.pad
    }
}

/// Height of the x label block (including outer padding).
pub(crate) fn x_label_height(label: &str, th: &Theme) -> f64 {
    if label.trim().is_empty() {
        th.pad
    } else {
        th.pad + text::line_height(th.label) + text::extra_above(label, th.label) + 0.3 * th.pad
    }
}

/// Width of the y label block (including outer padding).
pub(crate) fn y_label_width(label: &str, th: &Theme) -> f64 {
    if label.trim().is_empty() {
        th.pad
    } else {
        th.pad + text::line_height(th.label) + text::extra_above(label, th.label) + 0.4 * th.pad
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(axis_range(None, None, false, 0.05, "x").is_err());
        let (a, b) = axis_range(Some((1.0, 1.0)), None, false, 0.05, "x").unwrap_or((0.0, 0.0));
        assert!(a < 1.0 && b > 1.0);
        let (a, b) = axis_range(Some((0.0, 0.0)), None, false, 0.05, "x").unwrap_or((0.0, 0.0));
        assert!(a < 0.0 && b > 0.0);
        let (a, b) = axis_range(Some((5.0, 5.0)), None, true, 0.05, "y").unwrap_or((0.0, 0.0));
        assert!(a > 0.0 && a < 5.0 && b > 5.0);
        assert!(axis_range(None, Some((2.0, 1.0)), false, 0.05, "x").is_err());
        assert!(axis_range(None, Some((0.0, 1.0)), true, 0.05, "x").is_err());
        assert!(axis_range(Some((-1e308, 1e308)), None, false, 0.05, "x").is_err());
    }

    #[test]
    fn axis_mapping() {
        let a = Axis {
            lo: 1.0,
            hi: 100.0,
            log: true,
            p0: 0.0,
            p1: 200.0,
        };
        assert_eq!(a.px(10.0), Some(100.0));
        assert_eq!(a.px(0.0), None);
        assert_eq!(a.px(f64::NAN), None);
        assert!(a.px_extended(-1.0).is_some_and(|p| p < -1e5));
        assert!((a.value_at(100.0) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn categorical_ticks_thin_out_keeping_first_and_last() {
        let cv = Canvas::new((900, 650), (255, 255, 255)).unwrap_or_else(|e| panic!("{e}"));
        let fs = 20.0;
        let axis = |n: usize, len: f64| Axis {
            lo: 0.0,
            hi: n as f64,
            log: false,
            p0: 100.0,
            p1: 100.0 + len,
        };
        let labels =
            |n: usize| -> Vec<String> { (0..n).map(|i| format!("{}", 2 + 4 * i)).collect() };
        let values = |t: &TickSet| -> Vec<f64> { t.major.iter().map(|t| t.value).collect() };
        // room for all: every category, centred in its cell, no other ticks
        let t = categorical_ticks(&cv, &axis(10, 700.0), true, fs, &labels(10));
        assert_eq!(
            values(&t),
            (0..10).map(|i| i as f64 + 0.5).collect::<Vec<_>>()
        );
        assert_eq!(t.major[9].label, "38");
        assert!(t.minor.is_empty() && t.multiplier.is_none());
        // crowded, both directions: thinned, first and last kept, skipped ones are minor ticks
        for horizontal in [true, false] {
            let n = 40;
            let a = axis(n, 300.0);
            let t = categorical_ticks(&cv, &a, horizontal, fs, &labels(n));
            let v = values(&t);
            assert!(v.len() < n && v.len() >= 2, "{v:?}");
            assert_eq!(v.first(), Some(&0.5));
            assert_eq!(v.last(), Some(&(n as f64 - 0.5)));
            assert_eq!(t.major.len() + t.minor.len(), n);
            let gap = if horizontal { fs } else { 0.45 * fs };
            assert!(labels_fit(&cv, &a, horizontal, fs, gap, &t.major));
        }
        // one category; two that cannot both fit: the first alone
        let t = categorical_ticks(&cv, &axis(1, 50.0), true, fs, &labels(1));
        assert_eq!(values(&t), vec![0.5]);
        let long = vec![
            "a very long label".to_string(),
            "another long one".to_string(),
        ];
        let t = categorical_ticks(&cv, &axis(2, 60.0), true, fs, &long);
        assert_eq!(values(&t), vec![0.5]);
        assert_eq!(t.minor, vec![1.5]);
    }
}
