//! The records of a chunk, parsed by the csv crate's own engine (`csv-core`) straight from the
//! chunk's bytes.
//!
//! `csv::Reader` over a byte slice copies every byte into its own buffer first and keeps a
//! position, a record count and the first record as headers; a chunk is already in memory,
//! and its records need none of that. [`Records`] drives `csv_core::Reader::read_record` as
//! `csv::Reader::read_byte_record` does (the same defaults: double quotes, any of CR, LF or
//! CRLF as terminator, no escape or comment character), so the fields and the offsets are the
//! ones the csv crate gives for records after a file's header; the test
//! `records_are_the_csv_readers` compares them on awkward input. The records start after the
//! header, so a byte-order mark is data here, as it is to the csv crate anywhere but at the
//! start of a file (`csv-core` alone would skip one at the start of every chunk).

use std::ops::Range;

/// One record's fields, unescaped, end to end, as `csv_core` writes them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    bytes: Vec<u8>,
    /// Where each field ends in `bytes`; only the first `len` are this record's.
    ends: Vec<usize>,
    len: usize,
}

impl Record {
    /// The number of fields.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Where each field ends in [`Record::as_slice`].
    #[inline(always)]
    pub fn ends(&self) -> &[usize] {
        &self.ends[..self.len]
    }

    /// Every field's bytes, end to end.
    #[inline(always)]
    pub fn as_slice(&self) -> &[u8] {
        let end = match self.len {
            0 => 0,
            n => self.ends[n - 1],
        };
        &self.bytes[..end]
    }

    /// Where field `i` lies in [`Record::as_slice`].
    #[inline(always)]
    pub fn range(&self, i: usize) -> Option<Range<usize>> {
        if i >= self.len {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(start..self.ends[i])
    }

    /// Field `i`'s bytes.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.range(i).map(|r| &self.bytes[r])
    }

    /// Every field's bytes, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len).filter_map(|i| self.get(i))
    }
}

#[cfg(test)]
impl<T: AsRef<[u8]>> From<Vec<T>> for Record {
    fn from(fields: Vec<T>) -> Record {
        let mut r = Record::default();
        for f in &fields {
            r.bytes.extend_from_slice(f.as_ref());
            r.ends.push(r.bytes.len());
        }
        r.len = fields.len();
        r
    }
}

/// The records of a slice of CSV bytes, each with the offset at which the csv crate places it
/// (just after the previous record's terminator, or on the LF of a CRLF).
pub(crate) struct Records<'a> {
    core: csv_core::Reader,
    input: &'a [u8],
    /// Bytes of `input` consumed.
    at: usize,
    done: bool,
    /// Nothing has been given to `core` yet.
    fresh: bool,
}

/// The UTF-8 byte-order mark.
const BOM: &[u8] = b"\xef\xbb\xbf";

impl<'a> Records<'a> {
    pub fn new(input: &'a [u8], delimiter: u8) -> Records<'a> {
        Records {
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            input,
            at: 0,
            done: false,
            fresh: true,
        }
    }

    /// The offset in the input just past the last record read (and whatever of its line
    /// break the parser took with it).
    pub fn offset(&self) -> usize {
        self.at
    }

    /// Reads the next record into `rec`: its offset in the input, or `None` at the end.
    #[inline]
    pub fn next_into(&mut self, rec: &mut Record) -> Option<usize> {
        use csv_core::ReadRecordResult::{End, InputEmpty, OutputEndsFull, OutputFull, Record};
        if self.done {
            return None;
        }
        if rec.bytes.is_empty() {
            rec.bytes.resize(256, 0);
        }
        if rec.ends.is_empty() {
            rec.ends.resize(16, 0);
        }
        let start = self.at;
        let (mut out, mut ends) = (0, 0);
        loop {
            let mut input = &self.input[self.at..];
            if std::mem::take(&mut self.fresh) && input.starts_with(BOM) {
                // `csv-core` skips a byte-order mark only when its first input holds all of
                // it: given one byte first, it keeps the mark as data.
                input = &input[..1];
            }
            let (res, nin, nout, nend) =
                self.core
                    .read_record(input, &mut rec.bytes[out..], &mut rec.ends[ends..]);
            self.at += nin;
            out += nout;
            ends += nend;
            match res {
                // The whole slice was given at once: an empty input now tells csv-core that
                // the data has ended, so the next call finishes the last record.
                InputEmpty => continue,
                OutputFull => {
                    let n = rec.bytes.len() * 2;
                    rec.bytes.resize(n, 0);
                }
                OutputEndsFull => {
                    let n = rec.ends.len() * 2;
                    rec.ends.resize(n, 0);
                }
                Record => {
                    rec.len = ends;
                    return Some(start);
                }
                End => {
                    self.done = true;
                    rec.len = 0;
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Record, Records};
    use proptest::prelude::*;

    /// Every record as the csv crate reads it (flexible) after a header line: fields and
    /// offset from the end of that line.
    fn csv_crate(data: &[u8], delimiter: u8) -> Vec<(Vec<Vec<u8>>, u64)> {
        let file = [b"h\n".as_slice(), data].concat();
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(7)
            .from_reader(file.as_slice());
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while r.read_byte_record(&mut rec).unwrap() {
            let at = rec.position().map_or(0, |p| p.byte()) - 2;
            out.push((rec.iter().map(<[u8]>::to_vec).collect(), at));
        }
        out
    }

    fn ours(data: &[u8], delimiter: u8) -> Vec<(Vec<Vec<u8>>, u64)> {
        let mut records = Records::new(data, delimiter);
        let mut rec = Record::default();
        let mut out = Vec::new();
        while let Some(at) = records.next_into(&mut rec) {
            assert_eq!(
                rec.as_slice(),
                rec.iter().collect::<Vec<_>>().concat().as_slice()
            );
            out.push((rec.iter().map(<[u8]>::to_vec).collect(), at as u64));
        }
        // Finished stays finished.
        assert_eq!(records.next_into(&mut rec), None);
        out
    }

    #[test]
    fn awkward_records_are_the_csv_readers() {
        let long = "x".repeat(3000);
        let many = vec!["a"; 40].join(",");
        for data in [
            String::new(),
            "\u{feff}a,b\r\n1,2".to_string(),
            "\r\n\u{feff}a,b\r\n\u{feff}1,2".to_string(),
            "a,\"b\nc\",d\r\n\r\n\n\"e\"\"f\",,\n".to_string(),
            format!("{long},{many}\n1\n\"unclosed,2\n3"),
            "\n\n\r\n".to_string(),
            "é,£;x\t\"q\"\"\"\n".to_string(),
        ] {
            for d in [b',', b';', b'\t'] {
                assert_eq!(ours(data.as_bytes(), d), csv_crate(data.as_bytes(), d));
            }
        }
    }

    proptest! {
        /// Any bytes made of the characters that matter to CSV split into the same records,
        /// fields and offsets as the csv crate's reader gives.
        #[test]
        fn records_are_the_csv_readers(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"ab,;\t\"\r\n \xef\xbb\xbf\xff".to_vec()), 0..200),
            delimiter in proptest::sample::select(vec![b',', b';', b'\t']),
        ) {
            prop_assert_eq!(ours(&bytes, delimiter), csv_crate(&bytes, delimiter));
        }
    }
}
