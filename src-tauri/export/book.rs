//! A spreadsheet being written, row by row, to XLSX or to CSV for Excel. Rows go straight to
//! disk (rust_xlsxwriter's constant-memory mode, a buffered CSV writer) on a thread of their
//! own, while the caller reads the next rows from the database: an export of a million rows
//! keeps no more than a few thousand rows in memory.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Local, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format as XlsxFormat, Workbook};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::i18n::Lang;

/// The file kind of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Xlsx,
    Csv,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Xlsx => "xlsx",
            Self::Csv => "csv",
        }
    }
}

/// One cell, typed: Excel gets numbers, money and dates it can compute with.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Int(i64),
    Money(Decimal),
    /// A fraction shown as a percentage.
    Percent(Decimal),
    /// A plain ratio (ROAS).
    Ratio(Decimal),
    Date(NaiveDate),
    /// A moment, shown in local time.
    Time(DateTime<Utc>),
    Empty,
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Self {
        Self::Text(value.into())
    }

    pub fn opt_text(value: Option<impl Into<String>>) -> Self {
        value.map_or(Self::Empty, |v| Self::Text(v.into()))
    }
}

/// A column: its title and its width in characters (XLSX).
#[derive(Clone)]
pub struct Column {
    pub title: String,
    pub width: f64,
}

/// Cell formats of an XLSX export, in the user's language.
struct Formats {
    header: XlsxFormat,
    money: XlsxFormat,
    percent: XlsxFormat,
    ratio: XlsxFormat,
    date: XlsxFormat,
    time: XlsxFormat,
}

impl Formats {
    fn new(lang: Lang) -> Self {
        let (date, time) = match lang {
            Lang::Ru => ("dd.mm.yyyy", "dd.mm.yyyy hh:mm"),
            Lang::En => ("d mmm yyyy", "d mmm yyyy hh:mm"),
        };
        Self {
            header: XlsxFormat::new().set_bold().set_background_color("#E8EEF4"),
            money: XlsxFormat::new().set_num_format("#,##0.00\\ \"₽\""),
            percent: XlsxFormat::new().set_num_format("0.0%"),
            ratio: XlsxFormat::new().set_num_format("0.00"),
            date: XlsxFormat::new().set_num_format(date),
            time: XlsxFormat::new().set_num_format(time),
        }
    }
}

enum Sink {
    Xlsx { workbook: Box<Workbook>, formats: Box<Formats>, sheet: Option<usize>, columns: u16 },
    Csv { writer: Box<csv::Writer<std::io::BufWriter<std::fs::File>>>, tables: usize },
}

/// What the writing thread is asked to do.
enum Command {
    Table(String, Vec<Column>),
    Rows(Vec<Vec<Cell>>),
    Finish,
}

/// Rows handed to the writing thread at once, and batches that may wait for it: the reader
/// runs at most this far ahead.
const BATCH: usize = 1000;
const QUEUE: usize = 4;

/// A spreadsheet being written to a file beside its final path, renamed there by
/// [`Book::finish`]: an export that fails half-way leaves no half file under the chosen name.
/// The writing happens on a thread of its own (formatting and compressing a million rows is
/// as much work as reading them).
pub struct Book {
    commands: Option<std::sync::mpsc::SyncSender<Command>>,
    batch: Vec<Vec<Cell>>,
    writer: Option<std::thread::JoinHandle<Result<()>>>,
}

impl Book {
    pub fn create(out: &Path, format: Format, lang: Lang) -> Result<Self> {
        let mut sheets = Sheets::create(out, format, lang)?;
        let (commands, queue) = std::sync::mpsc::sync_channel::<Command>(QUEUE);
        let writer = std::thread::Builder::new()
            .name("export-writer".into())
            .spawn(move || {
                let mut finished = false;
                let written = || -> Result<()> {
                    for command in queue {
                        match command {
                            Command::Table(name, columns) => sheets.table(&name, &columns)?,
                            Command::Rows(rows) => {
                                for row in rows {
                                    sheets.row(&row)?;
                                }
                            }
                            Command::Finish => {
                                finished = true;
                                break;
                            }
                        }
                    }
                    Ok(())
                };
                let written = written();
                let part = sheets.part.clone();
                // given up or failed: nothing is kept, not even a half file beside the target
                let result = match written {
                    Ok(()) if finished => sheets.finish(),
                    Ok(()) => Ok(()),
                    Err(e) => Err(e),
                };
                if result.is_err() || !finished {
                    let _ = std::fs::remove_file(&part);
                }
                result
            })
            .map_err(|e| write_error(out, e))?;
        Ok(Self { commands: Some(commands), batch: Vec::with_capacity(BATCH), writer: Some(writer) })
    }

    /// Starts a table: a worksheet named `name` (XLSX) or, after a blank line, a line with the
    /// name (CSV, from the second table on); then its header row.
    pub fn table(&mut self, name: &str, columns: &[Column]) -> Result<()> {
        self.flush()?;
        self.send(Command::Table(name.to_owned(), columns.to_vec()))
    }

    /// Writes one data row of the current table.
    pub fn row(&mut self, cells: Vec<Cell>) -> Result<()> {
        self.batch.push(cells);
        if self.batch.len() == BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let rows = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.send(Command::Rows(rows))
    }

    /// Hands `command` to the writing thread; if that thread has stopped, its error.
    fn send(&mut self, command: Command) -> Result<()> {
        let sent = self.commands.as_ref().is_some_and(|commands| commands.send(command).is_ok());
        if sent {
            Ok(())
        } else {
            self.commands = None;
            self.join()
        }
    }

    /// Waits for the writing thread and returns what it ended with.
    fn join(&mut self) -> Result<()> {
        match self.writer.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(Error::state("export_failed")),
            None => Ok(()),
        }
    }

    /// Writes what is left and puts the file under its name.
    pub fn finish(mut self) -> Result<()> {
        self.flush()?;
        self.send(Command::Finish)?;
        self.commands = None;
        self.join()
    }

    /// Removes what was written of an export that failed.
    pub fn abandon(mut self) {
        self.commands = None;
        let _ = self.join();
    }
}

/// The spreadsheet itself, on the writing thread.
struct Sheets {
    sink: Sink,
    lang: Lang,
    part: PathBuf,
    out: PathBuf,
    /// Data rows of the current table.
    rows: u32,
}

fn write_error(path: &Path, error: impl std::fmt::Display) -> Error {
    Error::State {
        code: "export_unwritable",
        params: vec![("path", path.display().to_string()), ("reason", error.to_string())],
    }
}

impl Sheets {
    fn create(out: &Path, format: Format, lang: Lang) -> Result<Self> {
        let part = out.with_extension(format!("{}.part", format.extension()));
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| write_error(out, e))?;
        }
        let sink = match format {
            Format::Xlsx => Sink::Xlsx {
                workbook: Box::new({
                    let mut workbook = Workbook::new();
                    // compressing is most of the time a big workbook takes to save, on one
                    // thread after the last row. A million leads: level 3 10.6 s / 87 MB,
                    // level 2 7.2 s / 90 MB, level 1 6.6 s / 119 MB (the default is 6)
                    workbook.set_zip_compression_level(2);
                    workbook
                }),
                formats: Box::new(Formats::new(lang)),
                sheet: None,
                columns: 0,
            },
            Format::Csv => {
                use std::io::Write as _;
                let file = std::fs::File::create(&part).map_err(|e| write_error(out, e))?;
                let mut file = std::io::BufWriter::new(file);
                // the byte-order mark tells Excel the file is UTF-8
                file.write_all("\u{feff}".as_bytes()).map_err(|e| write_error(out, e))?;
                let delimiter = match lang {
                    // Russian Excel splits on `;` (the comma is its decimal separator)
                    Lang::Ru => b';',
                    Lang::En => b',',
                };
                let writer = csv::WriterBuilder::new().delimiter(delimiter).flexible(true).from_writer(file);
                Sink::Csv { writer: Box::new(writer), tables: 0 }
            }
        };
        Ok(Self { sink, lang, part, out: out.to_owned(), rows: 0 })
    }

    fn table(&mut self, name: &str, columns: &[Column]) -> Result<()> {
        self.close_table()?;
        self.rows = 0;
        let out = self.out.clone();
        match &mut self.sink {
            Sink::Xlsx { workbook, formats, sheet, columns: count } => {
                let index = workbook.worksheets_mut().len();
                let ws = workbook.add_worksheet_with_constant_memory().map_err(|e| write_error(&out, e))?;
                // a sheet name: at most 31 characters, none of []:*?/\
                let safe: String = name.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
                ws.set_name(safe).map_err(|e| write_error(&out, e))?;
                for (i, column) in columns.iter().enumerate() {
                    ws.set_column_width(i as u16, column.width).map_err(|e| write_error(&out, e))?;
                }
                ws.set_freeze_panes(1, 0).map_err(|e| write_error(&out, e))?;
                for (i, column) in columns.iter().enumerate() {
                    ws.write_string_with_format(0, i as u16, &column.title, &formats.header)
                        .map_err(|e| write_error(&out, e))?;
                }
                *sheet = Some(index);
                *count = columns.len() as u16;
            }
            Sink::Csv { writer, tables } => {
                if *tables > 0 {
                    writer.write_record([""]).map_err(|e| write_error(&out, e))?;
                    writer.write_record([name]).map_err(|e| write_error(&out, e))?;
                }
                *tables += 1;
                writer.write_record(columns.iter().map(|c| c.title.as_str())).map_err(|e| write_error(&out, e))?;
            }
        }
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        self.rows += 1;
        let (row, lang, out) = (self.rows, self.lang, &self.out);
        match &mut self.sink {
            Sink::Xlsx { workbook, formats, sheet, .. } => {
                let ws = workbook.worksheet_from_index(sheet.unwrap_or_default()).map_err(|e| write_error(out, e))?;
                for (i, cell) in cells.iter().enumerate() {
                    let col = i as u16;
                    let written = match cell {
                        Cell::Text(v) => ws.write_string(row, col, v).map(drop),
                        Cell::Int(v) => ws.write_number(row, col, *v as f64).map(drop),
                        Cell::Money(v) => ws.write_number_with_format(row, col, number(*v), &formats.money).map(drop),
                        Cell::Percent(v) => {
                            ws.write_number_with_format(row, col, number(*v), &formats.percent).map(drop)
                        }
                        Cell::Ratio(v) => ws.write_number_with_format(row, col, number(*v), &formats.ratio).map(drop),
                        Cell::Date(v) => ws.write_date_with_format(row, col, v, &formats.date).map(drop),
                        Cell::Time(v) => {
                            let local = v.with_timezone(&Local).naive_local();
                            ws.write_datetime_with_format(row, col, local, &formats.time).map(drop)
                        }
                        Cell::Empty => Ok(()),
                    };
                    written.map_err(|e| write_error(out, e))?;
                }
            }
            Sink::Csv { writer, .. } => {
                writer.write_record(cells.iter().map(|c| csv_text(c, lang))).map_err(|e| write_error(out, e))?;
            }
        }
        Ok(())
    }

    /// The current table gets its autofilter (XLSX).
    fn close_table(&mut self) -> Result<()> {
        if let Sink::Xlsx { workbook, sheet: Some(index), columns, .. } = &mut self.sink {
            let ws = workbook.worksheet_from_index(*index).map_err(|e| write_error(&self.out, e))?;
            if *columns > 0 {
                ws.autofilter(0, 0, self.rows, *columns - 1).map_err(|e| write_error(&self.out, e))?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.close_table()?;
        let out = self.out.clone();
        match self.sink {
            Sink::Xlsx { mut workbook, .. } => workbook.save(&self.part).map_err(|e| write_error(&out, e))?,
            Sink::Csv { writer, .. } => {
                let mut file = writer.into_inner().map_err(|e| write_error(&out, e.error()))?;
                std::io::Write::flush(&mut file).map_err(|e| write_error(&out, e))?;
            }
        }
        std::fs::rename(&self.part, &out).map_err(|e| write_error(&out, e))
    }
}

fn number(value: Decimal) -> f64 {
    value.to_f64().unwrap_or_default()
}

/// A cell as text in a CSV file for Excel in the user's language: a decimal comma and
/// `21.11.2026` in Russian, a point and `2026-11-21` in English, no thousands separators (Excel
/// reads the numbers back as numbers).
fn csv_text(cell: &Cell, lang: Lang) -> String {
    let decimal = |v: Decimal| match lang {
        Lang::Ru => v.to_string().replace('.', ","),
        Lang::En => v.to_string(),
    };
    match cell {
        Cell::Text(v) => v.clone(),
        Cell::Int(v) => v.to_string(),
        Cell::Money(v) => decimal(v.round_dp(2)),
        Cell::Percent(v) => format!("{}%", decimal((*v * Decimal::ONE_HUNDRED).round_dp(1))),
        Cell::Ratio(v) => decimal(v.round_dp(2)),
        Cell::Date(v) => match lang {
            Lang::Ru => v.format("%d.%m.%Y").to_string(),
            Lang::En => v.format("%Y-%m-%d").to_string(),
        },
        Cell::Time(v) => {
            let local = v.with_timezone(&Local);
            match lang {
                Lang::Ru => local.format("%d.%m.%Y %H:%M").to_string(),
                Lang::En => local.format("%Y-%m-%d %H:%M").to_string(),
            }
        }
        Cell::Empty => String::new(),
    }
}
