//! # noisyprop-engine
//!
//! The dense noisy-MLP engine shared by the simulator and the trainer: row-major
//! matrix products on the `gemm` crate, activations and noise laws applied to
//! buffers, and deterministic randomness that does not depend on thread count.
//!
//! | module | contents |
//! |---|---|
//! | [`matmul`] | `gemm` wrappers for row-major buffers (NT, NN, TN products) |
//! | [`act`] | φ and φ′ on buffers, f32 and f64 |
//! | [`noise`] | sampling noise laws in place, with the backward factor |
//! | [`rng`] | counter-based noise bits, weight streams, keys |
//! | [`real`] | the f32/f64 abstraction |

#![deny(missing_docs)]

pub mod act;
mod error;
pub mod matmul;
pub mod noise;
pub mod real;
pub mod rng;

pub use error::EngineError;
pub use matmul::{Threads, gemm_nn, gemm_nt, gemm_tn};
pub use noise::NoiseSampler;
pub use real::Real;
pub use rng::Key;
