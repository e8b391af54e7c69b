//! Allocating a grid on the device and uploading its parameters.

use std::sync::Arc;

use noisyprop_theory::Activation;

use super::config::kernel_opt_code;
use super::{GpuGrid, GridConfig, NetParams, NetSpec, offsets};
use crate::cuda::device::Device;
use crate::cuda::error::CudaError;
use crate::cuda::kernels::opt_code;
use crate::gpu_support::MAX_STAGES;
use crate::loss::Loss;
use crate::rng::{Key, tags};

impl GpuGrid {
    pub(super) fn build(
        dev: &Arc<Device>,
        cfg: GridConfig,
        nets: &[NetSpec],
        (activation, act): (Activation, (i32, f32)),
        params: &[NetParams],
        stages: &[Vec<(u32, u64, f32)>],
        dims: Vec<usize>,
    ) -> Result<Self, CudaError> {
        let g = params.len();
        let layers = dims.len() - 1;
        let bf16 = cfg.precision.is_bf16();
        let bmax = cfg.batch;
        let max_n = dims.iter().copied().max().unwrap_or(1);

        // Parameters.
        let w_off = offsets((0..layers).map(|l| g * dims[l + 1] * dims[l]));
        let b_off = offsets((0..layers).map(|l| g * dims[l + 1]));
        let mut w = dev.alloc::<f32>(w_off[layers])?;
        let mut b = dev.alloc::<f32>(b_off[layers])?;
        for l in 0..layers {
            let mut host_w = Vec::with_capacity(w_off[l + 1] - w_off[l]);
            let mut host_b = Vec::with_capacity(b_off[l + 1] - b_off[l]);
            for p in params {
                host_w.extend_from_slice(&p.weights[l]);
                host_b.extend_from_slice(&p.biases[l]);
            }
            dev.write(&mut w, w_off[l], &host_w)?;
            dev.write(&mut b, b_off[l], &host_b)?;
        }
        let w_half = if bf16 {
            Some(dev.alloc::<u16>(w_off[layers])?)
        } else {
            None
        };
        let code = kernel_opt_code(&cfg.optimizer);
        let (first, second) = (code != opt_code::SGD, code == opt_code::ADAM);
        let moment = |on: bool, len: usize| on.then(|| dev.alloc::<f32>(len)).transpose();
        let max_layer = (0..layers)
            .map(|l| w_off[l + 1] - w_off[l])
            .max()
            .unwrap_or(1);
        let (w_m, w_v, w_grad) = (
            moment(first, w_off[layers])?,
            moment(second, w_off[layers])?,
            moment(first, max_layer)?,
        );
        let (b_m, b_v) = (
            moment(first, b_off[layers])?,
            moment(second, b_off[layers])?,
        );
        let adam_t = dev.alloc::<u64>(1)?;
        let adam_bc = dev.upload(&[1f32, 1f32])?;

        // Batch and activations.
        let x_in = dev.alloc::<f32>(bmax * cfg.d_in)?;
        let y = dev.alloc::<f32>(bmax * cfg.d_out)?;
        let op_bytes = cfg.precision.operand_bytes();
        let mut xt = Vec::with_capacity(layers);
        for &n in &dims[..layers] {
            xt.push(dev.alloc::<u8>(g * bmax * n * op_bytes)?);
        }
        let mut fac = Vec::with_capacity(cfg.depth);
        for &n in &dims[1..layers] {
            fac.push(dev.alloc::<f32>(g * bmax * n)?);
        }
        let z = dev.alloc::<f32>(g * bmax * max_n)?;
        let delta = dev.alloc::<f32>(g * bmax * max_n)?;
        let delta_h = if bf16 {
            Some(dev.alloc::<u16>(g * bmax * max_n)?)
        } else {
            None
        };
        let partial = dev.alloc::<f32>(g * 64)?;

        // Noise.
        let mut kind = vec![0u32; g * MAX_STAGES];
        let mut thr = vec![0u64; g * MAX_STAGES];
        let mut par = vec![0f32; g * MAX_STAGES];
        for (i, st) in stages.iter().enumerate() {
            for (s, &(k, t, p)) in st.iter().enumerate() {
                kind[i * MAX_STAGES + s] = k;
                thr[i * MAX_STAGES + s] = t;
                par[i * MAX_STAGES + s] = p;
            }
        }
        let has_noise = kind.iter().any(|&k| k != 0);
        let roots: Vec<u64> = nets
            .iter()
            .map(|n| Key::new(n.seed).child(tags::NOISE).0)
            .collect();
        let st_kind = dev.upload(&kind)?;
        let st_thr = dev.upload(&thr)?;
        let st_par = dev.upload(&par)?;
        let root = dev.upload(&roots)?;
        let keys = dev.alloc::<u64>(g * layers * MAX_STAGES)?;
        let step_dev = dev.upload(&[cfg.first_step])?;

        let hist = dev.alloc::<f32>(cfg.loss_history * g)?;
        let hist_acc = dev.alloc::<f32>(match cfg.loss {
            Loss::Mse => 1,
            Loss::SoftmaxCrossEntropy => cfg.loss_history * g,
        })?;
        let eval_acc = dev.alloc::<f64>(2 * g)?;
        let step = cfg.first_step;

        let grid = GpuGrid {
            graphs: Vec::new(),
            warmed: Vec::new(),
            graph_error: None,
            dev: dev.clone(),
            g,
            dims,
            activation,
            act,
            has_noise,
            w,
            w_half,
            w_m,
            w_v,
            w_grad,
            w_off,
            b,
            b_m,
            b_v,
            b_off,
            adam_t,
            adam_bc,
            x_in,
            y,
            rows: 0,
            reconstruct: true,
            xt,
            fac,
            z,
            delta,
            delta_h,
            partial,
            st_kind,
            st_thr,
            st_par,
            root,
            keys,
            step_dev,
            hist,
            hist_acc,
            eval_acc,
            eval_batches: 0,
            step,
            pending_from: step,
            host_losses: Vec::new(),
            host_accuracies: Vec::new(),
            cfg,
        };
        grid.enqueue_to_bf16()?;
        dev.synchronize()?;
        Ok(grid)
    }
}
