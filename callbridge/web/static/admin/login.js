// Signing in and out. What happens once signed in (loading the sections) and at sign-out
// (stopping and forgetting them) is given by main.js, so this module knows no section.

import {
  checkToken, describe, endSession, readStoredToken, startSession, storeToken,
} from './api.js';
import { $, setMessage, showStatus } from './ui.js';

const ui = {
  panel: $('login-panel'), form: $('login-form'), token: $('token'), tokenShow: $('token-show'),
  login: $('login'), error: $('login-error'), admin: $('admin'), nav: $('admin-nav'), signout: $('signout'),
};

let hooks = { start() {}, stop() {} };

export function initLogin(sessionHooks) {
  hooks = sessionHooks;
  ui.form.addEventListener('submit', onLoginSubmit);
  ui.tokenShow.addEventListener('click', () => setTokenShown(ui.token.type === 'password'));
  ui.signout.addEventListener('click', () => signOut('Signed out. This tab has forgotten the token.', 'info'));
}

async function onLoginSubmit(ev) {
  ev.preventDefault();
  const value = ui.token.value.trim();
  if (!value) {
    setMessage(ui.error, 'Paste the admin token first.');
    ui.token.focus();
    return;
  }
  setLoginBusy(true, 'Checking…');
  try {
    if (await checkToken(value)) {
      storeToken(value);
      enter(value);
    } else {
      setMessage(ui.error, 'That token is not right. Check that it was copied whole, '
        + 'or look in DATA/admin-token on the server.');
      ui.token.select();
    }
  } catch (err) {
    setMessage(ui.error, describe(err));
  } finally {
    setLoginBusy(false);
  }
}

function setLoginBusy(busy, text) {
  ui.login.disabled = busy;
  ui.login.textContent = busy ? text : 'Sign in';
}

// A token kept from earlier in this tab is checked again before the admin part is shown.
export async function resumeSession() {
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
  startSession(value);
  ui.token.value = '';
  ui.token.type = 'password';
  setTokenShown(false);
  setMessage(ui.error, '');
  ui.panel.hidden = true;
  ui.admin.hidden = false;
  ui.nav.hidden = false;
  ui.signout.hidden = false;
  hooks.start();
}

function showLogin(message, kind) {
  ui.admin.hidden = true;
  ui.nav.hidden = true;
  ui.signout.hidden = true;
  ui.panel.hidden = false;
  setMessage(ui.error, message || '', kind);
  ui.token.focus();
}

// Forget the token and everything shown with it (the logs hold participants' names).
function signOut(message, kind) {
  endSession();
  storeToken(null);
  hooks.stop();
  showStatus('');
  showLogin(message, kind);
}

// The server refused the token in the middle of the work (a 401 from any request).
export function expire() {
  signOut('The admin token was not accepted. It may have been changed on the server: sign in again.');
}

function setTokenShown(shown) {
  ui.token.type = shown ? 'text' : 'password';
  ui.tokenShow.textContent = shown ? 'Hide' : 'Show';
  ui.tokenShow.setAttribute('aria-pressed', String(shown));
}
