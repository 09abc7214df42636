// callbridge admin page: sign in with the admin token, then edit trigger phrases and ad templates,
// preview a template with a photo, and look after the consent and ad-play logs.
// Plain ES2020, no build step, no external resources. The HTTP API it uses is docs/campaigns.md.
'use strict';

(() => {
  const TOKEN_KEY = 'callbridge-admin-token';  // sessionStorage only: gone when the tab closes
  const CHECK_DEBOUNCE_MS = 300;               // phrase check while typing
  const POLL_MS = 400;                         // one template's ingest progress after an upload
  const REFRESH_INGESTING_MS = 2500;           // whole campaign, while something is ingesting
  const REFRESH_IDLE_MS = 15000;               // whole campaign otherwise (picks up CLI changes)
  const LOG_REFRESH_MS = 20000;
  const LOG_LIMIT = 200;
  const MAX_UPLOAD_BYTES = 200 * 1000 * 1000;  // the server's cap (decimal MB); refusing early saves a long upload
  const MAX_TEMPLATE_S = 30;
  const TEMPLATE_NAME = /^[a-z0-9-]{1,40}$/;
  const USABLE = new Set(['ready', 'ingesting']);  // templates a phrase may point at
  const LOGS = {
    consent: { title: 'consent log', body: 'consent-log', count: 'consent-log-count', error: 'consent-log-error' },
    ads: { title: 'ad-play log', body: 'ad-log', count: 'ad-log-count', error: 'ad-log-error' },
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('status'), signout: $('signout'), nav: $('admin-nav'), toasts: $('toasts'),
    loginPanel: $('login-panel'), loginForm: $('login-form'), token: $('token'), tokenShow: $('token-show'),
    login: $('login'), loginError: $('login-error'), admin: $('admin'),
    phraseForm: $('phrase-form'), phraseInput: $('phrase-input'), phraseTemplate: $('phrase-template'),
    phraseCooldown: $('phrase-cooldown'), phraseAdd: $('phrase-add'), phraseWarnings: $('phrase-warnings'),
    phraseError: $('phrase-error'), phrasesTable: $('phrases-table'), phrasesMessage: $('phrases-message'),
    phrasesEmpty: $('phrases-empty'),
    templates: $('templates'), templatesEmpty: $('templates-empty'),
    uploadForm: $('upload-form'), uploadName: $('upload-name'), uploadTitle: $('upload-title'),
    uploadTagline: $('upload-tagline'), uploadLicence: $('upload-licence'), uploadMax: $('upload-max'),
    uploadFallback: $('upload-fallback'), uploadFile: $('upload-file'), uploadSubmit: $('upload-submit'),
    uploadProgress: $('upload-progress'), uploadBar: $('upload-bar'), uploadProgressText: $('upload-progress-text'),
    uploadStatus: $('upload-status'), uploadError: $('upload-error'),
    retentionForm: $('retention-form'), retentionDays: $('retention-days'), retentionSave: $('retention-save'),
    retentionStatus: $('retention-status'),
  };
  const phrasesBody = ui.phrasesTable.tBodies[0];

  let token = null;
  let generation = 0;          // bumped at sign-in and sign-out: answers to older requests are dropped
  let campaign = { phrases: [], templates: [] };
  let campaignSeq = 0;         // only the newest campaign answer is applied
  let refreshTimer = 0;
  let refreshDue = 0;
  let logTimer = 0;
  let upload = null;           // the XMLHttpRequest of an upload in progress
  let editing = null;          // {phrase, row, ...} while a phrase row is edited inline
  let phrasesSignature = '';   // what the phrase table shows; unchanged data is not redrawn (keeps focus)
  let selectSignature = '';
  const cards = new Map();     // template name -> card (built once, then updated in place)
  const polls = new Map();     // template name -> timer of its ingest poll
  const uploadedHere = new Set();  // templates uploaded from this page: their outcome goes under the form

  // ---------------------------------------------------------------- small helpers

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  function quote(s) { return '\u201c' + s + '\u201d'; }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  // What the server stores: lowercase, single spaces (callbridge/config/campaign.py check_phrase).
  function normalisePhrase(s) { return s.toLowerCase().split(/\s+/).filter(Boolean).join(' '); }

  function formatSeconds(s) {
    const n = Number(s) || 0;
    return (Number.isInteger(n) ? String(n) : n.toFixed(1)) + ' s';
  }

  function formatTime(unixSeconds) {
    if (unixSeconds == null || !Number.isFinite(Number(unixSeconds))) return null;
    const d = new Date(Number(unixSeconds) * 1000);
    const node = el('time', null, d.toLocaleString(undefined, {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }));
    node.dateTime = d.toISOString();
    return node;
  }

  function formatMB(bytes) { return (bytes / 1e6).toFixed(1) + ' MB'; }  // decimal, as the server counts

  function setMessage(node, text, kind) {
    node.textContent = text || '';
    node.hidden = !text;
    if (kind) node.dataset.kind = kind;
    else delete node.dataset.kind;
  }

  function showStatus(text) { setMessage(ui.status, text); }

  function toast(text) {
    const t = el('div', 'toast', text);
    ui.toasts.append(t);
    setTimeout(() => t.classList.add('out'), 3200);
    setTimeout(() => t.remove(), 3800);
  }

  // Redrawing replaces nodes; keyboard users must not lose their place, so focus moves to
  // the element with the same data-key in the new content.
  function keepingFocus(container, redraw) {
    const active = document.activeElement;
    const key = active && container.contains(active) ? active.dataset.key : null;
    redraw();
    if (key) focusKey(container, key);
  }

  function focusKey(container, key) {
    const again = Array.from(container.querySelectorAll('[data-key]')).find((n) => n.dataset.key === key);
    if (again) again.focus();
  }

  function playQuietly(video) {
    const p = video.play();
    if (p && p.catch) p.catch(() => {});  // autoplay may be refused; the controls are there
  }

  // ---------------------------------------------------------------- talking to the API

  class ApiError extends Error {
    constructor(message, status) { super(message); this.status = status; }
  }
  class AuthError extends Error {}   // 401: the page has already gone back to the login form
  class StaleError extends Error {}  // an answer for a session that has ended

  // Every /api call goes through here so that the token is always sent as a header (never in a
  // URL) and a 401 anywhere sends the person back to the login form.
  async function api(method, path, { json, body } = {}) {
    const gen = generation;
    const headers = { Authorization: 'Bearer ' + token };
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    }
    const res = await fetch(path, { method, headers, body, cache: 'no-store', credentials: 'same-origin' });
    if (gen !== generation) throw new StaleError('stale');
    if (res.status === 401) {
      expire();
      throw new AuthError('unauthorised');
    }
    return res;
  }

  // The API answers errors as {"error": "..."}; anything else (a proxy page, plain text) is shortened.
  async function errorFrom(res) {
    let text = '';
    try { text = await res.text(); } catch (_) { /* body lost: fall back to the status */ }
    return errorFromText(text, res.status, res.statusText);
  }

  function errorFromText(text, status, statusText) {
    try {
      const data = JSON.parse(text);
      if (data && typeof data.error === 'string' && data.error) return new ApiError(data.error, status);
    } catch (_) { /* not JSON */ }
    if (status === 413) return new ApiError('The file is too big: 200 MB at most.', status);
    const plain = String(text || '').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
    return new ApiError(plain || ('The server answered ' + status + ' ' + (statusText || '') + '.').replace(' .', '.'), status);
  }

  async function apiJson(method, path, opts) {
    const res = await api(method, path, opts);
    if (!res.ok) throw await errorFrom(res);
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  // Errors already handled elsewhere (sign-out, a stale answer) are not shown again.
  function quiet(err) { return err instanceof AuthError || err instanceof StaleError; }

  function describe(err) {
    if (err instanceof ApiError) return err.message;
    if (err instanceof TypeError) return 'Could not reach the server. Check that callbridge is running, then try again.';
    return (err && err.message) || String(err);
  }

  // ---------------------------------------------------------------- sign in, sign out

  function readStoredToken() {
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (_) { return null; }
  }

  function storeToken(value) {
    try {
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) { /* storage off: the token lives in memory until the page closes */ }
  }

  // 204: right token; 401: wrong one. Returns true, false, or throws on a network error.
  async function checkToken(value) {
    const res = await fetch('/api/auth', { headers: { Authorization: 'Bearer ' + value }, cache: 'no-store' });
    if (res.status === 401) return false;
    if (!res.ok) throw await errorFrom(res);
    return true;
  }

  async function onLoginSubmit(ev) {
    ev.preventDefault();
    const value = ui.token.value.trim();
    if (!value) {
      setMessage(ui.loginError, 'Paste the admin token first.');
      ui.token.focus();
      return;
    }
    setLoginBusy(true, 'Checking…');
    try {
      if (await checkToken(value)) {
        storeToken(value);
        enter(value);
      } else {
        setMessage(ui.loginError, 'That token is not right. Check that it was copied whole, '
          + 'or look in DATA/admin-token on the server.');
        ui.token.select();
      }
    } catch (err) {
      setMessage(ui.loginError, describe(err));
    } finally {
      setLoginBusy(false);
    }
  }

  function setLoginBusy(busy, text) {
    ui.login.disabled = busy;
    ui.login.textContent = busy ? text : 'Sign in';
  }

  // A token kept from earlier in this tab is checked again before the admin part is shown.
  async function resumeSession() {
    const saved = readStoredToken();
    if (!saved) { showLogin(); return; }
    setLoginBusy(true, 'Signing in…');
    try {
      if (await checkToken(saved)) { enter(saved); return; }
      storeToken(null);
      showLogin('The saved token is no longer accepted. Sign in again.');
    } catch (err) {
      showLogin(describe(err));
    } finally {
      setLoginBusy(false);
    }
  }

  function enter(value) {
    token = value;
    generation += 1;
    ui.token.value = '';
    ui.token.type = 'password';
    setTokenShown(false);
    setMessage(ui.loginError, '');
    ui.loginPanel.hidden = true;
    ui.admin.hidden = false;
    ui.nav.hidden = false;
    ui.signout.hidden = false;
    refreshCampaign();
    loadSettings();
    loadLog('consent');
    loadLog('ads');
    scheduleLogRefresh();
    ui.phraseInput.focus();
  }

  function showLogin(message, kind) {
    ui.admin.hidden = true;
    ui.nav.hidden = true;
    ui.signout.hidden = true;
    ui.loginPanel.hidden = false;
    setMessage(ui.loginError, message || '', kind);
    ui.token.focus();
  }

  // Forget the token and everything shown with it (the logs hold participants' names).
  function signOut(message, kind) {
    generation += 1;
    token = null;
    storeToken(null);
    stopBackgroundWork();
    clearAdminContent();
    showStatus('');
    showLogin(message, kind);
  }

  function expire() {
    signOut('The admin token was not accepted. It may have been changed on the server: sign in again.');
  }

  function stopBackgroundWork() {
    clearTimeout(refreshTimer);
    refreshTimer = 0;
    clearTimeout(logTimer);
    logTimer = 0;
    for (const timer of polls.values()) clearTimeout(timer);
    polls.clear();
    phraseCheck.cancel();
    if (upload) upload.abort();
    upload = null;
  }

  function clearAdminContent() {
    campaign = { phrases: [], templates: [] };
    editing = null;
    phrasesSignature = '';
    selectSignature = '';
    phrasesBody.replaceChildren();
    for (const card of cards.values()) discardCard(card);
    cards.clear();
    ui.templates.replaceChildren();
    ui.phraseForm.reset();
    ui.uploadForm.reset();
    endUpload(null);
    uploadedHere.clear();
    retentionDirty = false;
    ui.phraseWarnings.replaceChildren();
    for (const node of [ui.phraseError, ui.phrasesMessage, ui.uploadError, ui.uploadStatus, ui.retentionStatus]) {
      setMessage(node, '');
    }
    ui.retentionDays.value = '';
    for (const kind of Object.keys(LOGS)) {
      $(LOGS[kind].body).replaceChildren();
      $(LOGS[kind].count).textContent = '';
      setMessage($(LOGS[kind].error), '');
    }
  }

  function setTokenShown(shown) {
    ui.token.type = shown ? 'text' : 'password';
    ui.tokenShow.textContent = shown ? 'Hide' : 'Show';
    ui.tokenShow.setAttribute('aria-pressed', String(shown));
  }

  // ---------------------------------------------------------------- campaign: load and schedule

  async function refreshCampaign() {
    const seq = ++campaignSeq;
    try {
      const data = await apiJson('GET', '/api/campaign');
      if (seq !== campaignSeq) return;
      campaign = {
        phrases: Array.isArray(data && data.phrases) ? data.phrases : [],
        templates: Array.isArray(data && data.templates) ? data.templates : [],
      };
      showStatus('');
      render();
    } catch (err) {
      if (quiet(err)) return;
      if (seq === campaignSeq) showStatus('Could not load the campaign: ' + describe(err));
    }
    if (token) scheduleRefresh();
  }

  function anyIngesting() { return campaign.templates.some((t) => t.status === 'ingesting'); }

  // Keep at most one pending refresh, and make it sooner when something starts ingesting.
  function scheduleRefresh() {
    const delay = anyIngesting() ? REFRESH_INGESTING_MS : REFRESH_IDLE_MS;
    const due = Date.now() + delay;
    if (refreshTimer && refreshDue <= due) return;
    clearTimeout(refreshTimer);
    refreshDue = due;
    refreshTimer = setTimeout(() => { refreshTimer = 0; refreshCampaign(); }, delay);
  }

  function upsertTemplate(t) {
    const i = campaign.templates.findIndex((x) => x.name === t.name);
    if (i >= 0) campaign.templates[i] = t;
    else campaign.templates.push(t);
  }

  function templateByName(name) { return campaign.templates.find((t) => t.name === name) || null; }

  function phrasesUsing(name) { return campaign.phrases.filter((p) => p.template === name); }

  function render() {
    renderTemplateSelect();
    renderPhrases();
    renderTemplates();
  }

  // ---------------------------------------------------------------- phrases: add form

  function templateLabel(t) {
    const base = t.title && t.title !== t.name ? t.title + ' (' + t.name + ')' : t.name;
    return t.status === 'ingesting' ? base + ' \u00b7 still being prepared' : base;
  }

  function fillTemplateOptions(select, current, { keep } = {}) {
    const usable = campaign.templates.filter((t) => USABLE.has(t.status) || t.name === keep);
    select.replaceChildren(...usable.map((t) => {
      const opt = el('option', null, templateLabel(t));
      opt.value = t.name;
      return opt;
    }));
    if (keep && !usable.some((t) => t.name === keep)) {
      select.append(option(keep, keep + ' (missing)'));  // else the select would silently switch template
    }
    if (Array.from(select.options).some((o) => o.value === current)) select.value = current;
    return usable.length;
  }

  // Rebuilt only when the choice changes: rebuilding closes a select that is open.
  function renderTemplateSelect() {
    const usable = campaign.templates.filter((t) => USABLE.has(t.status));
    const signature = JSON.stringify(usable.map((t) => [t.name, t.title, t.status]));
    if (signature === selectSignature) return;
    selectSignature = signature;
    const select = ui.phraseTemplate;
    const current = select.value;
    const count = fillTemplateOptions(select, current);
    if (!count) {
      const opt = el('option', null, 'No template yet: upload one below');
      opt.value = '';
      select.append(opt);
    } else if (!select.value) {
      const ready = usable.find((t) => t.status === 'ready');
      select.value = (ready || usable[0]).name;
    }
    select.disabled = !count;
  }

  function showWarnings(out, warnings, problem) {
    const items = warnings.map((w) => el('p', 'warning', String(w)));
    if (problem) items.push(el('p', 'warning warning-strong', 'This cannot be saved as it is: ' + problem));
    if (warnings.length && !problem) items.push(el('p', 'warning-note', 'You can still add it.'));
    out.replaceChildren(...items);
  }

  // Asks the server what it thinks of a phrase while it is typed; only the latest answer counts.
  function phraseChecker(input, out) {
    let timer = 0;
    let seq = 0;
    async function run() {
      const mine = ++seq;
      const text = input.value.trim();
      if (!text) { out.replaceChildren(); return; }
      try {
        const res = await api('POST', '/api/phrases/check', { json: { phrase: text } });
        if (mine !== seq) return;
        if (res.ok) {
          const data = await res.json();
          if (mine === seq) showWarnings(out, Array.isArray(data.warnings) ? data.warnings : []);
        } else {
          const err = await errorFrom(res);
          if (mine === seq) showWarnings(out, [], err.message);
        }
      } catch (err) {
        if (!quiet(err) && mine === seq) out.replaceChildren();  // a hint only: stay quiet on failure
      }
    }
    return {
      schedule() {
        clearTimeout(timer);
        seq += 1;  // an answer already on its way is for older text
        timer = setTimeout(run, CHECK_DEBOUNCE_MS);
      },
      cancel() {
        clearTimeout(timer);
        seq += 1;
        out.replaceChildren();
      },
    };
  }

  const phraseCheck = phraseChecker(ui.phraseInput, ui.phraseWarnings);

  function readCooldown(input) {
    const raw = input.value.trim();
    const value = raw === '' ? 0 : Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > 3600) return null;
    return value;
  }

  async function onPhraseSubmit(ev) {
    ev.preventDefault();
    setMessage(ui.phraseError, '');
    const phrase = ui.phraseInput.value.trim();
    const template = ui.phraseTemplate.value;
    const cooldown = readCooldown(ui.phraseCooldown);
    const fail = (field, text) => { setMessage(ui.phraseError, text); field.focus(); };
    if (!phrase) { fail(ui.phraseInput, 'Type the phrase first.'); return; }
    if (!template) { fail(ui.phraseInput, 'There is no template to point at yet. Upload one under \u201cAd templates\u201d below.'); return; }
    if (cooldown == null) { fail(ui.phraseCooldown, 'The cooldown is a number of seconds between 0 and 3600.'); return; }
    ui.phraseAdd.disabled = true;
    try {
      const created = await apiJson('POST', '/api/phrases', { json: { phrase, template, cooldown_s: cooldown } });
      const saved = (created && created.phrase) || normalisePhrase(phrase);
      campaign.phrases = campaign.phrases.filter((p) => p.phrase !== saved).concat(created || []);
      ui.phraseInput.value = '';
      ui.phraseCooldown.value = '0';
      phraseCheck.cancel();
      render();
      toast('Added ' + quote(saved) + '. It works in every room now.');
      ui.phraseInput.focus();  // ready for the next phrase
      refreshCampaign();
    } catch (err) {
      if (!quiet(err)) setMessage(ui.phraseError, describe(err));
    } finally {
      ui.phraseAdd.disabled = false;
    }
  }

  // ---------------------------------------------------------------- phrases: table

  function renderPhrases() {
    // An open inline edit is not redrawn under the person's hands; it is redrawn when it closes.
    if (editing) return;
    const signature = JSON.stringify([campaign.phrases,
      campaign.templates.map((t) => [t.name, t.status, t.title])]);
    if (signature === phrasesSignature) return;
    phrasesSignature = signature;
    keepingFocus(phrasesBody, () => {
      phrasesBody.replaceChildren(...campaign.phrases.map(phraseRow));
    });
    ui.phrasesEmpty.hidden = campaign.phrases.length > 0;
  }

  function phraseRow(p) {
    const row = el('tr');
    row.dataset.phrase = p.phrase;
    row.classList.toggle('is-off', !p.enabled);
    const head = el('th', 'cell-phrase');
    head.scope = 'row';
    head.append(el('span', 'phrase', quote(p.phrase)));
    row.append(head, templateCell(p), toggleCell(p),
      el('td', 'cell-num', Number(p.cooldown_s) > 0 ? formatSeconds(p.cooldown_s) : 'none'),
      warningsCell(p.warnings), actionsCell(p));
    return row;
  }

  // Says when a phrase cannot fire because of its template, since the row alone would not show it.
  function templateCell(p) {
    const cell = el('td', 'cell-template');
    cell.append(el('code', 'tpl-ref', p.template));
    const t = templateByName(p.template);
    let note = null;
    if (!t) note = ['missing', 'template missing: cannot fire'];
    else if (t.status === 'ingesting') note = ['pending', 'being prepared: fires once ready'];
    else if (t.status === 'failed') note = ['failed', 'template failed: cannot fire'];
    if (note) {
      const tag = el('span', 'cell-note', note[1]);
      tag.dataset.kind = note[0];
      cell.append(tag);
    }
    return cell;
  }

  function toggleCell(p) {
    const cell = el('td', 'cell-toggle');
    const label = el('label', 'switch');
    const input = el('input');
    input.type = 'checkbox';
    input.checked = !!p.enabled;
    input.dataset.key = 'toggle:' + p.phrase;
    input.setAttribute('aria-label', 'Enabled: ' + p.phrase);
    input.addEventListener('change', () => onToggle(p, input));
    label.append(input, el('span', 'switch-track'), el('span', 'switch-text', p.enabled ? 'On' : 'Off'));
    label.querySelector('.switch-track').setAttribute('aria-hidden', 'true');
    cell.append(label);
    return cell;
  }

  function warningsCell(warnings) {
    const cell = el('td', 'cell-warnings');
    const list = Array.isArray(warnings) ? warnings : [];
    if (!list.length) cell.append(el('span', 'muted', '\u2014'));
    for (const w of list) cell.append(el('p', 'warning warning-small', String(w)));
    return cell;
  }

  function actionsCell(p) {
    const cell = el('td', 'cell-actions');
    const edit = el('button', 'btn btn-quiet btn-small', 'Edit');
    edit.type = 'button';
    edit.dataset.key = 'edit:' + p.phrase;
    edit.setAttribute('aria-label', 'Edit ' + quote(p.phrase));
    edit.addEventListener('click', () => startEdit(p));
    const del = el('button', 'btn btn-danger btn-small', 'Delete');
    del.type = 'button';
    del.dataset.key = 'delete:' + p.phrase;
    del.setAttribute('aria-label', 'Delete ' + quote(p.phrase));
    del.addEventListener('click', () => onDeletePhrase(p, del));
    cell.append(edit, del);
    return cell;
  }

  async function onToggle(p, input) {
    const enabled = input.checked;
    setMessage(ui.phrasesMessage, '');
    input.disabled = true;
    try {
      const saved = await apiJson('PATCH', phrasePath(p.phrase), { json: { enabled } });
      replacePhrase(p.phrase, saved || { ...p, enabled });
      toast(quote(p.phrase) + (enabled ? ' is on: it starts ads again.' : ' is off: it no longer starts ads.'));
    } catch (err) {
      if (quiet(err)) return;
      input.checked = !enabled;
      setMessage(ui.phrasesMessage, 'Could not change ' + quote(p.phrase) + ': ' + describe(err));
    } finally {
      input.disabled = false;
    }
    // Disabling the switch took the focus away; a keyboard user expects it back on the switch.
    const hadFocus = document.activeElement === input || document.activeElement === document.body;
    render();
    if (hadFocus) focusKey(phrasesBody, 'toggle:' + p.phrase);
    refreshCampaign();
  }

  async function onDeletePhrase(p, button) {
    if (!confirm('Delete the phrase ' + quote(p.phrase) + '?\n\nIt stops starting ads in every room at once.')) return;
    setMessage(ui.phrasesMessage, '');
    button.disabled = true;
    try {
      await apiJson('DELETE', phrasePath(p.phrase));
      campaign.phrases = campaign.phrases.filter((x) => x.phrase !== p.phrase);
      render();
      toast('Deleted ' + quote(p.phrase) + '.');
      refreshCampaign();
    } catch (err) {
      if (quiet(err)) return;
      button.disabled = false;
      setMessage(ui.phrasesMessage, 'Could not delete ' + quote(p.phrase) + ': ' + describe(err));
    }
  }

  function phrasePath(phrase) { return '/api/phrases/' + encodeURIComponent(phrase); }

  function replacePhrase(oldPhrase, saved) {
    campaign.phrases = campaign.phrases.map((x) => (x.phrase === oldPhrase ? saved : x));
  }

  // ---------------------------------------------------------------- phrases: inline edit

  function startEdit(p) {
    if (editing) cancelEdit();
    const row = Array.from(phrasesBody.rows).find((r) => r.dataset.phrase === p.phrase);
    if (!row) return;
    setMessage(ui.phrasesMessage, '');
    const fields = editFields(p);
    editing = { phrase: p.phrase, original: p, row, fields };
    row.classList.add('is-editing');
    row.replaceChildren(fields.phraseCell, fields.templateCell, fields.enabledCell, fields.cooldownCell,
      fields.noteCell, fields.actionsCell);
    fields.phrase.focus();
    fields.phrase.select();
  }

  function editFields(p) {
    const id = 'edit-' + Math.random().toString(36).slice(2);
    const phrase = labelledInput('input', id + '-phrase', 'Phrase');
    phrase.input.type = 'text';
    phrase.input.maxLength = 80;
    phrase.input.value = p.phrase;
    phrase.input.spellcheck = false;

    const template = labelledInput('select', id + '-template', 'Template');
    fillTemplateOptions(template.input, p.template, { keep: p.template });

    const enabled = el('input');
    enabled.type = 'checkbox';
    enabled.checked = !!p.enabled;
    const enabledLabel = el('label', 'switch');
    const enabledText = el('span', 'switch-text', p.enabled ? 'On' : 'Off');
    enabledLabel.append(enabled, el('span', 'switch-track'), enabledText);
    enabled.setAttribute('aria-label', 'Enabled');
    enabled.addEventListener('change', () => { enabledText.textContent = enabled.checked ? 'On' : 'Off'; });

    const cooldown = labelledInput('input', id + '-cooldown', 'Cooldown in seconds');
    Object.assign(cooldown.input, { type: 'number', min: '0', max: '3600', step: '1', value: String(p.cooldown_s || 0) });

    const warnings = el('div', 'warnings');
    warnings.setAttribute('aria-live', 'polite');
    const error = el('p', 'form-error');
    error.setAttribute('role', 'alert');
    error.hidden = true;
    const checker = phraseChecker(phrase.input, warnings);
    phrase.input.addEventListener('input', () => checker.schedule());

    const save = el('button', 'btn btn-primary btn-small', 'Save');
    save.type = 'button';
    save.addEventListener('click', saveEdit);
    const cancel = el('button', 'btn btn-quiet btn-small', 'Cancel');
    cancel.type = 'button';
    cancel.addEventListener('click', () => cancelEdit(true));

    const cells = {
      phraseCell: wrapCell('th', phrase.wrap), templateCell: wrapCell('td', template.wrap),
      enabledCell: wrapCell('td', enabledLabel), cooldownCell: wrapCell('td', cooldown.wrap),
      noteCell: wrapCell('td', warnings, error), actionsCell: wrapCell('td', save, cancel),
    };
    cells.phraseCell.scope = 'row';
    cells.actionsCell.className = 'cell-actions';
    // Enter saves and Escape cancels from any field of the row, as in a spreadsheet.
    for (const input of [phrase.input, template.input, enabled, cooldown.input]) {
      input.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' && input.tagName !== 'SELECT') { ev.preventDefault(); saveEdit(); }
        if (ev.key === 'Escape') { ev.preventDefault(); cancelEdit(true); }
      });
    }
    return {
      ...cells, phrase: phrase.input, template: template.input, enabled, cooldown: cooldown.input,
      error, save, checker,
    };
  }

  function labelledInput(tag, id, labelText) {
    const wrap = el('div', 'edit-field');
    const label = el('label', 'visually-hidden', labelText);
    label.htmlFor = id;
    const input = el(tag);
    input.id = id;
    wrap.append(label, input);
    return { wrap, input };
  }

  function wrapCell(tag, ...children) {
    const cell = el(tag);
    cell.append(...children);
    return cell;
  }

  // Only what changed is sent, so a rename does not rewrite the other fields.
  function editChanges() {
    const { original: p, fields: f } = editing;
    const changes = {};
    const phrase = f.phrase.value.trim();
    if (!phrase) throw new Error('A phrase needs at least one word.');
    if (normalisePhrase(phrase) !== p.phrase) changes.phrase = phrase;
    if (f.template.value && f.template.value !== p.template) changes.template = f.template.value;
    if (f.enabled.checked !== !!p.enabled) changes.enabled = f.enabled.checked;
    const cooldown = readCooldown(f.cooldown);
    if (cooldown == null) throw new Error('The cooldown is a number of seconds between 0 and 3600.');
    if (cooldown !== Number(p.cooldown_s || 0)) changes.cooldown_s = cooldown;
    return changes;
  }

  async function saveEdit() {
    if (!editing) return;
    const current = editing;
    const f = current.fields;
    let changes;
    try {
      changes = editChanges();
    } catch (err) {
      setMessage(f.error, err.message);
      return;
    }
    if (!Object.keys(changes).length) { cancelEdit(true); return; }
    f.save.disabled = true;
    setMessage(f.error, '');
    try {
      const saved = await apiJson('PATCH', phrasePath(current.phrase), { json: changes });
      if (editing !== current) return;
      const result = saved || { ...current.original, ...changes };
      replacePhrase(current.phrase, result);
      finishEdit('edit:' + result.phrase);
      toast('Saved ' + quote(result.phrase) + '.');
      refreshCampaign();
    } catch (err) {
      if (quiet(err) || editing !== current) return;
      f.save.disabled = false;
      setMessage(f.error, describe(err));
    }
  }

  function cancelEdit(refocus) {
    if (!editing) return;
    finishEdit(refocus ? 'edit:' + editing.phrase : null);
  }

  function finishEdit(key) {
    editing.fields.checker.cancel();
    editing = null;
    phrasesSignature = '';  // the edited row's DOM is gone: redraw from the data
    renderPhrases();
    if (key) focusKey(phrasesBody, key);
  }

  // ---------------------------------------------------------------- templates: cards

  function renderTemplates() {
    const seen = new Set();
    campaign.templates.forEach((t, i) => {
      seen.add(t.name);
      let card = cards.get(t.name);
      if (!card) {
        card = createCard(t);
        cards.set(t.name, card);
      }
      updateCard(card, t);
      // Move only cards that are out of place: moving a node takes the focus away from it.
      if (ui.templates.children[i] !== card.root) ui.templates.insertBefore(card.root, ui.templates.children[i] || null);
    });
    for (const [name, card] of cards) {
      if (!seen.has(name)) {
        discardCard(card);
        card.root.remove();
        cards.delete(name);
      }
    }
    ui.templatesEmpty.hidden = campaign.templates.length > 0;
  }

  function createCard(t) {
    const id = 'tpl-' + t.name;  // names are [a-z0-9-]: safe in an id
    const root = el('article', 'tpl-card');
    root.dataset.template = t.name;
    root.setAttribute('aria-labelledby', id + '-title');

    // The title gets the whole width (titles can be long); name and badges share the line below.
    const head = el('header', 'tpl-head');
    const title = el('h3', 'tpl-title');
    title.id = id + '-title';
    const meta = el('div', 'tpl-meta');
    const name = el('code', 'tpl-name', t.name);
    const statusBadge = el('span', 'badge status-badge');
    const builtinBadge = el('span', 'badge badge-builtin', 'built-in');
    builtinBadge.title = 'Comes with callbridge: it can be edited but not deleted';
    meta.append(name, statusBadge, builtinBadge);
    head.append(title, meta);

    const tagline = el('p', 'tpl-tagline');
    const progress = el('div', 'progress');
    const bar = el('progress');
    bar.max = 1;
    bar.id = id + '-progress';
    const progressText = el('span', 'progress-text');
    progressText.id = id + '-progress-text';
    bar.setAttribute('aria-labelledby', progressText.id);
    progress.append(bar, progressText);
    const verdict = el('p', 'verdict');
    const error = el('p', 'error');

    const facts = el('dl', 'tpl-facts');
    const licence = fact(facts, 'Licence');
    const length = fact(facts, 'Longest ad');
    const fallback = fact(facts, 'Without consent');
    const uses = fact(facts, 'Phrases');

    const card = {
      name: t.name, id, root, title, statusBadge, builtinBadge, tagline, progress, bar, progressText,
      verdict, error, licence, length, fallback, uses, t, lastStatus: t.status, previewUrl: null,
    };
    card.settings = settingsForm(card);
    card.preview = previewBox(card);
    card.footer = cardFooter(card);
    root.append(head, tagline, progress, verdict, error, facts, card.settings.form, card.preview.box, card.footer.box);
    return card;
  }

  function fact(list, label) {
    const dt = el('dt', null, label);
    const dd = el('dd');
    list.append(dt, dd);
    return { dt, dd, set(text, shown = true) { dd.textContent = text; dt.hidden = !shown; dd.hidden = !shown; } };
  }

  function updateCard(card, t) {
    const was = card.lastStatus;
    card.t = t;
    card.lastStatus = t.status;
    card.root.dataset.status = t.status;
    card.root.classList.toggle('is-builtin', !!t.builtin);
    card.title.textContent = t.title || t.name;
    card.statusBadge.textContent = t.status;
    card.statusBadge.dataset.status = t.status;
    card.builtinBadge.hidden = !t.builtin;
    card.tagline.textContent = t.tagline || '';
    card.tagline.hidden = !t.tagline;

    const ingesting = t.status === 'ingesting';
    const fraction = Math.min(1, Math.max(0, Number(t.progress) || 0));
    card.progress.hidden = !ingesting;
    card.bar.value = fraction;
    card.progressText.textContent = 'Following the actor\u2019s face through the clip\u2026 ' + Math.round(fraction * 100) + ' %';

    card.verdict.textContent = t.status === 'ready' && t.verdict ? t.verdict : '';
    card.verdict.hidden = !card.verdict.textContent;
    card.error.textContent = t.status === 'failed' ? (t.error || 'This clip could not be used.') : '';
    card.error.hidden = !card.error.textContent;

    // Length and fallback are read from the settings form, except on a failed card, which has none.
    const failed = t.status === 'failed';
    card.licence.set(t.licence || (t.builtin ? 'comes with callbridge' : 'not noted'));
    card.length.set(formatSeconds(editable(t).max_duration_s), failed);
    card.fallback.set(t.fallback === 'none' ? 'no ad' : 'the clip as it is', failed);
    const used = phrasesUsing(t.name).map((p) => quote(p.phrase));
    card.uses.set(used.length ? used.join(', ') : 'none yet');

    updateSettings(card);
    card.preview.box.hidden = t.status !== 'ready';
    card.footer.del.hidden = !!t.builtin;
    card.footer.builtinNote.hidden = !t.builtin;
    if (was === 'ingesting' && t.status !== 'ingesting') announceIngestEnd(t);
  }

  // Said once, whichever of the poll or the list refresh sees the end first.
  function announceIngestEnd(t) {
    const mine = uploadedHere.has(t.name);
    if (t.status === 'ready') {
      toast('Template ' + quote(t.name) + ' is ready.');
      if (!ui.phraseTemplate.value) ui.phraseTemplate.value = t.name;
      if (mine) {
        setMessage(ui.uploadStatus, quote(t.name) + ' is ready' + (t.verdict ? ': ' + t.verdict + '.' : '.')
          + ' Add a phrase that points at it to use it in calls.', 'ok');
      }
    } else if (t.status === 'failed') {
      toast('Template ' + quote(t.name) + ' could not be used.');
      if (!mine) return;
      setMessage(ui.uploadStatus, '');
      setMessage(ui.uploadError, quote(t.name) + ' could not be used: ' + (t.error || 'no reason given')
        + '. Delete it, then upload a better clip.');
    }
  }

  function discardCard(card) {
    if (card.previewUrl) URL.revokeObjectURL(card.previewUrl);
    card.previewUrl = null;
  }

  // ---------------------------------------------------------------- templates: settings

  function settingsForm(card) {
    const id = card.id;
    const form = el('form', 'tpl-settings');
    form.noValidate = true;
    const row = el('div', 'tpl-settings-row');

    const max = formField(id + '-max', 'Longest ad (s)', 'input');
    Object.assign(max.input, { type: 'number', min: '1', max: String(MAX_TEMPLATE_S), step: '0.5' });
    max.input.inputMode = 'decimal';
    max.input.title = 'Between 1 and 30 seconds';

    const fallback = formField(id + '-fallback', 'Without consent', 'select');
    fallback.input.append(option('plain', 'Play the clip as it is'), option('none', 'Show no ad'));
    fallback.input.title = 'What happens when the person who said the phrase has not agreed to their face being used';
    row.append(max.wrap, fallback.wrap);

    const more = el('details', 'tpl-more');
    more.append(el('summary', null, 'Title, tagline and licence'));
    const title = formField(id + '-edit-title', 'Title', 'input');
    const tagline = formField(id + '-edit-tagline', 'Tagline', 'input');
    const licence = formField(id + '-edit-licence', 'Licence and actor\u2019s release', 'input');
    // The server's limits (PATCH /api/templates/{name}): title 80, tagline 120, licence 400.
    for (const [f, limit] of [[title, 80], [tagline, 120], [licence, 400]]) {
      f.input.type = 'text';
      f.input.maxLength = limit;
      f.input.autocomplete = 'off';
      more.append(f.wrap);
    }

    const actions = el('div', 'tpl-settings-actions');
    const save = el('button', 'btn btn-quiet btn-small', 'Save changes');
    save.type = 'submit';
    save.disabled = true;
    const status = el('p', 'form-status');
    status.setAttribute('role', 'status');
    status.hidden = true;
    actions.append(save, status);
    form.append(row, more, actions);

    const fields = { max: max.input, fallback: fallback.input, title: title.input, tagline: tagline.input,
      licence: licence.input };
    const settings = { form, fields, save, status, dirty: false };
    form.addEventListener('input', () => markDirty(card));
    form.addEventListener('change', () => markDirty(card));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); saveTemplate(card); });
    return settings;
  }

  function formField(id, labelText, tag) {
    const wrap = el('div', 'field');
    const label = el('label', 'field-label', labelText);
    label.htmlFor = id;
    const input = el(tag);
    input.id = id;
    wrap.append(label, input);
    return { wrap, input };
  }

  function option(value, text) {
    const opt = el('option', null, text);
    opt.value = value;
    return opt;
  }

  // The editable values of a template, with the server's defaults for fields it left out.
  function editable(t) {
    return {
      max_duration_s: Number.isFinite(Number(t.max_duration_s)) && t.max_duration_s != null ? Number(t.max_duration_s) : 8,
      fallback: t.fallback === 'none' ? 'none' : 'plain',
      title: t.title || '', tagline: t.tagline || '', licence: t.licence || '',
    };
  }

  // The server's values fill the form, except while someone has unsaved changes in it.
  function updateSettings(card) {
    const s = card.settings;
    s.form.hidden = card.t.status === 'failed';  // a refused clip can only be deleted
    if (s.dirty) return;
    const v = editable(card.t);
    s.fields.max.value = String(v.max_duration_s);
    s.fields.fallback.value = v.fallback;
    s.fields.title.value = v.title;
    s.fields.tagline.value = v.tagline;
    s.fields.licence.value = v.licence;
    s.save.disabled = true;
  }

  function templateChanges(card) {
    const f = card.settings.fields;
    const v = editable(card.t);
    const changes = {};
    const max = Number(f.max.value);
    if (f.max.value.trim() !== '' && max !== v.max_duration_s) changes.max_duration_s = max;
    if (f.fallback.value !== v.fallback) changes.fallback = f.fallback.value;
    for (const key of ['title', 'tagline', 'licence']) {
      if (f[key].value.trim() !== v[key]) changes[key] = f[key].value.trim();
    }
    return changes;
  }

  function markDirty(card) {
    const s = card.settings;
    s.dirty = Object.keys(templateChanges(card)).length > 0;
    s.save.disabled = !s.dirty;
    if (s.dirty) setMessage(s.status, '');
  }

  async function saveTemplate(card) {
    const s = card.settings;
    const changes = templateChanges(card);
    if (!Object.keys(changes).length) return;
    const max = changes.max_duration_s;
    if (max !== undefined && !(max >= 1 && max <= MAX_TEMPLATE_S)) {
      setMessage(s.status, 'The longest ad is between 1 and 30 seconds.', 'error');
      s.fields.max.focus();
      return;
    }
    s.save.disabled = true;
    setMessage(s.status, 'Saving\u2026');
    try {
      const saved = await apiJson('PATCH', templatePath(card.name), { json: changes });
      s.dirty = false;
      upsertTemplate(saved || { ...card.t, ...changes });
      render();
      setMessage(s.status, 'Saved. Rooms use it from now on.', 'ok');
    } catch (err) {
      if (quiet(err)) return;
      s.save.disabled = false;
      setMessage(s.status, describe(err), 'error');
    }
  }

  function templatePath(name) { return '/api/templates/' + encodeURIComponent(name); }

  // ---------------------------------------------------------------- templates: delete

  function cardFooter(card) {
    const box = el('footer', 'tpl-foot');
    const del = el('button', 'btn btn-danger btn-small', 'Delete template');
    del.type = 'button';
    del.setAttribute('aria-label', 'Delete template ' + card.name);
    del.addEventListener('click', () => onDeleteTemplate(card, del));
    const builtinNote = el('span', 'fineprint', 'Built-in: cannot be deleted.');
    const error = el('p', 'form-error');
    error.setAttribute('role', 'alert');
    error.hidden = true;
    box.append(del, builtinNote, error);
    return { box, del, builtinNote, error };
  }

  async function onDeleteTemplate(card, button) {
    const used = phrasesUsing(card.name).map((p) => quote(p.phrase));
    const phrasesNote = used.length
      ? 'Its ' + plural(used.length, 'phrase', 'phrases') + ' will be deleted too: ' + used.join(', ') + '.'
      : 'Phrases that use it are deleted with it (none do at the moment).';
    if (!confirm('Delete the template ' + quote(card.name) + '?\n\n' + phrasesNote
      + '\nAn ad of it that is playing right now finishes first. This cannot be undone.')) return;
    setMessage(card.footer.error, '');
    button.disabled = true;
    try {
      await apiJson('DELETE', templatePath(card.name));
      stopPoll(card.name);
      campaign.templates = campaign.templates.filter((t) => t.name !== card.name);
      campaign.phrases = campaign.phrases.filter((p) => p.template !== card.name);
      render();
      toast('Deleted template ' + quote(card.name) + (used.length ? ' and its phrases.' : '.'));
      refreshCampaign();
    } catch (err) {
      if (quiet(err)) return;
      button.disabled = false;
      setMessage(card.footer.error, describe(err));
    }
  }

  // ---------------------------------------------------------------- templates: preview

  function previewBox(card) {
    const box = el('div', 'preview');
    const id = card.id + '-photo';
    const label = el('label', 'field-label', 'Preview with a photo');
    label.htmlFor = id;
    const input = el('input', 'preview-photo');
    input.type = 'file';
    input.accept = 'image/*';
    input.id = id;
    const help = el('p', 'hint', 'Choose a photo of a face to see what an ad made from this clip looks like.');
    help.id = id + '-help';
    input.setAttribute('aria-describedby', help.id);
    const status = el('p', 'preview-status');
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    status.hidden = true;
    const figure = el('figure', 'preview-figure');
    figure.hidden = true;
    box.append(label, input, help, status, figure);
    input.addEventListener('change', () => renderPreview(card));
    return { box, input, status, figure };
  }

  async function renderPreview(card) {
    const p = card.preview;
    const file = p.input.files && p.input.files[0];
    if (!file) return;
    if (file.type && !file.type.startsWith('image/')) {
      setPreviewStatus(p, 'That file is not a picture. Choose a photo (JPEG, PNG, WebP\u2026).', 'error');
      p.input.value = '';
      return;
    }
    const body = new FormData();
    body.append('photo', file);
    p.input.disabled = true;
    setPreviewStatus(p, 'Rendering\u2026 this can take a little while.', 'busy');
    try {
      const res = await api('POST', templatePath(card.name) + '/preview', { body });
      if (!res.ok) throw await errorFrom(res);
      const blob = await res.blob();
      if (!cards.has(card.name)) return;  // deleted while rendering
      showPreviewVideo(card, blob);
      setPreviewStatus(p, '');
    } catch (err) {
      if (!quiet(err)) setPreviewStatus(p, 'No preview: ' + describe(err), 'error');
    } finally {
      p.input.disabled = false;
      p.input.value = '';  // choosing the same photo again renders again
    }
  }

  function setPreviewStatus(p, text, kind) {
    setMessage(p.status, text, kind);
    p.status.classList.toggle('is-busy', kind === 'busy');
  }

  function showPreviewVideo(card, blob) {
    const fig = card.preview.figure;
    if (card.previewUrl) URL.revokeObjectURL(card.previewUrl);
    card.previewUrl = URL.createObjectURL(blob.type ? blob : new Blob([blob], { type: 'video/webm' }));
    let video = fig.querySelector('video.preview-video');
    if (!video) {
      video = el('video', 'preview-video');
      video.controls = true;
      video.autoplay = true;
      video.muted = true;  // muted autoplay is allowed without a click
      video.loop = true;
      video.playsInline = true;
      for (const attr of ['muted', 'playsinline', 'loop', 'autoplay', 'controls']) video.setAttribute(attr, '');
      const caption = el('figcaption', 'preview-caption');
      caption.append('Preview. Like every ad, it carries the label ',
        el('span', 'ad-chip', 'sponsored \u00b7 AI-generated'), '.');
      fig.append(video, caption);
    }
    video.src = card.previewUrl;
    fig.hidden = false;
    playQuietly(video);
  }

  // ---------------------------------------------------------------- templates: upload

  // Checks what the server would refuse anyway, so the person is told before a long upload.
  // Returns {field, problem} or {name, file, max}.
  function readUploadForm() {
    const name = ui.uploadName.value.trim();
    const file = ui.uploadFile.files && ui.uploadFile.files[0];
    const max = Number(ui.uploadMax.value);
    if (!TEMPLATE_NAME.test(name)) {
      const suggestion = name.toLowerCase().replace(/[\s_]+/g, '-');
      return { field: ui.uploadName, problem: 'The name uses only lowercase letters a\u2013z, digits and hyphens (-), '
        + '1 to 40 of them.' + (TEMPLATE_NAME.test(suggestion) ? ' For example: ' + suggestion : '') };
    }
    if (cards.has(name)) {
      return { field: ui.uploadName, problem: 'There is already a template called ' + quote(name) + '. Choose another name.' };
    }
    if (!ui.uploadLicence.value.trim()) {
      return { field: ui.uploadLicence, problem: 'Note the licence and where the actor\u2019s release is kept: '
        + 'their face is in every ad made from this clip.' };
    }
    if (ui.uploadMax.value.trim() === '' || !(max >= 1 && max <= MAX_TEMPLATE_S)) {
      return { field: ui.uploadMax, problem: 'The longest ad is between 1 and 30 seconds.' };
    }
    if (!file) return { field: ui.uploadFile, problem: 'Choose the video file.' };
    if (file.size > MAX_UPLOAD_BYTES) {
      return { field: ui.uploadFile, problem: 'This file is ' + formatMB(file.size) + '; 200 MB at most.' };
    }
    return { name, file, max };
  }

  function onUploadSubmit(ev) {
    ev.preventDefault();
    if (upload) return;
    setMessage(ui.uploadError, '');
    setMessage(ui.uploadStatus, '');
    const form = readUploadForm();
    if (form.problem) {
      setMessage(ui.uploadError, form.problem);
      form.field.focus();
      return;
    }
    // Field order matters to the server: the name first (checked before the file is read), the file last.
    const body = new FormData();
    body.append('name', form.name);
    body.append('title', ui.uploadTitle.value.trim());
    body.append('tagline', ui.uploadTagline.value.trim());
    body.append('licence', ui.uploadLicence.value.trim());
    body.append('max_duration_s', String(form.max));
    body.append('fallback', ui.uploadFallback.value);
    body.append('file', form.file);
    sendUpload(form.name, body);
  }

  // XMLHttpRequest rather than fetch: only it reports how many bytes have been sent.
  function sendUpload(name, body) {
    const xhr = new XMLHttpRequest();
    const gen = generation;
    upload = xhr;
    xhr.open('POST', '/api/templates');
    xhr.setRequestHeader('Authorization', 'Bearer ' + token);
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) showUploadProgress(e.loaded, e.total); });
    xhr.upload.addEventListener('load', () => {
      ui.uploadProgressText.textContent = 'Sent. The server is checking the file\u2026';
    });
    xhr.addEventListener('load', () => { if (gen === generation) onUploadAnswer(name, xhr); });
    xhr.addEventListener('error', () => {
      if (gen === generation) endUpload('The upload stopped: the server could not be reached. Try again.');
    });
    xhr.addEventListener('abort', () => { if (gen === generation) endUpload('The upload was cancelled.'); });
    ui.uploadSubmit.disabled = true;
    ui.uploadSubmit.textContent = 'Uploading\u2026';
    showUploadProgress(0, body.get('file').size || 1);
    ui.uploadProgress.hidden = false;
    xhr.send(body);
  }

  function showUploadProgress(loaded, total) {
    ui.uploadBar.value = total ? loaded / total : 0;
    const pct = total ? Math.round((loaded / total) * 100) : 0;
    ui.uploadProgressText.textContent = 'Uploading\u2026 ' + formatMB(loaded) + ' of ' + formatMB(total) + ' (' + pct + ' %)';
  }

  function endUpload(error) {
    upload = null;
    ui.uploadSubmit.disabled = false;
    ui.uploadSubmit.textContent = 'Upload';
    ui.uploadProgress.hidden = true;
    if (error) setMessage(ui.uploadError, error);
  }

  function onUploadAnswer(name, xhr) {
    if (xhr.status === 401) {
      upload = null;
      expire();
      return;
    }
    if (xhr.status < 200 || xhr.status >= 300) {
      endUpload(errorFromText(xhr.responseText, xhr.status, xhr.statusText).message);
      return;
    }
    let t = null;
    try { t = JSON.parse(xhr.responseText); } catch (_) { /* the poll fetches it */ }
    endUpload(null);
    ui.uploadForm.reset();
    uploadedHere.add(name);
    upsertTemplate(t && t.name ? t : { name, status: 'ingesting', progress: 0 });
    render();
    setMessage(ui.uploadStatus, 'Uploaded ' + quote(name) + '. The server is now following the actor\u2019s face '
      + 'through every frame; see its card above.', 'ok');
    const card = cards.get(name);
    if (card) card.root.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    pollTemplate(name);
    scheduleRefresh();
  }

  // Fast polling of the one template just uploaded, so its progress bar moves smoothly.
  function pollTemplate(name) {
    stopPoll(name);
    const step = async () => {
      let next = POLL_MS;
      try {
        const t = await apiJson('GET', templatePath(name));
        if (t && t.name) {
          upsertTemplate(t);
          render();
          if (t.status !== 'ingesting') { polls.delete(name); return; }
        }
      } catch (err) {
        if (quiet(err)) return;
        if (err instanceof ApiError && err.status === 404) { polls.delete(name); return; }  // deleted meanwhile
        next = POLL_MS * 5;  // a network blip: try again a little later
      }
      if (polls.has(name)) polls.set(name, setTimeout(step, next));
    };
    polls.set(name, setTimeout(step, POLL_MS));
  }

  function stopPoll(name) {
    clearTimeout(polls.get(name));
    polls.delete(name);
  }

  // ---------------------------------------------------------------- logs

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

  function scheduleLogRefresh() {
    clearTimeout(logTimer);
    logTimer = setTimeout(() => {
      if (!token) return;
      if (!document.hidden) { loadLog('consent'); loadLog('ads'); }
      scheduleLogRefresh();
    }, LOG_REFRESH_MS);
  }

  // ---------------------------------------------------------------- retention setting

  let retentionDirty = false;

  function showRetention(days) {
    if (retentionDirty || document.activeElement === ui.retentionDays) return;
    ui.retentionDays.value = String(days);
  }

  async function loadSettings() {
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

  // ---------------------------------------------------------------- start-up

  function init() {
    ui.loginForm.addEventListener('submit', onLoginSubmit);
    ui.tokenShow.addEventListener('click', () => setTokenShown(ui.token.type === 'password'));
    ui.signout.addEventListener('click', () => signOut('Signed out. This tab has forgotten the token.', 'info'));
    ui.phraseForm.addEventListener('submit', onPhraseSubmit);
    ui.phraseInput.addEventListener('input', () => {
      setMessage(ui.phraseError, '');
      phraseCheck.schedule();
    });
    ui.uploadForm.addEventListener('submit', onUploadSubmit);
    ui.uploadForm.addEventListener('input', () => setMessage(ui.uploadError, ''));
    ui.retentionForm.addEventListener('submit', onRetentionSubmit);
    ui.retentionDays.addEventListener('input', () => { retentionDirty = true; setMessage(ui.retentionStatus, ''); });
    for (const button of document.querySelectorAll('[data-log-refresh]')) {
      button.addEventListener('click', () => loadLog(button.dataset.logRefresh));
    }
    for (const button of document.querySelectorAll('[data-log-purge]')) {
      button.addEventListener('click', () => onPurge(button.dataset.logPurge, button));
    }
    // Coming back to the tab: show what changed meanwhile instead of waiting for the next tick.
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && token) { refreshCampaign(); loadLog('consent'); loadLog('ads'); }
    });
    resumeSession();
  }

  // Deferred script: the DOM is parsed.
  init();
})();
