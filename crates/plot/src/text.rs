//! Rich-text labels: plain text plus `_{sub}` and `^{sup}` groups, e.g. `"σ_{w}^{2}"`,
//! `"q^{l-1}"`, `"6ξ_{c}"`. Everything else (including Unicode such as `σ`, `μ₂`, `²`) is
//! drawn as is.

use crate::PlotError;
use crate::Rgb;
use crate::canvas::{Canvas, Pt};

/// Ascent, cap height and descent of DejaVu Sans as fractions of the plotters font size.
pub(crate) const ASCENT: f64 = 0.797;
pub(crate) const CAP: f64 = 0.626;
pub(crate) const DESCENT: f64 = 0.203;

const SCRIPT_SCALE: f64 = 0.72;
const SUP_RISE: f64 = 0.36;
const SUB_RISE: f64 = -0.16;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Seg {
    pub text: String,
    /// Size relative to the base size.
    pub scale: f64,
    /// Baseline shift upwards, in units of the base size.
    pub rise: f64,
}

/// The runs of `s`: plain text (`None`) and the contents of `_{…}` (`Some('_')`) and
/// `^{…}` (`Some('^')`) groups, in order; empty groups are dropped.
fn runs(s: &str) -> Vec<(Option<char>, String)> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if (c == '_' || c == '^')
            && chars.get(i + 1) == Some(&'{')
            && let Some(close) = chars[i + 2..].iter().position(|&ch| ch == '}')
        {
            if !plain.is_empty() {
                out.push((None, std::mem::take(&mut plain)));
            }
            let inner: String = chars[i + 2..i + 2 + close].iter().collect();
            if !inner.is_empty() {
                out.push((Some(c), inner));
            }
            i += close + 3;
            continue;
        }
        plain.push(c);
        i += 1;
    }
    if !plain.is_empty() {
        out.push((None, plain));
    }
    out
}

/// Splits `s` into normal, subscript and superscript runs.
pub(crate) fn parse(s: &str) -> Vec<Seg> {
    runs(s)
        .into_iter()
        .map(|(kind, text)| Seg {
            text,
            scale: if kind.is_some() { SCRIPT_SCALE } else { 1.0 },
            rise: match kind {
                Some('^') => SUP_RISE,
                Some(_) => SUB_RISE,
                None => 0.0,
            },
        })
        .collect()
}

/// Rich-text markup as plain Unicode for consoles and files: `σ_{w}^{2}` → `σ_w²`,
/// `q^{15}` → `q¹⁵`, `c^{l}` → `c^l`, `ξ_{c}` → `ξ_c`, `μ_{2}` → `μ₂`. Digits (and
/// signs) become Unicode sub- or superscripts; other groups keep a plain `_` or `^` (in
/// parentheses when longer than one character).
pub fn plain_text(s: &str) -> String {
    fn script(inner: &str, sup: bool) -> Option<String> {
        inner
            .chars()
            .map(|c| {
                let (digits, plus, minus) = if sup {
                    ("⁰¹²³⁴⁵⁶⁷⁸⁹", '⁺', '⁻')
                } else {
                    ("₀₁₂₃₄₅₆₇₈₉", '₊', '₋')
                };
                match c {
                    '0'..='9' => digits.chars().nth(c as usize - '0' as usize),
                    '+' => Some(plus),
                    '-' | '−' => Some(minus),
                    _ => None,
                }
            })
            .collect()
    }
    let mut out = String::with_capacity(s.len());
    for (kind, inner) in runs(s) {
        match kind {
            None => out.push_str(&inner),
            Some(c) => match script(&inner, c == '^') {
                Some(t) => out.push_str(&t),
                None if inner.chars().count() > 1 => out.push_str(&format!("{c}({inner})")),
                None => {
                    out.push(c);
                    out.push_str(&inner);
                }
            },
        }
    }
    out
}

/// Horizontal anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HAlign {
    Left,
    Center,
    Right,
}

/// Vertical anchor (for rotated text: across the text direction, "top" = the side the letters'
/// tops point to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VAlign {
    /// Anchor is at the top of the ascenders.
    Top,
    /// Anchor is at the middle of the capital letters.
    Middle,
    /// Anchor is at the bottom of the descenders.
    Bottom,
}

/// Width of rich text `s` at `size`.
pub(crate) fn width(cv: &Canvas, s: &str, size: f64) -> f64 {
    parse(s)
        .iter()
        .map(|g| cv.text_width(&g.text, size * g.scale))
        .sum()
}

/// How far superscripts in `s` reach above the normal ascent (0 without superscripts).
pub(crate) fn extra_above(s: &str, size: f64) -> f64 {
    parse(s)
        .iter()
        .filter(|g| g.rise > 0.0)
        .map(|g| (g.rise + g.scale * ASCENT - ASCENT) * size)
        .fold(0.0, f64::max)
}

/// Height a text line occupies (ascent + descent).
pub(crate) fn line_height(size: f64) -> f64 {
    (ASCENT + DESCENT) * size
}

/// How to draw one label.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    pub size: f64,
    pub color: Rgb,
    pub h: HAlign,
    pub v: VAlign,
    pub rotated: bool,
}

impl Style {
    pub fn new(size: f64, color: Rgb, h: HAlign, v: VAlign) -> Self {
        Style {
            size,
            color,
            h,
            v,
            rotated: false,
        }
    }
    pub fn rotated(mut self) -> Self {
        self.rotated = true;
        self
    }
}

/// Draws rich text anchored at `at`.
pub(crate) fn draw(cv: &mut Canvas, s: &str, at: Pt, st: Style) -> Result<(), PlotError> {
    let size = st.size;
    let w = width(cv, s, size);
    let along = match st.h {
        HAlign::Left => 0.0,
        HAlign::Center => -w / 2.0,
        HAlign::Right => -w,
    };
    // offset from the anchor to the baseline, measured "downwards" in text space
    let down = match st.v {
        VAlign::Top => ASCENT * size,
        VAlign::Middle => CAP * size / 2.0,
        VAlign::Bottom => -DESCENT * size,
    };
    // text-space (u along, d down) → screen
    let to_screen = |u: f64, d: f64| -> Pt {
        if st.rotated {
            (at.0 + d, at.1 - u)
        } else {
            (at.0 + u, at.1 + d)
        }
    };
    let mut u = along;
    for g in parse(s) {
        let gs = size * g.scale;
        let origin = to_screen(u, down - g.rise * size);
        cv.draw_text(&g.text, gs, origin, st.color, st.rotated)?;
        u += cv.text_width(&g.text, gs);
    }
    Ok(())
}

/// Like [`draw`], with a `halo`-coloured outline so the text stays legible on any background.
pub(crate) fn draw_with_halo(
    cv: &mut Canvas,
    s: &str,
    at: Pt,
    st: Style,
    halo: Rgb,
) -> Result<(), PlotError> {
    let d = (st.size * 0.08).max(1.0);
    let mut hs = st;
    hs.color = halo;
    for k in 0..12 {
        let ang = f64::from(k) * std::f64::consts::PI / 6.0;
        draw(cv, s, (at.0 + d * ang.cos(), at.1 + d * ang.sin()), hs)?;
    }
    draw(cv, s, at, st)
}

/// Largest size ≤ `size` (but ≥ `min`) at which `s` fits in `max_w`.
pub(crate) fn fit_size(cv: &Canvas, s: &str, size: f64, min: f64, max_w: f64) -> f64 {
    let w = width(cv, s, size);
    if w <= max_w || w <= 0.0 {
        return size;
    }
    (size * max_w / w).max(min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_scripts() {
        let segs = parse("σ_{w}^{2} and q^{l-1}");
        let texts: Vec<&str> = segs.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, vec!["σ", "w", "2", " and q", "l-1"]);
        assert!(segs[1].rise < 0.0 && segs[2].rise > 0.0);
        // unmatched braces and lone markers stay literal
        let segs = parse("a_b ^{x");
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].text, "a_b ^{x");
        assert!(parse("").is_empty());
    }
}

#[cfg(test)]
mod plain_tests {
    use super::plain_text;

    #[test]
    fn markup_becomes_plain_unicode() {
        assert_eq!(plain_text("σ_{w}^{2} = 1"), "σ_w² = 1");
        assert_eq!(plain_text("q^{15} and c^{l}"), "q¹⁵ and c^l");
        assert_eq!(plain_text("μ_{2}, ξ_{c}, σ_{ε}"), "μ₂, ξ_c, σ_ε");
        assert_eq!(plain_text("x^{l-1}"), "x^(l-1)");
        assert_eq!(plain_text("c^{-1}"), "c⁻¹");
        assert_eq!(plain_text("plain_text ^ here"), "plain_text ^ here");
    }
}
