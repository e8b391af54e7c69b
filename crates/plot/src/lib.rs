//! # noisyprop-plot
//!
//! A small, dependency-light renderer that turns plain data (numbers, strings, colours — no
//! noisyprop types) into PNG figures: line charts (lines, points, ±std bands, log axes,
//! reference lines), heat maps with a colour bar (non-uniform cells, categorical axes, NaN
//! cells, overlaid curves and text), and multi-panel figures.
//!
//! Design points:
//!
//! * **No system fonts.** DejaVu Sans is embedded (`assets/DejaVuSans.ttf`, Bitstream Vera
//!   licence in `assets/LICENSE-DejaVu.txt`) and registered with plotters' `ab_glyph`
//!   support, so rendering works on a bare machine without fontconfig.
//! * **Readable by default.** Font sizes, line widths and markers scale with the panel size
//!   (tuned for the default 900×650); tick labels are chosen so they never overlap; legends
//!   go into an empty corner or, if none is empty, outside the axes.
//! * **Anti-aliased.** Everything is drawn at 3× resolution and box-filtered down.
//! * **Robust.** Non-finite values are skipped (NaN/±∞ heat-map cells are drawn in
//!   [`HeatMap::non_finite_color`], black by default, with a swatch labelled
//!   [`HeatMap::non_finite_label`]); points ≤ 0 on a log axis are dropped; degenerate ranges
//!   (including a colour range with min == max) are widened. Unusable input gives a [`PlotError`], never a
//!   panic.
//! * **Labels understand a little markup**: `_{…}` for subscripts and `^{…}` for superscripts,
//!   e.g. `"σ_{w}^{2}"`, `"q^{l-1}"`, `"6ξ_{c}"`. This works in titles, axis labels, legend
//!   entries, colour-bar labels and annotations.
//!
//! ## Example
//!
//! ```
//! use noisyprop_plot::{render_line_chart, LineChart, Series, RefLine, LegendPos};
//!
//! let xs: Vec<f64> = (0..=30).map(|i| i as f64 * 0.5).collect();
//! let theory = Series::line("theory", xs.iter().map(|&q| (q, q + 2.0)).collect());
//! let sim = Series::points("simulation", xs.iter().map(|&q| (q, q + 2.0)).collect())
//!     .with_band(xs.iter().map(|&q| (q, q + 1.6, q + 2.4)).collect());
//! let chart = LineChart {
//!     title: "ReLU + additive noise".into(),
//!     x_label: "q^{l-1}".into(),
//!     y_label: "q^{l}".into(),
//!     series: vec![theory, sim],
//!     ref_lines: vec![RefLine::identity()],
//!     legend: LegendPos::UpperLeft,
//!     ..Default::default()
//! };
//! let dir = std::env::temp_dir().join("noisyprop-plot-doc");
//! std::fs::create_dir_all(&dir)?;
//! render_line_chart(&chart, &dir.join("variance_map.png"), noisyprop_plot::DEFAULT_SIZE)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs)]

mod axis;
mod canvas;
mod colormap;
mod contour;
mod error;
mod heat;
mod legend;
mod line;
mod text;
mod ticks;

use std::path::Path;

pub use colormap::{Colormap, PALETTE, palette};
pub use contour::contour;
pub use error::PlotError;
pub use text::plain_text;

use canvas::{Canvas, Rect};

/// An sRGB colour.
pub type Rgb = (u8, u8, u8);

/// Default size of a single figure or of one panel, in pixels.
pub const DEFAULT_SIZE: (u32, u32) = (900, 650);

/// How a [`Series`] is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SeriesStyle {
    /// A line through the points (NaN/∞ points break the line).
    #[default]
    Line,
    /// Markers only.
    Points,
    /// A line with markers.
    LinePoints,
}

/// Marker shape for [`SeriesStyle::Points`] and [`SeriesStyle::LinePoints`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Marker {
    /// Filled circle.
    #[default]
    Circle,
    /// Filled square.
    Square,
    /// Filled diamond.
    Diamond,
    /// Filled upward triangle.
    Triangle,
    /// Diagonal cross (×), e.g. for fixed points.
    Cross,
    /// Plus sign (+).
    Plus,
    /// Filled five-pointed star.
    Star,
}

/// One data series of a [`LineChart`] (or an overlay on a [`HeatMap`]).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Series {
    /// Legend text (rich-text markup allowed); empty = not in the legend.
    pub label: String,
    /// Data points `(x, y)`, drawn in order. Non-finite points are skipped and break lines.
    pub points: Vec<(f64, f64)>,
    /// Line, markers or both.
    pub style: SeriesStyle,
    /// Marker shape (when the style draws markers).
    pub marker: Marker,
    /// Colour; `None` = [`palette`]`(index of the series in its chart)`.
    pub color: Option<Rgb>,
    /// Draw the line dashed.
    pub dashed: bool,
    /// Optional shaded band `(x, lo, hi)` (e.g. mean ± std) drawn under all lines in the
    /// series' colour. A series with a band and no points is a plain shaded region.
    pub band: Option<Vec<(f64, f64, f64)>>,
}

impl Series {
    /// A solid line.
    pub fn line(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            points,
            ..Default::default()
        }
    }

    /// Markers only (e.g. simulation results).
    pub fn points(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            points,
            style: SeriesStyle::Points,
            ..Default::default()
        }
    }

    /// A line with markers.
    pub fn line_points(label: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            label: label.into(),
            points,
            style: SeriesStyle::LinePoints,
            ..Default::default()
        }
    }

    /// Sets the colour.
    pub fn with_color(mut self, color: Rgb) -> Self {
        self.color = Some(color);
        self
    }

    /// Sets whether the line is dashed.
    pub fn with_dashed(mut self, dashed: bool) -> Self {
        self.dashed = dashed;
        self
    }

    /// Sets the marker shape.
    pub fn with_marker(mut self, marker: Marker) -> Self {
        self.marker = marker;
        self
    }

    /// Adds a shaded band `(x, lo, hi)`.
    pub fn with_band(mut self, band: Vec<(f64, f64, f64)>) -> Self {
        self.band = Some(band);
        self
    }
}

/// Where the legend goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LegendPos {
    /// Line charts: the inside corner that covers no data, else [`LegendPos::Right`].
    /// Heat maps: [`LegendPos::Top`].
    #[default]
    Auto,
    /// Inside the axes, upper left corner.
    UpperLeft,
    /// Inside the axes, upper right corner.
    UpperRight,
    /// Inside the axes, lower left corner.
    LowerLeft,
    /// Inside the axes, lower right corner.
    LowerRight,
    /// Outside, to the right of the axes (and of a heat map's colour bar).
    Right,
    /// Outside, in a row between the title and the axes.
    Top,
    /// No legend.
    None,
}

/// Geometry of a [`RefLine`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RefLineKind {
    /// `y = value` across the whole x range.
    Horizontal(f64),
    /// `x = value` across the whole y range.
    Vertical(f64),
    /// `y = slope·x + intercept` (in data coordinates; curved on log axes unless it is the
    /// identity on log–log).
    Line {
        /// Slope.
        slope: f64,
        /// Intercept.
        intercept: f64,
    },
}

/// An infinite reference line (identity line, threshold, criticality marker…). It does not
/// influence the automatic axis ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct RefLine {
    /// Geometry.
    pub kind: RefLineKind,
    /// Legend text; empty = not in the legend.
    pub label: String,
    /// Colour.
    pub color: Rgb,
    /// Dashed (default) or solid.
    pub dashed: bool,
}

impl RefLine {
    /// The dashed grey identity line `y = x`.
    pub fn identity() -> Self {
        RefLine {
            kind: RefLineKind::Line {
                slope: 1.0,
                intercept: 0.0,
            },
            label: String::new(),
            color: (90, 90, 90),
            dashed: true,
        }
    }

    /// A dashed grey horizontal line `y = y0`.
    pub fn horizontal(y0: f64) -> Self {
        RefLine {
            kind: RefLineKind::Horizontal(y0),
            ..Self::identity()
        }
    }

    /// A dashed grey vertical line `x = x0`.
    pub fn vertical(x0: f64) -> Self {
        RefLine {
            kind: RefLineKind::Vertical(x0),
            ..Self::identity()
        }
    }

    /// Sets the legend label.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the colour.
    pub fn with_color(mut self, color: Rgb) -> Self {
        self.color = color;
        self
    }

    /// Sets whether the line is dashed.
    pub fn with_dashed(mut self, dashed: bool) -> Self {
        self.dashed = dashed;
        self
    }
}

/// A line/scatter chart.
///
/// Build it with struct-update syntax: `LineChart { title: …, series: …, ..Default::default() }`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LineChart {
    /// Title above the axes (empty = none).
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Logarithmic x axis (points with x ≤ 0 are dropped).
    pub log_x: bool,
    /// Logarithmic y axis (points with y ≤ 0 are dropped; band edges ≤ 0 run off the bottom).
    pub log_y: bool,
    /// Fixed x range; `None` = all finite data plus a small margin.
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range; `None` = all finite data (bands included) plus a small margin.
    pub y_range: Option<(f64, f64)>,
    /// The data.
    pub series: Vec<Series>,
    /// Reference lines (e.g. [`RefLine::identity`]).
    pub ref_lines: Vec<RefLine>,
    /// Text annotations `(x, y, text)` centred at data coordinates.
    pub annotations: Vec<(f64, f64, String)>,
    /// Legend position.
    pub legend: LegendPos,
}

/// A heat map of cell values with a colour bar.
///
/// Cells are given by their edges, so they may be non-uniform: cell `(ix, iy)` spans
/// `x_edges[ix]..x_edges[ix+1]` × `y_edges[iy]..y_edges[iy+1]` and has the value
/// `values[iy * nx + ix]` (row-major, row 0 at the bottom). Use [`edges_from_centers`] when you
/// have cell centres of a continuous quantity. **NaN and ±∞ cells are drawn in
/// `non_finite_color` (black by default)** and a swatch labelled [`HeatMap::non_finite_label`]
/// is added under the colour bar.
///
/// # Categorical axes
///
/// When the rows or columns are a handful of chosen settings rather than a sampled continuum
/// (keep probabilities 0.1, 0.3, …, 1 × depths 2, 6, 10, …), set [`HeatMap::x_categories`]
/// and/or [`HeatMap::y_categories`] instead of edges. Each category then gets a cell of the same
/// size, centred on a tick labelled with the category's text, and the axis has no other
/// ticks (labels are thinned to every k-th, first and last kept, when they would overlap).
///
/// Along a categorical axis, data coordinates are *category coordinates*: category `i` spans
/// `i..i+1` (its edges are [`category_edges`]`(n)`) and is centred at `i + 0.5`. Overlays,
/// reference lines and annotations are given in these coordinates on that axis; map a
/// continuous value (e.g. a 6ξ_c depth) onto them with [`categorical_position`].
///
/// ```
/// use noisyprop_plot::{HeatMap, Series, category_labels, categorical_position};
///
/// let keeps = [0.1, 0.3, 0.5, 0.7, 0.9, 1.0];
/// let depths = [2.0, 6.0, 10.0, 14.0];
/// let curve: Vec<(f64, f64)> = (0..=50)
///     .map(|i| 0.1 + 0.9 * f64::from(i) / 50.0)
///     .filter_map(|p| {
///         let x = categorical_position(&keeps, p)?;
///         let y = categorical_position(&depths, 2.0 + 12.0 * p * p)?;
///         Some((x, y))
///     })
///     .collect();
/// let map = HeatMap {
///     x_categories: Some(category_labels(&keeps)),
///     y_categories: Some(category_labels(&depths)),
///     values: (0..24).map(f64::from).collect(),
///     overlays: vec![Series::line("6ξ_{c}", curve)],
///     non_finite_label: Some("not trained".into()),
///     ..Default::default()
/// };
/// let dir = std::env::temp_dir().join("noisyprop-plot-doc");
/// std::fs::create_dir_all(&dir)?;
/// noisyprop_plot::render_heatmap(&map, &dir.join("categorical.png"), (500, 360))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HeatMap {
    /// Title above the axes.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Colour-bar label.
    pub color_label: String,
    /// `nx + 1` strictly increasing cell edges along x. With [`HeatMap::x_categories`] leave
    /// it empty (it is then [`category_edges`]`(nx)`, filled in automatically) or set it to
    /// exactly that; anything else is a [`PlotError::InvalidInput`].
    pub x_edges: Vec<f64>,
    /// `ny + 1` strictly increasing cell edges along y. With [`HeatMap::y_categories`], as for
    /// `x_edges`: empty or [`category_edges`]`(ny)`.
    pub y_edges: Vec<f64>,
    /// Categorical x axis: one label (rich-text markup allowed) per column, left to right.
    /// `Some` makes `nx` the number of labels, the columns equally wide and the x ticks
    /// exactly these labels at the column centres `ix + 0.5` (see [the type's
    /// docs](HeatMap#categorical-axes)). An empty list is a [`PlotError::EmptyData`];
    /// combined with `log_x` a [`PlotError::InvalidInput`]. `None` (default): a numeric axis
    /// given by `x_edges`.
    pub x_categories: Option<Vec<String>>,
    /// Categorical y axis: one label per row, bottom to top; as [`HeatMap::x_categories`].
    pub y_categories: Option<Vec<String>>,
    /// `ny * nx` values, row-major: `values[iy * nx + ix]`.
    pub values: Vec<f64>,
    /// Value range mapped onto the colour map (values outside are clamped); `None` = the range
    /// of the finite values.
    pub color_range: Option<(f64, f64)>,
    /// Colour map.
    pub colormap: Colormap,
    /// Colour of NaN/±∞ cells (default black).
    pub non_finite_color: Rgb,
    /// What NaN/±∞ cells mean, shown next to their swatch under the colour bar when the map
    /// has such cells, e.g. `"left the f32 range"` or `"not computed"` (rich-text markup
    /// allowed; long labels are wrapped at spaces). `None` (default): the neutral
    /// `"no finite value"` — say what the cells mean where you can. `Some("")` (or only
    /// whitespace): no swatch and no label (the cells are still drawn in
    /// `non_finite_color`). See [`HeatMap::non_finite_legend`].
    pub non_finite_label: Option<String>,
    /// Curves drawn on top of the cells (e.g. a critical line or a depth contour); they get a
    /// thin white outline for contrast and appear in the legend when labelled.
    pub overlays: Vec<Series>,
    /// Reference lines drawn on top (e.g. a dashed vertical "criticality" line).
    pub ref_lines: Vec<RefLine>,
    /// Text annotations `(x, y, text)` centred at data coordinates, drawn with a white halo
    /// (e.g. "Overflow").
    pub annotations: Vec<(f64, f64, String)>,
    /// Logarithmic x axis (edges must be > 0).
    pub log_x: bool,
    /// Logarithmic y axis (edges must be > 0).
    pub log_y: bool,
    /// Legend position for labelled overlays and reference lines.
    pub legend: LegendPos,
}

impl Default for HeatMap {
    fn default() -> Self {
        HeatMap {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            color_label: String::new(),
            x_edges: Vec::new(),
            y_edges: Vec::new(),
            x_categories: None,
            y_categories: None,
            values: Vec::new(),
            color_range: None,
            colormap: Colormap::Viridis,
            non_finite_color: (0, 0, 0),
            non_finite_label: None,
            overlays: Vec::new(),
            ref_lines: Vec::new(),
            annotations: Vec::new(),
            log_x: false,
            log_y: false,
            legend: LegendPos::Auto,
        }
    }
}

impl HeatMap {
    /// The text drawn next to the non-finite swatch under the colour bar, or `None` when no
    /// swatch is drawn (every value is finite, or [`HeatMap::non_finite_label`] is blank).
    ///
    /// ```
    /// use noisyprop_plot::HeatMap;
    ///
    /// let mut map = HeatMap { values: vec![1.0, f64::NAN], ..Default::default() };
    /// assert_eq!(map.non_finite_legend().as_deref(), Some("no finite value"));
    /// map.non_finite_label = Some("left the f32 range".into());
    /// assert_eq!(map.non_finite_legend().as_deref(), Some("left the f32 range"));
    /// map.values = vec![1.0, 2.0];
    /// assert_eq!(map.non_finite_legend(), None);
    /// ```
    pub fn non_finite_legend(&self) -> Option<String> {
        if self.values.iter().all(|v| v.is_finite()) {
            return None;
        }
        match &self.non_finite_label {
            None => Some(DEFAULT_NON_FINITE_LABEL.to_string()),
            Some(l) if l.trim().is_empty() => None,
            Some(l) => Some(l.clone()),
        }
    }
}

/// Label of the non-finite swatch when [`HeatMap::non_finite_label`] is `None`.
const DEFAULT_NON_FINITE_LABEL: &str = "no finite value";

/// One panel of a multi-panel figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Panel {
    /// A line chart.
    Line(LineChart),
    /// A heat map (with its own colour bar).
    Heat(HeatMap),
}

/// Cell edges for cells centred at `centers` (sorted ascending): midpoints between
/// neighbours, with the outer edges mirrored. With `log`, midpoints are geometric (for cells
/// that should look equally wide on a log axis; centres must then be > 0).
///
/// One centre gives a cell of width 1 (or a factor √10 either side with `log`); no centres
/// give no edges.
///
/// ```
/// let e = noisyprop_plot::edges_from_centers(&[1.0, 2.0, 4.0], false);
/// assert_eq!(e, vec![0.5, 1.5, 3.0, 5.0]);
/// ```
pub fn edges_from_centers(centers: &[f64], log: bool) -> Vec<f64> {
    let n = centers.len();
    if n == 0 {
        return Vec::new();
    }
    let fwd = |v: f64| if log { v.log10() } else { v };
    let inv = |v: f64| if log { 10f64.powf(v) } else { v };
    let c: Vec<f64> = centers.iter().map(|&v| fwd(v)).collect();
    if n == 1 {
        return vec![inv(c[0] - 0.5), inv(c[0] + 0.5)];
    }
    let mut e = Vec::with_capacity(n + 1);
    e.push(c[0] - (c[1] - c[0]) / 2.0);
    for w in c.windows(2) {
        e.push((w[0] + w[1]) / 2.0);
    }
    e.push(c[n - 1] + (c[n - 1] - c[n - 2]) / 2.0);
    e.into_iter().map(inv).collect()
}

/// Cell edges `0, 1, …, n` of a categorical axis with `n` categories (see
/// [`HeatMap::x_categories`]): category `i` spans `i..i+1` and is centred at `i + 0.5`.
///
/// ```
/// assert_eq!(noisyprop_plot::category_edges(3), vec![0.0, 1.0, 2.0, 3.0]);
/// assert!(noisyprop_plot::category_edges(0) == vec![0.0]);
/// ```
pub fn category_edges(n: usize) -> Vec<f64> {
    (0..=n).map(|i| i as f64).collect()
}

/// Short tick labels for numeric categories, e.g. `[0.1, 0.3, 1.0]` → `["0.1", "0.3", "1"]`:
/// up to 4 significant digits (so `0.1 + 0.2` reads "0.3"), trailing zeros dropped, a
/// typographic minus, and `a×10^{e}` outside 10⁻⁴…10⁶. Values closer than that precision
/// get equal labels; format them yourself then.
///
/// ```
/// let l = noisyprop_plot::category_labels(&[0.1, 0.1 + 0.2, 1.0, 2.0, 40.0]);
/// assert_eq!(l, ["0.1", "0.3", "1", "2", "40"]);
/// ```
pub fn category_labels(values: &[f64]) -> Vec<String> {
    values.iter().map(|&v| ticks::format_plain(v)).collect()
}

/// Where the continuous value `value` lies on a categorical axis whose categories stand for
/// the numbers `centers` (in axis order), in the axis' category coordinates (category `i`
/// centred at `i + 0.5`, see [`HeatMap::x_categories`]): piecewise-linear between
/// neighbouring centres, so `centers[i]` ↦ `i + 0.5` and halfway between `centers[i]` and
/// `centers[i+1]` ↦ `i + 1`.
///
/// `None` when `value` is outside `centers[0]..=centers[n-1]` (there is no category to
/// interpolate towards), not finite, or when `centers` is empty, has a non-finite entry or is
/// not strictly monotonic (decreasing centres are fine). With one centre, only that value
/// maps (to `0.5`).
///
/// Use it for overlays on a categorical heat map, e.g. a 6ξ_c curve:
/// `(categorical_position(&keeps, p)?, categorical_position(&depths, 6.0 * xi(p))?)`.
///
/// ```
/// use noisyprop_plot::categorical_position;
///
/// let depths = [2.0, 6.0, 10.0, 20.0];
/// assert_eq!(categorical_position(&depths, 2.0), Some(0.5));
/// assert_eq!(categorical_position(&depths, 6.0), Some(1.5));
/// assert_eq!(categorical_position(&depths, 15.0), Some(3.0)); // halfway 10 → 20
/// assert_eq!(categorical_position(&depths, 20.0), Some(3.5));
/// assert_eq!(categorical_position(&depths, 1.0), None);
/// assert_eq!(categorical_position(&depths, 21.0), None);
/// ```
pub fn categorical_position(centers: &[f64], value: f64) -> Option<f64> {
    if !value.is_finite() || centers.iter().any(|c| !c.is_finite()) {
        return None;
    }
    match centers {
        [] => None,
        [c] => (value == *c).then_some(0.5),
        _ => {
            let up = centers[1] > centers[0];
            let monotonic = centers
                .windows(2)
                .all(|w| if up { w[1] > w[0] } else { w[1] < w[0] });
            if !monotonic {
                return None;
            }
            if let Some(i) = centers.iter().position(|&c| c == value) {
                return Some(i as f64 + 0.5);
            }
            let i = centers
                .windows(2)
                .position(|w| (w[0] < value && value < w[1]) || (w[1] < value && value < w[0]))?;
            let t = (value - centers[i]) / (centers[i + 1] - centers[i]);
            Some(i as f64 + 0.5 + t.clamp(0.0, 1.0))
        }
    }
}

/// Widens a degenerate colour range (`min == max`, or equal to 12 digits) symmetrically:
/// by 5 % of the value, or by ±0.5 around 0. Other ranges are returned unchanged.
pub(crate) fn widen_degenerate(a: f64, b: f64) -> (f64, f64) {
    if b - a <= a.abs().max(b.abs()) * 1e-12 || a == b {
        let d = if a == 0.0 { 0.5 } else { a.abs() * 0.05 };
        (a - d, b + d)
    } else {
        (a, b)
    }
}

/// A colour range for `values` that outliers cannot flatten: the finite values' minimum
/// to their maximum, but the top capped at Tukey's far-out fence Q₃ + 3·(Q₃ − Q₁)
/// (quartiles by linear interpolation) when the maximum lies beyond it. Returns the range
/// and whether the top was capped (cells above it are drawn in the top colour; say so in
/// the colour-bar label). `None` without finite values. When all finite values are equal
/// (e.g. a one-cell map) the range is widened symmetrically around them (by 5 %, or ±0.5
/// around 0), as the automatic colour range of a [`HeatMap`] is, so it can be drawn.
///
/// ```
/// let (r, capped) = noisyprop_plot::robust_color_range(&[2.0, f64::NAN]).unwrap();
/// assert_eq!((r, capped), ((1.9, 2.1), false));
/// let (r, capped) = noisyprop_plot::robust_color_range(&[0.1, 0.2, 0.3, 0.4, 1e18]).unwrap();
/// assert!(capped && r.0 == 0.1 && r.1 < 2.0);
/// let (r, capped) = noisyprop_plot::robust_color_range(&[0.1, 0.2, f64::NAN, 0.4]).unwrap();
/// assert_eq!((r, capped), ((0.1, 0.4), false));
/// ```
pub fn robust_color_range(values: &[f64]) -> Option<((f64, f64), bool)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let (&lo, &hi) = (v.first()?, v.last()?);
    let quantile = |q: f64| {
        let pos = q * (v.len() - 1) as f64;
        let i = pos.floor() as usize;
        let j = (i + 1).min(v.len() - 1);
        v[i] + (v[j] - v[i]) * (pos - i as f64)
    };
    let (q1, q3) = (quantile(0.25), quantile(0.75));
    let fence = q3 + 3.0 * (q3 - q1);
    if hi > fence && fence > lo {
        Some(((lo, fence), true))
    } else {
        Some((widen_degenerate(lo, hi), false))
    }
}

/// Renders a line chart to a PNG file of `size` pixels (`path` must end in `.png`).
pub fn render_line_chart(
    chart: &LineChart,
    path: &Path,
    size: (u32, u32),
) -> Result<(), PlotError> {
    let mut cv = Canvas::new(size, (255, 255, 255))?;
    let (w, h) = cv.size();
    line::draw(&mut cv, chart, Rect::new(0.0, 0.0, w, h))?;
    cv.save_png(path)
}

/// Renders a heat map (with colour bar) to a PNG file of `size` pixels.
pub fn render_heatmap(map: &HeatMap, path: &Path, size: (u32, u32)) -> Result<(), PlotError> {
    let mut cv = Canvas::new(size, (255, 255, 255))?;
    let (w, h) = cv.size();
    heat::draw(&mut cv, map, Rect::new(0.0, 0.0, w, h))?;
    cv.save_png(path)
}

/// Renders several panels on a grid with `cols` columns (filled row by row), each
/// `panel_size` pixels and with its own axes, legend and (for heat maps) colour bar, plus an
/// optional figure title on top. Put "(a)", "(b)", … into the panel titles if wanted.
pub fn render_panels(
    panels: &[Panel],
    cols: usize,
    path: &Path,
    panel_size: (u32, u32),
    suptitle: Option<&str>,
) -> Result<(), PlotError> {
    if panels.is_empty() {
        return Err(PlotError::EmptyData {
            what: "render_panels got no panels".into(),
        });
    }
    if cols == 0 {
        return Err(PlotError::InvalidInput {
            what: "render_panels needs at least one column".into(),
        });
    }
    let cols = cols.min(panels.len());
    let rows = panels.len().div_ceil(cols);
    let theme = axis::Theme::for_size(f64::from(panel_size.0), f64::from(panel_size.1));
    let sup = suptitle.filter(|s| !s.trim().is_empty());
    let sup_size = theme.title * 1.12;
    let sup_h = if sup.is_some() {
        (text::line_height(sup_size) + theme.pad * 1.2).ceil()
    } else {
        0.0
    };
    let total_w = u64::from(panel_size.0) * cols as u64;
    let total_h = u64::from(panel_size.1) * rows as u64 + sup_h as u64;
    let to_u32 = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    let mut cv = Canvas::new((to_u32(total_w), to_u32(total_h)), (255, 255, 255))?;
    if let Some(s) = sup {
        let (w, _) = cv.size();
        let size = text::fit_size(&cv, s, sup_size, theme.label, w - 2.0 * theme.pad);
        text::draw(
            &mut cv,
            s,
            (w / 2.0, theme.pad * 0.8),
            text::Style::new(size, axis::TEXT, text::HAlign::Center, text::VAlign::Top),
        )?;
    }
    let (pw, ph) = (f64::from(panel_size.0), f64::from(panel_size.1));
    for (i, p) in panels.iter().enumerate() {
        let (r, c) = (i / cols, i % cols);
        let rect = Rect::new(
            c as f64 * pw,
            sup_h + r as f64 * ph,
            (c + 1) as f64 * pw,
            sup_h + (r + 1) as f64 * ph,
        );
        match p {
            Panel::Line(chart) => line::draw(&mut cv, chart, rect)?,
            Panel::Heat(map) => heat::draw(&mut cv, map, rect)?,
        }
    }
    cv.save_png(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges() {
        assert_eq!(edges_from_centers(&[], false), Vec::<f64>::new());
        assert_eq!(edges_from_centers(&[2.0], false), vec![1.5, 2.5]);
        let e = edges_from_centers(&[1.0, 10.0, 100.0], true);
        let want = [
            10f64.powf(-0.5),
            10f64.powf(0.5),
            10f64.powf(1.5),
            10f64.powf(2.5),
        ];
        for (a, b) in e.iter().zip(want) {
            assert!((a - b).abs() < 1e-9 * b);
        }
    }
}
