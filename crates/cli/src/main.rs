/*!
The `noisyprop` command line: a thin shell over the noisyprop library crates.
Each subcommand lives in `cmd/<name>.rs`; shared flags in `args.rs`; output
formatting in `output.rs`.

Exit status: 0 success, 1 a check came out negative (e.g. a simulation
verdict FAIL), 2 an error (bad input, I/O). A closed stdout (broken pipe)
exits 0.
*/

mod args;
mod cmd;
mod output;
mod progress;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Signal propagation in noisy deep networks: mean-field theory, critical
/// initialisation and depth predictions (Pretorius et al., NeurIPS 2018)
#[derive(Debug, Parser)]
#[command(name = "noisyprop", version, about, long_about = None)]
#[command(
    after_help = "Exit status: 0 success, 1 a check came out negative, 2 an error.\n\
Sections such as \"spec 2.7\" refer to the paper spec shipped as docs/paper-spec.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Reproduce(cmd::reproduce::ReproduceArgs),
    Analyze(cmd::analyze::AnalyzeArgs),
    Init(cmd::init::InitArgs),
    Critical(cmd::critical::CriticalArgs),
    Trajectory(cmd::trajectory::TrajectoryArgs),
    Phase(cmd::phase::PhaseArgs),
    Simulate(cmd::simulate::SimulateArgs),
    Figures(cmd::figures::FiguresArgs),
    VarianceDepth(cmd::variance_depth::VarianceDepthArgs),
    Train(cmd::train::TrainArgs),
    TrainableDepth(cmd::trainable_depth::TrainableDepthArgs),
}

/// What a command reports besides errors.
pub enum Outcome {
    /// Done.
    Success,
    /// A check came out negative (exit 1).
    Negative,
}

fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let done = |r: anyhow::Result<()>| r.map(|()| Outcome::Success);
    let outcome = match &cli.command {
        Command::Reproduce(a) => cmd::reproduce::run(a, &mut out)?,
        Command::Analyze(a) => done(cmd::analyze::run(a, &mut out))?,
        Command::Init(a) => done(cmd::init::run(a, &mut out))?,
        Command::Critical(a) => done(cmd::critical::run(a, &mut out))?,
        Command::Trajectory(a) => done(cmd::trajectory::run(a, &mut out))?,
        Command::Phase(a) => done(cmd::phase::run(a, &mut out))?,
        Command::Simulate(a) => cmd::simulate::run(a, &mut out)?,
        Command::Figures(a) => done(cmd::figures::run(a, &mut out))?,
        Command::VarianceDepth(a) => done(cmd::variance_depth::run(a, &mut out))?,
        Command::Train(a) => done(cmd::train::run(a, &mut out))?,
        Command::TrainableDepth(a) => done(cmd::trainable_depth::run(a, &mut out))?,
    };
    out.flush()?;
    Ok(outcome)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Negative) => ExitCode::from(1),
        Err(err) => {
            let broken_pipe = err.chain().any(|e| {
                e.downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", output::sanitize(&format!("{err:#}")));
            ExitCode::from(2)
        }
    }
}
