//! Names and free text: trimmed, bounded, and a lower-cased key for case-insensitive matching.

use crate::error::FieldError;

/// A required single-line name: trimmed, inner runs of white space folded, 1..=max characters,
/// and no control characters (NUL, ESC, BEL, ...) nor bidi controls, which could hide or reorder
/// what people read (`Иван\u{202E}вонаИ`) or recolour a terminal.
fn name(field: &'static str, input: &str, max: usize) -> Result<String, FieldError> {
    if input.chars().any(|c| (c.is_control() && !c.is_whitespace()) || is_bidi_control(c)) {
        return Err(FieldError::new(field, "control_chars"));
    }
    let folded = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    if folded.chars().count() > max {
        return Err(FieldError::new(field, "too_long").with("max", max));
    }
    Ok(folded)
}

/// A person's full name as stored: trimmed, inner white space folded, at most 200 characters,
/// no control or bidi characters. Only [`PersonName::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        name(field, input, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for PersonName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// The name of a record (a service, campaign, contract, channel, lost reason, saved filter) or a
/// task's subject, as stored: one line, white space folded, 1..=max characters, no control or
/// bidi characters. Only [`Name::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &'static str, input: &str, max: usize) -> Result<Self, FieldError> {
        name(field, input, max).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// Optional multi-line text: trimmed, at most `max` characters; line breaks and tabs are text,
/// other control characters (NUL, ESC, BEL, ...) are refused. Bidi marks stay: notes may mix
/// Russian with Arabic or Hebrew names.
pub fn free_text(field: &'static str, input: &str, max: usize) -> Result<String, FieldError> {
    if input.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(FieldError::new(field, "control_chars"));
    }
    let trimmed = input.trim();
    if trimmed.chars().count() > max {
        return Err(FieldError::new(field, "too_long").with("max", max));
    }
    Ok(trimmed.to_owned())
}

/// The longest search people type into a list's search box.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Fewest characters a search finds anywhere in the text; fewer find the names they start (see
/// `leads::Search::parse`; the UI's hint, ui/js/list.js `shortSearch`, counts alike).
pub const MIN_SUBSTRING_CHARS: usize = 3;

/// A search box's text: at most [`MAX_SEARCH_CHARS`] characters and no control characters (a
/// NUL cannot even reach PostgreSQL, and a 50 KB pattern is "too complex" for SQLite). Any other
/// text is searched for literally, its white space as one space (a name pasted from a
/// spreadsheet's cells comes with tabs; see [`fold_search`]), except a substring of nothing but
/// signs (`%%%`, `-^*`): no index serves it (pg_trgm takes only letters and digits into its
/// trigrams: PostgreSQL read every row, 0.4 s at a million leads), and no name, phone or e-mail is
/// found by one, so it is refused with what to type instead.
pub fn check_search(input: &str) -> Result<(), FieldError> {
    if input.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(FieldError::new("search", "control_chars"));
    }
    if input.chars().count() > MAX_SEARCH_CHARS {
        return Err(FieldError::new("search", "too_long").with("max", MAX_SEARCH_CHARS));
    }
    let folded = fold_search(input);
    if folded.chars().count() >= MIN_SUBSTRING_CHARS && !folded.chars().any(char::is_alphanumeric) {
        return Err(FieldError::new("search", "search_signs_only"));
    }
    Ok(())
}

/// Characters that reorder the text around them when shown (bidi embeddings, overrides,
/// isolates and marks).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The key that uniqueness and search compare: Unicode lower case (SQLite's lower() is ASCII-only).
pub fn key(name: &str) -> String {
    name.to_lowercase()
}

/// A search as stored text holds it: trimmed, each run of white space (tabs, line breaks) one
/// space, as names are stored.
pub fn fold_search(input: &str) -> String {
    input.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A LIKE pattern matching `needle` anywhere (its white space folded as [`fold_search`] does),
/// with wildcards in it escaped (use `escape '\'`).
pub fn like_pattern(needle: &str) -> String {
    let mut pattern = String::with_capacity(needle.len() + 2);
    pattern.push('%');
    for c in fold_search(needle).to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_folded() {
        assert_eq!(name("name", "  Иван   Петров ", 200).unwrap(), "Иван Петров");
    }

    #[test]
    fn a_record_name_is_held_only_as_parsed() {
        assert_eq!(Name::parse("name", "  Аудит \t сайта ", 11).unwrap().as_str(), "Аудит сайта");
        assert_eq!(Name::parse("name", "Аудит сайта!", 11).unwrap_err().code, "too_long");
        assert_eq!(Name::parse("subject", "Звонок\u{0}", 100).unwrap_err().code, "control_chars");
    }

    #[test]
    fn empty_and_overlong_names_are_refused() {
        assert_eq!(name("name", "   ", 200).unwrap_err().code, "required");
        let long = "я".repeat(201);
        let err = name("name", &long, 200).unwrap_err();
        assert_eq!((err.code, err.params[0].1.as_str()), ("too_long", "200"));
    }

    #[test]
    fn control_and_bidi_characters_are_refused_in_names() {
        for bad in ["Иван\0", "Иван\u{1b}[31m", "Ива\u{7}н", "Иван\u{202e}вонаИ", "\u{2066}Иван"]
        {
            assert_eq!(name("name", bad, 200).unwrap_err().code, "control_chars", "{bad:?}");
        }
        assert_eq!(name("name", "Иван\tПетров\n", 200).unwrap(), "Иван Петров");
        assert_eq!(free_text("note", "строка 1\nстрока 2\tи т. д.", 100).unwrap(), "строка 1\nстрока 2\tи т. д.");
        assert_eq!(free_text("note", "a\0b", 100).unwrap_err().code, "control_chars");
    }

    #[test]
    fn like_patterns_escape_wildcards_and_fold_case() {
        assert_eq!(like_pattern("ПЕТ%_"), "%пет\\%\\_%");
    }
}
