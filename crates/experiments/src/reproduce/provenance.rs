//! Where and how a report was made: version, git revision, preset, seed,
//! device, data set with its checksum, threads, times.

use serde::{Deserialize, Serialize};

use super::{PartReport, ReproduceOptions};
use crate::output::sha256_hex;
use crate::training::OpenDevice;

/// The git revision the binary was built from (`-modified` when the
/// working tree had changes; `unknown` outside a git checkout).
pub const GIT_REVISION: &str = env!("NOISYPROP_GIT_REV");

/// Provenance of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// noisyprop version.
    pub version: String,
    /// [`GIT_REVISION`].
    pub git_revision: String,
    /// `quick` or `paper`.
    pub preset: String,
    /// Base seed.
    pub seed: u64,
    /// Device of the training runs (`cpu`, `cuda:<name>:<precision>`).
    pub device: String,
    /// Data set of Figure 6.
    pub dataset: String,
    /// Where its files came from.
    pub dataset_source: String,
    /// SHA-256 of the training images' pixel bytes in file order, or why it
    /// is missing.
    pub dataset_sha256: String,
    /// Worker threads.
    pub threads: usize,
    /// When the report was assembled (UTC, RFC 3339).
    pub finished_utc: String,
    /// Wall time of this run in seconds (reused parts cost nothing).
    pub seconds: f64,
    /// Wall time per part, in seconds, of the run that computed it.
    pub part_seconds: Vec<(String, f64)>,
}

impl Provenance {
    /// The provenance of a run that just finished.
    pub fn now(
        opts: &ReproduceOptions,
        device: &OpenDevice,
        parts: &[PartReport],
        seconds: f64,
    ) -> Provenance {
        let (source, sha) = match noisyprop_data::load(
            opts.data.name,
            opts.data.dir.as_deref(),
            noisyprop_data::Split::Train,
        ) {
            Ok(raw) => (raw.source, sha256_hex(&raw.pixels)),
            Err(e) => ("not loaded".into(), format!("unavailable: {e}")),
        };
        Provenance {
            version: env!("CARGO_PKG_VERSION").into(),
            git_revision: GIT_REVISION.into(),
            preset: opts.preset.to_string(),
            seed: opts.seed,
            device: device.label(),
            dataset: opts.data.name.to_string(),
            dataset_source: source,
            dataset_sha256: sha,
            threads: rayon::current_num_threads(),
            finished_utc: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|_| "unknown".into()),
            seconds,
            part_seconds: parts
                .iter()
                .map(|p| (p.part.name().to_string(), p.seconds))
                .collect(),
        }
    }
}
