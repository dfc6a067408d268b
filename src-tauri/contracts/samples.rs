//! Small real documents of each accepted kind, made in code rather than kept as binary files:
//! for the tests of the core, of the window and of the document checks. Not part of the CRM's
//! behaviour.

use std::io::Write;

/// A minimal PDF with a correct cross-reference table; `extra` goes into the catalog.
pub fn pdf(extra: &str) -> Vec<u8> {
    let objects = [
        format!("<< /Type /Catalog /Pages 2 0 R {extra} >>"),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").bytes());
    }
    out.extend(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).bytes());
    out
}

/// A ZIP with these entries (stored, not compressed).
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, content) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap();
    out.into_inner()
}

pub fn docx(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", b"<Types/>"),
        ("_rels/.rels", b"<Relationships/>"),
        ("word/document.xml", b"<w:document/>"),
    ];
    entries.extend_from_slice(extra);
    zip(&entries)
}

pub fn odt(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b"<office:document-content/>"),
        ("META-INF/manifest.xml", b"<manifest:manifest/>"),
    ];
    entries.extend_from_slice(extra);
    zip(&entries)
}

/// A PNG of one transparent pixel (the well-known 67-byte one).
pub fn png() -> Vec<u8> {
    const HEX: &str = "89504e470d0a1a0a0000000d4948445200000001000000010806000000\
                       1f15c4890000000a49444154789c63000100000500010d0a2db4000000\
                       0049454e44ae426082";
    (0..HEX.len()).step_by(2).map(|i| u8::from_str_radix(&HEX[i..i + 2], 16).unwrap()).collect()
}

/// A JPEG's markers around a token picture.
pub fn jpeg() -> Vec<u8> {
    b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xFF\xD9".to_vec()
}

/// A Word 97-2003 file: an OLE compound file with a `WordDocument` stream (and a macro project
/// when `macros`).
pub fn doc(macros: bool) -> Vec<u8> {
    let mut file = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    file.create_stream("/WordDocument").unwrap().write_all(b"word 97 text").unwrap();
    if macros {
        file.create_storage("/Macros").unwrap();
        file.create_stream("/Macros/VBA").unwrap().write_all(b"Sub AutoOpen()").unwrap();
    }
    file.flush().unwrap();
    file.into_inner().into_inner()
}
