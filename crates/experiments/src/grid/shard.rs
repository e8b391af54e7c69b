//! `--shard I/N`: one slice of a grid, for one task of a cluster array job.

use std::fmt;
use std::str::FromStr;

use crate::ExperimentError;

/// Cells i, i + n, i + 2n, … of a grid (0 ≤ i < n).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    count: usize,
}

impl Shard {
    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// `count` = 0 or `index` ≥ `count`.
    pub fn new(index: usize, count: usize) -> Result<Self, ExperimentError> {
        if count == 0 || index >= count {
            return Err(ExperimentError::invalid(
                "shard",
                format!("{index}/{count}"),
                "I/N with 0 ≤ I < N",
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether cell number `cell` (grid order) is in this shard.
    pub fn contains(&self, cell: usize) -> bool {
        cell % self.count == self.index
    }

    /// I.
    pub fn index(&self) -> usize {
        self.index
    }

    /// N.
    pub fn count(&self) -> usize {
        self.count
    }
}

impl FromStr for Shard {
    type Err = ExperimentError;
    fn from_str(s: &str) -> Result<Self, ExperimentError> {
        let parsed = s
            .split_once('/')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
        match parsed {
            Some((i, n)) => Shard::new(i, n),
            None => Err(ExperimentError::invalid(
                "shard",
                format!("`{s}`"),
                "I/N with 0 ≤ I < N, e.g. 0/4",
            )),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_grid() {
        let shards: Vec<Shard> = (0..3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for cell in 0..10 {
            assert_eq!(shards.iter().filter(|s| s.contains(cell)).count(), 1);
        }
        for bad in ["3/3", "1/0", "a/b", "2", "-1/3"] {
            let e = bad.parse::<Shard>().unwrap_err().to_string();
            assert!(e.contains("shard") && e.contains("I/N"), "{bad}: {e}");
        }
        assert_eq!(" 1 / 4 ".parse::<Shard>().unwrap().to_string(), "1/4");
    }
}
