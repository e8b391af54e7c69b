//! A small supersampled RGB raster: every primitive is drawn at `ss`× the output resolution
//! and box-filtered down when saving, which anti-aliases lines, markers and polygon edges.
//! Text goes through plotters' `ab_glyph` font support with the embedded DejaVu Sans.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::{BitMapBackend, DrawingBackend};
use plotters::style::{FontDesc, FontFamily, FontStyle};

use crate::{PlotError, Rgb};

/// Largest accepted output side, in pixels.
pub(crate) const MAX_SIDE: u32 = 16_384;

/// Largest accepted output area, in pixels (the buffer is 3 bytes per pixel).
pub(crate) const MAX_AREA: u64 = 64_000_000;

/// Supersampling factor per axis for an image of `area` output pixels (3× for ordinary
/// figures, less for huge ones so the buffer stays below ~200 MB).
fn supersampling(area: u64) -> u32 {
    if area <= 7_000_000 {
        3
    } else if area <= 16_000_000 {
        2
    } else {
        1
    }
}

/// Name the embedded font is registered under (also registered as `sans-serif`).
pub(crate) const FONT_FAMILY: &str = "noisyprop-dejavu-sans";

static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the embedded font with plotters once per process.
pub(crate) fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            for name in [FONT_FAMILY, "sans-serif"] {
                plotters::style::register_font(name, FontStyle::Normal, FONT_BYTES)
                    .map_err(|_| "embedded DejaVuSans.ttf could not be parsed".to_string())?;
            }
            Ok(())
        })
        .clone()
        .map_err(PlotError::Font)
}

/// A point in output pixels (x right, y down).
pub(crate) type Pt = (f64, f64);

/// Axis-aligned rectangle in output pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Self {
        Rect { x0, y0, x1, y1 }
    }
    pub fn w(&self) -> f64 {
        self.x1 - self.x0
    }
    pub fn h(&self) -> f64 {
        self.y1 - self.y0
    }
    pub fn contains(&self, p: Pt) -> bool {
        p.0 >= self.x0 && p.0 <= self.x1 && p.1 >= self.y0 && p.1 <= self.y1
    }
}

/// The raster.
pub(crate) struct Canvas {
    buf: Vec<u8>,
    /// Supersampling factor per axis.
    ss: u32,
    /// Internal (supersampled) size.
    iw: usize,
    ih: usize,
    /// Output size.
    ow: u32,
    oh: u32,
}

impl Canvas {
    /// A canvas of `size` output pixels filled with `bg`.
    pub fn new(size: (u32, u32), bg: Rgb) -> Result<Self, PlotError> {
        let (w, h) = size;
        if w < 16 || h < 16 {
            return Err(PlotError::InvalidInput {
                what: format!("image size {w}×{h} is too small (need at least 16×16)"),
            });
        }
        let area = u64::from(w) * u64::from(h);
        if w > MAX_SIDE || h > MAX_SIDE || area > MAX_AREA {
            return Err(PlotError::InvalidInput {
                what: format!(
                    "image size {w}×{h} is too large (at most {MAX_SIDE} per side and \
                     {MAX_AREA} pixels)"
                ),
            });
        }
        ensure_font()?;
        let ss = supersampling(area);
        let iw = (w * ss) as usize;
        let ih = (h * ss) as usize;
        let mut buf = vec![0u8; iw * ih * 3];
        for px in buf.chunks_exact_mut(3) {
            px[0] = bg.0;
            px[1] = bg.1;
            px[2] = bg.2;
        }
        Ok(Canvas {
            buf,
            ss,
            iw,
            ih,
            ow: w,
            oh: h,
        })
    }

    /// Output width and height in pixels.
    pub fn size(&self) -> (f64, f64) {
        (f64::from(self.ow), f64::from(self.oh))
    }

    #[inline]
    fn blend(&mut self, x: i64, y: i64, c: Rgb, a: f64) {
        if x < 0 || y < 0 || x >= self.iw as i64 || y >= self.ih as i64 || a <= 0.0 {
            return;
        }
        let i = (y as usize * self.iw + x as usize) * 3;
        if a >= 1.0 {
            self.buf[i] = c.0;
            self.buf[i + 1] = c.1;
            self.buf[i + 2] = c.2;
        } else {
            let mix = |d: u8, s: u8| -> u8 {
                (f64::from(d) * (1.0 - a) + f64::from(s) * a)
                    .round()
                    .clamp(0.0, 255.0) as u8
            };
            self.buf[i] = mix(self.buf[i], c.0);
            self.buf[i + 1] = mix(self.buf[i + 1], c.1);
            self.buf[i + 2] = mix(self.buf[i + 2], c.2);
        }
    }

    /// Fills internal pixels of row `iy` whose centres lie in `[xl, xr]` (internal units).
    #[inline]
    fn span(&mut self, iy: i64, xl: f64, xr: f64, c: Rgb, a: f64) {
        if iy < 0 || iy >= self.ih as i64 || xl.is_nan() || xr.is_nan() || xl > xr {
            return;
        }
        let lo = (xl - 0.5).ceil().max(0.0);
        let hi = (xr - 0.5).floor().min(self.iw as f64 - 1.0);
        if lo > hi {
            return;
        }
        for ix in (lo as i64)..=(hi as i64) {
            self.blend(ix, iy, c, a);
        }
    }

    /// Fills the rectangle `[x0, x1) × [y0, y1)` (output pixels; pixel centres decide).
    pub fn fill_rect(&mut self, r: Rect, c: Rgb, a: f64) {
        let s = f64::from(self.ss);
        let (x0, x1) = (r.x0.min(r.x1), r.x0.max(r.x1));
        let (y0, y1) = (r.y0.min(r.y1), r.y0.max(r.y1));
        if !(x0.is_finite() && x1.is_finite() && y0.is_finite() && y1.is_finite()) {
            return;
        }
        let lo = (y0 * s - 0.5).ceil().max(0.0);
        let hi = ((y1 * s - 0.5).ceil() - 1.0).min(self.ih as f64 - 1.0);
        if lo > hi {
            return;
        }
        let xl = (x0 * s - 0.5).ceil();
        let xr = (x1 * s - 0.5).ceil() - 1.0;
        for iy in (lo as i64)..=(hi as i64) {
            // span() uses closed centre intervals; pass pixel-centre bounds directly
            self.span(iy, xl + 0.5, xr + 0.5, c, a);
        }
    }

    /// Fills a row-by-row gradient inside `r`; `f(t)` with `t = 0` at the bottom, 1 at the top.
    pub fn vertical_gradient(&mut self, r: Rect, f: impl Fn(f64) -> Rgb) {
        let s = f64::from(self.ss);
        let xl = (r.x0 * s - 0.5).ceil() + 0.5;
        let xr = (r.x1 * s - 0.5).ceil() - 0.5;
        let lo = (r.y0 * s - 0.5).ceil().max(0.0);
        let hi = ((r.y1 * s - 0.5).ceil() - 1.0).min(self.ih as f64 - 1.0);
        if lo > hi || !lo.is_finite() || !hi.is_finite() {
            return;
        }
        let h = (r.y1 - r.y0) * s;
        for iy in (lo as i64)..=(hi as i64) {
            let t = 1.0 - ((iy as f64 + 0.5) - r.y0 * s) / h;
            let c = f(t.clamp(0.0, 1.0));
            self.span(iy, xl, xr, c, 1.0);
        }
    }

    /// Fills a polygon (any number of contours, non-zero winding rule).
    pub fn fill_polygon(&mut self, contours: &[Vec<Pt>], c: Rgb, a: f64) {
        let s = f64::from(self.ss);
        let mut edges: Vec<(Pt, Pt)> = Vec::new();
        let (mut ymin, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY);
        for poly in contours {
            if poly.len() < 3 {
                continue;
            }
            for i in 0..poly.len() {
                let p = poly[i];
                let q = poly[(i + 1) % poly.len()];
                if !(p.0.is_finite() && p.1.is_finite() && q.0.is_finite() && q.1.is_finite()) {
                    return;
                }
                let (p, q) = ((p.0 * s, p.1 * s), (q.0 * s, q.1 * s));
                ymin = ymin.min(p.1);
                ymax = ymax.max(p.1);
                if p.1 != q.1 {
                    edges.push((p, q));
                }
            }
        }
        if edges.is_empty() {
            return;
        }
        let lo = (ymin - 0.5).ceil().max(0.0);
        let hi = (ymax - 0.5).floor().min(self.ih as f64 - 1.0);
        if lo > hi {
            return;
        }
        let mut xs: Vec<(f64, i32)> = Vec::new();
        for iy in (lo as i64)..=(hi as i64) {
            let yc = iy as f64 + 0.5;
            xs.clear();
            for &(p, q) in &edges {
                let (top, bot, dir) = if p.1 < q.1 { (p, q, 1) } else { (q, p, -1) };
                if yc >= top.1 && yc < bot.1 {
                    let x = top.0 + (yc - top.1) * (bot.0 - top.0) / (bot.1 - top.1);
                    xs.push((x, dir));
                }
            }
            xs.sort_by(|u, v| u.0.total_cmp(&v.0));
            let mut wind = 0;
            let mut start = 0.0;
            for &(x, dir) in xs.iter() {
                let before = wind;
                wind += dir;
                if before == 0 && wind != 0 {
                    start = x;
                } else if before != 0 && wind == 0 {
                    // pixel centres in [start, x)
                    self.span(iy, start, (x - 0.5).ceil() - 0.5, c, a);
                }
            }
        }
    }

    /// Fills a disc of radius `r` (output pixels).
    pub fn fill_circle(&mut self, c0: Pt, r: f64, c: Rgb, a: f64) {
        self.fill_capsule(c0, c0, r, c, a);
    }

    /// Fills all points within distance `r` of the segment `p`–`q` (a stroke with round caps).
    pub fn fill_capsule(&mut self, p: Pt, q: Pt, r: f64, c: Rgb, a: f64) {
        if !(p.0.is_finite() && p.1.is_finite() && q.0.is_finite() && q.1.is_finite()) {
            return;
        }
        let s = f64::from(self.ss);
        let (p, q, r) = ((p.0 * s, p.1 * s), (q.0 * s, q.1 * s), r * s);
        let lo = (p.1.min(q.1) - r - 0.5).ceil().max(0.0);
        let hi = (p.1.max(q.1) + r - 0.5).floor().min(self.ih as f64 - 1.0);
        if lo > hi {
            return;
        }
        let d = (q.0 - p.0, q.1 - p.1);
        let len = (d.0 * d.0 + d.1 * d.1).sqrt();
        // quad corners (only if the segment has length)
        let quad: Option<[Pt; 4]> = if len > 1e-9 {
            let n = (-d.1 / len * r, d.0 / len * r);
            Some([
                (p.0 + n.0, p.1 + n.1),
                (q.0 + n.0, q.1 + n.1),
                (q.0 - n.0, q.1 - n.1),
                (p.0 - n.0, p.1 - n.1),
            ])
        } else {
            None
        };
        for iy in (lo as i64)..=(hi as i64) {
            let yc = iy as f64 + 0.5;
            let mut xl = f64::INFINITY;
            let mut xr = f64::NEG_INFINITY;
            for cc in [p, q] {
                let dy = yc - cc.1;
                if dy.abs() <= r {
                    let hw = (r * r - dy * dy).sqrt();
                    xl = xl.min(cc.0 - hw);
                    xr = xr.max(cc.0 + hw);
                }
            }
            if let Some(qd) = quad {
                for i in 0..4 {
                    let (u, v) = (qd[i], qd[(i + 1) % 4]);
                    let (ylo, yhi) = (u.1.min(v.1), u.1.max(v.1));
                    if yc >= ylo && yc <= yhi {
                        let x = if (v.1 - u.1).abs() < 1e-12 {
                            xl = xl.min(u.0.min(v.0));
                            xr = xr.max(u.0.max(v.0));
                            continue;
                        } else {
                            u.0 + (yc - u.1) * (v.0 - u.0) / (v.1 - u.1)
                        };
                        xl = xl.min(x);
                        xr = xr.max(x);
                    }
                }
            }
            if xl <= xr {
                self.span(iy, xl, xr, c, a);
            }
        }
    }

    /// Strokes an (already clipped) polyline with round joins; `dash = Some((on, off))` in
    /// output pixels gives a dashed line.
    pub fn stroke(&mut self, pts: &[Pt], width: f64, c: Rgb, dash: Option<(f64, f64)>) {
        let r = width / 2.0;
        match dash {
            None => {
                if pts.len() == 1 {
                    self.fill_circle(pts[0], r, c, 1.0);
                }
                for w in pts.windows(2) {
                    self.fill_capsule(w[0], w[1], r, c, 1.0);
                }
            }
            Some((on, off)) => {
                // round caps add `width` to every dash; compensate.
                let on_eff = (on - width).max(0.3 * on);
                let off_eff = off + (on - on_eff);
                let period = on_eff + off_eff;
                let mut phase = 0.0f64; // position within the period
                for w in pts.windows(2) {
                    let (p, q) = (w[0], w[1]);
                    let seg = ((q.0 - p.0).powi(2) + (q.1 - p.1).powi(2)).sqrt();
                    if !seg.is_finite() || seg <= 0.0 {
                        continue;
                    }
                    let at = |t: f64| (p.0 + (q.0 - p.0) * t / seg, p.1 + (q.1 - p.1) * t / seg);
                    let mut t = 0.0;
                    // bounded loop: at most seg / (period/2) + 2 iterations
                    let max_iter = (seg / (period * 0.5)).ceil() as usize + 4;
                    for _ in 0..max_iter {
                        if t >= seg {
                            break;
                        }
                        if phase < on_eff {
                            let l = (on_eff - phase).min(seg - t);
                            self.fill_capsule(at(t), at(t + l), r, c, 1.0);
                            t += l;
                            phase += l;
                        } else {
                            let l = (period - phase).min(seg - t);
                            t += l;
                            phase += l;
                        }
                        if phase >= period - 1e-9 {
                            phase = 0.0;
                        }
                    }
                }
            }
        }
    }

    /// Width (output pixels) of plain `text` at font size `size`.
    pub fn text_width(&self, text: &str, size: f64) -> f64 {
        if text.is_empty() {
            return 0.0;
        }
        let font = FontDesc::new(
            FontFamily::Name(FONT_FAMILY),
            size * f64::from(self.ss),
            FontStyle::Normal,
        );
        match font.layout_box(text) {
            Ok(((x0, _), (x1, _))) => f64::from(x1 - x0) / f64::from(self.ss),
            // Fallback: a typical advance of 0.55 em per character.
            Err(_) => 0.55 * size * text.chars().count() as f64,
        }
    }

    /// Draws plain `text` with its baseline starting at `origin` (output pixels). With
    /// `rotated`, the text runs upwards (rotated 90° counter-clockwise) from `origin`.
    pub fn draw_text(
        &mut self,
        text: &str,
        size: f64,
        origin: Pt,
        c: Rgb,
        rotated: bool,
    ) -> Result<(), PlotError> {
        if text.is_empty() || !(origin.0.is_finite() && origin.1.is_finite()) {
            return Ok(());
        }
        let s = f64::from(self.ss);
        let isize = size * s;
        let font = FontDesc::new(FontFamily::Name(FONT_FAMILY), isize, FontStyle::Normal);
        let (ox, oy) = (origin.0 * s, origin.1 * s);
        // plotters' ab_glyph renderer puts the baseline at y = size / 2 of its origin.
        let base = (isize / 2.0).trunc();
        let mut pixels: Vec<(i64, i64, f64)> = Vec::new();
        let res = font.draw(text, (0, 0), |gx, gy, cov| {
            let dx = f64::from(gx);
            let dy = f64::from(gy) - base;
            let (x, y) = if rotated {
                (ox + dy, oy - dx)
            } else {
                (ox + dx, oy + dy)
            };
            pixels.push((x.round() as i64, y.round() as i64, f64::from(cov)));
            Ok::<(), std::convert::Infallible>(())
        });
        match res {
            Ok(Ok(())) => {}
            Ok(Err(never)) => match never {},
            Err(e) => return Err(PlotError::Font(format!("{e:?}"))),
        }
        for (x, y, a) in pixels {
            self.blend(x, y, c, a.clamp(0.0, 1.0));
        }
        Ok(())
    }

    /// Downsamples and writes the image as PNG to `path`.
    pub fn save_png(&self, path: &Path) -> Result<(), PlotError> {
        let ext_ok = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("png"));
        if !ext_ok {
            return Err(PlotError::InvalidInput {
                what: format!("output path {} must end in .png", path.display()),
            });
        }
        let (ow, oh) = (self.ow as usize, self.oh as usize);
        let ss = self.ss as usize;
        let mut out = vec![0u8; ow * oh * 3];
        let norm = (ss * ss) as u32;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = [0u32; 3];
                for sy in 0..ss {
                    let row = (oy * ss + sy) * self.iw;
                    for sx in 0..ss {
                        let i = (row + ox * ss + sx) * 3;
                        acc[0] += u32::from(self.buf[i]);
                        acc[1] += u32::from(self.buf[i + 1]);
                        acc[2] += u32::from(self.buf[i + 2]);
                    }
                }
                let o = (oy * ow + ox) * 3;
                for k in 0..3 {
                    out[o + k] = ((acc[k] + norm / 2) / norm) as u8;
                }
            }
        }
        // Surface file-system problems as a proper io::Error before plotters tries.
        std::fs::File::create(path).map_err(|cause| PlotError::Io {
            path: path.to_path_buf(),
            cause,
        })?;
        let mut backend = BitMapBackend::new(path, (self.ow, self.oh));
        backend
            .blit_bitmap((0, 0), (self.ow, self.oh), &out)
            .map_err(|e| PlotError::Backend(e.to_string()))?;
        backend
            .present()
            .map_err(|e| PlotError::Backend(e.to_string()))?;
        Ok(())
    }
}

/// Clips segment `p`–`q` to `r` (Liang–Barsky). Returns the clipped endpoints.
pub(crate) fn clip_segment(p: Pt, q: Pt, r: &Rect) -> Option<(Pt, Pt)> {
    if !(p.0.is_finite() && p.1.is_finite() && q.0.is_finite() && q.1.is_finite()) {
        return None;
    }
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let mut t0 = 0.0f64;
    let mut t1 = 1.0f64;
    for (pp, qq) in [
        (-dx, p.0 - r.x0),
        (dx, r.x1 - p.0),
        (-dy, p.1 - r.y0),
        (dy, r.y1 - p.1),
    ] {
        if pp == 0.0 {
            if qq < 0.0 {
                return None;
            }
        } else {
            let t = qq / pp;
            if pp < 0.0 {
                if t > t1 {
                    return None;
                }
                t0 = t0.max(t);
            } else {
                if t < t0 {
                    return None;
                }
                t1 = t1.min(t);
            }
        }
    }
    Some((
        (p.0 + t0 * dx, p.1 + t0 * dy),
        (p.0 + t1 * dx, p.1 + t1 * dy),
    ))
}

/// Clips a polyline (with `None` marking breaks) to `r`, returning the visible runs.
pub(crate) fn clip_polyline(pts: &[Option<Pt>], r: &Rect) -> Vec<Vec<Pt>> {
    let mut runs: Vec<Vec<Pt>> = Vec::new();
    let mut cur: Vec<Pt> = Vec::new();
    for w in pts.windows(2) {
        let (Some(p), Some(q)) = (w[0], w[1]) else {
            if cur.len() > 1 {
                runs.push(std::mem::take(&mut cur));
            }
            cur.clear();
            continue;
        };
        match clip_segment(p, q, r) {
            Some((a, b)) => {
                let continues = cur.last().is_some_and(|l| l.0 == a.0 && l.1 == a.1);
                if !continues {
                    if cur.len() > 1 {
                        runs.push(std::mem::take(&mut cur));
                    }
                    cur.clear();
                    cur.push(a);
                }
                cur.push(b);
            }
            None => {
                if cur.len() > 1 {
                    runs.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
        }
    }
    if cur.len() > 1 {
        runs.push(cur);
    }
    runs
}

/// Clips a polygon to `r` (Sutherland–Hodgman).
pub(crate) fn clip_polygon(poly: &[Pt], r: &Rect) -> Vec<Pt> {
    let mut out: Vec<Pt> = poly.to_vec();
    type Inside = fn(Pt, &Rect) -> bool;
    type Cross = fn(Pt, Pt, &Rect) -> Pt;
    let planes: [(Inside, Cross); 4] = [
        (
            |p, r| p.0 >= r.x0,
            |p, q, r| (r.x0, p.1 + (q.1 - p.1) * (r.x0 - p.0) / (q.0 - p.0)),
        ),
        (
            |p, r| p.0 <= r.x1,
            |p, q, r| (r.x1, p.1 + (q.1 - p.1) * (r.x1 - p.0) / (q.0 - p.0)),
        ),
        (
            |p, r| p.1 >= r.y0,
            |p, q, r| (p.0 + (q.0 - p.0) * (r.y0 - p.1) / (q.1 - p.1), r.y0),
        ),
        (
            |p, r| p.1 <= r.y1,
            |p, q, r| (p.0 + (q.0 - p.0) * (r.y1 - p.1) / (q.1 - p.1), r.y1),
        ),
    ];
    for (inside, cross) in planes {
        if out.is_empty() {
            break;
        }
        let input = std::mem::take(&mut out);
        for i in 0..input.len() {
            let cur = input[i];
            let prev = input[(i + input.len() - 1) % input.len()];
            let (ci, pi) = (inside(cur, r), inside(prev, r));
            if ci {
                if !pi {
                    out.push(cross(prev, cur, r));
                }
                out.push(cur);
            } else if pi {
                out.push(cross(prev, cur, r));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liang_barsky() {
        let r = Rect::new(0.0, 0.0, 10.0, 10.0);
        let (a, b) = clip_segment((-5.0, 5.0), (15.0, 5.0), &r).unwrap_or(((0.0, 0.0), (0.0, 0.0)));
        assert_eq!(a, (0.0, 5.0));
        assert_eq!(b, (10.0, 5.0));
        assert!(clip_segment((-5.0, -5.0), (-1.0, 20.0), &r).is_none());
        assert!(clip_segment((f64::NAN, 0.0), (1.0, 1.0), &r).is_none());
    }

    #[test]
    fn polygon_clip_square() {
        let r = Rect::new(0.0, 0.0, 10.0, 10.0);
        let poly = vec![(-5.0, -5.0), (5.0, -5.0), (5.0, 5.0), (-5.0, 5.0)];
        let c = clip_polygon(&poly, &r);
        let area: f64 = (0..c.len())
            .map(|i| {
                let (p, q) = (c[i], c[(i + 1) % c.len()]);
                p.0 * q.1 - q.0 * p.1
            })
            .sum::<f64>()
            .abs()
            / 2.0;
        assert!((area - 25.0).abs() < 1e-9, "{area}");
    }
}
