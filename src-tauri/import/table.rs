//! A file as a table of text cells: CSV as Russian offices produce it (UTF-8 with or without a
//! byte-order mark, UTF-16, or Windows-1251; `;`, `,` or tab; quoted fields), or a sheet of an
//! XLSX, XLS or ODS workbook. CSV is streamed (a decoding reader under the CSV parser), never
//! loaded whole; a workbook's sheet is read by calamine.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader as _};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1251};

use crate::error::{Error, Result};

/// The largest file accepted: a CSV file is streamed, but a workbook's sheet is held in memory.
pub const MAX_CSV_BYTES: u64 = 512 * 1024 * 1024;
pub const MAX_WORKBOOK_BYTES: u64 = 64 * 1024 * 1024;

/// What kind of file it is, found by its content (not its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Workbook,
}

/// What a file is, for the wizard: its sheets (one, unnamed, for CSV) and how it was read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileInfo {
    pub sheets: Vec<String>,
    /// `utf-8`, `windows-1251`, ... (CSV only).
    pub encoding: Option<&'static str>,
    /// `;`, `,` or a tab (CSV only).
    pub delimiter: Option<char>,
}

fn refused(code: &'static str) -> Error {
    Error::state(code)
}

fn unreadable(path: &Path, e: &std::io::Error) -> Error {
    Error::State {
        code: "import_unreadable",
        params: vec![("path", path.display().to_string()), ("reason", e.to_string())],
    }
}

/// Looks at a file: its kind, size, encoding and delimiter, its sheets.
pub fn inspect(path: &Path) -> Result<(FileKind, FileInfo)> {
    let size = std::fs::metadata(path).map_err(|e| unreadable(path, &e))?.len();
    if size == 0 {
        return Err(refused("import_empty"));
    }
    let mut head = vec![0u8; 64 * 1024];
    let n =
        std::fs::File::open(path).and_then(|mut f| read_up_to(&mut f, &mut head)).map_err(|e| unreadable(path, &e))?;
    head.truncate(n);
    if head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        if size > MAX_WORKBOOK_BYTES {
            return Err(Error::State {
                code: "import_too_big",
                params: vec![("max", (MAX_WORKBOOK_BYTES >> 20).to_string())],
            });
        }
        let workbook = open_workbook_auto(path).map_err(|_| refused("import_not_a_table"))?;
        let sheets = workbook.sheet_names();
        if sheets.is_empty() {
            return Err(refused("import_not_a_table"));
        }
        return Ok((FileKind::Workbook, FileInfo { sheets, encoding: None, delimiter: None }));
    }
    if size > MAX_CSV_BYTES {
        return Err(Error::State { code: "import_too_big", params: vec![("max", (MAX_CSV_BYTES >> 20).to_string())] });
    }
    let encoding = detect_encoding(&head)?;
    let (text, _, _) = encoding.decode(&head);
    let delimiter = detect_delimiter(&text);
    Ok((
        FileKind::Csv,
        FileInfo { sheets: vec![String::new()], encoding: Some(encoding.name()), delimiter: Some(delimiter as char) },
    ))
}

fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// UTF-8 (with or without a byte-order mark), UTF-16 (with one), else Windows-1251 when the
/// text reads as such: letters, digits, punctuation, no control characters.
fn detect_encoding(head: &[u8]) -> Result<&'static Encoding> {
    if let Some((encoding, _)) = Encoding::for_bom(head) {
        return Ok(encoding);
    }
    // a multi-byte character may be cut at the end of the sample
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > head.len(),
    };
    if valid {
        return if has_controls(&String::from_utf8_lossy(head)) {
            Err(refused("import_not_a_table"))
        } else {
            Ok(UTF_8)
        };
    }
    let (text, _, _) = WINDOWS_1251.decode(head);
    if has_controls(&text) {
        return Err(refused("import_not_a_table"));
    }
    // Windows-1251 maps almost every byte to something: call it that only when most letters
    // above ASCII are Cyrillic, as in a Russian table
    let (cyrillic, other) = text.chars().filter(|c| !c.is_ascii()).fold((0, 0), |(cy, ot), c| {
        if ('\u{0400}'..='\u{04FF}').contains(&c) {
            (cy + 1, ot)
        } else {
            (cy, ot + 1)
        }
    });
    // ...and words are written in one alphabet: Latin-1 "téléphone" reads as "tйlйphone"
    let chars: Vec<char> = text.chars().collect();
    let is_cyrillic = |c: char| ('\u{0400}'..='\u{04FF}').contains(&c);
    let mixed = chars
        .windows(2)
        .filter(|w| {
            (is_cyrillic(w[0]) && w[1].is_ascii_alphabetic()) || (w[0].is_ascii_alphabetic() && is_cyrillic(w[1]))
        })
        .count();
    if cyrillic > 0 && cyrillic >= other * 4 && mixed * 5 <= cyrillic {
        Ok(WINDOWS_1251)
    } else {
        Err(refused("import_encoding"))
    }
}

fn has_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n' | '\u{feff}'))
}

/// The delimiter that splits the first lines most evenly: `;`, tab or `,` (one column: `,`).
fn detect_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(20).collect();
    let mut best = (b',', 0usize);
    for candidate in [b';', b'\t', b','] {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, candidate)).collect();
        let min = counts.iter().copied().min().unwrap_or(0);
        if min > best.1 {
            best = (candidate, min);
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, delimiter: u8) -> usize {
    let mut quoted = false;
    line.bytes()
        .filter(|b| {
            if *b == b'"' {
                quoted = !quoted;
            }
            !quoted && *b == delimiter
        })
        .count()
}

/// Decodes a byte stream of `encoding` into UTF-8 as it is read.
struct Decoding<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    start: usize,
    done: bool,
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.start == self.output.len() && !self.done {
            self.input.resize(32 * 1024, 0);
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            let mut text = String::with_capacity(n * 2 + 16);
            let needed = self.decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16);
            text.reserve(needed);
            let (_, _, _) = self.decoder.decode_to_string(&self.input[..n], &mut text, last);
            self.output = text.into_bytes();
            self.start = 0;
            self.done = last;
        }
        let n = buf.len().min(self.output.len() - self.start);
        buf[..n].copy_from_slice(&self.output[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

/// Rows of a table, each a vector of cells as text, the header row first.
pub enum Rows {
    Csv(Box<csv::StringRecordsIntoIter<Box<dyn Read + Send>>>),
    Sheet(std::vec::IntoIter<Vec<String>>),
}

impl Iterator for Rows {
    type Item = Result<Vec<String>>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Csv(records) => records.next().map(|r| {
                r.map(|record| record.iter().map(str::to_owned).collect())
                    .map_err(|e| Error::State { code: "import_bad_csv", params: vec![("reason", e.to_string())] })
            }),
            Self::Sheet(rows) => rows.next().map(Ok),
        }
    }
}

/// Opens the rows of `sheet` (ignored for CSV; the first sheet when empty).
pub fn open(path: &Path, sheet: &str) -> Result<Rows> {
    let (kind, info) = inspect(path)?;
    match kind {
        FileKind::Csv => {
            let file = std::fs::File::open(path).map_err(|e| unreadable(path, &e))?;
            let mut reader = BufReader::new(file);
            let head = reader.fill_buf().map_err(|e| unreadable(path, &e))?.to_vec();
            let encoding = detect_encoding(&head)?;
            let decoder = encoding.new_decoder_with_bom_removal();
            let decoded: Box<dyn Read + Send> = if encoding == UTF_8 {
                // skip the byte-order mark only
                let skip = if head.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
                reader.consume(skip);
                Box::new(reader)
            } else {
                Box::new(Decoding {
                    inner: reader,
                    decoder,
                    input: Vec::new(),
                    output: Vec::new(),
                    start: 0,
                    done: false,
                })
            };
            let delimiter = info.delimiter.map_or(b',', |c| c as u8);
            let records = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .has_headers(false)
                .flexible(true)
                .from_reader(decoded)
                .into_records();
            Ok(Rows::Csv(Box::new(records)))
        }
        FileKind::Workbook => {
            let mut workbook = open_workbook_auto(path).map_err(|_| refused("import_not_a_table"))?;
            let name = if sheet.is_empty() { info.sheets[0].clone() } else { sheet.to_owned() };
            if !info.sheets.contains(&name) {
                return Err(Error::State { code: "import_no_sheet", params: vec![("sheet", name)] });
            }
            let range = workbook.worksheet_range(&name).map_err(|_| refused("import_not_a_table"))?;
            let rows: Vec<Vec<String>> = range.rows().map(|row| row.iter().map(cell_text).collect()).collect();
            Ok(Rows::Sheet(rows.into_iter()))
        }
    }
}

/// A spreadsheet cell as the text a person would type: whole numbers without `.0` (phone
/// numbers stored as numbers), dates as `YYYY-MM-DD` (with the time when it has one).
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            None => d.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delimiter_is_the_one_that_splits_every_line() {
        assert_eq!(detect_delimiter("ФИО;Телефон\nИван, сын;+7912\n"), b';');
        assert_eq!(detect_delimiter("name,phone\nIvan,+7912\n"), b',');
        assert_eq!(detect_delimiter("name\tphone\nIvan\t+7912\n"), b'\t');
        assert_eq!(detect_delimiter("\"Петров; Иван\",+7912\n\"a;b\",c\n"), b',');
        assert_eq!(detect_delimiter("ФИО\nИван\n"), b',');
    }

    #[test]
    fn windows_1251_is_told_from_utf_8_and_from_binary() {
        let (cp1251, _, _) = WINDOWS_1251.encode("ФИО;Телефон\nИванов Иван;89123456789\n");
        assert_eq!(detect_encoding(&cp1251).unwrap().name(), "windows-1251");
        assert_eq!(detect_encoding("ФИО;Телефон".as_bytes()).unwrap().name(), "UTF-8");
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFname").unwrap().name(), "UTF-8");
        assert!(matches!(
            detect_encoding(b"\x89PNG\r\n\x1a\n\0\0\0"),
            Err(Error::State { code: "import_not_a_table", .. })
        ));
        // Latin-1 accented text is neither
        assert!(matches!(
            detect_encoding(b"caf\xe9 cr\xe8me;na\xefve\n"),
            Err(Error::State { code: "import_encoding", .. })
        ));
    }
}
