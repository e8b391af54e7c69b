/*!
Flags shared by several subcommands, and turning them into library values.
*/

use anyhow::{Result, anyhow, bail};
use clap::{Args, ValueEnum};

use noisyprop_theory::{Activation, Integration, MeanField, Network, Noise, QuadratureRule};

/// Activation, noise and initialisation of a network.
#[derive(Debug, Clone, Args)]
pub struct NetArgs {
    /// Activation φ: relu, leaky-relu:slope=A, linear, abs, erf, tanh, sigmoid,
    /// gelu, silu, elu[:alpha=A], selu, softplus
    #[arg(long, short = 'a', default_value = "relu", value_name = "NAME")]
    pub activation: String,

    /// Noise on each layer's input (after φ), KIND:PARAM=VALUE, e.g.
    /// dropout:keep=0.8, dropout:drop=0.2, gauss-mult:std=0.5, gauss-add:std=1,
    /// or a framework spelling such as 'Dropout(0.2)'. Repeat to stack noises;
    /// they apply in the order given
    #[arg(long, short = 'n', value_name = "SPEC", default_value = "none")]
    pub noise: Vec<String>,

    /// Weight variance σ_w² (weights ~ N(0, σ_w²/fan_in)); default: critical
    #[arg(
        long = "sigma-w2",
        value_name = "X",
        conflicts_with = "critical",
        allow_negative_numbers = true
    )]
    pub sigma_w2: Option<f64>,

    /// Use the critical σ_w² (χ₁ = 1 at q*); the default when --sigma-w2 is absent
    #[arg(long)]
    pub critical: bool,

    /// Bias variance σ_b²
    #[arg(
        long = "sigma-b2",
        value_name = "Y",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub sigma_b2: f64,
}

/// How Gaussian expectations are integrated.
#[derive(Debug, Clone, Args)]
pub struct IntegrationArgs {
    /// Integrate by quadrature even where closed forms exist (a cross-check)
    #[arg(long)]
    pub quadrature: bool,

    /// Quadrature nodes per dimension (4..=1024, rounded up to a power of two);
    /// default: raised until n and 2n nodes agree to 1e-10
    #[arg(long, value_name = "N")]
    pub nodes: Option<usize>,

    /// Quadrature rule for activations without closed forms
    #[arg(long, value_enum, default_value_t = RuleArg::Legendre)]
    pub rule: RuleArg,
}

/// Quadrature rule names.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RuleArg {
    /// Gauss–Legendre, split at the kink and in polar sectors (default)
    Legendre,
    /// Tensor Gauss–Hermite (for cross-checks; slow to converge for steep φ)
    Hermite,
}

impl IntegrationArgs {
    /// The library setting.
    pub fn integration(&self) -> Result<Integration> {
        if let Some(n) = self.nodes
            && !(4..=1024).contains(&n)
        {
            bail!("--nodes {n} is out of range; valid range is [4, 1024]");
        }
        Ok(Integration {
            closed_form: !self.quadrature,
            rule: match self.rule {
                RuleArg::Legendre => QuadratureRule::GaussLegendre,
                RuleArg::Hermite => QuadratureRule::GaussHermite,
            },
            nodes: self.nodes,
        })
    }
}

/// Where σ_w² came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SigmaSource {
    /// Given with --sigma-w2.
    Given,
    /// The critical value.
    Critical,
}

/// Parses activation and noise.
pub fn activation_and_noise(args: &NetArgs) -> Result<(Activation, Noise)> {
    let activation: Activation = args.activation.parse()?;
    let noise = Noise::parse_all(&args.noise)?;
    Ok((activation, noise))
}

/// Builds the network, solving for the critical σ_w² when asked (or when
/// --sigma-w2 is absent).
pub fn network(args: &NetArgs, integration: Integration) -> Result<(Network, SigmaSource)> {
    let (activation, noise) = activation_and_noise(args)?;
    match args.sigma_w2 {
        Some(x) if !args.critical => Ok((
            Network::new(activation, noise, x, args.sigma_b2)?,
            SigmaSource::Given,
        )),
        _ => {
            let probe = Network::new(activation, noise, 1.0, args.sigma_b2)?;
            let cp = mean_field(&probe, integration).critical_sigma_w2().map_err(|e| {
                anyhow!("no critical σ_w² exists for `{activation}` with noise `{}`: {}\n\nhint: give --sigma-w2", probe.noise(), e.reason)
            })?;
            Ok((probe.with_sigma_w2(cp.sigma_w2)?, SigmaSource::Critical))
        }
    }
}

/// Nodes used when the order is not given and no adaptive analysis runs: the
/// order the adaptive analysis settles at for typical q (n vs 2n ≤ 1e-10).
pub const FIXED_NODES: usize = 64;

/// The mean field of `net` at a fixed quadrature order (`--nodes` or
/// [`FIXED_NODES`]).
pub fn mean_field(net: &Network, integration: Integration) -> MeanField {
    let kernel = integration
        .kernel(net.activation())
        .with_nodes(integration.nodes.unwrap_or(FIXED_NODES));
    MeanField::with_kernel(net, kernel)
}

/// `--depth-multiplier`: k of the trainable-depth prediction k·ξ_c.
#[derive(Debug, Clone, Copy, Args)]
pub struct DepthMultiplier {
    /// k in the trainable-depth prediction k·ξ_c
    #[arg(
        long = "depth-multiplier",
        default_value_t = 6.0,
        value_name = "K",
        allow_negative_numbers = true
    )]
    pub depth_multiplier: f64,
}

/// `--json` / `--csv` for commands that print rows.
#[derive(Debug, Clone, Copy, Args)]
pub struct Format {
    /// Print JSON
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// Print CSV
    #[arg(long)]
    pub csv: bool,
}
