//! Activation functions applied to buffers (f32 or f64), matching
//! [`noisyprop_theory::Activation::eval_d`].

use noisyprop_theory::Activation;
use noisyprop_theory::activation::{SELU_ALPHA, SELU_LAMBDA};

use crate::real::Real;

#[inline]
fn sigmoid<T: Real>(x: T) -> T {
    if x >= T::ZERO {
        T::ONE / (T::ONE + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::ONE + e)
    }
}

/// (φ(x), φ′(x)) for one element.
#[inline]
pub fn eval<T: Real>(act: Activation, x: T) -> (T, T) {
    match act {
        Activation::Relu => {
            if x > T::ZERO {
                (x, T::ONE)
            } else {
                (T::ZERO, T::ZERO)
            }
        }
        Activation::LeakyRelu { slope } => {
            let a = T::from_f64(slope);
            if x >= T::ZERO {
                (x, T::ONE)
            } else {
                (a * x, a)
            }
        }
        Activation::Linear => (x, T::ONE),
        Activation::Abs => {
            if x >= T::ZERO {
                (x, T::ONE)
            } else {
                (-x, -T::ONE)
            }
        }
        Activation::Erf => {
            let c = T::from_f64(std::f64::consts::FRAC_2_SQRT_PI);
            (x.erf(), c * (-(x * x)).exp())
        }
        Activation::Tanh => {
            let t = x.tanh();
            (t, T::ONE - t * t)
        }
        Activation::Sigmoid => {
            let s = sigmoid(x);
            (s, s * (T::ONE - s))
        }
        Activation::Gelu => {
            let pdf = T::from_f64(0.398_942_280_401_432_7) * (T::from_f64(-0.5) * x * x).exp();
            let cdf = T::from_f64(0.5) * (-x * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erfc();
            (x * cdf, cdf + x * pdf)
        }
        Activation::Silu => {
            let s = sigmoid(x);
            (x * s, s + x * s * (T::ONE - s))
        }
        Activation::Elu { alpha } => elu(x, T::from_f64(alpha), T::ONE),
        Activation::Selu => elu(x, T::from_f64(SELU_ALPHA), T::from_f64(SELU_LAMBDA)),
        Activation::Softplus => (x.max(T::ZERO) + (-x.abs()).exp().ln_1p(), sigmoid(x)),
    }
}

#[inline]
fn elu<T: Real>(x: T, alpha: T, scale: T) -> (T, T) {
    if x > T::ZERO {
        (scale * x, scale)
    } else {
        let e = x.exp();
        (scale * alpha * (e - T::ONE), scale * alpha * e)
    }
}

/// `out[i] = φ(h[i])`.
pub fn forward<T: Real>(act: Activation, h: &[T], out: &mut [T]) {
    match act {
        Activation::Relu => {
            for (o, &x) in out.iter_mut().zip(h) {
                *o = if x > T::ZERO { x } else { T::ZERO };
            }
        }
        Activation::Linear => out.copy_from_slice(h),
        _ => {
            for (o, &x) in out.iter_mut().zip(h) {
                *o = eval(act, x).0;
            }
        }
    }
}

/// `out[i] = φ(h[i])` and `deriv[i] = φ′(h[i])`.
pub fn forward_with_derivative<T: Real>(act: Activation, h: &[T], out: &mut [T], deriv: &mut [T]) {
    for ((o, d), &x) in out.iter_mut().zip(deriv.iter_mut()).zip(h) {
        let (f, df) = eval(act, x);
        *o = f;
        *d = df;
    }
}

/// `g[i] *= φ′(h[i])`.
pub fn backward_in_place<T: Real>(act: Activation, h: &[T], g: &mut [T]) {
    match act {
        Activation::Relu => {
            for (gi, &x) in g.iter_mut().zip(h) {
                if x <= T::ZERO {
                    *gi = T::ZERO;
                }
            }
        }
        Activation::Linear => {}
        _ => {
            for (gi, &x) in g.iter_mut().zip(h) {
                *gi *= eval(act, x).1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_theory_crate() {
        let acts = [
            Activation::Relu,
            Activation::LeakyRelu { slope: 0.1 },
            Activation::Linear,
            Activation::Abs,
            Activation::Erf,
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Gelu,
            Activation::Silu,
            Activation::Elu { alpha: 1.2 },
            Activation::Selu,
            Activation::Softplus,
        ];
        for act in acts {
            for x in [-3.3, -0.4, 0.2, 1.7, 5.0] {
                let (f, d) = act.eval_d(x);
                let (f64v, d64) = eval::<f64>(act, x);
                assert!(
                    (f - f64v).abs() < 1e-14 && (d - d64).abs() < 1e-14,
                    "{act} {x}"
                );
                let (f32v, d32) = eval::<f32>(act, x as f32);
                assert!(
                    (f - f32v as f64).abs() < 1e-5 && (d - d32 as f64).abs() < 1e-5,
                    "{act} {x}"
                );
            }
        }
    }
}
