//! A document's whole structure, not only its first bytes: `%PDF-1.4` followed by HTML, or a ZIP
//! holding a program that merely mentions `word/document.xml`, is not a contract. Each accepted
//! kind is opened with a parser of its format (lopdf, zip, cfb) and must have the parts that kind
//! always has. Documents that can run code (PDF scripts and launch actions, Word and LibreOffice
//! macros, programs inside) are refused unless the office allows them.

use std::io::Cursor;

use crate::error::FieldError;

use super::document::FIELD;

/// What the accepted kinds are, judged by their first bytes (see `document::sniff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Pdf,
    Jpeg,
    Png,
    Odt,
    Docx,
    Doc,
}

/// Checks that `bytes` really are a document of `kind`, and (unless `allow_active`) one that
/// runs no code when opened.
pub(crate) fn verify(kind: Kind, bytes: &[u8], allow_active: bool) -> Result<(), FieldError> {
    let broken = || FieldError::new(FIELD, "file_broken");
    let active = || FieldError::new(FIELD, "file_active");
    let found = match kind {
        Kind::Pdf => pdf(bytes).ok_or_else(broken)?,
        Kind::Png => png(bytes).then_some(Active::No).ok_or_else(broken)?,
        Kind::Jpeg => jpeg(bytes).then_some(Active::No).ok_or_else(broken)?,
        Kind::Docx => package(bytes, &["[Content_Types].xml", "word/document.xml"], &DOCX_MACROS).ok_or_else(broken)?,
        Kind::Odt => {
            package(bytes, &["mimetype", "content.xml", "META-INF/manifest.xml"], &ODT_MACROS).ok_or_else(broken)?
        }
        Kind::Doc => word97(bytes).ok_or_else(broken)?,
    };
    match found {
        Active::Yes if !allow_active => Err(active()),
        _ => Ok(()),
    }
}

/// Whether a well-formed document can run code when opened.
enum Active {
    No,
    Yes,
}

/// A PDF whose cross-reference table and objects parse, with a catalog; active when any object
/// holds a script, a launch action or an embedded file.
fn pdf(bytes: &[u8]) -> Option<Active> {
    let document = lopdf::Document::load_mem(bytes).ok()?;
    document.catalog().ok()?;
    let active = document.objects.values().any(|object| runs_code(object, 0));
    Some(if active { Active::Yes } else { Active::No })
}

/// Whether a PDF object, or any dictionary or array inside it, holds a script, a launch action or
/// an embedded file (nesting is bounded: a parsed document has no cycles without references).
fn runs_code(object: &lopdf::Object, depth: usize) -> bool {
    if depth > 32 {
        return true;
    }
    let dictionary = match object {
        lopdf::Object::Dictionary(d) => d,
        lopdf::Object::Stream(s) => &s.dict,
        lopdf::Object::Array(items) => return items.iter().any(|item| runs_code(item, depth + 1)),
        _ => return false,
    };
    let here = dictionary.has(b"JS")
        || dictionary.has(b"JavaScript")
        || dictionary.has(b"EmbeddedFiles")
        || dictionary.has(b"EmbeddedFile")
        || matches!(dictionary.get(b"S"), Ok(lopdf::Object::Name(name)) if name == b"Launch" || name == b"JavaScript");
    here || dictionary.iter().any(|(_, value)| runs_code(value, depth + 1))
}

/// A PNG: the signature, an IHDR chunk first and an IEND chunk last.
fn png(bytes: &[u8]) -> bool {
    const IEND: &[u8] = &[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];
    bytes.len() >= 8 + 25 + 12 && &bytes[12..16] == b"IHDR" && bytes.ends_with(IEND)
}

/// A JPEG: the start-of-image marker first and the end-of-image marker last (padding aside), so
/// that nothing rides along after the picture.
fn jpeg(bytes: &[u8]) -> bool {
    let end = bytes.iter().rposition(|b| *b != 0 && *b != b'\n' && *b != b'\r').map_or(0, |i| i + 1);
    bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes[..end].ends_with(&[0xFF, 0xD9])
}

/// Entries of a DOCX that carry macros.
const DOCX_MACROS: [&str; 3] = ["vbaproject.bin", "vbadata.xml", "activex"];
/// Folders of an ODT that carry macros and scripts.
const ODT_MACROS: [&str; 2] = ["basic/", "scripts/"];
/// Programs nobody needs inside a contract.
const PROGRAMS: [&str; 14] =
    [".exe", ".dll", ".bat", ".cmd", ".com", ".scr", ".ps1", ".vbs", ".js", ".jar", ".msi", ".lnk", ".hta", ".sh"];

/// A ZIP package (DOCX, ODT) whose central directory reads, with the parts its kind always has;
/// active when it holds macros or a program.
fn package(bytes: &[u8], required: &[&str], macros: &[&str]) -> Option<Active> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let names: Vec<String> = archive.file_names().map(|n| n.map(|n| n.into_owned())).collect::<Result<_, _>>().ok()?;
    if !required.iter().all(|part| names.iter().any(|n| n == part)) {
        return None;
    }
    let active = names
        .iter()
        .map(|n| n.to_lowercase())
        .any(|name| macros.iter().any(|m| name.contains(m)) || PROGRAMS.iter().any(|ext| name.ends_with(ext)));
    Some(if active { Active::Yes } else { Active::No })
}

/// A Word 97-2003 file: an OLE compound file with a `WordDocument` stream; active when it holds
/// a macro project.
fn word97(bytes: &[u8]) -> Option<Active> {
    let file = cfb::CompoundFile::open(Cursor::new(bytes)).ok()?;
    if !file.is_stream("/WordDocument") {
        return None;
    }
    let active = file.walk().any(|entry| {
        let name = entry.name().to_lowercase();
        name == "macros" || name == "_vba_project_cur" || name == "vba"
    });
    Some(if active { Active::Yes } else { Active::No })
}

#[cfg(test)]
mod tests {
    use super::{verify, Kind};
    use crate::contracts::samples::{docx, odt, pdf, zip};

    fn check(kind: Kind, bytes: &[u8]) -> Result<(), &'static str> {
        verify(kind, bytes, false).map_err(|e| e.code)
    }

    #[test]
    fn a_real_pdf_passes_and_a_spoofed_one_does_not() {
        assert_eq!(check(Kind::Pdf, &pdf("")), Ok(()));
        assert_eq!(check(Kind::Pdf, b"%PDF-1.4\n<html><script>alert(1)</script></html>"), Err("file_broken"));
        assert_eq!(check(Kind::Pdf, b"%PDF-1.4\n#!/bin/sh\nrm -rf ~\n"), Err("file_broken"));
    }

    #[test]
    fn a_pdf_that_runs_scripts_is_refused_unless_allowed() {
        let scripted = pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>");
        assert_eq!(check(Kind::Pdf, &scripted), Err("file_active"));
        assert_eq!(check(Kind::Pdf, &pdf("/OpenAction << /S /Launch /F (calc.exe) >>")), Err("file_active"));
        assert!(verify(Kind::Pdf, &scripted, true).is_ok());
    }

    #[test]
    fn a_zip_that_only_mentions_word_document_xml_is_not_a_docx() {
        assert_eq!(check(Kind::Docx, &docx(&[])), Ok(()));
        let spoof = zip(&[("setup.exe", b"MZ word/document.xml")]);
        assert_eq!(check(Kind::Docx, &spoof), Err("file_broken"));
        assert_eq!(check(Kind::Docx, &docx(&[("word/setup.exe", b"MZ")])), Err("file_active"));
        assert_eq!(check(Kind::Docx, &docx(&[("word/vbaProject.bin", b"macros")])), Err("file_active"));
        assert_eq!(check(Kind::Docx, b"PK\x03\x04 word/document.xml and nothing else"), Err("file_broken"));
    }

    #[test]
    fn an_odt_needs_its_parts_and_no_macros() {
        assert_eq!(check(Kind::Odt, &odt(&[])), Ok(()));
        assert_eq!(check(Kind::Odt, &odt(&[("Basic/Standard/Module1.xml", b"<script/>")])), Err("file_active"));
        assert_eq!(
            check(Kind::Odt, &zip(&[("mimetype", b"application/vnd.oasis.opendocument.text")])),
            Err("file_broken")
        );
    }

    #[test]
    fn pictures_end_where_they_should() {
        let png = crate::contracts::samples::png();
        assert_eq!(check(Kind::Png, &png), Ok(()));
        let mut riding = png.clone();
        riding.extend(b"PK\x03\x04 a zip after the picture");
        assert_eq!(check(Kind::Png, &riding), Err("file_broken"));
        assert_eq!(check(Kind::Jpeg, b"\xFF\xD8\xFF\xE0 picture \xFF\xD9\n"), Ok(()));
        assert_eq!(check(Kind::Jpeg, b"\xFF\xD8\xFF\xE0 picture \xFF\xD9<script>"), Err("file_broken"));
    }
}
