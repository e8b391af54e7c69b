//! Every command's `--json` reads back into its public record type
//! (`noisyprop_experiments::record`) and writes out as the same JSON: the
//! schema is the library's, and a field the type lacks would fail here.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use noisyprop_experiments::record::{
    AnalysisRecord, FiguresRecord, InitRecord, Kind, PhaseRecord, Record, SCHEMA_VERSION,
    SimulationRecord, TrainableDepthRecord, TrainingRecord, TrajectoryRecord, VarianceDepthRecord,
};

use crate::common::json;

fn round_trip<T: Kind + Serialize + DeserializeOwned>(args: &[&str]) {
    let v = json(args);
    let rec: Record<T> =
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{args:?}: {e}\n{v}"));
    assert_eq!(rec.kind, T::KIND, "{args:?}");
    assert_eq!(rec.schema_version, SCHEMA_VERSION, "{args:?}");
    let back: Value = serde_json::to_value(&rec).unwrap();
    assert_eq!(
        back, v,
        "{args:?}: the record type does not hold every field"
    );
}

#[test]
fn every_json_output_reads_back_into_its_type() {
    round_trip::<AnalysisRecord>(&["analyze", "--noise", "Dropout(0.2)", "--json"]);
    round_trip::<AnalysisRecord>(&[
        "analyze",
        "-a",
        "tanh",
        "--sigma-w2",
        "1.5",
        "--sigma-b2",
        "0.05",
        "--json",
    ]);
    round_trip::<AnalysisRecord>(&[
        "analyze",
        "--noise",
        "gauss-add:std=1",
        "--sigma-w2",
        "2",
        "--json",
    ]);
    round_trip::<InitRecord>(&["init", "--noise", "dropout:keep=0.8", "--json"]);
    round_trip::<TrajectoryRecord>(&["trajectory", "--depth", "3", "--json"]);
    round_trip::<PhaseRecord>(&[
        "phase",
        "--x-range",
        "0.5:3:3",
        "--y-range",
        "1:2:2",
        "--json",
        "-q",
    ]);
    round_trip::<SimulationRecord>(&[
        "simulate",
        "--width",
        "16",
        "--networks",
        "3",
        "--depth",
        "2",
        "--backward",
        "--compare",
        "--json",
        "-q",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    round_trip::<FiguresRecord>(&[
        "figures",
        "--fig",
        "2",
        "--width",
        "20",
        "--networks",
        "2",
        "--json",
        "-q",
        "--out",
        &out("figs"),
    ]);
    round_trip::<VarianceDepthRecord>(&[
        "variance-depth",
        "--examples",
        "8",
        "--width",
        "16",
        "--max-depth",
        "4",
        "--sigma-w2-range",
        "1:2:2",
        "--json",
        "-q",
        "--out",
        &out("vd"),
    ]);
    round_trip::<TrainingRecord>(&[
        "train",
        "--quick",
        "--examples",
        "100",
        "--width",
        "8",
        "--depth",
        "1",
        "--epochs",
        "1",
        "--json",
        "-q",
    ]);
    round_trip::<TrainableDepthRecord>(&[
        "trainable-depth",
        "--examples",
        "100",
        "--width",
        "8",
        "--epochs",
        "1",
        "--depths",
        "1",
        "--keeps",
        "0.5",
        "--json",
        "-q",
        "--store",
        &out("grid"),
    ]);
}
