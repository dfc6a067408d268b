// The one door to the Rust side. Every command returns data or rejects with
// {code, message, fields: [{field, message}]} already in the user's language.
import { t, has } from './i18n.js';

const listeners = new Set();
const refusals = new Set();
// commands begun and settled: the window benchmark (tests/window) times a click to the moment
// every command it caused has answered and the result is painted
const calls = (window.__crmCalls = { started: 0, settled: 0, recent: [], rendered: 0 });

/** Says that a page has put its answers into the document (the benchmark's detail lines then
 *  tell the script's time from the layout and painting after it). */
export function rendered() {
  calls.rendered = performance.now();
}

// called whenever the last command in flight has answered
const quietWatchers = new Set();

/** Resolves once every command asked so far has answered and the code awaiting the answers
 *  has run (a page drawing its rows), or after `limit` ms, whichever comes first. */
export function answered(limit) {
  return new Promise((resolve) => {
    const finish = () => { clearTimeout(timer); quietWatchers.delete(check); resolve(); };
    const timer = setTimeout(finish, limit);
    // (a task after the answer: the awaiting code's promise reactions have run by then)
    function check() {
      if (calls.settled === calls.started) setTimeout(() => { if (calls.settled === calls.started) finish(); }, 0);
    }
    quietWatchers.add(check);
    check();
  });
}

/** Called when a command is refused for want of a permission: the user's roles may have changed
 *  since the navigation was drawn. */
export function onForbidden(callback) {
  refusals.add(callback);
}

/** Called when a command says nobody is signed in (signed out, or deactivated meanwhile). */
export function onUnauthenticated(callback) {
  listeners.add(callback);
}

export async function call(command, args = {}) {
  calls.started += 1;
  const began = performance.now();
  try {
    return await window.__TAURI__.core.invoke(command, args);
  } catch (raw) {
    const error = normalise(raw);
    if (error.code === 'unauthenticated' && command !== 'sign_in') {
      listeners.forEach((callback) => callback(error));
    }
    if (error.code === 'forbidden') refusals.forEach((callback) => callback(error));
    throw error;
  } finally {
    calls.settled += 1;
    if (calls.settled === calls.started) quietWatchers.forEach((check) => check());
    // the last few commands and how long each took to answer, for the same benchmark
    calls.recent.push([command, began, performance.now()]);
    if (calls.recent.length > 20) calls.recent.shift();
  }
}

function normalise(raw) {
  if (raw && typeof raw === 'object' && typeof raw.code === 'string') {
    const error = { fields: [], ...raw };
    // refused input: the message says what is wrong with which field wherever it is shown (a
    // toast, a list); a form shows `title` ("check the highlighted fields") and each beside its field
    if (error.code === 'invalid' && error.fields.length) {
      error.title = error.message;
      error.message = error.fields.map((f) => (has(`field.${f.field}`) ? `${t(`field.${f.field}`)}: ${f.message}` : f.message)).join('; ');
    }
    return error;
  }
  // Not one of ours (e.g. arguments that did not deserialise): log it, show a plain message.
  console.error('command failed', raw);
  return { code: 'internal', message: t('error.internal'), fields: [] };
}
