//! Device check of the CUDA backend (`noisyprop_engine::cuda`, feature `gpu-tools`): availability probe,
//! CPU-vs-GPU parity in each precision (ReLU and tanh with SGD, Adam, and softmax
//! cross-entropy classification with momentum), and throughput of the full Fig. 6 grid (100
//! networks). One JSON line per result on stdout. Without CUDA it prints
//! "CUDA not available: …" and exits 0. Run by `scripts/gpu-check.sh`.
//!
//! ```text
//! cargo build --release -p noisyprop-experiments --features gpu-tools --example gpu_check
//! target/release/examples/gpu_check [--steps 50] [--warmup 3] [--profile-steps 3]
//!                                   [--precisions fp32,tf32,bf16] [--adam]
//!                                   [--no-graph-compare] [--skip-throughput] [--skip-parity]
//! ```
//!
//! Exit status: 0 when everything ran and every parity check passed (or CUDA is not
//! available), 1 when a parity check failed, 2 on an error.

#[cfg(feature = "gpu-tools")]
fn main() {
    std::process::exit(check::run());
}

#[cfg(not(feature = "gpu-tools"))]
fn main() {
    println!("CUDA not available: this binary was built without the `gpu-tools` feature");
}

#[cfg(feature = "gpu-tools")]
mod check {
    use std::time::Instant;

    use noisyprop_engine::OptimizerConfig;
    use noisyprop_engine::cuda::{
        CudaError, Device, GridConfig, ParityConfig, ParityReport, Precision, available,
        paper_grid_throughput, parity, parity_reference,
    };
    use noisyprop_experiments::paper::{FIG6_DEPTHS, FIG6_KEEPS};

    struct Args {
        steps: usize,
        warmup: usize,
        precisions: Vec<Precision>,
        graph_compare: bool,
        throughput: bool,
        adam: bool,
        profile_steps: usize,
        parity: bool,
    }

    fn parse() -> Result<Args, String> {
        let mut a = Args {
            steps: 50,
            warmup: 3,
            precisions: Precision::ALL.to_vec(),
            graph_compare: true,
            throughput: true,
            adam: false,
            profile_steps: 3,
            parity: true,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or(format!("{flag} needs a value"));
            match flag.as_str() {
                "--steps" => a.steps = value()?.parse().map_err(|e| format!("--steps: {e}"))?,
                "--warmup" => a.warmup = value()?.parse().map_err(|e| format!("--warmup: {e}"))?,
                "--profile-steps" => {
                    a.profile_steps = value()?
                        .parse()
                        .map_err(|e| format!("--profile-steps: {e}"))?;
                }
                "--precisions" => {
                    a.precisions = value()?
                        .split(',')
                        .map(|p| p.parse::<Precision>().map_err(|e| e.to_string()))
                        .collect::<Result<_, _>>()?;
                }
                "--no-graph-compare" => a.graph_compare = false,
                "--skip-throughput" => a.throughput = false,
                "--skip-parity" => a.parity = false,
                "--adam" => a.adam = true,
                other => return Err(format!("unknown argument {other}")),
            }
        }
        Ok(a)
    }

    fn json_str(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    /// Prints a parity result as `check`; returns the exit status it implies.
    fn report(check: &str, p: Precision, r: Result<ParityReport, CudaError>) -> i32 {
        match r {
            Ok(r) => {
                println!(
                    "{}",
                    r.to_json().replacen("\"parity\"", &json_str(check), 1)
                );
                i32::from(!r.passed)
            }
            Err(e) => {
                println!(
                    "{{\"check\":{},\"precision\":\"{p}\",\"error\":{}}}",
                    json_str(check),
                    json_str(&e.to_string())
                );
                2
            }
        }
    }

    pub fn run() -> i32 {
        let args = match parse() {
            Ok(a) => a,
            Err(e) => {
                eprintln!("gpu_check: {e}");
                return 2;
            }
        };
        let t0 = Instant::now();
        let dev = match available().map_err(|r| r.to_string()).and_then(|()| {
            Device::new(0).map_err(|e| match e {
                CudaError::Unavailable(r) => r,
                other => other.to_string(),
            })
        }) {
            Ok(d) => d,
            Err(reason) => {
                println!("CUDA not available: {reason}");
                println!(
                    "{{\"check\":\"probe\",\"available\":false,\"reason\":{}}}",
                    json_str(&reason)
                );
                return 0;
            }
        };
        let (major, minor) = dev.compute_capability();
        println!(
            "{{\"check\":\"probe\",\"available\":true,\"device\":{},\"compute_capability\":\"{major}.{minor}\",\"memory_gib\":{:.1},\"init_seconds\":{:.2}}}",
            json_str(dev.name()),
            dev.total_memory() as f64 / f64::from(1u32 << 30),
            t0.elapsed().as_secs_f64()
        );

        let mut status = 0;
        if args.parity {
            for &p in &args.precisions {
                for cfg in [
                    ParityConfig::default(),
                    ParityConfig::smooth(),
                    ParityConfig::adam(),
                    ParityConfig::classification(),
                ] {
                    status = status.max(report("parity_engine", p, parity(&dev, &cfg, p)));
                }
            }
            // The backend's minimal CPU reference too, in fp32 (it pins the semantics
            // independently of the engine's trainer).
            let r = parity_reference(&dev, &ParityConfig::default(), Precision::Fp32);
            status = status.max(report("parity_reference", Precision::Fp32, r));
        }

        if args.throughput {
            // The paper's learning rate (10⁻³) with plain SGD, or Adam.
            let lr = GridConfig::paper(0, Precision::Fp32).optimizer.lr();
            let mut runs: Vec<(Precision, bool, OptimizerConfig)> = args
                .precisions
                .iter()
                .map(|&p| (p, true, OptimizerConfig::sgd(lr)))
                .collect();
            if args.graph_compare
                && let Some(&p) = args.precisions.last()
            {
                runs.push((p, false, OptimizerConfig::sgd(lr)));
            }
            if args.adam {
                runs.extend(
                    args.precisions
                        .iter()
                        .map(|&p| (p, true, OptimizerConfig::adam(lr))),
                );
            }
            for (p, graphs, optimizer) in runs {
                // Profile once per setup (the graph-less repeat needs no second one).
                let profile = if graphs { args.profile_steps } else { 0 };
                let base = GridConfig {
                    use_graphs: graphs,
                    optimizer,
                    ..GridConfig::paper(0, p)
                };
                match paper_grid_throughput(
                    &dev,
                    &base,
                    &FIG6_DEPTHS,
                    &FIG6_KEEPS,
                    args.warmup,
                    args.steps,
                    profile,
                ) {
                    Ok(t) => println!(
                        "{}",
                        t.to_json().replacen(
                            "\"graphs\":",
                            &format!("\"graphs_requested\":{graphs},\"graphs\":"),
                            1
                        )
                    ),
                    Err(e) => {
                        println!(
                            "{{\"check\":\"throughput\",\"precision\":\"{p}\",\"graphs_requested\":{graphs},\"error\":{}}}",
                            json_str(&e.to_string())
                        );
                        status = 2;
                    }
                }
            }
        }
        println!(
            "{{\"check\":\"done\",\"status\":{status},\"seconds\":{:.1}}}",
            t0.elapsed().as_secs_f64()
        );
        status
    }
}
