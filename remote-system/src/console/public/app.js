// Console client: renders the patterns from /console/api/state, drives the fault knobs and shows live traffic from
// the server-sent event stream at /console/events. Plain browser JavaScript, no build step. Every value that came
// from a request is written with textContent, never as HTML.
(function () {
  'use strict';

  const MAX_ROWS = 300;
  const patternsEl = document.getElementById('patterns');
  const trafficBody = document.getElementById('traffic-body');
  const streamStatus = document.getElementById('stream-status');
  const template = document.getElementById('pattern-template');
  const cards = new Map();

  function setStreamStatus(text, kind) {
    streamStatus.textContent = text;
    streamStatus.className = 'badge badge-' + kind;
  }

  function cell(row, text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function isConsoleRequest(path) {
    return path === '/' || path.startsWith('/console/');
  }

  function statusKind(status) {
    if (status >= 500) return 'error';
    if (status >= 400) return 'warning';
    return 'success';
  }

  function showFaults(card, faults) {
    const form = card.querySelector('form');
    form.elements.latencyMs.value = String(faults.latencyMs);
    form.elements.errorRate.value = String(faults.errorRate);
    form.elements.errorStatus.value = String(faults.errorStatus);
    form.elements.hang.checked = faults.hang;
    const active = faults.hang || faults.latencyMs > 0 || faults.errorRate > 0;
    const state = card.querySelector('.pattern-state');
    state.textContent = faults.hang ? 'Hanging' : active ? 'Faults active' : 'Healthy';
    state.className = 'badge pattern-state badge-' + (active ? 'warning' : 'success');
  }

  function since(at) {
    return at ? ' (last ' + new Date(at).toLocaleTimeString([], { hour12: false }) + ')' : '';
  }

  // The protection in force and what it refused (from state.security; see src/auth/status.ts).
  function renderSecurity(security) {
    const card = document.getElementById('security');
    if (!security) return;
    card.hidden = false;
    const exposure = document.getElementById('security-exposure');
    exposure.textContent = security.exposed ? 'Reachable from outside' : 'This machine only';
    exposure.className = 'badge badge-' + (security.exposed ? 'warning' : 'success');
    exposure.title = security.exposureReasons.join(', ');
    document.getElementById('security-console').textContent =
      security.consoleAccess === 'local'
        ? 'Browsers on this machine only (CONSOLE_ACCESS=local)'
        : 'Anyone who reaches the server (CONSOLE_ACCESS=open)';
    const limit = security.rateLimit;
    document.getElementById('security-rate-limit').textContent = limit.enabled
      ? limit.max +
        ' requests per ' +
        limit.windowSeconds +
        ' s per secret; ' +
        limit.anonymousMax +
        ' per client without one'
      : 'Off (RATE_LIMIT_MAX=0)';
    document.getElementById('security-limited').textContent =
      String(limit.limitedRequests) +
      (limit.lastLimitedCaller ? ', last: ' + limit.lastLimitedCaller : '') +
      since(limit.lastLimitedAt);
    const rotation = security.rotation;
    document.getElementById('security-rotation').textContent = rotation.previousAccepted
      ? 'Previous secret still accepted; used ' +
        rotation.previousSecretUses +
        ' times' +
        since(rotation.lastPreviousSecretUseAt)
      : 'One secret (no rotation under way)';
    document.getElementById('security-as-of').textContent =
      'Counters as of ' + new Date().toLocaleTimeString([], { hour12: false }) + '.';
  }

  async function refreshSecurity() {
    try {
      const response = await fetch('/console/api/state');
      if (response.ok) renderSecurity((await response.json()).security);
    } catch {
      // the stream's reconnect brings a fresh state anyway
    }
  }

  function renderPatterns(state) {
    renderSecurity(state.security);
    document.getElementById('public-url').textContent = state.publicUrl;
    document.getElementById('secret-warning').hidden = !state.usingDefaultSecret;
    document.getElementById('no-patterns').hidden = state.patterns.length > 0;
    patternsEl.replaceChildren();
    cards.clear();
    for (const pattern of state.patterns) {
      const card = template.content.firstElementChild.cloneNode(true);
      card.dataset.pattern = pattern.name;
      card.querySelector('.pattern-title').textContent = pattern.title;
      card.querySelector('.pattern-summary').textContent = pattern.summary;
      const list = card.querySelector('.endpoints');
      for (const endpoint of pattern.endpoints) {
        const item = document.createElement('li');
        const method = document.createElement('span');
        method.className = 'method';
        method.textContent = endpoint.method;
        const path = document.createElement('code');
        path.textContent = endpoint.path;
        const description = document.createElement('span');
        description.className = 'description';
        description.textContent = endpoint.description;
        item.append(method, path, description);
        list.appendChild(item);
      }
      const form = card.querySelector('form');
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        saveFaults(pattern.name, card, {
          latencyMs: Number(form.elements.latencyMs.value || 0),
          errorRate: Number(form.elements.errorRate.value || 0),
          errorStatus: Number(form.elements.errorStatus.value),
          hang: form.elements.hang.checked
        });
      });
      card.querySelector('[data-action="reset"]').addEventListener('click', () => {
        saveFaults(pattern.name, card, {
          latencyMs: 0,
          errorRate: 0,
          errorStatus: 503,
          hang: false
        });
      });
      showFaults(card, pattern.faults);
      cards.set(pattern.name, card);
      patternsEl.appendChild(card);
    }
  }

  async function saveFaults(name, card, faults) {
    const message = card.querySelector('.knob-message');
    message.textContent = 'Saving…';
    try {
      const response = await fetch('/console/api/faults/' + encodeURIComponent(name), {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(faults)
      });
      const body = await response.json();
      if (!response.ok) {
        const fields = (body.error.fields || []).map((f) => f.field + ' ' + f.reason).join('; ');
        message.textContent = body.error.message + (fields ? ' ' + fields : '');
        return;
      }
      showFaults(card, body.faults);
      message.textContent = 'Saved.';
    } catch (error) {
      message.textContent = 'Could not save: ' + error.message;
    }
  }

  function addTraffic(event) {
    const row = document.createElement('tr');
    row.className = 'fresh' + (event.kind === 'note' ? ' note' : '');
    row.dataset.pattern = event.pattern;
    if (event.correlationId) row.dataset.correlationId = event.correlationId;
    if (event.kind === 'request' && isConsoleRequest(event.path))
      row.classList.add('console-request');
    cell(row, new Date(event.at).toLocaleTimeString([], { hour12: false }));
    cell(row, event.pattern);
    if (event.kind === 'request') {
      cell(row, event.method);
      cell(row, event.path, 'path');
      const status = cell(row, '');
      const badge = document.createElement('span');
      badge.className = 'badge badge-' + statusKind(event.status);
      badge.textContent = String(event.status);
      status.appendChild(badge);
      cell(row, String(event.durationMs));
      cell(row, event.correlationId, 'correlation');
    } else {
      const message = cell(row, event.message);
      message.colSpan = 5;
    }
    trafficBody.insertBefore(row, trafficBody.firstChild);
    while (trafficBody.childElementCount > MAX_ROWS) trafficBody.lastElementChild.remove();
  }

  const showConsole = document.getElementById('show-console');
  const applyConsoleFilter = () =>
    trafficBody.classList.toggle('hide-console', !showConsole.checked);
  showConsole.addEventListener('change', applyConsoleFilter);
  applyConsoleFilter();

  document.getElementById('clear-traffic').addEventListener('click', () => {
    trafficBody.replaceChildren();
  });

  const source = new EventSource('/console/events');
  source.addEventListener('open', () => setStreamStatus('Live', 'success'));
  source.addEventListener('error', () => setStreamStatus('Reconnecting…', 'warning'));
  source.addEventListener('state', (event) => renderPatterns(JSON.parse(event.data)));
  source.addEventListener('traffic', (event) => {
    const data = JSON.parse(event.data);
    addTraffic(data);
    if (data.kind === 'note' && data.message.startsWith('Rate limit reached')) refreshSecurity();
  });
  source.addEventListener('faults', (event) => {
    const { pattern, faults } = JSON.parse(event.data);
    const card = cards.get(pattern);
    if (card) showFaults(card, faults);
  });
})();
