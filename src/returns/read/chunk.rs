//! Cutting a file into chunks that end on record boundaries, so that chunks can be parsed and
//! checked in parallel and their results put back in file order.
//!
//! The csv crate still does all the parsing, of every chunk. This module only decides where a
//! chunk may end: after a line feed that is not inside a quoted field. That needs the quoting
//! state at each line feed, which it follows by visiting the quote characters alone (found with
//! `memchr`, so a file without quotes costs one fast scan), by the same rules as the csv crate's
//! parser: a quote opens a quoted field only at the start of a field; inside one, two quotes are
//! a literal quote and one quote closes it; after that the field goes on unquoted, where quotes
//! are literal. A chunk always starts at the start of a record, so the state there is known.

use std::io::Read;

/// Bytes of one chunk: whole records (or, at the end of the file, whatever is left).
pub(crate) struct Chunk {
    pub bytes: Vec<u8>,
    /// Where the records begin in `bytes` (after the header, in the header's chunk).
    pub start: usize,
    /// The physical line (1-based) on which `bytes[0]` lies.
    pub line: u64,
    /// A read error that ended the file after these bytes.
    pub error: Option<String>,
}

/// Reads a file into [`Chunk`]s of about `target` bytes.
pub(crate) struct Chunker<R> {
    input: R,
    /// The start of the next chunk: bytes read past the last record boundary.
    carry: Vec<u8>,
    /// The physical line of `carry[0]`.
    line: u64,
    eof: bool,
    delimiter: u8,
    target: usize,
}

impl<R: Read> Chunker<R> {
    pub fn new(input: R, delimiter: u8, target: usize) -> Chunker<R> {
        Chunker {
            input,
            carry: Vec::new(),
            line: 1,
            eof: false,
            delimiter,
            target: target.max(1),
        }
    }

    /// Whether every byte of the file has been handed out.
    pub fn finished(&self) -> bool {
        self.eof && self.carry.is_empty()
    }

    /// The next chunk, read into `buf` (a recycled buffer), or `None` at the end of the file.
    pub fn next_chunk(&mut self, mut buf: Vec<u8>) -> Option<Chunk> {
        if self.finished() {
            return None;
        }
        buf.clear();
        buf.append(&mut self.carry);
        let mut error = None;
        let mut want = self.target.max(buf.len() + 1);
        loop {
            if !self.eof && buf.len() < want {
                let need = want - buf.len();
                match (&mut self.input).take(need as u64).read_to_end(&mut buf) {
                    Ok(n) if n < need => self.eof = true,
                    Ok(_) => {}
                    Err(e) => {
                        error = Some(e.to_string());
                        self.eof = true;
                    }
                }
            }
            if self.eof {
                break;
            }
            match last_record_end(&buf, self.delimiter) {
                Some(end) => {
                    self.carry.extend_from_slice(&buf[end..]);
                    buf.truncate(end);
                    break;
                }
                // One record longer than the chunk: read on.
                None => want = want.saturating_mul(2),
            }
        }
        let line = self.line;
        self.line += memchr::memchr_iter(b'\n', &buf).count() as u64;
        Some(Chunk {
            bytes: buf,
            start: 0,
            line,
            error,
        })
    }
}

/// The end (one past a line feed) of the last complete record in `buf`, which starts at the
/// start of a record; `None` when no line feed in it ends a record.
pub(crate) fn last_record_end(buf: &[u8], delimiter: u8) -> Option<usize> {
    let mut lf = memchr::memrchr(b'\n', buf)?;
    if memchr::memchr(b'"', buf).is_none() {
        return Some(lf + 1);
    }
    let quoted = quoted_spans(buf, delimiter);
    // Walk back past the line feeds that fall inside a quoted field.
    for &(open, close) in quoted.iter().rev() {
        if lf < open {
            continue;
        }
        if lf < close {
            lf = memchr::memrchr(b'\n', &buf[..open])?;
        } else {
            break;
        }
    }
    Some(lf + 1)
}

/// The quoted fields of `buf` as (opening quote, one past the closing quote) pairs, in order;
/// an unclosed last one runs to the end of `buf`.
fn quoted_spans(buf: &[u8], delimiter: u8) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut at = 0;
    let mut open: Option<usize> = None;
    while let Some(i) = memchr::memchr(b'"', &buf[at..]).map(|i| at + i) {
        match open {
            None => {
                let field_start =
                    i == 0 || matches!(buf[i - 1], b'\n' | b'\r') || buf[i - 1] == delimiter;
                if field_start {
                    open = Some(i);
                }
                at = i + 1;
            }
            Some(o) => match buf.get(i + 1) {
                Some(b'"') => at = i + 2,
                // The next byte decides between a doubled quote and a closing one: unknown.
                None => {
                    spans.push((o, buf.len()));
                    return spans;
                }
                Some(_) => {
                    spans.push((o, i + 1));
                    open = None;
                    at = i + 1;
                }
            },
        }
    }
    if let Some(o) = open {
        spans.push((o, buf.len()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(text: &[u8], target: usize) -> Vec<(Vec<u8>, u64)> {
        let mut c = Chunker::new(text, b',', target);
        let mut out = Vec::new();
        while let Some(ch) = c.next_chunk(Vec::new()) {
            out.push((ch.bytes, ch.line));
        }
        out
    }

    #[test]
    fn cuts_after_line_feeds_outside_quotes() {
        assert_eq!(last_record_end(b"a,b\nc,d\ne", b','), Some(8));
        assert_eq!(last_record_end(b"a,\"b\nc\",d\ne", b','), Some(10));
        assert_eq!(last_record_end(b"a,\"b\nc", b','), None);
        assert_eq!(last_record_end(b"x\na,\"b\nc", b','), Some(2));
        // A quote inside an unquoted field is literal.
        assert_eq!(last_record_end(b"a,b\"c\nd\n", b','), Some(8));
        // Doubled quotes stay inside; a closing quote followed by text ends the quoting.
        assert_eq!(last_record_end(b"\"a\"\"\nb\"\nc", b','), Some(8));
        assert_eq!(last_record_end(b"\"a\"x\"\ny\n", b','), Some(8));
        // A quote at the very end could be doubled by the next byte: treated as still open.
        assert_eq!(last_record_end(b"z\n\"a\nb\"", b','), Some(2));
        assert_eq!(last_record_end(b"a;\"b\nc\";d\ne", b';'), Some(10));
        assert_eq!(last_record_end(b"no line feed", b','), None);
    }

    #[test]
    fn chunks_rejoin_to_the_file_with_their_lines() {
        let text = b"h,v\n1,\"x\ny\"\n2,3\r\n\n4,\"\"\"q\n\"\n5,6";
        for target in 1..text.len() + 2 {
            let got = chunks(text, target);
            let joined: Vec<u8> = got.iter().flat_map(|(b, _)| b.clone()).collect();
            assert_eq!(joined, text.to_vec(), "target {target}");
            let mut line = 1;
            for (bytes, l) in &got {
                assert_eq!(*l, line);
                line += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
                // Every chunk but the last ends a record.
                if bytes.as_ptr() != got.last().unwrap().0.as_ptr() {
                    assert_eq!(bytes.last(), Some(&b'\n'));
                }
            }
            // Chunks never cut inside a quoted field: each parses to whole records.
            let records = |b: &[u8]| {
                csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(b)
                    .byte_records()
                    .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            };
            let whole = records(text);
            let pieces: Vec<_> = got.iter().flat_map(|(b, _)| records(b)).collect();
            assert_eq!(pieces, whole, "target {target}");
        }
    }
}
