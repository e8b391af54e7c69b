//! Colour maps for heat maps and a qualitative palette for line series.

use crate::Rgb;

/// A continuous colour map, `t ∈ [0, 1] → colour`.
///
/// The tables are sampled from matplotlib's maps of the same names (viridis, magma, inferno
/// and cividis at 33 points, the ColorBrewer-derived ones at 17 or 11 points) and linearly
/// interpolated in RGB, which is visually indistinguishable from the originals.
///
/// ```
/// use noisyprop_plot::Colormap;
/// assert_eq!(Colormap::Viridis.color(0.0), (68, 1, 84));
/// assert_eq!(Colormap::Viridis.color(1.0), (253, 231, 37));
/// // Spectral_r is red at the top, like matplotlib's "Spectral_r".
/// let (r, _, b) = Colormap::SpectralR.color(1.0);
/// assert!(r > 150 && b < 80);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Colormap {
    /// Perceptually uniform blue → green → yellow (matplotlib's default).
    #[default]
    Viridis,
    /// Perceptually uniform black → purple → orange → pale yellow.
    Magma,
    /// Perceptually uniform black → purple → orange → yellow.
    Inferno,
    /// Colour-vision-deficiency friendly blue → yellow.
    Cividis,
    /// Diverging purple/blue (low) → pale yellow → red (high), like matplotlib's `Spectral_r`;
    /// good for losses where red should mean "bad/high".
    SpectralR,
    /// Diverging blue (low) → white → red (high), like matplotlib's `RdBu_r`.
    RdBuR,
    /// Sequential white → dark green, like matplotlib's `Greens`.
    Greens,
    /// Sequential black → white.
    Greys,
}

const VIRIDIS: [Rgb; 33] = [
    (68, 1, 84),
    (71, 13, 96),
    (72, 24, 106),
    (72, 35, 116),
    (71, 45, 123),
    (69, 55, 129),
    (66, 64, 134),
    (62, 73, 137),
    (59, 82, 139),
    (55, 91, 141),
    (51, 99, 141),
    (47, 107, 142),
    (44, 114, 142),
    (41, 122, 142),
    (38, 130, 142),
    (35, 137, 142),
    (33, 145, 140),
    (31, 152, 139),
    (31, 160, 136),
    (34, 167, 133),
    (40, 174, 128),
    (50, 182, 122),
    (63, 188, 115),
    (78, 195, 107),
    (94, 201, 98),
    (112, 207, 87),
    (132, 212, 75),
    (152, 216, 62),
    (173, 220, 48),
    (194, 223, 35),
    (216, 226, 25),
    (236, 229, 27),
    (253, 231, 37),
];

const MAGMA: [Rgb; 33] = [
    (0, 0, 4),
    (3, 3, 18),
    (10, 8, 34),
    (19, 13, 52),
    (29, 17, 71),
    (41, 17, 90),
    (54, 16, 107),
    (68, 15, 118),
    (81, 18, 124),
    (93, 23, 127),
    (106, 28, 129),
    (118, 33, 129),
    (131, 38, 129),
    (144, 42, 129),
    (156, 46, 127),
    (170, 51, 125),
    (183, 55, 121),
    (196, 60, 117),
    (208, 65, 111),
    (220, 72, 105),
    (231, 82, 99),
    (239, 93, 94),
    (245, 107, 92),
    (249, 121, 93),
    (252, 137, 97),
    (253, 152, 105),
    (254, 167, 114),
    (254, 182, 124),
    (254, 196, 136),
    (254, 211, 149),
    (253, 226, 163),
    (252, 240, 178),
    (252, 253, 191),
];

const INFERNO: [Rgb; 33] = [
    (0, 0, 4),
    (4, 3, 18),
    (11, 7, 36),
    (21, 11, 55),
    (33, 12, 74),
    (47, 10, 91),
    (61, 9, 101),
    (74, 12, 107),
    (87, 16, 110),
    (100, 21, 110),
    (113, 25, 110),
    (125, 30, 109),
    (138, 34, 106),
    (151, 39, 102),
    (163, 44, 97),
    (176, 49, 91),
    (188, 55, 84),
    (199, 62, 76),
    (210, 70, 68),
    (219, 80, 59),
    (228, 90, 49),
    (235, 102, 40),
    (241, 115, 29),
    (246, 128, 19),
    (249, 142, 9),
    (251, 157, 7),
    (252, 172, 17),
    (251, 188, 33),
    (249, 203, 53),
    (245, 219, 76),
    (242, 234, 105),
    (243, 246, 138),
    (252, 255, 164),
];

const CIVIDIS: [Rgb; 33] = [
    (0, 34, 78),
    (0, 40, 91),
    (0, 46, 106),
    (5, 51, 113),
    (26, 56, 111),
    (39, 62, 110),
    (50, 67, 109),
    (59, 73, 108),
    (67, 78, 108),
    (75, 84, 108),
    (83, 90, 109),
    (90, 95, 110),
    (97, 101, 111),
    (104, 106, 113),
    (111, 112, 115),
    (118, 118, 118),
    (125, 124, 120),
    (132, 130, 121),
    (140, 136, 120),
    (147, 142, 120),
    (155, 148, 118),
    (163, 154, 116),
    (171, 160, 114),
    (180, 167, 111),
    (188, 174, 108),
    (196, 180, 104),
    (205, 187, 99),
    (213, 194, 94),
    (222, 201, 88),
    (231, 209, 80),
    (240, 216, 70),
    (249, 224, 58),
    (254, 232, 56),
];

/// ColorBrewer "Spectral" (11 classes), reversed: index 0 = low = purple, 10 = high = dark red.
const SPECTRAL_R: [Rgb; 11] = [
    (94, 79, 162),
    (50, 136, 189),
    (102, 194, 165),
    (171, 221, 164),
    (230, 245, 152),
    (255, 255, 191),
    (254, 224, 139),
    (253, 174, 97),
    (244, 109, 67),
    (213, 62, 79),
    (158, 1, 66),
];

/// ColorBrewer "RdBu" (11 classes), reversed: low = dark blue, high = dark red.
const RDBU_R: [Rgb; 11] = [
    (5, 48, 97),
    (33, 102, 172),
    (67, 147, 195),
    (146, 197, 222),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (244, 165, 130),
    (214, 96, 77),
    (178, 24, 43),
    (103, 0, 31),
];

/// ColorBrewer "Greens" (9 classes).
const GREENS: [Rgb; 9] = [
    (247, 252, 245),
    (229, 245, 224),
    (199, 233, 192),
    (161, 217, 155),
    (116, 196, 118),
    (65, 171, 93),
    (35, 139, 69),
    (0, 109, 44),
    (0, 68, 27),
];

const GREYS: [Rgb; 2] = [(0, 0, 0), (255, 255, 255)];

impl Colormap {
    /// The colour at `t`, where `t = 0` is the low end and `t = 1` the high end.
    ///
    /// `t` is clamped to `[0, 1]`; a NaN `t` gives the low-end colour (heat maps never pass
    /// NaN here: non-finite cells use [`HeatMap::non_finite_color`](crate::HeatMap)).
    pub fn color(self, t: f64) -> Rgb {
        let stops = self.stops();
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let n = stops.len();
        let pos = t * (n - 1) as f64;
        // `pos` is within [0, n-1], so the cast is in range.
        let i = (pos.floor() as usize).min(n - 2);
        let f = pos - i as f64;
        let (a, b) = (stops[i], stops[i + 1]);
        let lerp = |x: u8, y: u8| -> u8 {
            let v = f64::from(x) + (f64::from(y) - f64::from(x)) * f;
            v.round().clamp(0.0, 255.0) as u8
        };
        (lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
    }

    /// The map's conventional (matplotlib) name, e.g. `"viridis"` or `"Spectral_r"`.
    pub fn name(self) -> &'static str {
        match self {
            Colormap::Viridis => "viridis",
            Colormap::Magma => "magma",
            Colormap::Inferno => "inferno",
            Colormap::Cividis => "cividis",
            Colormap::SpectralR => "Spectral_r",
            Colormap::RdBuR => "RdBu_r",
            Colormap::Greens => "Greens",
            Colormap::Greys => "Greys_r",
        }
    }

    /// All colour maps, for galleries and tests.
    pub const ALL: [Colormap; 8] = [
        Colormap::Viridis,
        Colormap::Magma,
        Colormap::Inferno,
        Colormap::Cividis,
        Colormap::SpectralR,
        Colormap::RdBuR,
        Colormap::Greens,
        Colormap::Greys,
    ];

    fn stops(self) -> &'static [Rgb] {
        match self {
            Colormap::Viridis => &VIRIDIS,
            Colormap::Magma => &MAGMA,
            Colormap::Inferno => &INFERNO,
            Colormap::Cividis => &CIVIDIS,
            Colormap::SpectralR => &SPECTRAL_R,
            Colormap::RdBuR => &RDBU_R,
            Colormap::Greens => &GREENS,
            Colormap::Greys => &GREYS,
        }
    }
}

/// The default qualitative palette for series without an explicit colour (matplotlib's
/// "tab10": blue, orange, green, red, purple, brown, pink, grey, olive, cyan).
pub const PALETTE: [Rgb; 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// Colour `i` of [`PALETTE`] (cycling). Series without a colour get `palette(index)`, where
/// `index` is the series' position in its chart, so colours stay put when series are styled.
pub fn palette(i: usize) -> Rgb {
    PALETTE[i % PALETTE.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_clamping() {
        for cm in Colormap::ALL {
            let s = cm.stops();
            assert_eq!(cm.color(0.0), s[0]);
            assert_eq!(cm.color(1.0), s[s.len() - 1]);
            assert_eq!(cm.color(-3.0), s[0]);
            assert_eq!(cm.color(7.0), s[s.len() - 1]);
            assert_eq!(cm.color(f64::NAN), s[0]);
            assert_eq!(cm.color(f64::INFINITY), s[s.len() - 1]);
        }
        // midpoint of viridis is the teal around (33, 145, 140)
        assert_eq!(Colormap::Viridis.color(0.5), (33, 145, 140));
    }
}
