//! Where training runs: the CPU engine or a CUDA GPU. A command turns
//! `--device`/`--precision` into a [`Device`], asks [`Device::supports`] (the
//! one answer to "can it train this?", needing no GPU) and opens it; training
//! then goes through [`Session::train`], the same protocol on either.

use std::fmt;
use std::str::FromStr;

use noisyprop_data::Prepared;
use noisyprop_engine::Threads;
use noisyprop_engine::gpu_support::{self, Precision};

use super::cpu::train_group;
use super::protocol::{EpochLog, TrainResult};
use super::spec::TrainSpec;
use noisyprop_theory::Family;

use crate::ExperimentError;

/// The kinds of device (`--device`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceKind {
    /// The CPU engine (gemm).
    #[default]
    Cpu,
    /// An NVIDIA GPU (a binary built with the `cuda` feature).
    Cuda,
}

impl FromStr for DeviceKind {
    type Err = ExperimentError;
    fn from_str(s: &str) -> Result<Self, ExperimentError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(DeviceKind::Cpu),
            "cuda" | "gpu" => Ok(DeviceKind::Cuda),
            _ => Err(ExperimentError::invalid(
                "device",
                format!("`{s}`"),
                "cpu or cuda",
            )),
        }
    }
}

/// A device as the user chose it; nothing is opened yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// The CPU engine, in f32.
    Cpu,
    /// A CUDA GPU with the given arithmetic of the products.
    Cuda(Precision),
}

impl Device {
    /// The device of `--device` and `--precision` (fp32 when not given).
    ///
    /// # Errors
    /// A precision for the CPU, which computes in fp32 only; CUDA in a build
    /// without the `cuda` feature.
    pub fn new(kind: DeviceKind, precision: Option<Precision>) -> Result<Device, ExperimentError> {
        match (kind, precision) {
            (DeviceKind::Cpu, None) => Ok(Device::Cpu),
            (DeviceKind::Cpu, Some(precision)) => {
                Err(ExperimentError::PrecisionOnCpu { precision })
            }
            #[cfg(feature = "cuda")]
            (DeviceKind::Cuda, p) => Ok(Device::Cuda(p.unwrap_or(Precision::Fp32))),
            #[cfg(not(feature = "cuda"))]
            (DeviceKind::Cuda, _) => Err(ExperimentError::CudaNotBuilt),
        }
    }

    /// Whether this device trains `spec`: the one answer, asked before any
    /// data is loaded or device opened.
    ///
    /// # Errors
    /// An invalid spec; on the GPU, what the kernels do not implement
    /// ([`gpu_support::supports`]).
    pub fn supports(&self, spec: &TrainSpec) -> Result<(), ExperimentError> {
        spec.validate()?;
        match self {
            Device::Cpu => Ok(()),
            Device::Cuda(_) => {
                // The kernels' activation and noise first (they do not
                // depend on σ_w²), then the initialisation itself.
                gpu_support::supports(&Family::new(spec.activation, spec.noise.clone(), 0.0)?)?;
                spec.network().map(drop)
            }
        }
    }

    /// Opens the device (GPU 0 for CUDA).
    ///
    /// # Errors
    /// [`ExperimentError::CudaNotBuilt`] in a build without CUDA; CUDA not
    /// available here (with the reason).
    pub fn open(&self) -> Result<OpenDevice, ExperimentError> {
        match *self {
            Device::Cpu => Ok(OpenDevice::cpu()),
            #[cfg(feature = "cuda")]
            Device::Cuda(precision) => {
                use noisyprop_engine::cuda;
                if let Err(reason) = cuda::available() {
                    return Err(cuda::CudaError::Unavailable(reason).into());
                }
                Ok(OpenDevice::cuda(cuda::Device::new(0)?, precision))
            }
            #[cfg(not(feature = "cuda"))]
            Device::Cuda(_) => Err(ExperimentError::CudaNotBuilt),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Device::Cpu => f.write_str("cpu"),
            Device::Cuda(p) => write!(f, "cuda ({p})"),
        }
    }
}

enum Inner {
    Cpu,
    #[cfg(feature = "cuda")]
    Cuda {
        dev: std::sync::Arc<noisyprop_engine::cuda::Device>,
        precision: Precision,
    },
}

/// An opened device.
pub struct OpenDevice {
    device: Device,
    inner: Inner,
}

impl fmt::Debug for OpenDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

impl OpenDevice {
    /// An opened CPU (cannot fail).
    pub fn cpu() -> Self {
        OpenDevice {
            device: Device::Cpu,
            inner: Inner::Cpu,
        }
    }

    /// A GPU device already opened (tests run the CPU emulator of the device
    /// this way).
    #[cfg(feature = "cuda")]
    pub fn cuda(dev: std::sync::Arc<noisyprop_engine::cuda::Device>, precision: Precision) -> Self {
        OpenDevice {
            device: Device::Cuda(precision),
            inner: Inner::Cuda { dev, precision },
        }
    }

    /// `cpu`, or `cuda:<device name>:<precision>` (the `device` field of
    /// records, e.g. `cuda:NVIDIA H100 80GB HBM3:tf32`).
    pub fn label(&self) -> String {
        match &self.inner {
            Inner::Cpu => "cpu".into(),
            #[cfg(feature = "cuda")]
            Inner::Cuda { dev, precision } => format!("cuda:{}:{precision}", dev.name()),
        }
    }

    /// The device as chosen.
    pub fn device(&self) -> Device {
        self.device
    }

    /// [`Device::supports`] of this device.
    ///
    /// # Errors
    /// As [`Device::supports`].
    pub fn supports(&self, spec: &TrainSpec) -> Result<(), ExperimentError> {
        self.device.supports(spec)
    }

    /// Whether this is the CPU (whose groups run side by side on the cores;
    /// a GPU runs one group at a time).
    pub fn is_cpu(&self) -> bool {
        matches!(self.inner, Inner::Cpu)
    }

    /// The device ready for runs on `data` (a GPU uploads it once here).
    ///
    /// # Errors
    /// Device errors; empty splits.
    pub fn session<'a>(&'a self, data: &'a Prepared) -> Result<Session<'a>, ExperimentError> {
        Ok(Session {
            data,
            inner: match &self.inner {
                Inner::Cpu => SessionInner::Cpu,
                #[cfg(feature = "cuda")]
                Inner::Cuda { dev, precision } => SessionInner::Cuda {
                    uploaded: Box::new(super::cuda::Uploaded::new(dev, &data.train, &data.val)?),
                    precision: *precision,
                },
            },
        })
    }
}

enum SessionInner {
    Cpu,
    #[cfg(feature = "cuda")]
    Cuda {
        uploaded: Box<super::cuda::Uploaded>,
        precision: Precision,
    },
}

/// A device with the data of a run on it.
pub struct Session<'a> {
    data: &'a Prepared,
    inner: SessionInner,
}

impl Session<'_> {
    /// Trains `specs` (one shape) side by side with the protocol of
    /// [`super::protocol`]; on the CPU each network's products use `threads`.
    /// `on_epoch(i, log)` sees network i's epochs as they finish: `true`
    /// goes on, `false` stops the run between epochs.
    ///
    /// # Errors
    /// Unsupported or invalid specs, specs of different shapes, device errors;
    /// [`ExperimentError::Cancelled`] when `on_epoch` returned `false`.
    pub fn train(
        &self,
        specs: &[&TrainSpec],
        threads: Threads,
        on_epoch: &mut dyn FnMut(usize, &EpochLog) -> bool,
    ) -> Result<Vec<TrainResult>, ExperimentError> {
        let (train, val) = (&self.data.train, &self.data.val);
        match &self.inner {
            SessionInner::Cpu => train_group(specs, train, val, threads, on_epoch),
            #[cfg(feature = "cuda")]
            SessionInner::Cuda {
                uploaded,
                precision,
            } => {
                let _ = threads;
                for s in specs {
                    Device::Cuda(*precision).supports(s)?;
                }
                let mut backend =
                    super::cuda::CudaBackend::new(specs, train, val, uploaded, *precision)?;
                super::protocol::run(&mut backend, specs, train, val, on_epoch)
            }
        }
    }

    /// The device this session runs on.
    pub fn is_cpu(&self) -> bool {
        matches!(self.inner, SessionInner::Cpu)
    }
}
