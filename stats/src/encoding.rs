//! A plain binary form of [`Groups`], to keep group totals between runs: little-endian
//! numbers and length-prefixed arrays and strings, with a version tag, read back bit for bit.
//! [`Writer`] and [`Reader`] are public so that a caller can keep its own columns beside.

use crate::error::StatsError;
use crate::grouped::{Cell, Groups};
use crate::spec::Item;

/// Appends values to a byte buffer.
#[derive(Debug, Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn u64(&mut self, x: u64) {
        self.bytes.extend_from_slice(&x.to_le_bytes());
    }
    pub fn f64(&mut self, x: f64) {
        self.bytes.extend_from_slice(&x.to_bits().to_le_bytes());
    }
    pub fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes.extend_from_slice(s.as_bytes());
    }
    pub fn u32s(&mut self, v: &[u32]) {
        self.u64(v.len() as u64);
        for x in v {
            self.bytes.extend_from_slice(&x.to_le_bytes());
        }
    }
    pub fn u64s(&mut self, v: &[u64]) {
        self.u64(v.len() as u64);
        for &x in v {
            self.u64(x);
        }
    }
    pub fn f64s(&mut self, v: &[f64]) {
        self.u64(v.len() as u64);
        for &x in v {
            self.f64(x);
        }
    }
    pub fn strs(&mut self, v: &[String]) {
        self.u64(v.len() as u64);
        for s in v {
            self.str(s);
        }
    }
}

/// Reads what a [`Writer`] wrote, in the same order; any shortfall or bad length is an error.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
}

fn bad(what: &str) -> StatsError {
    StatsError::Invalid(format!("group totals cannot be read: {what}"))
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], StatsError> {
        if self.bytes.len() < n {
            return Err(bad("cut short"));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    pub fn u64(&mut self) -> Result<u64, StatsError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| bad("number"))?))
    }
    pub fn f64(&mut self) -> Result<f64, StatsError> {
        Ok(f64::from_bits(self.u64()?))
    }
    /// A length that the remaining bytes can hold at `each` bytes an element.
    fn len(&mut self, each: usize) -> Result<usize, StatsError> {
        let n = usize::try_from(self.u64()?).map_err(|_| bad("length"))?;
        if n.saturating_mul(each) > self.bytes.len() {
            return Err(bad("length beyond the data"));
        }
        Ok(n)
    }
    pub fn str(&mut self) -> Result<String, StatsError> {
        let n = self.len(1)?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| bad("text"))
    }
    pub fn u32s(&mut self) -> Result<Vec<u32>, StatsError> {
        let n = self.len(4)?;
        let b = self.take(n * 4)?;
        Ok(b.chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    pub fn u64s(&mut self) -> Result<Vec<u64>, StatsError> {
        let n = self.len(8)?;
        (0..n).map(|_| self.u64()).collect()
    }
    pub fn f64s(&mut self) -> Result<Vec<f64>, StatsError> {
        let n = self.len(8)?;
        (0..n).map(|_| self.f64()).collect()
    }
    pub fn strs(&mut self) -> Result<Vec<String>, StatsError> {
        let n = self.len(8)?;
        (0..n).map(|_| self.str()).collect()
    }
    /// True when everything was read.
    pub fn is_done(&self) -> bool {
        self.bytes.is_empty()
    }
}

const VERSION: u64 = 1;

impl Groups {
    /// Appends the groups to `w` (see [`Groups::read`]).
    pub fn write(&self, w: &mut Writer) {
        w.u64(VERSION);
        w.u64(self.items.len() as u64);
        for item in &self.items {
            w.str(&item.name);
            w.f64(item.satisfied_min);
            let (lo, hi) = item.scale.unwrap_or((f64::NAN, f64::NAN));
            w.f64(lo);
            w.f64(hi);
            w.u64(u64::from(item.scale.is_some()));
        }
        w.u64s(&self.rows);
        w.u64s(&self.positive);
        w.f64s(&self.weight);
        w.f64s(&self.weight_sq);
        w.u64(self.cells.len() as u64);
        for c in &self.cells {
            w.u64(c.answered);
            w.u64(c.positive);
            for x in [c.w, c.wy, c.wy2, c.ws, c.wn, c.y, c.s, c.min, c.max] {
                w.f64(x);
            }
        }
        w.u64(self.index_sets.len() as u64);
        for (set, rows) in self.index_sets.iter().zip(&self.index_rows) {
            let set: Vec<u64> = set.iter().map(|&k| k as u64).collect();
            w.u64s(&set);
            w.u64s(rows);
        }
    }

    /// Reads groups written by [`Groups::write`], checking their shape.
    pub fn read(r: &mut Reader<'_>) -> Result<Groups, StatsError> {
        if r.u64()? != VERSION {
            return Err(bad("unknown version"));
        }
        let k = r.len(32)?;
        let mut items = Vec::with_capacity(k);
        for _ in 0..k {
            let name = r.str()?;
            let satisfied_min = r.f64()?;
            let (lo, hi) = (r.f64()?, r.f64()?);
            let scaled = r.u64()? == 1;
            items.push(Item {
                name,
                values: Vec::new(),
                satisfied_min,
                scale: scaled.then_some((lo, hi)),
            });
        }
        let rows = r.u64s()?;
        let n = rows.len();
        let positive = r.u64s()?;
        let weight = r.f64s()?;
        let weight_sq = r.f64s()?;
        let n_cells = r.len(88)?;
        if [positive.len(), weight.len(), weight_sq.len()] != [n; 3] || n_cells != n * k {
            return Err(bad("columns of different lengths"));
        }
        let mut cells = Vec::with_capacity(n_cells);
        for _ in 0..n_cells {
            let (answered, positive) = (r.u64()?, r.u64()?);
            let mut f = [0.0; 9];
            for x in &mut f {
                *x = r.f64()?;
            }
            let [w, wy, wy2, ws, wn, y, s, min, max] = f;
            cells.push(Cell {
                answered,
                positive,
                w,
                wy,
                wy2,
                ws,
                wn,
                y,
                s,
                min,
                max,
            });
        }
        let n_sets = r.len(16)?;
        let (mut index_sets, mut index_rows) = (Vec::new(), Vec::new());
        for _ in 0..n_sets {
            let set = r.u64s()?;
            let counts = r.u64s()?;
            if counts.len() != n || set.iter().any(|&i| i as usize >= k) {
                return Err(bad("index counts"));
            }
            index_sets.push(set.into_iter().map(|i| i as usize).collect());
            index_rows.push(counts);
        }
        Ok(Groups {
            items,
            rows,
            positive,
            weight,
            weight_sq,
            cells,
            index_sets,
            index_rows,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn groups_are_read_back_as_written_and_a_damaged_copy_is_an_error() {
        let items = vec![
            Item::new("a", Vec::new()).with_scale(1.0, 5.0),
            Item::new("b", Vec::new()).with_satisfied_min(0.5),
        ];
        let mut g = Groups::new(items, vec![vec![0, 1], vec![1]]);
        g.add(0, 2.5, &[5.0, f64::NAN]);
        g.add(2, 0.0, &[1.0, 0.0]);
        g.add(0, 1.25, &[3.0, 1.0]);
        let mut w = Writer::default();
        w.str("before");
        g.write(&mut w);
        w.u32s(&[7, 8]);
        let mut r = Reader::new(&w.bytes);
        assert_eq!(r.str().unwrap(), "before");
        assert_eq!(Groups::read(&mut r).unwrap(), g);
        assert_eq!(r.u32s().unwrap(), [7, 8]);
        assert!(r.is_done());
        for cut in [0, 9, w.bytes.len() / 2, w.bytes.len() - 9] {
            let mut r = Reader::new(&w.bytes[..cut]);
            let read = r
                .str()
                .and_then(|_| Groups::read(&mut r))
                .and_then(|_| r.u32s());
            assert!(read.is_err(), "cut at {cut}");
        }
    }
}
