// Every visible string comes from ui/i18n/{ru,en}.js; dates and money are formatted with Intl.
import ru from '../i18n/ru.js';
import en from '../i18n/en.js';

const dictionaries = { ru, en };
let lang = 'ru';

export function setLang(code) {
  lang = code === 'en' ? 'en' : 'ru';
  document.documentElement.lang = lang;
}

export function getLang() {
  return lang;
}

/** Whether there is a text for `key`. */
export function has(key) {
  return key in dictionaries[lang] || key in dictionaries.ru;
}

/** The text for `key`, with `{name}` replaced from `params`. A text given per plural form
 *  (`{ one, few, many, other }`) takes the form of its first numeric parameter: 1 день, 2 дня,
 *  5 дней, 21 день. */
export function t(key, params = {}) {
  let text = dictionaries[lang][key] ?? dictionaries.ru[key];
  if (text === undefined) {
    console.warn('missing text', key);
    text = key;
  }
  if (typeof text === 'object') {
    const n = Object.values(params).find((v) => typeof v === 'number') ?? 0;
    text = text[cached('plural', {}, () => new Intl.PluralRules(locale())).select(n)] ?? text.other;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export const locale = () => (lang === 'ru' ? 'ru-RU' : 'en-GB');
export const DASH = '—';

// Made once per language and options: building an Intl formatter costs WebKit about a
// millisecond, and a page of fifty rows formats hundreds of dates and sums.
const formatters = new Map();

/** An `Intl.DateTimeFormat` of the current language with `options`, reused. */
export function dateFormat(options = {}) {
  return cached('date', options, () => new Intl.DateTimeFormat(locale(), options));
}

/** An `Intl.NumberFormat` of the current language with `options`, reused. */
export function numberFormat(options = {}) {
  return cached('number', options, () => new Intl.NumberFormat(locale(), options));
}

function cached(kind, options, make) {
  const key = `${kind} ${lang} ${JSON.stringify(options)}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = make();
    formatters.set(key, formatter);
  }
  return formatter;
}

/** An ISO date (`2026-11-21`) as `21.11.2026` (ru) or `21 Nov 2026` (en). */
export function fmtDate(iso) {
  if (!iso) return DASH;
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number);
  const options = lang === 'ru' ? { day: '2-digit', month: '2-digit', year: 'numeric' } : { dateStyle: 'medium' };
  return dateFormat({ ...options, timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** A UTC timestamp in local time. */
export function fmtDateTime(iso) {
  if (!iso) return DASH;
  return dateFormat({ dateStyle: lang === 'ru' ? 'short' : 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** A money string from the core (`"1250.50"`) as `1 250,50 ₽` / `1,250.50 ₽`, or `1 251 ₽` with
 *  `whole` (for statistics, where kopecks of millions are noise). The rouble sign follows the
 *  number in both languages, as roubles are written. Display only: amounts stay strings. */
export function fmtMoney(amount, { whole = false } = {}) {
  if (amount === null || amount === undefined || amount === '') return DASH;
  const digits = whole ? 0 : 2;
  const number = numberFormat({ minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${number.format(Number(amount))}\u00a0₽`;
}

/** A large sum for a summary tile: `168,5 млн ₽` / `168.5M ₽`; the exact figure is in the table. */
export function fmtMoneyCompact(amount) {
  if (amount === null || amount === undefined || amount === '') return DASH;
  if (Math.abs(Number(amount)) < 10_000_000) return fmtMoney(amount, { whole: true });
  const number = numberFormat({ notation: 'compact', maximumFractionDigits: 1 });
  return `${number.format(Number(amount))}\u00a0₽`;
}

/** Whole roubles: `fmtMoney(amount, { whole: true })`. */
export const fmtRoubles = (amount) => fmtMoney(amount, { whole: true });

/** A phone as the core sends it: already in its country's international format (formatted by
 *  the phonenumber crate, the same in lists, cards and forms); a dash when there is none. */
export function fmtPhone(phone) {
  return phone || DASH;
}

/** A fraction (`"0.2500"`) as a percentage. */
export function fmtPercent(fraction) {
  if (fraction === null || fraction === undefined) return DASH;
  return numberFormat({ style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(Number(fraction));
}

/** A file's size: `850 Б`, `12 КБ`, `963,1 МБ` / `963.1 MB` (documents, backups). */
export function fmtSize(bytes) {
  if (bytes < 1024) return t('document.bytes', { n: fmtNumber(bytes) });
  if (bytes < 1024 * 1024) return t('document.kb', { n: fmtNumber(Math.round(bytes / 1024)) });
  return t('document.mb', { n: fmtNumber(Math.round((bytes / 1024 / 1024) * 10) / 10) });
}

export function fmtRatio(value) {
  if (value === null || value === undefined) return DASH;
  return numberFormat({ minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Number(value));
}

export function fmtNumber(value) {
  if (value === null || value === undefined) return DASH;
  return numberFormat().format(Number(value));
}

/** A money string for an input field (`1250.50` -> `1250,50` in Russian). */
export function moneyInput(amount) {
  if (amount === null || amount === undefined) return '';
  return lang === 'ru' ? String(amount).replace('.', ',') : String(amount);
}

/** What the user typed in a money field, for the core: English digit grouping (`1,250.50`) loses
 *  its commas; Russian (`1 250,50`) goes as typed, the core reads the decimal comma. */
export function moneyToCore(text) {
  const value = (text || '').trim();
  return lang === 'en' ? value.replace(/,/g, '') : value;
}

const MONTHS_EN = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** What the user typed in a date field, as ISO for the core: the form the app shows dates in
 *  (`21.11.2026`, `21 Nov 2026`) as well as `21/11/2026` and ISO. Anything else is passed on
 *  as typed, so the core can say it is not a valid date. */
export function dateToIso(text) {
  const value = (text || '').trim();
  const iso = (y, m, d) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  let match = value.match(/^(\d{1,2})[./](\d{1,2})[./](\d{4})$/);
  if (match) return iso(match[3], match[2], match[1]);
  match = value.match(/^(\d{1,2})\s+([A-Za-z]{3,})\.?\s+(\d{4})$/);
  if (match) {
    const month = MONTHS_EN.indexOf(match[2].slice(0, 3).toLowerCase());
    if (month >= 0) return iso(match[3], month + 1, match[1]);
  }
  return value;
}

/** An ISO date for a date field in the user's format. */
export function isoToInput(iso) {
  if (!iso) return '';
  const [y, m, d] = iso.slice(0, 10).split('-');
  if (!y || !m || !d) return iso;
  // the same form as fmtDate shows: 21.11.2026, or 21 Nov 2026
  return lang === 'ru' ? `${d}.${m}.${y}` : `${Number(d)} ${MONTHS_EN[Number(m) - 1]?.replace(/^./, (c) => c.toUpperCase()) ?? m} ${y}`;
}
