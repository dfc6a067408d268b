//! Messages of the core's errors in the user's language. The UI has its own dictionaries for its
//! labels; error texts live here so the CLI and the window say the same thing.

use crate::error::{Error, FieldError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    /// Picks the language from a locale string such as `ru_RU.UTF-8` or `en-GB`; Russian unless
    /// the locale is English.
    pub fn from_locale(locale: &str) -> Self {
        if locale.to_ascii_lowercase().starts_with("en") {
            Self::En
        } else {
            Self::Ru
        }
    }
}

/// (code, Russian, English). `{name}` is replaced by the parameter of that name.
const MESSAGES: &[(&str, &str, &str)] = &[
    ("required", "Заполните поле", "This field is required"),
    ("too_long", "Не длиннее {max} символов", "At most {max} characters"),
    ("not_a_number", "Введите число, например 1 250,50", "Enter a number, e.g. 1250.50"),
    ("negative", "Сумма не может быть отрицательной", "The amount cannot be negative"),
    ("not_positive", "Сумма должна быть больше нуля", "The amount must be greater than zero"),
    ("too_many_decimals", "Не больше двух знаков после запятой", "At most two decimal places"),
    ("too_large", "Слишком большая сумма", "The amount is too large"),
    ("phone_invalid", "Неверный номер телефона", "Not a valid phone number"),
    ("email_invalid", "Неверный адрес электронной почты", "Not a valid e-mail address"),
    ("contact_required", "Укажите телефон или e-mail", "Enter a phone number or an e-mail"),
    ("phone_taken", "Этот телефон уже у лида «{lead}» (№{id})", "This phone already belongs to lead “{lead}” (#{id})"),
    ("email_taken", "Этот e-mail уже у лида «{lead}» (№{id})", "This e-mail already belongs to lead “{lead}” (#{id})"),
    ("name_taken", "Такое название уже есть", "This name is already taken"),
    ("username_taken", "Такой логин уже занят", "This username is already taken"),
    (
        "host_invalid",
        "Укажите имя сервера или его адрес, например db.office.local или 192.168.1.10",
        "Enter the server's name or address, e.g. db.office.local or 192.168.1.10",
    ),
    (
        "control_chars",
        "Содержит невидимые управляющие символы: уберите их (например, вставьте текст заново без форматирования)",
        "Contains invisible control characters: remove them (e.g. paste the text again without formatting)",
    ),
    (
        "search_signs_only",
        "Введите хотя бы одну букву или цифру: по одним знакам ничего не найти",
        "Type at least one letter or digit: signs alone find nothing",
    ),
    ("username_chars", "Только буквы, цифры и . _ - @", "Only letters, digits and . _ - @"),
    (
        "username_bytes",
        "Слишком длинный логин: не больше {max} байт (латинская буква — 1 байт, русская — 2)",
        "The username is too long: at most {max} bytes (a Latin letter is 1 byte, a Cyrillic one 2)",
    ),
    ("password_short", "Пароль должен быть не короче {min} символов", "The password needs at least {min} characters"),
    (
        "password_chars",
        "В пароле есть символы, с которыми нельзя войти на сервер офиса (служебные, редкие или смесь письма справа налево): выберите другой",
        "The password holds characters an office server cannot sign in with (control or rare characters, or mixed right-to-left text): choose another",
    ),
    ("password_mismatch", "Пароли не совпадают", "The passwords do not match"),
    ("password_wrong", "Неверный текущий пароль", "The current password is wrong"),
    ("date_invalid", "Неверная дата", "Not a valid date"),
    ("time_invalid", "Укажите время как ЧЧ:ММ, например 10:30", "Enter the time as HH:MM, e.g. 10:30"),
    ("end_before_start", "Окончание не может быть раньше начала", "The end cannot be before the start"),
    ("unknown", "Такой записи нет", "No such record"),
    ("archived", "Запись в архиве", "This record is archived"),
    ("not_allowed", "Недопустимое значение", "Not an allowed value"),
    ("file_too_large", "Файл больше {max} МБ", "The file is larger than {max} MB"),
    ("file_empty", "Файл пуст", "The file is empty"),
    ("file_unreadable", "Не удалось прочитать файл", "The file could not be read"),
    (
        "ca_file_invalid",
        "Это не сертификат: нужен файл PEM (.pem, .crt), который выдал администратор сервера",
        "This is not a certificate: choose the PEM file (.pem, .crt) the server's administrator gave you",
    ),
    (
        "file_broken",
        "Файл повреждён или только выдаёт себя за документ этого типа",
        "The file is damaged, or only pretends to be a document of this type",
    ),
    (
        "file_active",
        "Документ содержит макросы, скрипты или программы: сохраните его без них (например, в PDF)",
        "The document contains macros, scripts or programs: save it without them (e.g. as a PDF)",
    ),
    ("file_pick_again", "Выберите файл ещё раз", "Choose the file again"),
    (
        "document_open_failed",
        "Не удалось открыть документ: в системе нет программы для файлов этого типа",
        "Could not open the document: the system has no application for this type of file",
    ),
    (
        "document_save_failed",
        "Не удалось сохранить копию: нет доступа к выбранной папке или на диске нет места",
        "Could not save the copy: the folder is not writable or the disk is full",
    ),
    (
        "database_fixed",
        "База данных задана при запуске (--database-url или CRM_DATABASE_URL), её нельзя сменить здесь",
        "The database was given at start (--database-url or CRM_DATABASE_URL) and cannot be changed here",
    ),
    ("no_database", "База данных ещё не выбрана", "No database has been chosen yet"),
    ("db_auth_failed", "Сервер отклонил имя пользователя или пароль", "The server refused the user name or password"),
    (
        "db_cannot_open_file",
        "Не удаётся открыть файл базы данных: нет такой папки или нет прав на запись",
        "Cannot open the database file: the folder does not exist or is not writable",
    ),
    ("database_detail", "Ошибка базы данных: {detail}", "Database error: {detail}"),
    ("db_unknown_database", "На сервере нет такой базы данных", "The server has no database of that name"),
    (
        "db_tls_failed",
        "Не удалось установить защищённое соединение с сервером: он не поддерживает TLS, или его сертификат не заверен доверенным центром (ca_file), или выдан на другое имя",
        "Could not set up a secure connection to the server: it does not offer TLS, or its certificate is not signed by a trusted authority (ca_file), or names another server",
    ),
    (
        "db_unreachable",
        "Сервер базы данных не отвечает: проверьте адрес, порт и сеть",
        "The database server does not answer: check the host, the port and the network",
    ),
    (
        "no_window",
        "в этой сборке нет окна (собрана без возможности `desktop`); см. `crm --help`",
        "this build has no window (built without the `desktop` feature); see `crm --help`",
    ),
    (
        "db_server_full",
        "Сервер базы данных офиса занят: все его подключения используются. Закройте программу на компьютерах, где она не нужна, или попросите администратора сервера увеличить max_connections в postgresql.conf",
        "The office database server is full: all its connections are in use. Close the app on computers that do not need it, or ask the server's administrator to raise max_connections in postgresql.conf",
    ),
    (
        "rights_changed",
        "Администратор изменил ваши права: это действие вам больше недоступно",
        "An administrator has changed your permissions: this is no longer allowed for you",
    ),
    (
        "db_pooler",
        "Программа подключена к базе офиса через PgBouncer в режиме транзакций: добавьте в раздел [office] файла настроек строку pgbouncer = true (см. README) или подключитесь к серверу напрямую",
        "The app reaches the office database through PgBouncer in transaction mode: add the line pgbouncer = true to the [office] section of the config file (see the README) or connect to the server directly",
    ),
    (
        "outcome_unknown",
        "Связь с базой данных офиса прервалась во время сохранения, и неизвестно, сохранилось ли изменение: откройте запись, проверьте её и при необходимости сохраните снова",
        "The connection to the office database broke while saving, so it is not known whether the change was kept: open the record, check it and save again if needed",
    ),
    ("file_type", "Нужен PDF, DOC, DOCX, ODT, JPG или PNG", "Use a PDF, DOC, DOCX, ODT, JPG or PNG file"),
    ("contract_taken", "Договор уже привязан к другому клиенту", "This contract already belongs to another client"),
    // errors that are not about one field
    ("unauthenticated", "Войдите в систему", "Please sign in"),
    ("bad_credentials", "Неверный логин или пароль", "Wrong username or password"),
    ("throttled", "Слишком много попыток. Повторите через {seconds} с", "Too many attempts. Try again in {seconds} s"),
    (
        "deactivated",
        "Учётная запись отключена. Обратитесь к администратору",
        "This account is deactivated. Ask an administrator",
    ),
    (
        "password_change_required",
        "Вы вошли с одноразовым паролем: сначала задайте свой (в окне программы или `crm password --user ЛОГИН`)",
        "You signed in with a one-time password: choose your own first (in the window, or `crm password --user NAME`)",
    ),
    (
        "forbidden",
        "Недостаточно прав: нужно право «{permission}». Его может дать администратор",
        "You do not have the permission “{permission}”; an administrator can give it to you",
    ),
    ("perm.stats.view", "Статистика", "Statistics"),
    ("perm.services.view", "Услуги: просмотр", "Services: view"),
    ("perm.services.edit", "Услуги: изменение", "Services: edit"),
    ("perm.campaigns.view", "Кампании: просмотр", "Campaigns: view"),
    ("perm.campaigns.edit", "Кампании: изменение", "Campaigns: edit"),
    ("perm.channels.edit", "Каналы продвижения", "Promotion channels"),
    ("perm.leads.view", "Лиды: просмотр", "Leads: view"),
    ("perm.leads.edit", "Лиды: изменение", "Leads: edit"),
    ("perm.leads.convert", "Лиды: перевод в клиенты", "Leads: convert to clients"),
    ("perm.clients.view", "Клиенты: просмотр", "Clients: view"),
    ("perm.clients.edit", "Клиенты: изменение", "Clients: edit"),
    ("perm.contracts.view", "Договоры: просмотр", "Contracts: view"),
    ("perm.contracts.edit", "Договоры: изменение", "Contracts: edit"),
    ("perm.users.manage", "Пользователи и роли", "Users and roles"),
    ("perm.reasons.edit", "Причины отказа: изменение", "Reasons for loss: edit"),
    ("perm.notes.add", "Заметки к лидам и клиентам", "Notes on leads and clients"),
    ("perm.owners.assign", "Назначение ответственных", "Assigning owners"),
    ("perm.tasks.all", "Задачи всех сотрудников", "Everyone's tasks"),
    ("perm.history.view", "История изменений", "History of changes"),
    ("perm.leads.merge", "Лиды: объединение дублей", "Leads: merging duplicates"),
    ("perm.data.export", "Выгрузка в Excel и CSV", "Export to Excel and CSV"),
    ("perm.data.import", "Загрузка из файлов", "Import from files"),
    ("not_found", "Запись не найдена (возможно, удалена)", "The record was not found (it may have been deleted)"),
    ("invalid", "Проверьте выделенные поля", "Please correct the highlighted fields"),
    (
        "conflict",
        "Запись изменил другой пользователь. Обновите её и повторите",
        "Someone else changed this record. Reload it and try again",
    ),
    ("users_exist", "Администратор уже создан", "The first administrator already exists"),
    (
        "demo_needs_admin",
        "В базе уже есть пользователи: демо-данные добавляет администратор, --user ЛОГИН",
        "The database already has users: an administrator adds demo data, --user NAME",
    ),
    (
        "demo_other_users",
        "В базе работают и другие пользователи: демо-данные смешаются с их работой. Если так и задумано, добавьте --with-other-users",
        "Other people work in this database too: demo data would mix with their work. If that is intended, add --with-other-users",
    ),
    ("backup_missing", "Файл резервной копии не найден: {path}", "The backup file was not found: {path}"),
    ("backup_unreadable", "Не удалось прочитать {path}: {reason}", "Could not read {path}: {reason}"),
    ("backup_unwritable", "Не удалось записать {path}: {reason}", "Could not write {path}: {reason}"),
    (
        "not_a_backup",
        "Это не резервная копия CRM: файл не является базой данных",
        "This is not a CRM backup: the file is not a database",
    ),
    (
        "not_a_crm_backup",
        "Это база данных другой программы, а не резервная копия CRM",
        "This is another program's database, not a CRM backup",
    ),
    (
        "trigram_missing",
        "На сервере PostgreSQL нет расширения pg_trgm: поиск по части имени, телефона или почты работает, но медленнее. Суперпользователь сервера устанавливает пакет расширения (Debian: postgresql-contrib), затем владелец базы выполняет: crm office search-indexes",
        "The PostgreSQL server lacks the pg_trgm extension: searching by part of a name, phone or e-mail works, but slower. A superuser of the server installs the extension's package (Debian: postgresql-contrib), then the database owner runs: crm office search-indexes",
    ),
    (
        "trigram_ascii",
        "База данных офиса создана с LC_CTYPE=C: индексы поиска не видят русских букв, и поиск по части имени медленный. Создайте базу заново с LC_CTYPE в UTF-8 (createdb --template=template0 --lc-ctype=C.UTF-8) и восстановите в неё резервную копию: README, «An office on PostgreSQL»",
        "The office database was created with LC_CTYPE=C: the search indexes do not see Russian letters, so searching by part of a name is slow. Create the database again with a UTF-8 LC_CTYPE (createdb --template=template0 --lc-ctype=C.UTF-8) and restore a backup into it: README, \"An office on PostgreSQL\"",
    ),
    (
        "stats_differ",
        "Сохранённые цифры статистики расходятся с записями (мест: {places}, они перечислены выше). Исправить: crm stats --rebuild (администратор)",
        "The statistics' kept figures differ from the records (places: {places}, listed above). To repair: crm stats --rebuild (an administrator)",
    ),
    (
        "backup_newer",
        "Копия сделана более новой версией CRM: сначала обновите программу",
        "The backup was made by a newer version of the CRM: update the app first",
    ),
    (
        "backup_damaged",
        "Резервная копия повреждена или неполна (например, оборвалось копирование): восстановите другую",
        "The backup is damaged or incomplete (e.g. its copying was cut short): restore another one",
    ),
    (
        "copy_differs",
        "Проверка копии не сошлась в таблице {table} (строк: {rows} вместо {expected}): ничего не изменено",
        "The copy did not verify in table {table} ({rows} rows instead of {expected}): nothing was changed",
    ),
    (
        "target_not_empty",
        "Эта база данных не пуста (в таблице {table} строк: {rows}): перенос идёт только в пустую базу",
        "This database is not empty ({table} holds {rows} rows): a move goes into an empty database only",
    ),
    ("export_is_folder", "{path} — это папка: укажите имя файла", "{path} is a folder: give a file name"),
    ("export_unwritable", "Не удалось записать {path}: {reason}", "Could not write {path}: {reason}"),
    (
        "export_failed",
        "Экспорт прерван: файл не удалось дописать (проверьте, есть ли место на диске)",
        "The export stopped: the file could not be written to the end (check the free disk space)",
    ),
    ("import_unreadable", "Не удалось прочитать {path}: {reason}", "Could not read {path}: {reason}"),
    ("import_empty", "Файл пуст: в нём нет ни одной строки", "The file is empty: it has no rows"),
    ("import_no_rows", "В файле есть заголовок, но нет ни одной строки данных", "The file has a header but no rows of data"),
    (
        "import_not_a_table",
        "Это не таблица: загрузите файл CSV, XLSX, XLS или ODS",
        "This is not a table: import a CSV, XLSX, XLS or ODS file",
    ),
    (
        "import_encoding",
        "Не удалось определить кодировку файла: сохраните его как CSV UTF-8 или Windows-1251",
        "The file's encoding is unknown: save it as CSV UTF-8 or Windows-1251",
    ),
    (
        "import_too_big",
        "Файл слишком большой (больше {max} МБ): разделите его на части",
        "The file is too big (over {max} MB): split it into parts",
    ),
    ("import_bad_csv", "Файл CSV повреждён: {reason}", "The CSV file is broken: {reason}"),
    ("import_no_sheet", "В файле нет листа «{sheet}»", "The file has no sheet “{sheet}”"),
    ("import_unknown_field", "Неизвестное поле «{field}»", "Unknown field “{field}”"),
    (
        "import_mapped_twice",
        "Поле «{field}» выбрано для двух столбцов: оставьте один",
        "The field “{field}” is chosen for two columns: keep one",
    ),
    (
        "import_required_unmapped",
        "Укажите столбец для обязательного поля «{field}»",
        "Choose a column for the required field “{field}”",
    ),
    (
        "import_contact_unmapped",
        "Укажите столбец с телефоном или e-mail: без них лид не сохранить",
        "Choose the column of the phone or of the e-mail: a lead needs one",
    ),
    ("import_map_syntax", "Укажите --map СТОЛБЕЦ=ПОЛЕ", "Write --map COLUMN=FIELD"),
    ("import_no_column", "В файле нет столбца «{column}»", "The file has no column “{column}”"),
    ("import_cancelled", "Загрузка отменена: ничего не загружено", "The import was cancelled: nothing was imported"),
    ("import_unknown_name", "{column}: «{value}» не найдено", "{column}: “{value}” was not found"),
    (
        "import_converted_status",
        "Клиентом лид становится только через перевод в клиенты с договором",
        "A lead becomes a client only by converting it with a contract",
    ),
    (
        "import_owner_needs_permission",
        "Назначать ответственным другого сотрудника может только тот, у кого есть право «Назначение ответственных»",
        "Only someone allowed to assign owners can make another person the owner",
    ),
    (
        "import_duplicate_converted",
        "Такой телефон или e-mail уже у лида №{id}, а он уже клиент: его не меняют загрузкой",
        "This phone or e-mail belongs to lead #{id}, which is a client already: an import does not change it",
    ),
    (
        "import_name_exists",
        "Запись с таким названием уже есть: загрузка не меняет существующие услуги и кампании",
        "A record with this name exists: an import does not change existing services and campaigns",
    ),
    (
        "import_client_exists",
        "Этот лид уже клиент: загрузка не добавляет ему договоров",
        "This lead is a client already: an import does not add contracts to it",
    ),
    (
        "import_client_needs_lead",
        "Лида с таким телефоном или e-mail нет, а создавать лидов может только тот, у кого есть право на лиды",
        "No lead has this phone or e-mail, and only someone allowed to edit leads can create one",
    ),
    (
        "import_clients_not_undone",
        "Загрузку нельзя отменить целиком: клиентов, сделанных из лидов, которые были в базе до неё, — {count}; отправьте в архив их договоры и клиентов по одному",
        "The import cannot be undone as a whole: {count} of its clients were made from leads that were there before it; archive their contracts and clients one by one",
    ),
    ("import_undone_already", "Эта загрузка уже отменена", "This import was undone already"),
    (
        "import_touched",
        "Отменить загрузку нельзя: записей, изменённых после неё, — {count}",
        "The import cannot be undone: {count} of its records were changed since",
    ),
    (
        "backups_on_server",
        "Базу офиса копирует её владелец на сервере: crm backup с логином владельца или pg_dump (см. README)",
        "The office database is backed up on its server by its owner: crm backup with the owner's login, or pg_dump (see the README)",
    ),
    (
        "backup_running",
        "Уже идёт резервное копирование, восстановление или выгрузка: дождитесь окончания",
        "A backup, restore or export is already running: wait until it ends",
    ),
    (
        "restore_needs_yes",
        "Восстановление заменит всё содержимое базы: добавьте --yes, чтобы подтвердить",
        "Restoring replaces everything in the database: add --yes to confirm",
    ),
    (
        "move_from_local_only",
        "Перенести можно только локальную базу (SQLite) этого компьютера",
        "Only this computer's local (SQLite) database can be moved",
    ),
    (
        "move_to_office_only",
        "Перенос идёт в базу офиса на PostgreSQL: укажите адрес postgres://",
        "A move goes to an office database on PostgreSQL: give a postgres:// address",
    ),
    (
        "office_only",
        "Это команда для общей базы офиса (PostgreSQL)",
        "This command is for an office database (PostgreSQL)",
    ),
    (
        "owner_login_needed",
        "Нужен логин владельца базы данных: --database-url postgres://ВЛАДЕЛЕЦ:ПАРОЛЬ@сервер/база",
        "This needs the database owner's login: --database-url postgres://OWNER:PASSWORD@server/database",
    ),
    (
        "schema_outdated",
        "Базу данных офиса нужно обновить: администратор выполняет `crm migrate` под логином владельца базы",
        "The office database needs an update: the administrator runs `crm migrate` with the database owner's login",
    ),
    (
        "app_outdated",
        "База данных новее этой версии программы: обновите программу",
        "The database is newer than this version of the app: update the app",
    ),
    (
        "schema_differs",
        "Базу данных обновляла другая сборка программы (шаг {version} не совпадает): откройте её той сборкой или восстановите резервную копию",
        "The database was updated by a different build of the CRM (step {version} differs): open it with that build or restore a backup",
    ),
    (
        "schema_dirty",
        "Обновление базы данных прервалось на шаге {version}: восстановите резервную копию",
        "An update of the database stopped part-way at step {version}: restore a backup",
    ),
    (
        "role_prefix_taken",
        "Роли PostgreSQL с префиксом «{prefix}» уже служат другой базе этого сервера ({database}): у каждой базы CRM свой префикс — задайте другой (role_prefix в config.toml или CRM_ROLE_PREFIX) здесь и на каждом компьютере этой базы",
        "The PostgreSQL roles with the prefix \"{prefix}\" already serve another database of this server ({database}): each CRM database has its own prefix, so set another one (role_prefix in config.toml or CRM_ROLE_PREFIX) here and on every computer that uses this database",
    ),
    ("already_converted", "Лид уже переведён в клиенты", "This lead has already been converted"),
    ("lead_archived", "Лид в архиве", "This lead is archived"),
    ("lost_reason_required", "Укажите причину отказа", "Choose why the lead was lost"),
    ("user_inactive", "Этот сотрудник отключён", "This user is deactivated"),
    ("nothing_selected", "Ничего не выбрано", "Nothing is selected"),
    ("merge_self", "Лид нельзя объединить с самим собой", "A lead cannot be merged with itself"),
    (
        "merge_converted_survives",
        "Остаться должен лид, который уже стал клиентом: объедините в обратную сторону",
        "The lead that is a client already must be the one that stays: merge the other way round",
    ),
    (
        "merge_both_converted",
        "Оба лида уже стали клиентами: их не объединить, у каждого свои договоры",
        "Both leads are clients already, each with its own contracts: they cannot be merged",
    ),
    ("merge_already_merged", "Этот лид уже объединён с другим", "This lead has already been merged into another"),
    (
        "too_many_rows",
        "Выбрано больше {max} записей: сузьте поиск или фильтры",
        "More than {max} records are selected: narrow the search or the filters",
    ),
    (
        "convert_instead",
        "В клиенты лид переводят кнопкой «Перевести в клиенты»: она оформит и договор",
        "A lead becomes a client through “Convert to client”, which also makes the contract",
    ),
    (
        "lead_converted_locked",
        "Лид уже стал клиентом: изменяйте клиента",
        "This lead is a client now: edit the client instead",
    ),
    (
        "in_use",
        "Удалить нельзя: {what}. Запись можно только архивировать",
        "Cannot delete: {what}. Archive the record instead",
    ),
    ("in_use.campaigns", "на неё ссылаются кампании", "campaigns refer to it"),
    ("in_use.contracts", "на неё ссылаются договоры", "contracts refer to it"),
    ("in_use.leads", "на неё ссылаются лиды", "leads refer to it"),
    ("campaign_not_planned", "Кампания уже запущена", "The campaign has already started"),
    ("campaign_not_active", "Кампания не идёт", "The campaign is not running"),
    ("last_admin", "Нельзя оставить систему без администратора", "At least one active administrator must remain"),
    ("no_document", "У договора нет документа", "The contract has no document"),
    ("client_archived", "Клиент в архиве", "This client is archived"),
    (
        "url_scheme",
        "Неподдерживаемая схема адреса базы «{scheme}»: нужен sqlite:ПУТЬ или postgres://ПОЛЬЗОВАТЕЛЬ@СЕРВЕР/БАЗА",
        "Unsupported database URL scheme “{scheme}”: use sqlite:PATH or postgres://USER@HOST/DB",
    ),
    (
        "demo_needs_append",
        "В базе уже есть данные; чтобы добавить к ним демо-данные, укажите --append",
        "The database already holds business data; pass --append to add demo data to it",
    ),
    (
        "demo_no_channels",
        "Нет действующих рекламных каналов для кампаний",
        "There are no live advertising channels for the campaigns",
    ),
    ("database", "Ошибка базы данных", "Database error"),
    ("config", "Ошибка настройки: {detail}", "Configuration error: {detail}"),
    ("internal", "Внутренняя ошибка", "Internal error"),
    ("incident", "случай {id}, подробности в журнале: {log}", "incident {id}, details in the log: {log}"),
];

/// The message for `code` in `lang`, with `{name}` parameters filled in.
pub fn message(lang: Lang, code: &str, params: &[(&str, String)]) -> String {
    let template = MESSAGES
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, ru, en)| if lang == Lang::Ru { *ru } else { *en })
        .unwrap_or(code);
    params.iter().fold(template.to_owned(), |text, (key, value)| text.replace(&format!("{{{key}}}"), value))
}

pub fn field_message(lang: Lang, error: &FieldError) -> String {
    message(lang, error.code, &error.params)
}

/// The message code of a database failure people can act on, if `error` is one: the server does
/// not answer, refuses the password, has no such database, or the SQLite file cannot be opened.
pub fn database_problem(error: &Error) -> Option<&'static str> {
    match error {
        Error::Database(sqlx::Error::Database(e)) => match e.code().as_deref() {
            Some("28P01" | "28000") => Some("db_auth_failed"),
            Some("3D000") => Some("db_unknown_database"),
            // too_many_connections, and its variant for connections kept for superusers
            Some("53300" | "53400") => Some("db_server_full"),
            // a pooler in transaction mode that keeps no prepared statements between transactions
            // (PgBouncer before 1.21): duplicate_prepared_statement, invalid_sql_statement_name,
            // or PgBouncer refusing sqlx's startup parameter
            Some("42P05" | "26000") => Some("db_pooler"),
            Some("08P01") if e.message().contains("unsupported startup parameter") => Some("db_pooler"),
            // SQLITE_CANTOPEN
            Some("14") => Some("db_cannot_open_file"),
            _ => None,
        },
        Error::Database(sqlx::Error::Io(e)) if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => {
            Some("db_tls_failed")
        }
        Error::Database(sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut) => Some("db_unreachable"),
        Error::Database(sqlx::Error::Tls(_)) => Some("db_tls_failed"),
        _ => None,
    }
}

/// A one-line description of an error for people, e.g. on the CLI or in a toast.
pub fn error_message(lang: Lang, error: &Error) -> String {
    if let Some(code) = database_problem(error) {
        return message(lang, code, &[]);
    }
    match error {
        Error::Invalid(fields) => {
            fields.iter().map(|f| format!("{}: {}", f.field, field_message(lang, f))).collect::<Vec<_>>().join("; ")
        }
        Error::Throttled { seconds } => message(lang, "throttled", &[("seconds", seconds.to_string())]),
        Error::Forbidden(permission) => {
            message(lang, "forbidden", &[("permission", message(lang, &format!("perm.{permission}"), &[]))])
        }
        Error::State { code: "in_use", params } => {
            // the table that refers to the record, said in words
            let params: Vec<_> =
                params.iter().map(|(k, table)| (*k, message(lang, &format!("in_use.{table}"), &[]))).collect();
            message(lang, "in_use", &params)
        }
        Error::State { code, params } => message(lang, code, params),
        Error::Config(detail) => message(lang, "config", &[("detail", detail.clone())]),
        other => message(lang, other.code(), &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_both_languages_and_a_unique_code() {
        let mut codes = std::collections::HashSet::new();
        for (code, ru, en) in MESSAGES {
            assert!(codes.insert(code), "duplicate {code}");
            assert!(!ru.is_empty() && !en.is_empty(), "{code}");
        }
    }

    #[test]
    fn refusals_name_the_permission_in_words() {
        for p in crate::Permission::ALL {
            let ru = error_message(Lang::Ru, &Error::Forbidden(p.code()));
            assert!(!ru.contains(p.code()), "{ru}");
        }
        let en = error_message(Lang::En, &Error::Forbidden("leads.view"));
        assert_eq!(en, "You do not have the permission “Leads: view”; an administrator can give it to you");
    }

    #[test]
    fn parameters_are_filled_in() {
        let e = FieldError::new("name", "too_long").with("max", 200);
        assert_eq!(field_message(Lang::Ru, &e), "Не длиннее 200 символов");
        assert_eq!(field_message(Lang::En, &e), "At most 200 characters");
    }
}
