//! The CUDA C source of the element-wise kernels (compiled by NVRTC at start-up).

/// The whole CUDA C source (`kernels.cu`): RNG port, fused forward/backward element-wise
/// kernels, MSE, bias reduction + SGD, bf16 conversion.
pub const KERNELS_CU: &str = include_str!("kernels.cu");

/// The part of [`KERNELS_CU`] between `// BEGIN RNG` and `// END RNG`: the port of
/// `rng.rs`, valid C as well as CUDA C.
pub fn rng_block() -> Option<&'static str> {
    let start = KERNELS_CU.find("// BEGIN RNG")?;
    let end = KERNELS_CU.find("// END RNG")?;
    KERNELS_CU.get(start..end)
}

/// Optimiser codes (`NP_OPT_*` in the source).
pub(crate) mod opt_code {
    pub const SGD: i32 = 0;
    pub const MOMENTUM: i32 = 1;
    pub const ADAM: i32 = 2;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cuda::calls::KernelId;
    use crate::gpu_support::{act_code, noise_kind};
    use crate::rng::{Key, box_muller, mix64};

    /// The constants of `rng.rs` appear in the CUDA source, so a typo in the port is caught
    /// even where no C compiler (and no GPU) is available.
    #[test]
    fn rng_constants_appear_in_the_source() {
        let src = rng_block().expect("RNG block markers");
        let hex = |v: u64| format!("0x{v:016X}ULL");
        assert!(src.contains(&hex(crate::rng::GOLDEN_GAMMA)), "golden gamma");
        assert!(
            src.contains(&hex(0xBF58_476D_1CE4_E5B9)),
            "mix64 multiplier 1"
        );
        assert!(
            src.contains(&hex(0x94D0_49BB_1331_11EB)),
            "mix64 multiplier 2"
        );
        // The mixer's shifts, in order.
        let shifts: Vec<usize> = [">> 30", ">> 27", ">> 31"]
            .iter()
            .map(|s| src.find(s).expect(s))
            .collect();
        assert!(
            shifts.windows(2).all(|w| w[0] < w[1]),
            "shift order 30, 27, 31"
        );
        // The f32 constants of `ln_f32` and `sincos_turns` as C hex floats, written
        // from Rust's own constants (bit for bit), and 2⁻³² of `box_muller`.
        let hex_f32 = |x: f32| {
            let bits = x.to_bits();
            let exp = ((bits >> 23) & 0xff) as i32 - 127;
            format!("0x1.{:06x}p{exp:+}f", (bits & 0x007f_ffff) << 1)
        };
        assert_eq!(hex_f32(std::f32::consts::FRAC_PI_2), "0x1.921fb6p+0f");
        assert!(src.contains(&hex_f32(std::f32::consts::FRAC_PI_2)), "π/2");
        assert!(src.contains(&hex_f32(std::f32::consts::SQRT_2)), "√2");
        assert!(src.contains(&format!("(1.0f / {}.0f)", 1u64 << 32)), "2⁻³²");
    }

    /// The Rust side of the constants above, against independent references: the first
    /// outputs of SplitMix64 from state 0 (Vigna's `splitmix64.c`; `Key(0).bits(n)` is
    /// its (n+1)-th output, also recomputed with Python's integers), and Box–Muller at
    /// uniforms where the closed form z = √(−2 ln u₁)·(cos 2πu₂, sin 2πu₂) is known.
    #[test]
    fn rust_rng_matches_independent_references() {
        let k = Key(0);
        assert_eq!(k.bits(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(k.bits(1), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(k.bits(2), 0x06C4_5D18_8009_454F);
        assert_eq!(mix64(crate::rng::GOLDEN_GAMMA), 0xE220_A839_7B1D_CDAF);
        // High 32 bits 2³⁰ − 1 give u₁ = 0.25 in f32 (2³⁰ − 1 and 2³⁰ + 1 round to 2³⁰),
        // so r = √(−2 ln ¼) = 2√(ln 2); low 32 bits 0, 2³⁰, 2²⁹ give u₂ = 0, ¼, ⅛.
        let r = 2.0 * std::f64::consts::LN_2.sqrt();
        let h = (1u64 << 30) - 1;
        let half = std::f64::consts::FRAC_1_SQRT_2;
        for (low, want) in [
            (0u64, (r, 0.0)),
            (1 << 30, (0.0, r)),
            (1 << 29, (r * half, r * half)),
        ] {
            let (z0, z1) = box_muller((h << 32) | low);
            for (got, want) in [(z0, want.0), (z1, want.1)] {
                assert!(
                    (f64::from(got) - want).abs() < 1e-6 * r,
                    "box_muller at u₂ = {low}/2³²: {got} vs {want}"
                );
            }
        }
    }

    /// Every kernel the device loads ([`KernelId::ALL`]) is defined in the source.
    #[test]
    fn kernels_are_defined() {
        for name in KernelId::ALL.map(KernelId::name) {
            assert!(
                KERNELS_CU.contains(&format!("extern \"C\" __global__ void {name}(")),
                "{name}"
            );
        }
        assert!(KERNELS_CU.contains(&format!("NP_NOISE_DROPOUT {}u", noise_kind::DROPOUT)));
        assert!(KERNELS_CU.contains(&format!("NP_NOISE_GAUSS_MULT {}u", noise_kind::GAUSS_MULT)));
        assert!(KERNELS_CU.contains(&format!("NP_NOISE_GAUSS_ADD {}u", noise_kind::GAUSS_ADD)));
        for (name, v) in [
            ("SGD", opt_code::SGD),
            ("MOMENTUM", opt_code::MOMENTUM),
            ("ADAM", opt_code::ADAM),
        ] {
            assert!(
                KERNELS_CU.contains(&format!("#define NP_OPT_{name} {v}\n")),
                "{name}"
            );
        }
        for (name, v) in [
            ("LINEAR", act_code::LINEAR),
            ("RELU", act_code::RELU),
            ("LEAKY_RELU", act_code::LEAKY_RELU),
            ("ABS", act_code::ABS),
            ("TANH", act_code::TANH),
        ] {
            assert!(
                KERNELS_CU.contains(&format!("#define NP_ACT_{name} {v}\n")),
                "{name}"
            );
        }
    }

    /// Compiles the RNG block with the host C compiler and compares it with `rng.rs`:
    /// integers and Box–Muller exactly (both are plain IEEE arithmetic, compiled
    /// without contraction). Skips when no C compiler is installed.
    #[test]
    fn rng_block_compiled_as_c_matches_rust() {
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let dir = std::env::temp_dir().join(format!("noisyprop-rng-c-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let c_path = dir.join("rng.c");
        let exe = dir.join("rng");
        let prelude = "#include <stdio.h>\n#include <string.h>\n#include <math.h>\n#define NP_DEVICE static inline\n\
                       static inline unsigned int __float_as_uint(float f) { unsigned int u; memcpy(&u, &f, 4); return u; }\n\
                       static inline float __uint_as_float(unsigned int u) { float f; memcpy(&f, &u, 4); return f; }\n";
        let main = r#"
int main(void) {
    unsigned long long key = 0x0123456789ABCDEFULL;
    for (unsigned long long i = 0; i < 4096; ++i) {
        unsigned long long k = np_child(np_child(key, i), i * 7ULL + 3ULL);
        unsigned long long b = np_bits(k, i * 1000003ULL);
        float z0, z1;
        np_box_muller(b, &z0, &z1);
        printf("%llu %llu %llu %.9g %.9g\n", np_mix64(i * 0x9E3779B97F4A7C15ULL), k, b, z0, z1);
    }
    return 0;
}
"#;
        std::fs::write(&c_path, format!("{prelude}{}{main}", rng_block().unwrap())).unwrap();
        let status = std::process::Command::new(&cc)
            .args(["-std=c99", "-O2", "-ffp-contract=off", "-o"])
            .arg(&exe)
            .arg(&c_path)
            .arg("-lm")
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => panic!("the RNG block does not compile as C ({s})"),
            Err(e) => {
                eprintln!("note: no C compiler ({cc}: {e}); skipping the C check of the RNG port");
                return;
            }
        }
        let out = std::process::Command::new(&exe).output().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let text = String::from_utf8(out.stdout).unwrap();
        let key = Key(0x0123_4567_89AB_CDEF);
        let mut lines = 0;
        for (i, line) in text.lines().enumerate() {
            let i = i as u64;
            let f: Vec<&str> = line.split_whitespace().collect();
            let k = key.child(i).child(i * 7 + 3);
            let b = k.bits(i * 1_000_003);
            assert_eq!(
                f[0].parse::<u64>().unwrap(),
                mix64(i.wrapping_mul(crate::rng::GOLDEN_GAMMA))
            );
            assert_eq!(f[1].parse::<u64>().unwrap(), k.0);
            assert_eq!(f[2].parse::<u64>().unwrap(), b);
            let (z0, z1) = box_muller(b);
            for (c, r) in [(f[3], z0), (f[4], z1)] {
                let c: f32 = c.parse().unwrap();
                assert_eq!(c, r, "line {i}: C {c} vs Rust {r}");
            }
            lines += 1;
        }
        assert_eq!(lines, 4096);
    }
}
