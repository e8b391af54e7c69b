//! Iso-lines by marching squares.

use std::collections::HashMap;

/// Edge identifier: (vertical?, ix, iy). A horizontal edge joins grid points (ix, iy) and
/// (ix+1, iy); a vertical edge joins (ix, iy) and (ix, iy+1).
type EdgeKey = (bool, usize, usize);

/// Iso-lines `value = level` of a field sampled at grid points.
///
/// `x` (length `nx`) and `y` (length `ny`) are the grid coordinates (any monotonic spacing),
/// `values[iy * nx + ix]` the field at `(x[ix], y[iy])` (row-major). Returns polylines in data
/// coordinates; closed loops repeat their first point at the end. Cells with a non-finite
/// corner are skipped (lines stop there). Values equal to `level` count as above it; saddle
/// cells are resolved with the cell-centre average.
///
/// Bad input (fewer than 2 points along an axis, a `values` length other than `nx * ny`, a
/// non-finite `level`) gives no lines.
///
/// ```
/// // the hyperbola x·y = 1 on [0.5, 2]²
/// let g: Vec<f64> = (0..31).map(|i| 0.5 + 1.5 * i as f64 / 30.0).collect();
/// let v: Vec<f64> = g.iter().flat_map(|&y| g.iter().map(move |&x| x * y)).collect();
/// let lines = noisyprop_plot::contour(&g, &g, &v, 1.0);
/// assert_eq!(lines.len(), 1);
/// assert!(lines[0].iter().all(|&(x, y)| (x * y - 1.0).abs() < 0.01));
/// ```
pub fn contour(x: &[f64], y: &[f64], values: &[f64], level: f64) -> Vec<Vec<(f64, f64)>> {
    let (nx, ny) = (x.len(), y.len());
    if nx < 2 || ny < 2 || nx.checked_mul(ny) != Some(values.len()) || !level.is_finite() {
        return Vec::new();
    }
    let v = |ix: usize, iy: usize| values[iy * nx + ix];
    let point = |k: EdgeKey| -> (f64, f64) {
        let (vert, ix, iy) = k;
        let (jx, jy) = if vert { (ix, iy + 1) } else { (ix + 1, iy) };
        let (a, b) = (v(ix, iy), v(jx, jy));
        let t = if b != a { (level - a) / (b - a) } else { 0.5 };
        let t = t.clamp(0.0, 1.0);
        (x[ix] + t * (x[jx] - x[ix]), y[iy] + t * (y[jy] - y[iy]))
    };

    let mut segs: Vec<(EdgeKey, EdgeKey)> = Vec::new();
    for iy in 0..ny - 1 {
        for ix in 0..nx - 1 {
            let c = [v(ix, iy), v(ix + 1, iy), v(ix + 1, iy + 1), v(ix, iy + 1)];
            if c.iter().any(|u| !u.is_finite()) {
                continue;
            }
            let up = c.map(|u| u >= level);
            // cell edges: bottom, right, top, left
            let e = [
                (false, ix, iy),
                (true, ix + 1, iy),
                (false, ix, iy + 1),
                (true, ix, iy),
            ];
            let crossed: Vec<usize> = (0..4).filter(|&k| up[k] != up[(k + 1) % 4]).collect();
            match crossed.len() {
                2 => segs.push((e[crossed[0]], e[crossed[1]])),
                4 => {
                    let centre_up = (c[0] + c[1] + c[2] + c[3]) / 4.0 >= level;
                    // corners 0 and 2 share a state (and 1, 3 the other one)
                    let link_02 = up[0] == centre_up;
                    if link_02 {
                        // corners 0 and 2 connect through the centre: cut off 1 and 3
                        segs.push((e[0], e[1]));
                        segs.push((e[2], e[3]));
                    } else {
                        segs.push((e[3], e[0]));
                        segs.push((e[1], e[2]));
                    }
                }
                _ => {}
            }
        }
    }

    // join segments into polylines
    let mut at: HashMap<EdgeKey, Vec<usize>> = HashMap::new();
    for (i, (a, b)) in segs.iter().enumerate() {
        at.entry(*a).or_default().push(i);
        at.entry(*b).or_default().push(i);
    }
    let mut used = vec![false; segs.len()];
    let mut lines = Vec::new();
    let walk = |start_key: EdgeKey, used: &mut Vec<bool>| -> Vec<(f64, f64)> {
        let mut keys = vec![start_key];
        let mut cur = start_key;
        loop {
            let next = at
                .get(&cur)
                .and_then(|list| list.iter().copied().find(|&s| !used[s]));
            let Some(s) = next else { break };
            used[s] = true;
            let (a, b) = segs[s];
            cur = if a == cur { b } else { a };
            keys.push(cur);
        }
        keys.into_iter().map(point).collect()
    };
    // open lines start at edges used by a single segment
    let mut starts: Vec<EdgeKey> = at
        .iter()
        .filter(|(_, l)| l.len() == 1)
        .map(|(k, _)| *k)
        .collect();
    starts.sort_unstable();
    for k in starts {
        let free = at.get(&k).is_some_and(|l| l.iter().any(|&s| !used[s]));
        if free {
            let line = walk(k, &mut used);
            if line.len() >= 2 {
                lines.push(line);
            }
        }
    }
    // the rest are closed loops
    for i in 0..segs.len() {
        if !used[i] {
            let line = walk(segs[i].0, &mut used);
            if line.len() >= 2 {
                lines.push(line);
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect()
    }

    #[test]
    fn hyperbola() {
        let x = grid(41, 0.2, 3.0);
        let y = grid(37, 0.2, 3.0);
        let v: Vec<f64> = y
            .iter()
            .flat_map(|&b| x.iter().map(move |&a| a * b))
            .collect();
        let lines = contour(&x, &y, &v, 1.0);
        assert_eq!(lines.len(), 1, "one connected branch");
        let l = &lines[0];
        assert!(l.len() > 30);
        for &(a, b) in l {
            assert!((a * b - 1.0).abs() < 0.03, "({a}, {b}) → {}", a * b);
        }
        // spans from the top edge to the right edge of the grid
        let first = l[0];
        let last = l[l.len() - 1];
        let ends = [first, last];
        assert!(
            ends.iter()
                .any(|p| (p.1 - 3.0).abs() < 1e-9 || (p.0 - 3.0).abs() < 1e-9)
        );
    }

    #[test]
    fn circle_is_closed() {
        let g = grid(51, -2.0, 2.0);
        let v: Vec<f64> = g
            .iter()
            .flat_map(|&b| g.iter().map(move |&a| a * a + b * b))
            .collect();
        let lines = contour(&g, &g, &v, 1.0);
        assert_eq!(lines.len(), 1);
        let l = &lines[0];
        assert_eq!(l.first(), l.last(), "closed loop repeats its start");
        for &(a, b) in l {
            assert!(((a * a + b * b).sqrt() - 1.0).abs() < 0.01);
        }
    }

    #[test]
    fn bad_input_and_nan() {
        assert!(contour(&[0.0], &[0.0, 1.0], &[0.0, 1.0], 0.5).is_empty());
        assert!(contour(&[0.0, 1.0], &[0.0, 1.0], &[0.0, 1.0, 2.0], 0.5).is_empty());
        assert!(contour(&[0.0, 1.0], &[0.0, 1.0], &[0.0; 4], f64::NAN).is_empty());
        let nan = vec![f64::NAN; 9];
        assert!(contour(&[0.0, 1.0, 2.0], &[0.0, 1.0, 2.0], &nan, 0.5).is_empty());
        // saddle: both diagonals above
        let lines = contour(&[0.0, 1.0], &[0.0, 1.0], &[1.0, 0.0, 0.0, 1.0], 0.5);
        assert_eq!(lines.len(), 2);
    }
}
