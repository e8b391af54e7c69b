//! Enqueueing a step: noise keys, forward, loss, backward and update kernels and the
//! GEMMs, with no synchronisation (so a step can be captured as a CUDA graph).

use cudarc::cublas::sys::cudaDataType;

use super::config::{compute_type, kernel_opt_code, operand_type};
use super::{GpuGrid, SINGLE, THREADS, at, ew_dims, mse_blocks};
use crate::cuda::device::{Arg, DevBuf, Dims, GemmCall, KernelId, Phase};
use crate::cuda::error::CudaError;
use crate::gpu_support::MAX_STAGES;
use crate::loss::Loss;
use crate::optim::OptimizerConfig;

impl GpuGrid {
    pub(super) fn enqueue_step(&self, rows: usize) -> Result<(), CudaError> {
        if self.has_noise {
            self.enqueue_step_keys()?;
            self.dev.mark(Phase::NoiseKeys)?;
        }
        self.enqueue_forward(rows, true)?;
        self.enqueue_loss(rows, true)?;
        self.dev.mark(Phase::Loss)?;
        if let OptimizerConfig::Adam { beta1, beta2, .. } = self.cfg.optimizer {
            // adam_t holds 1 u64, adam_bc 2 floats.
            self.dev.launch(
                KernelId::AdamStep,
                SINGLE,
                &[
                    Arg::Ptr(self.dev.ptr(&self.adam_t)),
                    Arg::Ptr(self.dev.ptr(&self.adam_bc)),
                    Arg::F64(beta1),
                    Arg::F64(beta2),
                ],
            )?;
            self.dev.mark(Phase::Other)?;
        }
        self.enqueue_backward(rows)?;
        let step = self.dev.ptr(&self.step_dev);
        self.dev
            .launch(KernelId::AdvanceStep, SINGLE, &[Arg::Ptr(step)])?;
        self.dev.mark(Phase::Other)
    }

    pub(super) fn enqueue_step_keys(&self) -> Result<(), CudaError> {
        let d = &self.dev;
        let layers = self.dims.len() - 1;
        // keys[G·layers·MAX_STAGES] from root[G] and the step counter.
        d.launch(
            KernelId::StepKeys,
            Dims {
                grid: (1, 1, 1),
                block: (256, 1, 1),
            },
            &[
                Arg::Ptr(d.ptr(&self.root)),
                Arg::Ptr(d.ptr(&self.keys)),
                Arg::Ptr(d.ptr(&self.step_dev)),
                Arg::I32(self.g as i32),
                Arg::I32(layers as i32),
                Arg::I32(MAX_STAGES as i32),
            ],
        )
    }

    /// The pointer of weight layer `l` in the operand type of the products.
    pub(super) fn weight_operand(&self, l: usize) -> u64 {
        match &self.w_half {
            Some(h) => at::<u16>(self.dev.ptr(h), self.w_off[l]),
            None => at::<f32>(self.dev.ptr(&self.w), self.w_off[l]),
        }
    }

    /// A GEMM of operands in the precision's operand type into an fp32 output.
    pub(super) fn gemm(&self, call: &GemmCall) -> Result<(), CudaError> {
        let p = self.cfg.precision;
        self.dev.gemm(
            call,
            operand_type(p),
            cudaDataType::CUDA_R_32F,
            compute_type(p),
        )
    }

    pub(super) fn enqueue_forward(&self, rows: usize, train: bool) -> Result<(), CudaError> {
        let d = &self.dev;
        let (g, bmax, layers) = (self.g, self.cfg.batch, self.dims.len() - 1);
        let bf16 = Arg::I32(i32::from(self.cfg.precision.is_bf16()));
        let noise_on = i32::from(train && self.has_noise);
        let (act, slope) = (Arg::I32(self.act.0), Arg::F32(self.act.1));
        let (ms, nl) = (Arg::I32(MAX_STAGES as i32), Arg::I32(layers as i32));
        let noise_tables = [
            Arg::Ptr(d.ptr(&self.st_kind)),
            Arg::Ptr(d.ptr(&self.st_thr)),
            Arg::Ptr(d.ptr(&self.st_par)),
            Arg::Ptr(d.ptr(&self.keys)),
        ];
        let rows_i = Arg::I32(rows as i32);
        // Layer 0: x̃⁰ = noise(φ(x)) per network.
        let n = self.dims[0];
        let mut args = vec![
            Arg::Ptr(d.ptr(&self.x_in)),
            Arg::Ptr(d.ptr(&self.xt[0])),
            rows_i,
            Arg::I32(n as i32),
            Arg::I64((bmax * n) as i64),
            act,
            slope,
            Arg::I32(i32::from(self.cfg.input_activation)),
            Arg::I32(noise_on * i32::from(self.cfg.input_noise)),
            ms,
            nl,
        ];
        args.extend(noise_tables);
        args.push(bf16);
        // x_in holds B_max·d_in floats, xt[0] G·B_max·d_in operands; the noise tables
        // G·MAX_STAGES entries, the keys G·layers·MAX_STAGES.
        d.launch(KernelId::Input, ew_dims(rows * n, g, 4096), &args)?;
        d.mark(Phase::ForwardElementwise)?;

        let z = d.ptr(&self.z);
        for l in 0..layers {
            let (nin, nout) = (self.dims[l], self.dims[l + 1]);
            // Z (rows × out per network) = x̃ˡ·Wᵀ: column-major Zᵀ = op_T(Wᵀ)·x̃ˡᵀ.
            self.gemm(&GemmCall {
                trans_a: true,
                trans_b: false,
                m: nout,
                n: rows,
                k: nin,
                a: self.weight_operand(l),
                lda: nin,
                stride_a: nout * nin,
                b: d.ptr(&self.xt[l]),
                ldb: nin,
                stride_b: bmax * nin,
                c: z,
                ldc: nout,
                stride_c: bmax * nout,
                batch: g,
                alpha: 1.0,
                beta: 0.0,
            })?;
            d.mark(Phase::ForwardProducts)?;
            if l + 1 == layers {
                break;
            }
            let mut args = vec![
                Arg::Ptr(z),
                Arg::Ptr(at::<f32>(d.ptr(&self.b), self.b_off[l])),
                Arg::Ptr(d.ptr(&self.xt[l + 1])),
                Arg::Ptr(if train { d.ptr(&self.fac[l]) } else { 0 }),
                rows_i,
                Arg::I32(nout as i32),
                Arg::I64((bmax * nout) as i64),
                act,
                slope,
                Arg::I32(noise_on),
                ms,
                nl,
                Arg::I32((l + 1) as i32),
            ];
            args.extend(noise_tables);
            args.push(bf16);
            // z holds G·B_max·max_n floats, the bias layer G·nout, xt/fac of layer l+1
            // G·B_max·nout elements.
            d.launch(KernelId::Hidden, ew_dims(rows * nout, g, 4096), &args)?;
            d.mark(Phase::ForwardElementwise)?;
        }
        Ok(())
    }

    pub(super) fn enqueue_loss(&self, rows: usize, train: bool) -> Result<(), CudaError> {
        let d = &self.dev;
        let layers = self.dims.len() - 1;
        let n = self.cfg.d_out;
        let total = rows * n;
        let blocks = mse_blocks(total);
        let y = if self.reconstruct {
            d.ptr(&self.x_in)
        } else {
            d.ptr(&self.y)
        };
        let delta_h = match (&self.delta_h, train) {
            (Some(h), true) => d.ptr(h),
            _ => 0,
        };
        if self.cfg.loss == Loss::SoftmaxCrossEntropy {
            // z/delta hold G·B_max·d_out, y B_max·d_out, hist/hist_acc loss_history·G
            // floats, eval_acc 2·G doubles.
            return d.launch(
                KernelId::Xent,
                Dims {
                    grid: (self.g as u32, 1, 1),
                    block: (128, 1, 1),
                },
                &[
                    Arg::Ptr(d.ptr(&self.z)),
                    Arg::Ptr(at::<f32>(d.ptr(&self.b), self.b_off[layers - 1])),
                    Arg::Ptr(y),
                    Arg::Ptr(if train { d.ptr(&self.delta) } else { 0 }),
                    Arg::Ptr(delta_h),
                    Arg::I32(rows as i32),
                    Arg::I32(n as i32),
                    Arg::I64((self.cfg.batch * n) as i64),
                    Arg::F64(1.0 / rows as f64),
                    Arg::Ptr(d.ptr(&self.step_dev)),
                    Arg::Ptr(d.ptr(&self.hist)),
                    Arg::Ptr(d.ptr(&self.hist_acc)),
                    Arg::I32(self.cfg.loss_history as i32),
                    Arg::Ptr(d.ptr(&self.eval_acc)),
                    Arg::I32(i32::from(!train)),
                ],
            );
        }
        let partial = d.ptr(&self.partial);
        // As loss::mse: the scale 2/count rounded once from f64.
        let scale = (2.0f64 / total as f64) as f32;
        // z/delta hold G·B_max·d_out, y B_max·d_out, partial G·64 ≥ G·blocks.
        d.launch(
            KernelId::Mse,
            Dims {
                grid: (blocks as u32, self.g as u32, 1),
                block: (THREADS, 1, 1),
            },
            &[
                Arg::Ptr(d.ptr(&self.z)),
                Arg::Ptr(at::<f32>(d.ptr(&self.b), self.b_off[layers - 1])),
                Arg::Ptr(y),
                Arg::Ptr(if train { d.ptr(&self.delta) } else { 0 }),
                Arg::Ptr(delta_h),
                Arg::Ptr(partial),
                Arg::I32(rows as i32),
                Arg::I32(n as i32),
                Arg::I64((self.cfg.batch * n) as i64),
                Arg::F32(scale),
            ],
        )?;
        // hist holds loss_history·G floats and eval_acc G doubles.
        d.launch(
            KernelId::Loss,
            Dims {
                grid: (self.g as u32, 1, 1),
                block: (1, 1, 1),
            },
            &[
                Arg::Ptr(partial),
                Arg::I32(blocks as i32),
                Arg::Ptr(d.ptr(&self.step_dev)),
                Arg::Ptr(d.ptr(&self.hist)),
                Arg::I32(self.cfg.loss_history as i32),
                Arg::Ptr(d.ptr(&self.eval_acc)),
                Arg::F64(1.0 / total as f64),
                Arg::I32(i32::from(!train)),
            ],
        )
    }

    pub(super) fn enqueue_backward(&self, rows: usize) -> Result<(), CudaError> {
        let d = &self.dev;
        let (g, bmax, layers) = (self.g, self.cfg.batch, self.dims.len() - 1);
        let lr = self.cfg.optimizer.lr() as f32;
        let opt = self.optimizer_args();
        let z = d.ptr(&self.z);
        let delta = d.ptr(&self.delta);
        let delta_h = self.delta_h.as_ref().map_or(0, |h| d.ptr(h));
        let d_op = if delta_h != 0 { delta_h } else { delta };
        for l in (0..layers).rev() {
            let (nin, nout) = (self.dims[l], self.dims[l + 1]);
            let wl = self.weight_operand(l);
            if l >= 1 {
                // ∂loss/∂x̃ˡ (rows × in) = δ·W^{l+1} with the pre-update weights, into the
                // scratch: column-major (δ·W)ᵀ = Wᵀ·δᵀ.
                self.gemm(&GemmCall {
                    trans_a: false,
                    trans_b: false,
                    m: nin,
                    n: rows,
                    k: nout,
                    a: wl,
                    lda: nin,
                    stride_a: nout * nin,
                    b: d_op,
                    ldb: nout,
                    stride_b: bmax * nout,
                    c: z,
                    ldc: nin,
                    stride_c: bmax * nin,
                    batch: g,
                    alpha: 1.0,
                    beta: 0.0,
                })?;
                d.mark(Phase::InputGradProducts)?;
            }
            // Plain SGD: W ← W − lr·δᵀ·x̃ˡ fused into the GEMM (β = 1); otherwise the
            // gradient, then the optimiser's kernel. Column-major (δᵀ·x̃)ᵀ = x̃ᵀ·δ.
            let w_master = at::<f32>(d.ptr(&self.w), self.w_off[l]);
            let mut call = GemmCall {
                trans_a: false,
                trans_b: true,
                m: nin,
                n: nout,
                k: rows,
                a: d.ptr(&self.xt[l]),
                lda: nin,
                stride_a: bmax * nin,
                b: d_op,
                ldb: nout,
                stride_b: bmax * nout,
                c: w_master,
                ldc: nin,
                stride_c: nout * nin,
                batch: g,
                alpha: -lr,
                beta: 1.0,
            };
            let moment = |b: &Option<DevBuf<f32>>, off: usize| {
                b.as_ref().map_or(0, |b| at::<f32>(d.ptr(b), off))
            };
            if let Some(grad) = &self.w_grad {
                call.c = d.ptr(grad);
                call.alpha = 1.0;
                call.beta = 0.0;
                self.gemm(&call)?;
                d.mark(Phase::WeightProducts)?;
                let count = g * nout * nin;
                // The layer's weights and moments hold `count` floats, the gradient
                // buffer at least that many (the largest layer).
                let mut args = vec![
                    Arg::Ptr(w_master),
                    Arg::Ptr(moment(&self.w_m, self.w_off[l])),
                    Arg::Ptr(moment(&self.w_v, self.w_off[l])),
                    Arg::Ptr(call.c),
                    Arg::I64(count as i64),
                ];
                args.extend(opt);
                d.launch(KernelId::WeightUpdate, ew_dims(count, 1, 8192), &args)?;
                d.mark(Phase::WeightUpdate)?;
            } else {
                self.gemm(&call)?;
                d.mark(Phase::WeightProducts)?;
            }
            // W^l's bf16 copy is not read again this step (δ·W^l came first).
            self.enqueue_to_bf16_range(self.w_off[l], g * nout * nin)?;
            // Bias: column sums of δ and the update. delta holds G·B_max·nout floats
            // here, the bias layer and its moments G·nout.
            let mut args = vec![
                Arg::Ptr(delta),
                Arg::Ptr(at::<f32>(d.ptr(&self.b), self.b_off[l])),
                Arg::Ptr(moment(&self.b_m, self.b_off[l])),
                Arg::Ptr(moment(&self.b_v, self.b_off[l])),
                Arg::I32(rows as i32),
                Arg::I32(nout as i32),
                Arg::I64((bmax * nout) as i64),
            ];
            args.extend(opt);
            d.launch(
                KernelId::BiasUpdate,
                Dims {
                    grid: (nout.div_ceil(32) as u32, g as u32, 1),
                    block: (32, 8, 1),
                },
                &args,
            )?;
            d.mark(Phase::BiasUpdate)?;
            if l >= 1 {
                // δˡ = (δ·W) ⊙ φ′(aˡ) ⊙ εˡ; z, fac and delta hold G·B_max·nin floats.
                d.launch(
                    KernelId::Backward,
                    ew_dims(rows * nin, g, 4096),
                    &[
                        Arg::Ptr(z),
                        Arg::Ptr(d.ptr(&self.fac[l - 1])),
                        Arg::Ptr(delta),
                        Arg::Ptr(delta_h),
                        Arg::I32(rows as i32),
                        Arg::I32(nin as i32),
                        Arg::I64((bmax * nin) as i64),
                    ],
                )?;
                d.mark(Phase::BackwardElementwise)?;
            }
        }
        Ok(())
    }

    /// The optimiser arguments of `np_bias_update` / `np_weight_update`: code, lr, b1 (μ
    /// or β₁), b2, c1 = 1 − β₁, c2 = 1 − β₂, ε (each rounded from f64 to f32 as
    /// `optim.rs` does), the bias corrections.
    pub(super) fn optimizer_args(&self) -> [Arg; 8] {
        let f = |v: f64| Arg::F32(v as f32);
        let (b1, b2, c1, c2, eps) = match self.cfg.optimizer {
            OptimizerConfig::Sgd { momentum, .. } => (f(momentum), f(0.0), f(0.0), f(0.0), f(0.0)),
            OptimizerConfig::Adam {
                beta1, beta2, eps, ..
            } => (f(beta1), f(beta2), f(1.0 - beta1), f(1.0 - beta2), f(eps)),
        };
        [
            Arg::I32(kernel_opt_code(&self.cfg.optimizer)),
            f(self.cfg.optimizer.lr()),
            b1,
            b2,
            c1,
            c2,
            eps,
            Arg::Ptr(self.dev.ptr(&self.adam_bc)),
        ]
    }

    /// Refreshes the bf16 copy of all weights from the fp32 masters.
    pub(super) fn enqueue_to_bf16(&self) -> Result<(), CudaError> {
        self.enqueue_to_bf16_range(0, self.w.len())
    }

    /// Refreshes elements `offset .. offset + count` of the bf16 copy. The backward pass
    /// does this per layer right after the layer's update, while the fp32 weights it
    /// just wrote are still in L2 (a layer of the paper grid is 40 MB; an H100's L2 50 MB).
    pub(super) fn enqueue_to_bf16_range(
        &self,
        offset: usize,
        count: usize,
    ) -> Result<(), CudaError> {
        let Some(half) = &self.w_half else {
            return Ok(());
        };
        let d = &self.dev;
        // Both buffers hold w.len() ≥ offset + count elements.
        d.launch(
            KernelId::ToBf16,
            ew_dims(count, 1, 8192),
            &[
                Arg::Ptr(at::<f32>(d.ptr(&self.w), offset)),
                Arg::Ptr(at::<u16>(d.ptr(half), offset)),
                Arg::I64(count as i64),
            ],
        )?;
        d.mark(Phase::Bf16Copy)
    }
}
