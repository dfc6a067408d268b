//! The fields an import fills, per kind of record, and the guess of which column holds which,
//! from Russian and English headers.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::i18n::Lang;

/// What an import creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    Leads,
    Services,
    Campaigns,
    /// A client with a contract per row: the lead found by its phone or e-mail (or created),
    /// converted with the row's contract (without a document).
    Clients,
}

/// A field a column can fill.
pub struct Field {
    pub name: &'static str,
    pub required: bool,
    /// Headers that mean this field, lower-cased, without spaces and punctuation.
    aliases: &'static [&'static str],
}

const fn field(name: &'static str, required: bool, aliases: &'static [&'static str]) -> Field {
    Field { name, required, aliases }
}

const LEAD_FIELDS: &[Field] = &[
    field(
        "full_name",
        true,
        &[
            "фио",
            "имя",
            "фамилияимяотчество",
            "клиент",
            "контакт",
            "контактноелицо",
            "fullname",
            "name",
            "contact",
            "contactname",
        ],
    ),
    field(
        "phone",
        false,
        &["телефон", "тел", "номертелефона", "мобильный", "сотовый", "phone", "phonenumber", "mobile", "tel"],
    ),
    field("email", false, &["email", "почта", "электроннаяпочта", "эпочта", "mail", "emailaddress"]),
    field("campaign", false, &["кампания", "рекламнаякампания", "источник", "campaign", "source"]),
    field("status", false, &["статус", "состояние", "status", "stage"]),
    field("lost_reason", false, &["причинаотказа", "причина", "lostreason", "reason"]),
    field("owner", false, &["ответственный", "менеджер", "owner", "responsible", "manager"]),
    field("note", false, &["заметка", "комментарий", "примечание", "note", "notes", "comment", "comments"]),
];

const SERVICE_FIELDS: &[Field] = &[
    field("name", true, &["название", "услуга", "наименование", "name", "service", "title"]),
    field("description", false, &["описание", "description"]),
    field("price", true, &["цена", "стоимость", "ценаруб", "price", "cost"]),
];

const CAMPAIGN_FIELDS: &[Field] = &[
    field("name", true, &["название", "кампания", "наименование", "name", "campaign", "title"]),
    field("service", true, &["услуга", "service"]),
    field("channel", true, &["канал", "каналпродвижения", "channel"]),
    field("budget", true, &["бюджет", "бюджетруб", "budget", "spend"]),
    field("starts_on", true, &["начало", "датаначала", "старт", "start", "startdate", "startson", "from"]),
    field("ends_on", false, &["окончание", "конец", "датаокончания", "end", "enddate", "endson", "to"]),
];

const CLIENT_FIELDS: &[Field] = &[
    field(
        "full_name",
        true,
        &["фио", "имя", "клиент", "контакт", "контактноелицо", "fullname", "name", "client", "contact"],
    ),
    field("phone", false, &["телефон", "тел", "мобильный", "phone", "mobile", "tel"]),
    field("email", false, &["email", "почта", "электроннаяпочта", "mail"]),
    field("campaign", false, &["кампания", "источник", "campaign", "source"]),
    field("contract", true, &["договор", "номердоговора", "договор№", "contract", "contractno", "contractnumber"]),
    field("service", true, &["услуга", "service"]),
    field("signed_on", true, &["датаподписания", "подписан", "датадоговора", "signed", "signedon", "signingdate"]),
    field("valid_from", false, &["действуетс", "начало", "validfrom", "start"]),
    field("valid_to", true, &["действуетпо", "окончание", "срокдействия", "validto", "until", "end"]),
    field("amount", true, &["сумма", "суммадоговора", "стоимость", "amount", "sum", "total"]),
    field("note", false, &["заметка", "комментарий", "примечание", "note", "comment"]),
];

impl ImportKind {
    pub fn fields(self) -> &'static [Field] {
        match self {
            Self::Leads => LEAD_FIELDS,
            Self::Services => SERVICE_FIELDS,
            Self::Campaigns => CAMPAIGN_FIELDS,
            Self::Clients => CLIENT_FIELDS,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Leads => "leads",
            Self::Services => "services",
            Self::Campaigns => "campaigns",
            Self::Clients => "clients",
        }
    }
}

/// (field, Russian, English): how the wizard and the messages name a field.
const LABELS: &[(&str, &str, &str)] = &[
    ("full_name", "ФИО", "Full name"),
    ("phone", "Телефон", "Phone"),
    ("email", "E-mail", "E-mail"),
    ("campaign", "Кампания", "Campaign"),
    ("status", "Статус", "Status"),
    ("lost_reason", "Причина отказа", "Reason lost"),
    ("owner", "Ответственный", "Owner"),
    ("note", "Заметка", "Note"),
    ("name", "Название", "Name"),
    ("description", "Описание", "Description"),
    ("price", "Цена", "Price"),
    ("service", "Услуга", "Service"),
    ("channel", "Канал", "Channel"),
    ("budget", "Бюджет", "Budget"),
    ("starts_on", "Начало", "Starts"),
    ("ends_on", "Окончание", "Ends"),
    ("contract", "Договор", "Contract"),
    ("signed_on", "Дата подписания", "Signed"),
    ("valid_from", "Действует с", "Valid from"),
    ("valid_to", "Действует по", "Valid to"),
    ("amount", "Сумма", "Amount"),
];

/// A field's name for people.
pub fn label(field: &'static str, lang: Lang) -> &'static str {
    LABELS.iter().find(|(f, _, _)| *f == field).map_or(field, |(_, ru, en)| if lang == Lang::En { en } else { ru })
}

/// A header as compared with the aliases: lower case, letters and digits only, ё as е.
fn normalise(header: &str) -> String {
    header.to_lowercase().replace('ё', "е").chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Which field each column fills (`None`: not imported), guessed from the headers; a field is
/// given to the first column that names it.
pub fn guess(kind: ImportKind, headers: &[String]) -> Vec<Option<String>> {
    let mut taken: Vec<&str> = Vec::new();
    headers
        .iter()
        .map(|header| {
            let key = normalise(header);
            let found = kind.fields().iter().find(|f| !taken.contains(&f.name) && f.aliases.contains(&key.as_str()));
            found.map(|f| {
                taken.push(f.name);
                f.name.to_owned()
            })
        })
        .collect()
}

/// Checks a mapping (one entry per column) against the fields of `kind`: every field known,
/// none mapped twice, every required one mapped. Returns the column of each field.
pub fn check(kind: ImportKind, mapping: &[Option<String>], lang: Lang) -> Result<Vec<(&'static str, usize)>> {
    let mut columns: Vec<(&'static str, usize)> = Vec::new();
    for (column, name) in mapping.iter().enumerate() {
        let Some(name) = name.as_deref().filter(|n| !n.is_empty()) else { continue };
        let Some(field) = kind.fields().iter().find(|f| f.name == name) else {
            return Err(Error::State { code: "import_unknown_field", params: vec![("field", name.to_owned())] });
        };
        if columns.iter().any(|(f, _)| *f == field.name) {
            return Err(Error::State {
                code: "import_mapped_twice",
                params: vec![("field", label(field.name, lang).to_owned())],
            });
        }
        columns.push((field.name, column));
    }
    if let Some(missing) = kind.fields().iter().find(|f| f.required && !columns.iter().any(|(n, _)| *n == f.name)) {
        return Err(Error::State {
            code: "import_required_unmapped",
            params: vec![("field", label(missing.name, lang).to_owned())],
        });
    }
    // a lead needs a phone or an e-mail: without either column every row would be refused
    if matches!(kind, ImportKind::Leads | ImportKind::Clients)
        && !columns.iter().any(|(n, _)| matches!(*n, "phone" | "email"))
    {
        return Err(Error::state("import_contact_unmapped"));
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn russian_and_english_headers_are_recognised() {
        let guessed =
            guess(ImportKind::Leads, &headers(&["ФИО", "Телефон", "E-mail", "Кампания", "Дата", "Комментарий"]));
        let names: Vec<Option<&str>> = guessed.iter().map(|g| g.as_deref()).collect();
        assert_eq!(names, [Some("full_name"), Some("phone"), Some("email"), Some("campaign"), None, Some("note")]);
        let guessed = guess(ImportKind::Leads, &headers(&["Full name", "Phone number", "Email address", "Name"]));
        let names: Vec<Option<&str>> = guessed.iter().map(|g| g.as_deref()).collect();
        assert_eq!(
            names,
            [Some("full_name"), Some("phone"), Some("email"), None],
            "the second name column is not taken"
        );
    }

    #[test]
    fn a_mapping_names_each_field_once_and_every_required_one() {
        let map = |names: &[Option<&str>]| names.iter().map(|n| n.map(str::to_owned)).collect::<Vec<_>>();
        assert!(check(ImportKind::Leads, &map(&[Some("full_name"), Some("phone")]), Lang::Ru).is_ok());
        let twice =
            check(ImportKind::Leads, &map(&[Some("full_name"), Some("phone"), Some("phone")]), Lang::Ru).unwrap_err();
        assert!(matches!(twice, Error::State { code: "import_mapped_twice", .. }));
        let no_contact = check(ImportKind::Leads, &map(&[Some("full_name")]), Lang::Ru).unwrap_err();
        assert!(matches!(no_contact, Error::State { code: "import_contact_unmapped", .. }));
        let missing = check(ImportKind::Leads, &map(&[Some("phone")]), Lang::Ru).unwrap_err();
        assert!(matches!(missing, Error::State { code: "import_required_unmapped", .. }));
    }
}
