//! The paper's experimental settings, defined once (spec §4, Figure 6): every
//! grid, preset and GPU benchmark takes them from here.

/// Dropout keep probabilities of Figure 6(b)/(c): 0.1, 0.2, …, 1.0, each the
/// f64 nearest to its decimal (the paper's `np.linspace(0.1, 1, 10)` differs
/// in the last bit at 0.3 and 0.7; cell keys are written with 12 significant
/// digits, so both spellings name the same cell).
pub const FIG6_KEEPS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/// Depths (hidden layers) of Figure 6(b)/(c) (`np.linspace(2, 40, 10, dtype=int)`).
pub const FIG6_DEPTHS: [usize; 10] = [2, 6, 10, 14, 18, 23, 27, 31, 35, 40];

/// Keep probabilities of the quick preset: the boundary in about a minute.
pub const QUICK_KEEPS: [f64; 6] = [0.1, 0.3, 0.5, 0.7, 0.9, 1.0];

/// Depths of the quick preset.
pub const QUICK_DEPTHS: [usize; 6] = [2, 6, 10, 14, 18, 23];

/// Fraction of the training images held out for validation (spec §4: a 90/10
/// split after one shuffle).
pub const VAL_FRACTION: f64 = 0.1;

#[cfg(test)]
mod tests {
    use super::*;

    /// The keep grid equals numpy's linspace to the last bit or two, and its
    /// decimals are exact as written.
    #[test]
    fn keeps_are_the_linspace() {
        for (i, &k) in FIG6_KEEPS.iter().enumerate() {
            let linspace = if i == 9 {
                1.0
            } else {
                0.1 + i as f64 * ((1.0 - 0.1) / 9.0)
            };
            assert!((k - linspace).abs() < 1e-15, "{k} vs {linspace}");
            assert_eq!(k, (i + 1) as f64 / 10.0);
        }
        assert_eq!(FIG6_DEPTHS.len(), 10);
    }
}
