// The logs section: the consent log and the ad-play log (newest first, reloaded now and then),
// purging them, and how many days their rows are kept.

import { apiJson, describe, quiet, signedIn } from './api.js';
import { $, el, formatTime, plural, quote, setMessage, toast } from './ui.js';

const LOG_REFRESH_MS = 20000;
const LOG_LIMIT = 200;
const LOGS = {
  consent: { title: 'consent log', body: 'consent-log', count: 'consent-log-count', error: 'consent-log-error' },
  ads: { title: 'ad-play log', body: 'ad-log', count: 'ad-log-count', error: 'ad-log-error' },
};
const ui = {
  retentionForm: $('retention-form'), retentionDays: $('retention-days'), retentionSave: $('retention-save'),
  retentionStatus: $('retention-status'),
};

let logTimer = 0;
let retentionDirty = false;  // the person is typing a new value: refreshes leave the field alone

export function initLogs() {
  ui.retentionForm.addEventListener('submit', onRetentionSubmit);
  ui.retentionDays.addEventListener('input', () => { retentionDirty = true; setMessage(ui.retentionStatus, ''); });
  for (const button of document.querySelectorAll('[data-log-refresh]')) {
    button.addEventListener('click', () => loadLog(button.dataset.logRefresh));
  }
  for (const button of document.querySelectorAll('[data-log-purge]')) {
    button.addEventListener('click', () => onPurge(button.dataset.logPurge, button));
  }
}

// At sign-out: the logs hold participants' names, so nothing of them stays on the page.
export function resetLogs() {
  clearTimeout(logTimer);
  logTimer = 0;
  retentionDirty = false;
  setMessage(ui.retentionStatus, '');
  ui.retentionDays.value = '';
  for (const kind of Object.keys(LOGS)) {
    $(LOGS[kind].body).replaceChildren();
    $(LOGS[kind].count).textContent = '';
    setMessage($(LOGS[kind].error), '');
  }
}

export function loadLogs() {
  loadLog('consent');
  loadLog('ads');
}

export function scheduleLogRefresh() {
  clearTimeout(logTimer);
  logTimer = setTimeout(() => {
    if (!signedIn()) return;
    if (!document.hidden) loadLogs();
    scheduleLogRefresh();
  }, LOG_REFRESH_MS);
}

// ---------------------------------------------------------------- the two logs

async function loadLog(kind) {
  const spec = LOGS[kind];
  try {
    const data = await apiJson('GET', '/api/logs?kind=' + kind + '&limit=' + LOG_LIMIT);
    const rows = Array.isArray(data && data.rows) ? data.rows : [];
    setMessage($(spec.error), '');
    renderLog(kind, rows);
    if (data && data.retention_days != null) showRetention(data.retention_days);
  } catch (err) {
    if (!quiet(err)) setMessage($(spec.error), 'Could not load the ' + spec.title + ': ' + describe(err));
  }
}

function renderLog(kind, rows) {
  const spec = LOGS[kind];
  const body = $(spec.body);
  const newest = (r) => Number(kind === 'consent' ? r.t : r.t_start) || 0;
  const sorted = rows.slice().sort((a, b) => newest(b) - newest(a));
  $(spec.count).textContent = sorted.length >= LOG_LIMIT
    ? 'latest ' + LOG_LIMIT + ' rows' : plural(sorted.length, 'row', 'rows');
  if (!sorted.length) {
    body.replaceChildren(el('p', 'empty', 'Nothing logged yet (or the log was purged).'));
    return;
  }
  const table = kind === 'consent' ? consentTable(sorted) : adTable(sorted);
  body.replaceChildren(table);
}

// cellsOf(row) gives the cells of one row: a node, or a value shown as text.
function logTable(headings, rows, cellsOf) {
  const table = el('table', 'data-table log-table');
  const headRow = el('tr');
  for (const h of headings) {
    const th = el('th', null, h);
    th.scope = 'col';
    headRow.append(th);
  }
  table.createTHead().append(headRow);
  const tbody = table.createTBody();
  for (const r of rows) {
    const tr = el('tr');
    for (const cell of cellsOf(r)) {
      const td = el('td');
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell == null ? '' : String(cell);
      tr.append(td);
    }
    tbody.append(tr);
  }
  return table;
}

function consentTable(rows) {
  return logTable(['Time', 'Room', 'Participant', 'Face may be used'], rows, (r) => [
    formatTime(r.t) || '\u2014', r.room, r.participant, yesNo(r.consent, 'yes', 'no'),
  ]);
}

function adTable(rows) {
  return logTable(['Started', 'Ended', 'Room', 'In the video of', 'Template', 'Phrase', 'Made with their face'], rows,
    (r) => [
      formatTime(r.t_start) || '\u2014', formatTime(r.t_end) || el('span', 'muted', 'playing'),
      r.room, r.participant, r.template, r.phrase ? quote(r.phrase) : '\u2014',
      yesNo(r.personalised, 'yes', 'no: plain clip'),
    ]);
}

function yesNo(value, yes, no) {
  const tag = el('span', 'pill', value ? yes : no);
  tag.dataset.value = value ? 'yes' : 'no';
  return tag;
}

async function onPurge(kind, button) {
  const spec = LOGS[kind];
  if (!confirm('Delete every row of the ' + spec.title + '?\n\nThis cannot be undone.')) return;
  button.disabled = true;
  setMessage($(spec.error), '');
  try {
    const data = await apiJson('DELETE', '/api/logs?kind=' + kind);
    const n = data && Number.isFinite(data.deleted) ? data.deleted : 0;
    toast('Deleted ' + plural(n, 'row', 'rows') + ' from the ' + spec.title + '.');
    await loadLog(kind);
  } catch (err) {
    if (!quiet(err)) setMessage($(spec.error), 'Could not purge the ' + spec.title + ': ' + describe(err));
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- retention setting

function showRetention(days) {
  if (retentionDirty || document.activeElement === ui.retentionDays) return;
  ui.retentionDays.value = String(days);
}

export async function loadSettings() {
  try {
    const data = await apiJson('GET', '/api/settings');
    if (data && data.retention_days != null) showRetention(data.retention_days);
  } catch (err) {
    if (!quiet(err)) setMessage(ui.retentionStatus, 'Could not load the settings: ' + describe(err), 'error');
  }
}

async function onRetentionSubmit(ev) {
  ev.preventDefault();
  const days = Number(ui.retentionDays.value);
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    setMessage(ui.retentionStatus, 'Use a whole number of days between 1 and 3650.', 'error');
    ui.retentionDays.focus();
    return;
  }
  ui.retentionSave.disabled = true;
  try {
    const data = await apiJson('PUT', '/api/settings', { json: { retention_days: days } });
    retentionDirty = false;
    const kept = data && data.retention_days != null ? data.retention_days : days;
    ui.retentionDays.value = String(kept);
    setMessage(ui.retentionStatus, 'Saved. Log rows older than ' + plural(kept, 'day', 'days') + ' are deleted automatically.', 'ok');
  } catch (err) {
    if (!quiet(err)) setMessage(ui.retentionStatus, describe(err), 'error');
  } finally {
    ui.retentionSave.disabled = false;
  }
}
