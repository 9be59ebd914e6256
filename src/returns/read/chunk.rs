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
    ///
    /// `buf` comes back from the checkers still as long as the chunk it held, and its bytes
    /// are read over in place: a buffer made longer must first be filled with zeros (safe Rust
    /// reads only into initialized memory), so cleared and refilled each time, it cost writing
    /// a megabyte of zeros a chunk, the whole file over again.
    pub fn next_chunk(&mut self, mut buf: Vec<u8>) -> Option<Chunk> {
        if self.finished() {
            return None;
        }
        let mut filled = self.carry.len();
        let mut want = self.target.max(filled + 1);
        if buf.len() < filled {
            buf.resize(filled, 0);
        }
        buf[..filled].copy_from_slice(&self.carry);
        self.carry.clear();
        let mut error = None;
        loop {
            while !self.eof && filled < want {
                if buf.len() <= filled {
                    // Grown as it is read, doubling from 64 KB: a small file's chunk (or a
                    // test's chunk of a gigabyte) is never zeroed beyond what it holds.
                    let grow = (want - filled).min(filled.max(1 << 16));
                    buf.resize(filled + grow, 0);
                }
                let end = buf.len().min(want);
                match self.input.read(&mut buf[filled..end]) {
                    Ok(0) => self.eof = true,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        error = Some(e.to_string());
                        self.eof = true;
                    }
                }
            }
            if self.eof {
                break;
            }
            match last_record_end(&buf[..filled], self.delimiter) {
                Some(end) => {
                    self.carry.extend_from_slice(&buf[end..filled]);
                    filled = end;
                    break;
                }
                // One record longer than the chunk: read on.
                None => want = want.saturating_mul(2),
            }
        }
        buf.truncate(filled);
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

/// Whether `record` (the raw bytes of records from a record's start to the end of the file)
/// ends inside a quoted field: a quote opened at the start of a field and never closed. By
/// the csv crate's rules, as [`quoted_spans`] follows them, except that a quote at the very
/// end closes its field (nothing can double it).
pub(crate) fn ends_inside_quotes(record: &[u8], delimiter: u8) -> bool {
    match quoted_spans(record, delimiter).last() {
        Some(&(open, end)) if end == record.len() => {
            // Open to the end, unless its closing quote is the last byte (and not the
            // opening one, nor the second of a doubled pair).
            let inside = &record[open + 1..];
            let trailing = inside.iter().rev().take_while(|&&b| b == b'"').count();
            trailing % 2 == 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_quote_left_open_at_the_end() {
        for (text, open) in [
            (&b"a,\"b\nc,d\ne\n"[..], true),
            (b"a,\"b\"\n", false),
            (b"a,\"b\"", false),
            (b"a,\"b\"\"", true),
            (b"a,\"b\"\"\"", false),
            (b"a,\"", true),
            (b"a,b\"c\n", false),
            (b"\"x\"y\"\n", false),
            (b"a,b\n", false),
            (b"", false),
        ] {
            assert_eq!(
                ends_inside_quotes(text, b','),
                open,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

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

    /// Buffers handed back longer than the next chunk and full of an earlier chunk's bytes (as
    /// the checkers hand them back) give the same chunks as fresh ones; a read error ends the
    /// file after the bytes read before it, and is told with the last chunk.
    #[test]
    fn recycled_buffers_and_a_read_error() {
        let text = b"h,v\n1,\"x\ny\"\n2,3\r\n\n4,\"\"\"q\n\"\n5,6";
        for target in 1..text.len() + 2 {
            let mut c = Chunker::new(&text[..], b',', target);
            let mut spare = vec![b'#'; 3 * text.len()];
            let mut got = Vec::new();
            while let Some(ch) = c.next_chunk(std::mem::take(&mut spare)) {
                got.push((ch.bytes.clone(), ch.line));
                spare = ch.bytes;
            }
            assert_eq!(got, chunks(text, target), "target {target}");
        }
        /// Three bytes a read, then an error.
        struct Failing<'a>(&'a [u8]);
        impl std::io::Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("the disk went away"));
                }
                let n = buf.len().min(self.0.len()).min(3);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        for target in [1, 4, 100] {
            let mut c = Chunker::new(Failing(b"a,b\nc,d\ne,"), b',', target);
            let (mut all, mut errors) = (Vec::new(), Vec::new());
            while let Some(ch) = c.next_chunk(Vec::new()) {
                all.extend_from_slice(&ch.bytes);
                errors.push(ch.error);
            }
            assert_eq!(all, b"a,b\nc,d\ne,".to_vec(), "target {target}");
            let (last, before) = errors.split_last().unwrap();
            assert_eq!(last.as_deref(), Some("the disk went away"));
            assert!(before.iter().all(Option::is_none), "target {target}");
        }
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
