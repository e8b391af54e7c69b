//! Running a reproduction on a Slurm cluster: an `sbatch` job array whose
//! tasks each run `reproduce --shard I/N` into the shared output directory,
//! and a report job that runs after it (`--dependency=afterany`, so it also
//! runs, and names what is missing, when a task failed).
//!
//! noisyprop renders and submits the scripts; it never polls or manages
//! nodes. Requeued or pre-empted tasks resume from the stores (finished
//! parts and cells are skipped), so resubmitting the same run is a resume.
//! The recipe follows shared/spec/distributed.md.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Part, ReproduceOptions};
use crate::ExperimentError;
use crate::output::ensure_dir;
use crate::training::Device;

/// Cluster settings of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmOptions {
    /// Array tasks (shards); each runs about 1/N of the grid's cells.
    pub array_size: usize,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` per task (e.g. `02:00:00`).
    pub time: Option<String>,
    /// `--gres` per task (e.g. `gpu:1`).
    pub gres: Option<String>,
}

/// The two scripts of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripts {
    /// The array job (`DIR/slurm/reproduce-array.sbatch`).
    pub array: String,
    /// The report job, given the array job's id as `$1`
    /// (`DIR/slurm/reproduce-report.sbatch`).
    pub report: String,
}

/// Quotes `s` for a POSIX shell.
fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The absolute form of `p` (relative to the current directory).
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The `reproduce` arguments that redo this run (absolute paths, every
/// setting explicit), without the mode flags.
pub fn command_args(opts: &ReproduceOptions, device: Device) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "reproduce".into(),
        "--preset".into(),
        opts.preset.to_string(),
        "--out".into(),
        absolute(&opts.out).display().to_string(),
        "--parts".into(),
        opts.parts
            .iter()
            .map(|p: &Part| p.name())
            .collect::<Vec<_>>()
            .join(","),
        "--dataset".into(),
        opts.data.name.as_str().into(),
    ];
    if let Some(d) = &opts.data.dir {
        a.push("--data-dir".into());
        a.push(absolute(d).display().to_string());
    }
    match device {
        Device::Cpu => a.extend(["--device".into(), "cpu".into()]),
        Device::Cuda(p) => a.extend([
            "--device".into(),
            "cuda".into(),
            "--precision".into(),
            p.to_string(),
        ]),
    }
    a.extend(["--seed".into(), opts.seed.to_string(), "--quiet".into()]);
    a
}

/// Renders the array and report scripts; `exe` is the noisyprop binary the
/// nodes run (it must be visible to them, as must the output directory).
pub fn render(
    opts: &ReproduceOptions,
    slurm: &SlurmOptions,
    device: Device,
    exe: &Path,
) -> Scripts {
    let out = absolute(&opts.out);
    let logs = out.join("slurm").join("logs");
    let n = slurm.array_size;
    let mut common = String::new();
    for (flag, v) in [
        ("partition", &slurm.partition),
        ("time", &slurm.time),
        ("gres", &slurm.gres),
    ] {
        if let Some(v) = v {
            common.push_str(&format!("#SBATCH --{flag}={v}\n"));
        }
    }
    let cmd = |device: Device| -> String {
        std::iter::once(quote(&absolute(exe).display().to_string()))
            .chain(command_args(opts, device).iter().map(|a| quote(a)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    // #SBATCH lines are not shell-parsed: a log path with spaces is given
    // on sbatch's command line instead (see `submit`).
    let output = |pattern: &str| {
        let path = logs.join(pattern).display().to_string();
        if path.contains(char::is_whitespace) {
            format!("# --output={path} is given on the sbatch command line\n")
        } else {
            format!("#SBATCH --output={path}\n")
        }
    };
    let array = format!(
        "#!/bin/bash\n\
         # noisyprop reproduce: one shard per array task (README.md, \"On a cluster: Slurm\").\n\
         #SBATCH --job-name=noisyprop-reproduce\n\
         #SBATCH --array=0-{last}\n\
         {output}\
         #SBATCH --requeue\n\
         {common}\
         set -euo pipefail\n\
         exec {cmd} --shard \"$((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN))/$SLURM_ARRAY_TASK_COUNT\"\n",
        cmd = cmd(device),
        last = n.saturating_sub(1),
        output = output("%A_%a.log"),
    );
    let report_common: String = common
        .lines()
        .filter(|l| !l.starts_with("#SBATCH --gres"))
        .map(|l| format!("{l}\n"))
        .collect();
    let report = format!(
        "#!/bin/bash\n\
         # noisyprop reproduce: the report, after every array task ($1 = the array job).\n\
         #SBATCH --job-name=noisyprop-report\n\
         {output}\
         {report_common}\
         set -euo pipefail\n\
         exec {cmd} --assemble {n} --array-job \"$1\"\n",
        // The report computes nothing: it needs no GPU.
        cmd = cmd(Device::Cpu),
        output = output("report_%j.log"),
    );
    Scripts { array, report }
}

/// The submitted jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The array job id.
    pub array_job: String,
    /// The report job id.
    pub report_job: String,
    /// Where the scripts were written.
    pub scripts: [PathBuf; 2],
}

fn sbatch(args: &[&str]) -> Result<String, ExperimentError> {
    let out = Command::new("sbatch").args(args).output().map_err(|e| {
        ExperimentError::Slurm(format!(
            "cannot run `sbatch` ({e}): is this a Slurm login node? (--dry-run prints the scripts)"
        ))
    })?;
    if !out.status.success() {
        return Err(ExperimentError::Slurm(format!(
            "`sbatch {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    // --parsable prints "jobid" or "jobid;cluster".
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or("").to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(ExperimentError::Slurm(format!(
            "`sbatch` printed no job id: `{}`",
            text.trim()
        )));
    }
    Ok(id)
}

/// Writes the scripts under `DIR/slurm/` and submits the array, then the
/// report job with `--dependency=afterany:<array>`.
///
/// # Errors
/// The scripts cannot be written; `sbatch` is missing or refuses (its
/// message is given).
pub fn submit(opts: &ReproduceOptions, scripts: &Scripts) -> Result<Submitted, ExperimentError> {
    let dir = absolute(&opts.out).join("slurm");
    ensure_dir(&dir.join("logs"))?;
    let paths = [
        dir.join("reproduce-array.sbatch"),
        dir.join("reproduce-report.sbatch"),
    ];
    for (path, text) in paths.iter().zip([&scripts.array, &scripts.report]) {
        std::fs::write(path, text).map_err(|cause| ExperimentError::Io {
            path: path.clone(),
            cause,
        })?;
    }
    let logs = dir.join("logs");
    let array_job = sbatch(&[
        "--parsable",
        &format!("--output={}", logs.join("%A_%a.log").display()),
        &paths[0].display().to_string(),
    ])?;
    let report_job = sbatch(&[
        "--parsable",
        &format!("--output={}", logs.join("report_%j.log").display()),
        &format!("--dependency=afterany:{array_job}"),
        &paths[1].display().to_string(),
        &array_job,
    ])?;
    Ok(Submitted {
        array_job,
        report_job,
        scripts: paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::{DataChoice, Preset};

    fn opts() -> ReproduceOptions {
        ReproduceOptions {
            preset: Preset::Smoke,
            out: PathBuf::from("/shared/run one"),
            data: DataChoice {
                name: noisyprop_data::DatasetName::Mnist,
                dir: None,
            },
            parts: vec![Part::Fig2, Part::TrainableDepth],
            seed: 3,
        }
    }

    #[test]
    fn scripts_shard_the_run_and_name_their_logs() {
        let slurm = SlurmOptions {
            array_size: 4,
            partition: Some("gpu".into()),
            time: Some("01:00:00".into()),
            gres: Some("gpu:1".into()),
        };
        let s = render(
            &opts(),
            &slurm,
            Device::Cpu,
            Path::new("/opt/bin/noisyprop"),
        );
        assert!(s.array.contains("#SBATCH --array=0-3\n"), "{}", s.array);
        assert!(
            s.array.contains("# --output=/shared/run one/slurm/logs/%A_%a.log is given on the sbatch command line"),
            "{}",
            s.array
        );
        assert!(s.array.contains("#SBATCH --gres=gpu:1\n"));
        assert!(s.array.contains("#SBATCH --partition=gpu\n"));
        assert!(
            s.array
                .contains("--out '/shared/run one' --parts fig2,trainable-depth"),
            "{}",
            s.array
        );
        assert!(s.array.contains(
            "--shard \"$((SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN))/$SLURM_ARRAY_TASK_COUNT\""
        ));
        assert!(
            s.report.contains("--assemble 4 --array-job \"$1\""),
            "{}",
            s.report
        );
        assert_eq!(s.report.matches("--device").count(), 1, "{}", s.report);
        assert!(!s.report.contains("--gres"), "the report job needs no GPU");
        assert!(s.report.starts_with("#!/bin/bash\n"));
    }

    #[test]
    fn log_paths_without_spaces_are_directives() {
        let o = ReproduceOptions {
            out: PathBuf::from("/shared/run1"),
            ..opts()
        };
        let slurm = SlurmOptions {
            array_size: 2,
            partition: None,
            time: None,
            gres: None,
        };
        let s = render(&o, &slurm, Device::Cpu, Path::new("/opt/bin/noisyprop"));
        assert!(
            s.array
                .contains("#SBATCH --output=/shared/run1/slurm/logs/%A_%a.log\n")
        );
        assert!(
            s.report
                .contains("#SBATCH --output=/shared/run1/slurm/logs/report_%j.log\n")
        );
        assert!(s.array.contains("#SBATCH --array=0-1\n"));
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(quote("abc-1.5:x"), "abc-1.5:x");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }
}
