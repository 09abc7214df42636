// callbridge admin page: sign in with the admin token, then edit trigger phrases and ad templates,
// preview a template with a photo, and look after the consent and ad-play logs.
// Plain ES modules, no build step, no external resources. The HTTP API it uses is docs/campaigns.md.
//
// This module only wires the others together; each section of the page is its own module.
// Modules run once the document is parsed, so every element they look up is there.

import { signedIn, whenTokenRefused } from './api.js';
import { refreshCampaign, resetCampaign, whenRendered } from './campaign.js';
import { expire, initLogin, resumeSession } from './login.js';
import { initLogs, loadLogs, loadSettings, resetLogs, scheduleLogRefresh } from './logs.js';
import { forgetEdit } from './phrase-edit.js';
import { focusPhraseInput, initPhrases, renderPhrases, renderTemplateSelect, resetPhrases } from './phrases.js';
import { renderTemplates, resetTemplates, whenIngestEnds } from './templates.js';
import { announceIngestEnd, initUpload, resetUpload } from './upload.js';

// Signed in: load every section, then put the cursor where most work starts.
function start() {
  refreshCampaign();
  loadSettings();
  loadLogs();
  scheduleLogRefresh();
  focusPhraseInput();
}

// Signed out: stop every request and timer, and forget everything shown (the logs hold names).
function stop() {
  resetCampaign();
  forgetEdit();
  resetPhrases();
  resetTemplates();
  resetUpload();
  resetLogs();
}

function init() {
  whenRendered(renderTemplateSelect);
  whenRendered(renderPhrases);
  whenRendered(renderTemplates);
  whenIngestEnds(announceIngestEnd);
  whenTokenRefused(expire);
  initLogin({ start, stop });
  initPhrases();
  initUpload();
  initLogs();
  // Coming back to the tab: show what changed meanwhile instead of waiting for the next tick.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && signedIn()) { refreshCampaign(); loadLogs(); }
  });
  resumeSession();
}

init();
