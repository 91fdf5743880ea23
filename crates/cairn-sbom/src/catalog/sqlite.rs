//! A minimal read-only SQLite reader: enough to list the rows of one rowid table from a
//! database file held in memory (table b-trees, overflow pages, the record format). Used for
//! the rpm database (`rpmdb.sqlite`); a write-ahead log that was not checkpointed is not read.

use std::collections::HashSet;

/// A column value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

/// Why a database could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub &'static str);

pub(crate) struct Db<'a> {
    data: &'a [u8],
    page_size: usize,
    usable: usize,
}

fn be16(b: &[u8], o: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(o)?,
        *b.get(o + 1)?,
    ])))
}

fn be32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

/// SQLite varint: 1-9 bytes, big-endian 7-bit groups, the ninth byte whole.
fn varint(b: &[u8], o: usize) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(o + i)?;
        if i == 8 {
            return Some(((v << 8) | u64::from(byte), 9));
        }
        v = (v << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

impl<'a> Db<'a> {
    pub(crate) fn open(data: &'a [u8]) -> Result<Db<'a>, Malformed> {
        if data.len() < 100 || !data.starts_with(b"SQLite format 3\0") {
            return Err(Malformed("not an sqlite 3 database"));
        }
        let ps = be16(data, 16).ok_or(Malformed("truncated header"))?;
        let page_size = if ps == 1 { 65536 } else { ps };
        if page_size < 512 || !page_size.is_power_of_two() {
            return Err(Malformed("bad page size"));
        }
        let reserved = usize::from(data[20]);
        let usable = page_size
            .checked_sub(reserved)
            .filter(|u| *u >= 480)
            .ok_or(Malformed("bad reserved size"))?;
        Ok(Db {
            data,
            page_size,
            usable,
        })
    }

    fn page(&self, n: u32) -> Result<&'a [u8], Malformed> {
        let n = n as usize;
        if n == 0 {
            return Err(Malformed("page 0 referenced"));
        }
        let start = (n - 1) * self.page_size;
        self.data
            .get(start..start + self.page_size)
            .ok_or(Malformed("page beyond the end of the file"))
    }

    /// The root page of table `name` from the schema table.
    pub(crate) fn table_root(&self, name: &str) -> Result<Option<u32>, Malformed> {
        let mut root = None;
        self.scan(1, &mut |rec| {
            let cols = record(rec)?;
            let is_table = matches!(cols.first(), Some(Value::Text(b"table")));
            let n = match cols.get(1) {
                Some(Value::Text(t)) => *t,
                _ => return Ok(()),
            };
            if is_table
                && n.eq_ignore_ascii_case(name.as_bytes())
                && let Some(Value::Int(r)) = cols.get(3)
            {
                root = u32::try_from(*r).ok();
            }
            Ok(())
        })?;
        Ok(root)
    }

    /// Calls `f` with the payload of every row of the table b-tree rooted at `root`.
    pub(crate) fn scan(
        &self,
        root: u32,
        f: &mut dyn FnMut(&[u8]) -> Result<(), Malformed>,
    ) -> Result<(), Malformed> {
        let mut stack = vec![root];
        let mut seen = HashSet::new();
        while let Some(pn) = stack.pop() {
            if !seen.insert(pn) {
                return Err(Malformed("b-tree page cycle"));
            }
            let page = self.page(pn)?;
            let hdr = if pn == 1 { 100 } else { 0 };
            let kind = *page.get(hdr).ok_or(Malformed("truncated page"))?;
            let cells = be16(page, hdr + 3).ok_or(Malformed("truncated page"))?;
            let (hlen, interior) = match kind {
                0x0d => (8, false),
                0x05 => (12, true),
                _ => return Err(Malformed("not a table b-tree page")),
            };
            let mut children = Vec::new();
            for i in 0..cells {
                let ptr = be16(page, hdr + hlen + 2 * i).ok_or(Malformed("bad cell pointer"))?;
                if interior {
                    children.push(be32(page, ptr).ok_or(Malformed("bad interior cell"))?);
                } else {
                    let payload = self.cell_payload(page, ptr)?;
                    f(&payload)?;
                }
            }
            if interior {
                children.push(be32(page, hdr + 8).ok_or(Malformed("bad right pointer"))?);
                // Pushed in reverse so rows come out in rowid order.
                stack.extend(children.into_iter().rev());
            }
        }
        Ok(())
    }

    fn cell_payload(&self, page: &[u8], ptr: usize) -> Result<Vec<u8>, Malformed> {
        let bad = Malformed("bad leaf cell");
        let (size, n1) = varint(page, ptr).ok_or(bad.clone())?;
        let (_rowid, n2) = varint(page, ptr + n1).ok_or(bad.clone())?;
        let size = usize::try_from(size).map_err(|_| bad.clone())?;
        if size > self.data.len() {
            return Err(Malformed("payload larger than the database"));
        }
        let start = ptr + n1 + n2;
        let u = self.usable;
        let x = u - 35;
        let local = if size <= x {
            size
        } else {
            let m = ((u - 12) * 32 / 255) - 23;
            let k = m + ((size - m) % (u - 4));
            if k <= x { k } else { m }
        };
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(page.get(start..start + local).ok_or(bad.clone())?);
        let mut next = if local < size {
            be32(page, start + local).ok_or(bad.clone())?
        } else {
            0
        };
        let mut hops = 0usize;
        while out.len() < size {
            if next == 0 || hops > self.data.len() / self.page_size {
                return Err(Malformed("overflow chain ends early"));
            }
            let p = self.page(next)?;
            let take = (size - out.len()).min(u - 4);
            out.extend_from_slice(p.get(4..4 + take).ok_or(bad.clone())?);
            next = be32(p, 0).ok_or(bad.clone())?;
            hops += 1;
        }
        Ok(out)
    }
}

/// Decodes a record (header of serial types, then the values).
pub(crate) fn record(rec: &[u8]) -> Result<Vec<Value<'_>>, Malformed> {
    let bad = Malformed("bad record");
    let (hsize, n) = varint(rec, 0).ok_or(bad.clone())?;
    let hsize = usize::try_from(hsize).map_err(|_| bad.clone())?;
    let mut types = Vec::new();
    let mut o = n;
    while o < hsize {
        let (t, k) = varint(rec, o).ok_or(bad.clone())?;
        types.push(t);
        o += k;
    }
    let mut body = hsize;
    let mut out = Vec::with_capacity(types.len());
    for t in types {
        let int = |len: usize, body: usize| -> Result<i64, Malformed> {
            let b = rec.get(body..body + len).ok_or(Malformed("bad record"))?;
            let mut v: i64 = if b.first().is_some_and(|x| x & 0x80 != 0) {
                -1
            } else {
                0
            };
            for &x in b {
                v = (v << 8) | i64::from(x);
            }
            Ok(v)
        };
        let (v, len) = match t {
            0 => (Value::Null, 0),
            1..=4 => (Value::Int(int(t as usize, body)?), t as usize),
            5 => (Value::Int(int(6, body)?), 6),
            6 => (Value::Int(int(8, body)?), 8),
            7 => {
                let b: [u8; 8] = rec
                    .get(body..body + 8)
                    .ok_or(bad.clone())?
                    .try_into()
                    .map_err(|_| bad.clone())?;
                (Value::Real(f64::from_be_bytes(b)), 8)
            }
            8 => (Value::Int(0), 0),
            9 => (Value::Int(1), 0),
            10 | 11 => return Err(bad),
            t => {
                let len = usize::try_from((t - 12) / 2).map_err(|_| bad.clone())?;
                let b = rec.get(body..body + len).ok_or(bad.clone())?;
                (
                    if t % 2 == 0 {
                        Value::Blob(b)
                    } else {
                        Value::Text(b)
                    },
                    len,
                )
            }
        };
        out.push(v);
        body += len;
    }
    Ok(out)
}
