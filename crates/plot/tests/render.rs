//! Rendering tests: every figure kind, PNG size checks and robustness (never a panic).

use std::path::Path;

use noisyprop_plot::{
    Colormap, HeatMap, LegendPos, LineChart, Marker, Panel, PlotError, RefLine, Series,
    categorical_position, category_edges, category_labels, contour, edges_from_centers,
    render_heatmap, render_line_chart, render_panels, robust_color_range,
};

const SMALL: (u32, u32) = (360, 260);

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_default();
    assert!(bytes.len() > 24, "{} is not a PNG", path.display());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (be(16), be(20))
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))
}

fn line_with_band() -> LineChart {
    let xs: Vec<f64> = (0..40).map(|i| i as f64 * 0.25).collect();
    LineChart {
        title: "band σ_{w}^{2}".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        series: vec![
            Series::line("mean", xs.iter().map(|&x| (x, x.sin())).collect()).with_band(
                xs.iter()
                    .map(|&x| (x, x.sin() - 0.2, x.sin() + 0.2))
                    .collect(),
            ),
            Series::points("sim", xs.iter().map(|&x| (x, x.sin() + 0.05)).collect())
                .with_marker(Marker::Diamond),
        ],
        ref_lines: vec![RefLine::horizontal(0.0).with_label("zero")],
        ..Default::default()
    }
}

fn heat() -> HeatMap {
    let (nx, ny) = (6, 4);
    let mut values: Vec<f64> = (0..nx * ny).map(|i| i as f64).collect();
    values[3] = f64::NAN;
    values[10] = f64::INFINITY;
    HeatMap {
        title: "heat".into(),
        x_label: "σ_{w}^{2}".into(),
        y_label: "depth".into(),
        color_label: "log(q^{l})".into(),
        x_edges: edges_from_centers(&[0.1, 0.2, 0.4, 0.8, 1.6, 3.2], false),
        y_edges: vec![1.0, 2.0, 5.0, 10.0, 40.0],
        values,
        colormap: Colormap::SpectralR,
        overlays: vec![Series::line(
            "critical",
            vec![(0.5, 1.0), (1.0, 20.0), (2.0, 40.0)],
        )],
        ref_lines: vec![RefLine::vertical(1.2).with_label("criticality")],
        annotations: vec![
            (0.3, 30.0, "Overflow".into()),
            (2.5, 3.0, "Underflow".into()),
        ],
        log_y: true,
        ..Default::default()
    }
}

#[test]
fn line_chart_with_band_points_and_legend() {
    let dir = tmp();
    let p = dir.path().join("line.png");
    render_line_chart(&line_with_band(), &p, SMALL).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(png_size(&p), SMALL);
}

#[test]
fn log_y_chart_drops_nonpositive_points() {
    let dir = tmp();
    let p = dir.path().join("logy.png");
    let pts: Vec<(f64, f64)> = (0..20)
        .map(|l| (l as f64, 4.0 * 1.3f64.powi(l) - 10.0))
        .collect();
    let chart = LineChart {
        title: "log".into(),
        x_label: "layer".into(),
        y_label: "q".into(),
        log_y: true,
        series: vec![
            Series::line_points("growth", pts.clone()),
            Series::points("shifted", pts.iter().map(|&(x, y)| (x, y * 0.5)).collect())
                .with_band(pts.iter().map(|&(x, y)| (x, y - 5.0, y + 5.0)).collect()),
        ],
        legend: LegendPos::Top,
        ..Default::default()
    };
    render_line_chart(&chart, &p, (500, 400)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(png_size(&p), (500, 400));
}

#[test]
fn heat_map_with_nan_overlay_and_labels() {
    let dir = tmp();
    let p = dir.path().join("heat.png");
    render_heatmap(&heat(), &p, SMALL).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(png_size(&p), SMALL);
    // every legend position works
    for legend in [
        LegendPos::Auto,
        LegendPos::UpperLeft,
        LegendPos::LowerRight,
        LegendPos::Right,
        LegendPos::Top,
        LegendPos::None,
    ] {
        let map = HeatMap { legend, ..heat() };
        render_heatmap(&map, &p, SMALL).unwrap_or_else(|e| panic!("{legend:?}: {e}"));
    }
}

#[test]
fn three_panel_figure() {
    let dir = tmp();
    let p = dir.path().join("panels.png");
    let panels = vec![
        Panel::Line(line_with_band()),
        Panel::Heat(heat()),
        Panel::Line(LineChart {
            log_x: true,
            ..line_with_band()
        }),
    ];
    render_panels(&panels, 3, &p, (300, 220), Some("three panels"))
        .unwrap_or_else(|e| panic!("{e}"));
    let (w, h) = png_size(&p);
    assert_eq!(w, 900);
    assert!(h > 220 && h < 300, "suptitle adds a strip: {h}");
    // 2 columns → 2 rows, no suptitle
    render_panels(&panels, 2, &p, (300, 220), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(png_size(&p), (600, 440));
}

#[test]
fn contour_of_xy_is_the_hyperbola() {
    let g: Vec<f64> = (0..25).map(|i| 0.25 + 3.75 * i as f64 / 24.0).collect();
    let v: Vec<f64> = g
        .iter()
        .flat_map(|&y| g.iter().map(move |&x| x * y))
        .collect();
    let lines = contour(&g, &g, &v, 1.0);
    assert!(!lines.is_empty());
    let n: usize = lines.iter().map(Vec::len).sum();
    assert!(n > 10);
    for l in &lines {
        for &(x, y) in l {
            assert!((x * y - 1.0).abs() < 0.05, "({x}, {y})");
        }
    }
}

/// Renders and returns the result; the point is that nothing panics.
fn try_line(chart: &LineChart, size: (u32, u32)) -> Result<(), PlotError> {
    let dir = tmp();
    render_line_chart(chart, &dir.path().join("r.png"), size)
}

fn try_heat(map: &HeatMap) -> Result<(), PlotError> {
    let dir = tmp();
    render_heatmap(map, &dir.path().join("r.png"), SMALL)
}

#[test]
fn robustness_line_charts() {
    let s = |pts: Vec<(f64, f64)>| LineChart {
        series: vec![Series::line_points("s", pts)],
        ..Default::default()
    };
    // nothing at all, empty series, all NaN → EmptyData
    for c in [
        LineChart::default(),
        s(vec![]),
        s(vec![(f64::NAN, f64::NAN); 5]),
        s(vec![(f64::INFINITY, 1.0), (1.0, f64::NEG_INFINITY)]),
    ] {
        assert!(matches!(
            try_line(&c, SMALL),
            Err(PlotError::EmptyData { .. })
        ));
    }
    // a single point, a constant, a vertical line, mixed infinities: fine
    for c in [
        s(vec![(1.0, 2.0)]),
        s(vec![(0.0, 0.0)]),
        s(vec![(0.0, 5.0), (1.0, 5.0), (2.0, 5.0)]),
        s(vec![(3.0, 0.0), (3.0, 1.0)]),
        s(vec![
            (0.0, 1.0),
            (1.0, f64::INFINITY),
            (2.0, f64::NAN),
            (3.0, 2.0),
        ]),
        s(vec![(1e-300, 1e300), (1e300, -1e300)]),
    ] {
        assert!(try_line(&c, SMALL).is_ok(), "{c:?}");
    }
    // range too large to pad
    assert!(try_line(&s(vec![(0.0, -1.7e308), (1.0, 1.7e308)]), SMALL).is_err());
    // log axes: nothing positive → EmptyData; some positive → fine
    let mut c = s(vec![(1.0, -1.0), (2.0, 0.0)]);
    c.log_y = true;
    assert!(matches!(
        try_line(&c, SMALL),
        Err(PlotError::EmptyData { .. })
    ));
    let mut c = s(vec![(0.0, -1.0), (1.0, 3.0), (2.0, 0.0), (3.0, 4.0)]);
    c.log_x = true;
    c.log_y = true;
    assert!(try_line(&c, SMALL).is_ok());
    // explicit ranges: bad ones are errors, good ones draw even without data
    let mut c = LineChart {
        x_range: Some((1.0, 0.0)),
        y_range: Some((0.0, 1.0)),
        ..Default::default()
    };
    assert!(matches!(
        try_line(&c, SMALL),
        Err(PlotError::InvalidInput { .. })
    ));
    c.x_range = Some((0.0, 1.0));
    c.ref_lines = vec![RefLine::identity()];
    assert!(try_line(&c, SMALL).is_ok());
    c.x_range = Some((f64::NAN, 1.0));
    assert!(try_line(&c, SMALL).is_err());
    c.x_range = Some((0.0, 1.0));
    c.log_y = true;
    assert!(
        try_line(&c, SMALL).is_err(),
        "log axis needs a positive range"
    );
    // bands: only a band, a band with NaN rows, lo > hi, infinite edges
    let band = vec![
        (0.0, 0.0, 1.0),
        (1.0, f64::NAN, 2.0),
        (2.0, 3.0, 1.0),
        (3.0, f64::NEG_INFINITY, f64::INFINITY),
        (4.0, 0.5, 1.5),
    ];
    let c = LineChart {
        series: vec![Series::line("region", vec![]).with_band(band)],
        log_y: true,
        ..Default::default()
    };
    assert!(try_line(&c, SMALL).is_ok());
    // many series and absurdly long labels: legend is truncated, no panic
    let c = LineChart {
        title: "t".repeat(500),
        x_label: "x".repeat(300),
        y_label: "y".repeat(300),
        series: (0..60)
            .map(|i| {
                Series::line(
                    "label ".repeat(i % 20 + 1),
                    vec![(0.0, i as f64), (1.0, 0.0)],
                )
            })
            .collect(),
        annotations: vec![(0.5, 3.0, "note".into()), (f64::NAN, 1.0, "lost".into())],
        ..Default::default()
    };
    assert!(try_line(&c, SMALL).is_ok());
    for legend in [
        LegendPos::UpperLeft,
        LegendPos::Right,
        LegendPos::Top,
        LegendPos::None,
    ] {
        assert!(
            try_line(
                &LineChart {
                    legend,
                    ..c.clone()
                },
                SMALL
            )
            .is_ok()
        );
    }
    // sizes: zero, tiny, too large
    let ok = s(vec![(0.0, 0.0), (1.0, 1.0)]);
    assert!(matches!(
        try_line(&ok, (0, 0)),
        Err(PlotError::InvalidInput { .. })
    ));
    assert!(matches!(
        try_line(&ok, (100_000, 10)),
        Err(PlotError::InvalidInput { .. })
    ));
    let _ = try_line(&ok, (40, 30)); // Ok or Err, but no panic
    let _ = try_line(&ok, (16, 16));
}

#[test]
fn robustness_heat_maps() {
    let base = HeatMap {
        x_edges: vec![0.0, 1.0, 2.0],
        y_edges: vec![0.0, 1.0],
        values: vec![1.0, 2.0],
        ..Default::default()
    };
    assert!(try_heat(&base).is_ok());
    // wrong number of values
    let m = HeatMap {
        values: vec![1.0, 2.0, 3.0],
        ..base.clone()
    };
    assert!(matches!(
        try_heat(&m),
        Err(PlotError::ShapeMismatch {
            expected: 2,
            got: 3,
            ..
        })
    ));
    // no cells
    let m = HeatMap {
        x_edges: vec![0.0],
        values: vec![],
        ..base.clone()
    };
    assert!(matches!(try_heat(&m), Err(PlotError::EmptyData { .. })));
    assert!(matches!(
        try_heat(&HeatMap::default()),
        Err(PlotError::EmptyData { .. })
    ));
    // decreasing / non-finite edges, log with non-positive edges
    for (xe, log) in [
        (vec![0.0, 2.0, 1.0], false),
        (vec![0.0, f64::INFINITY, 3.0], false),
        (vec![0.0, 1.0, 2.0], true),
    ] {
        let m = HeatMap {
            x_edges: xe,
            log_x: log,
            ..base.clone()
        };
        assert!(matches!(try_heat(&m), Err(PlotError::InvalidInput { .. })));
    }
    // all NaN: error unless a colour range is given
    let m = HeatMap {
        values: vec![f64::NAN, f64::NEG_INFINITY],
        ..base.clone()
    };
    assert!(matches!(try_heat(&m), Err(PlotError::EmptyData { .. })));
    assert!(
        try_heat(&HeatMap {
            color_range: Some((0.0, 1.0)),
            ..m.clone()
        })
        .is_ok()
    );
    // bad colour range: reversed or not finite (min == max is widened, see
    // `degenerate_colour_ranges_are_widened`)
    for r in [(2.0, 1.0), (f64::NAN, 1.0), (0.0, f64::INFINITY)] {
        assert!(
            matches!(
                try_heat(&HeatMap {
                    color_range: Some(r),
                    ..base.clone()
                }),
                Err(PlotError::InvalidInput { .. })
            ),
            "{r:?}"
        );
    }
    // constant values, a single cell, tiny cells, values outside the colour range
    assert!(
        try_heat(&HeatMap {
            values: vec![3.0, 3.0],
            ..base.clone()
        })
        .is_ok()
    );
    assert!(
        try_heat(&HeatMap {
            x_edges: vec![5.0, 5.0 + 1e-9],
            y_edges: vec![-1.0, 1.0],
            values: vec![0.0],
            ..Default::default()
        })
        .is_ok()
    );
    let n = 300;
    assert!(
        try_heat(&HeatMap {
            x_edges: (0..=n).map(f64::from).collect(),
            y_edges: vec![0.0, 1.0],
            values: (0..n).map(|i| f64::from(i).sin()).collect(),
            color_range: Some((-0.5, 0.5)),
            ..Default::default()
        })
        .is_ok()
    );
    // overlays that are empty, NaN or far outside
    assert!(
        try_heat(&HeatMap {
            overlays: vec![
                Series::line("empty", vec![]),
                Series::line("nan", vec![(f64::NAN, 1.0)]),
                Series::points("far", vec![(1e12, -1e12), (-1e300, 1e300)]),
            ],
            annotations: vec![(1e9, 1e9, "outside".into())],
            ..base.clone()
        })
        .is_ok()
    );
}

#[test]
fn robustness_io_and_panels() {
    let dir = tmp();
    let chart = LineChart {
        series: vec![Series::line("s", vec![(0.0, 0.0), (1.0, 1.0)])],
        ..Default::default()
    };
    let missing = dir.path().join("no/such/dir/x.png");
    assert!(matches!(
        render_line_chart(&chart, &missing, SMALL),
        Err(PlotError::Io { .. })
    ));
    assert!(matches!(
        render_line_chart(&chart, &dir.path().join("x.jpg"), SMALL),
        Err(PlotError::InvalidInput { .. })
    ));
    let p = dir.path().join("p.png");
    assert!(matches!(
        render_panels(&[], 2, &p, SMALL, None),
        Err(PlotError::EmptyData { .. })
    ));
    let panels = [Panel::Line(chart.clone())];
    assert!(matches!(
        render_panels(&panels, 0, &p, SMALL, None),
        Err(PlotError::InvalidInput { .. })
    ));
    // more columns than panels: the grid shrinks
    render_panels(&panels, 4, &p, SMALL, Some("  ")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(png_size(&p), SMALL);
    // one bad panel fails the figure with that panel's error
    let bad = [Panel::Line(chart), Panel::Heat(HeatMap::default())];
    assert!(matches!(
        render_panels(&bad, 2, &p, SMALL, None),
        Err(PlotError::EmptyData { .. })
    ));
}

#[test]
fn errors_display_their_cause() {
    let e = PlotError::ShapeMismatch {
        what: "values".into(),
        expected: 4,
        got: 3,
    };
    assert_eq!(e.to_string(), "values: expected 4 values, got 3");
    let dir = tmp();
    let err = render_line_chart(&LineChart::default(), &dir.path().join("e.png"), SMALL);
    let msg = err.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
    assert!(msg.contains("no series"), "{msg}");
}

/// Keep probabilities × depths as in a trainable-depth grid, with a 6ξ_c-like curve.
fn categorical() -> HeatMap {
    let keeps: Vec<f64> = (0..10).map(|i| 0.1 + 0.1 * f64::from(i)).collect();
    let depths: Vec<f64> = (0..10).map(|i| f64::from(2 + 4 * i)).collect();
    let curve: Vec<(f64, f64)> = (0..=100)
        .map(|i| 0.1 + 0.9 * f64::from(i) / 100.0)
        .filter_map(|p| {
            Some((
                categorical_position(&keeps, p)?,
                categorical_position(&depths, 2.0 + 40.0 * p.powi(3))?,
            ))
        })
        .collect();
    let mut values: Vec<f64> = (0..100).map(|i| f64::from(i % 10) * 0.01 + 0.06).collect();
    values[17] = f64::NAN;
    HeatMap {
        title: "trainable depth".into(),
        x_label: "keep p".into(),
        y_label: "hidden layers".into(),
        color_label: "loss".into(),
        x_categories: Some(category_labels(&keeps)),
        y_categories: Some(category_labels(&depths)),
        values,
        overlays: vec![Series::line("6ξ_{c}", curve)],
        non_finite_label: Some("not computed".into()),
        ..Default::default()
    }
}

#[test]
fn categorical_heat_map_renders() {
    let dir = tmp();
    let p = dir.path().join("cat.png");
    let map = categorical();
    assert_eq!(
        map.x_categories.as_deref().map(|c| c.join(" ")),
        Some("0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1".to_string())
    );
    render_heatmap(&map, &p, (900, 650)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(png_size(&p), (900, 650));
    assert!(std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0) > 1000);
    // small panels thin the labels out instead of failing; every legend position works
    render_heatmap(&map, &p, SMALL).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(png_size(&p), SMALL);
    for legend in [LegendPos::Right, LegendPos::UpperLeft, LegendPos::None] {
        let m = HeatMap {
            legend,
            ..map.clone()
        };
        render_heatmap(&m, &p, SMALL).unwrap_or_else(|e| panic!("{legend:?}: {e}"));
    }
    // explicit category edges, one categorical and one numeric axis, many long labels
    let m = HeatMap {
        x_edges: category_edges(10),
        ..map.clone()
    };
    assert!(try_heat(&m).is_ok());
    let m = HeatMap {
        y_categories: None,
        y_edges: (0..=10).map(|i| f64::from(i * i)).collect(),
        ..map.clone()
    };
    assert!(try_heat(&m).is_ok());
    let m = HeatMap {
        x_categories: Some((0..60).map(|i| format!("setting number {i}")).collect()),
        y_categories: Some(vec!["σ_{w}^{2} = 2".into()]),
        values: vec![1.0; 60],
        ..Default::default()
    };
    assert!(try_heat(&m).is_ok());
    // in a multi-panel figure
    let panels = [Panel::Heat(map.clone()), Panel::Heat(heat())];
    render_panels(&panels, 2, &p, (450, 330), None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(png_size(&p), (900, 330));
}

#[test]
fn categorical_mismatches_are_errors() {
    let base = HeatMap {
        x_categories: Some(category_labels(&[0.1, 0.5, 1.0])),
        y_categories: Some(category_labels(&[2.0, 6.0])),
        values: vec![1.0; 6],
        ..Default::default()
    };
    assert!(try_heat(&base).is_ok());
    // values do not match categories
    let m = HeatMap {
        values: vec![1.0; 9],
        ..base.clone()
    };
    let err = try_heat(&m);
    assert!(
        matches!(
            err,
            Err(PlotError::ShapeMismatch {
                expected: 6,
                got: 9,
                ..
            })
        ),
        "{err:?}"
    );
    let msg = err.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
    assert!(msg.contains("x_categories"), "{msg}");
    // stale edges from edges_from_centers next to categories
    let m = HeatMap {
        x_edges: edges_from_centers(&[0.1, 0.5], false),
        ..base.clone()
    };
    assert!(matches!(
        try_heat(&m),
        Err(PlotError::ShapeMismatch {
            expected: 4,
            got: 3,
            ..
        })
    ));
    let m = HeatMap {
        x_edges: edges_from_centers(&[0.1, 0.5, 1.0], false),
        ..base.clone()
    };
    assert!(matches!(try_heat(&m), Err(PlotError::InvalidInput { .. })));
    // no categories, log axis with categories
    let m = HeatMap {
        y_categories: Some(vec![]),
        values: vec![],
        ..base.clone()
    };
    assert!(matches!(try_heat(&m), Err(PlotError::EmptyData { .. })));
    let m = HeatMap {
        log_y: true,
        ..base.clone()
    };
    assert!(matches!(try_heat(&m), Err(PlotError::InvalidInput { .. })));
}

#[test]
fn categorical_positions() {
    let depths = [2.0, 6.0, 10.0, 20.0];
    // at the centres
    for (i, &d) in depths.iter().enumerate() {
        assert_eq!(categorical_position(&depths, d), Some(i as f64 + 0.5));
    }
    // between: linear between neighbouring centres
    assert_eq!(categorical_position(&depths, 4.0), Some(1.0));
    assert_eq!(categorical_position(&depths, 3.0), Some(0.75));
    assert_eq!(categorical_position(&depths, 15.0), Some(3.0));
    let x = categorical_position(&depths, 12.0).unwrap_or(f64::NAN);
    assert!((x - 2.7).abs() < 1e-12, "{x}");
    // outside the first..last centre, or not finite
    for v in [1.999, 20.001, -1e300, f64::NAN, f64::INFINITY] {
        assert_eq!(categorical_position(&depths, v), None, "{v}");
    }
    // decreasing centres work, unordered ones and bad input do not
    assert_eq!(categorical_position(&[1.0, 0.5, 0.1], 0.75), Some(1.0));
    assert_eq!(categorical_position(&[1.0, 0.5, 0.1], 0.1), Some(2.5));
    assert_eq!(categorical_position(&[0.1, 0.5, 0.3], 0.2), None);
    assert_eq!(categorical_position(&[0.1, 0.1, 0.3], 0.2), None);
    assert_eq!(categorical_position(&[0.1, f64::NAN], 0.1), None);
    assert_eq!(categorical_position(&[], 0.1), None);
    // one category: only its own value
    assert_eq!(categorical_position(&[0.8], 0.8), Some(0.5));
    assert_eq!(categorical_position(&[0.8], 0.9), None);
    // the coordinates are those of the cells: category i spans category_edges[i]..[i+1]
    let e = category_edges(depths.len());
    assert_eq!(e, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    for (i, &d) in depths.iter().enumerate() {
        let x = categorical_position(&depths, d).unwrap_or(f64::NAN);
        assert!(e[i] < x && x < e[i + 1]);
    }
}

#[test]
fn degenerate_colour_ranges_are_widened() {
    let dir = tmp();
    let p = dir.path().join("one.png");
    // a one-cell map with the range robust_color_range gives for one value
    let values = vec![0.0731];
    let (range, capped) = robust_color_range(&values).unwrap_or(((f64::NAN, f64::NAN), true));
    assert!(!capped);
    assert!(range.0 < 0.0731 && 0.0731 < range.1, "{range:?}");
    assert!(
        (0.0731 - range.0 - (range.1 - 0.0731)).abs() < 1e-15,
        "symmetric"
    );
    let one = HeatMap {
        x_categories: Some(vec!["0.8".into()]),
        y_categories: Some(vec!["10".into()]),
        values,
        color_range: Some(range),
        ..Default::default()
    };
    render_heatmap(&one, &p, (900, 650)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(png_size(&p), (900, 650));
    // a user range with min == max, and all-equal values with no range
    for (r, v) in [
        ((0.0731, 0.0731), 0.0731),
        ((0.0, 0.0), 0.0),
        ((-3.0, -3.0), 5.0),
    ] {
        let m = HeatMap {
            color_range: Some(r),
            values: vec![v],
            ..one.clone()
        };
        render_heatmap(&m, &p, SMALL).unwrap_or_else(|e| panic!("{r:?}: {e}"));
    }
    let m = HeatMap {
        x_categories: Some(vec!["a".into(), "b".into()]),
        color_range: None,
        values: vec![2.0, 2.0],
        ..one.clone()
    };
    assert!(try_heat(&m).is_ok());
    // robust_color_range on equal values and on zeros
    assert_eq!(
        robust_color_range(&[0.0, 0.0, f64::NAN]),
        Some(((-0.5, 0.5), false))
    );
    let ((a, b), _) = robust_color_range(&[-4.0; 5]).unwrap_or(((0.0, 0.0), true));
    assert!(a < -4.0 && b > -4.0 && (a + b + 8.0).abs() < 1e-12);
    assert_eq!(robust_color_range(&[f64::NAN]), None);
}

#[test]
fn non_finite_legend_label() {
    let mut map = HeatMap {
        x_edges: vec![0.0, 1.0, 2.0],
        y_edges: vec![0.0, 1.0],
        values: vec![1.0, f64::NAN],
        ..Default::default()
    };
    // default: no "NaN" jargon
    let default = map.non_finite_legend().unwrap_or_default();
    assert_eq!(default, "no finite value");
    map.values[1] = f64::NEG_INFINITY;
    assert_eq!(map.non_finite_legend().as_deref(), Some("no finite value"));
    for l in ["left the f32 range", "not computed"] {
        map.non_finite_label = Some(l.into());
        assert_eq!(map.non_finite_legend().as_deref(), Some(l));
        assert!(try_heat(&map).is_ok());
    }
    // blank: no swatch, but the map still draws
    map.non_finite_label = Some("  ".into());
    assert_eq!(map.non_finite_legend(), None);
    assert!(try_heat(&map).is_ok());
    // only finite values: no swatch whatever the label
    map.non_finite_label = Some("left the f32 range".into());
    map.values = vec![1.0, 2.0];
    assert_eq!(map.non_finite_legend(), None);
    // a long label in a small panel and with an outside legend
    map.values = vec![1.0, f64::NAN];
    map.non_finite_label = Some("the variance left the float32 range here".into());
    assert!(try_heat(&map).is_ok());
    map.overlays = vec![Series::line("curve", vec![(0.0, 0.0), (2.0, 1.0)])];
    map.legend = LegendPos::Right;
    assert!(try_heat(&map).is_ok());
}

#[test]
fn numeric_category_labels() {
    assert_eq!(
        category_labels(&[0.1, 0.1 + 0.2, 0.5, 1.0, 2.0, 6.0, 100.0, -0.25]),
        ["0.1", "0.3", "0.5", "1", "2", "6", "100", "−0.25"]
    );
    assert_eq!(category_edges(0), vec![0.0]);
}
