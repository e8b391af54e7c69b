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
//! | [`mlp`] | the noisy MLP: config, init, forward, backward |
//! | [`loss`] | MSE and softmax cross-entropy, accuracy |
//! | [`optim`] | SGD (with momentum) and Adam; [`OptimizerConfig`], their description (CPU, GPU, records) |
//! | [`train`] | a network with its loss and optimiser: training steps, evaluation |
//! | [`group`] | several networks trained side by side on the same batches |
//! | [`gpu_support`] | what the CUDA backend trains (no feature or device needed) |

#![deny(missing_docs)]

pub mod act;
#[cfg(feature = "cuda")]
pub mod cuda;
mod error;
pub mod gpu_support;
pub mod group;
pub mod loss;
pub mod matmul;
pub mod mlp;
pub mod noise;
pub mod optim;
pub mod real;
pub mod rng;
pub mod train;

pub use error::{EngineError, check_memory};
pub use group::TrainerGroup;
pub use loss::{Loss, Target};
pub use matmul::{Threads, gemm_nn, gemm_nt, gemm_tn};
pub use mlp::{Layer, Mlp, MlpConfig};
pub use noise::NoiseSampler;
pub use optim::{Adam, Optimizer, OptimizerConfig, Sgd};
pub use real::Real;
pub use rng::Key;
pub use train::{Evaluation, Trainer};
