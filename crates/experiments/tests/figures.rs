//! Every figure runs end to end at a tiny size and writes its files.
#![allow(clippy::unwrap_used)]

use noisyprop_experiments::figs::{FigOptions, run};

#[test]
fn figures_2_to_5_write_png_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let opts = FigOptions {
        out_dir: dir.path().to_path_buf(),
        width: 48,
        networks: 3,
        partners: 6,
        seed: 1,
    };
    for fig in 2..=5u8 {
        let r = run(fig, &opts, &|| true).unwrap();
        assert!(
            r.files
                .iter()
                .any(|f| f.extension().is_some_and(|e| e == "png")),
            "fig {fig}"
        );
        for f in &r.files {
            let bytes = std::fs::read(f).unwrap();
            assert!(bytes.len() > 100, "{}", f.display());
        }
        assert!(!r.notes.is_empty());
    }
    let csv = std::fs::read_to_string(dir.path().join("fig5b.csv")).unwrap();
    assert!(csv.starts_with("noise,param,mu2,c_star,c_sim_last,xi_theory,xi_fit,xi_fit_se,points"));
    assert_eq!(csv.lines().count(), 1 + 9 + 13);
    assert!(run(6, &opts, &|| true).is_err());
    let bad = FigOptions {
        networks: 1,
        ..opts
    };
    assert!(
        run(2, &bad, &|| true)
            .unwrap_err()
            .to_string()
            .contains("networks = 1")
    );
}
