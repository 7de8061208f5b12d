// Live report: polls /campaigns/:id/live and redraws counters, progress and the table, so
// staff watch the campaign move without reloading. Polls fast while sending, slowly otherwise.
const root = document.getElementById('campaign');
const id = root.dataset.campaignId;
const rows = document.getElementById('report-rows');
const stateFilter = document.getElementById('filter-state');
const search = document.getElementById('filter-q');
const timeFormat = new Intl.DateTimeFormat('ru-RU', { timeZone: root.dataset.timezone || 'Europe/Moscow', day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const rub = new Intl.NumberFormat('ru-RU', { style: 'currency', currency: 'RUB', minimumFractionDigits: 2 });
let page = 1;
let pages = 1;
let timer = null;
let lastStatus = root.dataset.status;

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function renderSchedule(schedule) {
  const waiting = document.getElementById('waiting-text');
  waiting.hidden = !schedule.waiting;
  waiting.textContent = schedule.waiting ? schedule.waiting.text : '';
  document.getElementById('forecast').hidden = !schedule.forecast.text;
  document.getElementById('forecast-text').textContent = schedule.forecast.text;
}

// Test sends: shown with their state as the dispatcher moves them (в очереди → отправлено → доставлено).
function renderTests(tests) {
  const body = document.getElementById('test-rows');
  if (!body || !tests) return;
  body.closest('table').hidden = tests.length === 0;
  const fragment = document.createDocumentFragment();
  for (const t of tests) {
    const tr = document.createElement('tr');
    tr.dataset.state = t.state;
    tr.append(cell(t.phone, 'nowrap'), cell(t.row === null ? '' : String(t.row), 'num'), cell(t.time ? timeFormat.format(new Date(t.time)) : '', 'nowrap'), cell(t.stateText, `state-${t.state}`), cell(t.error));
    fragment.append(tr);
  }
  body.replaceChildren(fragment);
}

function render(data) {
  renderSchedule(data.schedule);
  const c = data.campaign;
  for (const [state, n] of Object.entries(c.counts)) {
    const el = document.getElementById(`count-${state}`);
    if (el) el.textContent = String(n);
  }
  document.getElementById('progress-bar').style.width = `${c.percent}%`;
  document.getElementById('progress-text').textContent = `${c.done} из ${c.total} (${c.percent}%)`;
  document.getElementById('cost-so-far').textContent = rub.format(c.costSoFar);
  document.getElementById('campaign-status').textContent = c.statusText;
  document.getElementById('campaign-status').className = `status status-${c.status}`;
  // The buttons depend on the status (e.g. none once the campaign has finished).
  for (const form of document.querySelectorAll('form[data-action]')) form.hidden = !c.actions[form.dataset.action];
  lastStatus = c.status;
  pages = data.pages;
  document.getElementById('page-info').textContent = `стр. ${data.page} из ${data.pages} · всего ${data.total}`;
  const fragment = document.createDocumentFragment();
  for (const m of data.messages) {
    const tr = document.createElement('tr');
    tr.dataset.state = m.state;
    tr.append(
      cell(String(m.row), 'num'),
      cell(m.phone, 'nowrap'),
      ...m.fields.map((f) => cell(f)),
      cell(m.text, 'sms-text'),
      cell(m.modem),
      cell(m.time ? timeFormat.format(new Date(m.time)) : '', 'nowrap'),
      cell(m.stateText, `state-${m.state}`),
      cell(m.error),
    );
    fragment.append(tr);
  }
  if (!data.messages.length) {
    const tr = document.createElement('tr');
    const empty = cell('Нет сообщений', 'muted');
    empty.colSpan = 7 + data.columns.length;
    tr.append(empty);
    fragment.append(tr);
  }
  rows.replaceChildren(fragment);
  page = data.page;
  renderTests(data.tests);
  return c.status;
}

async function refresh() {
  clearTimeout(timer);
  const params = new URLSearchParams({ page: String(page) });
  if (stateFilter.value) params.set('state', stateFilter.value);
  if (search.value.trim()) params.set('q', search.value.trim());
  let status = lastStatus;
  try {
    const response = await fetch(`/campaigns/${id}/live?${params}`, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (response.redirected || !response.ok) throw new Error(String(response.status));
    status = render(await response.json());
  } catch {
    // Network hiccup or server restart: keep the last view and try again.
  }
  timer = setTimeout(refresh, status === 'running' ? 1500 : 10000);
}

stateFilter.addEventListener('change', () => { page = 1; refresh(); });
let typing = null;
search.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(() => { page = 1; refresh(); }, 300); });
document.getElementById('prev-page').addEventListener('click', () => { if (page > 1) { page--; refresh(); } });
document.getElementById('next-page').addEventListener('click', () => { if (page < pages) { page++; refresh(); } });
document.getElementById('first-page').addEventListener('click', () => { page = 1; refresh(); });
document.getElementById('last-page').addEventListener('click', () => { page = pages; refresh(); });
// Times rendered by the server (test sends) in the office's zone, like the rest of the page.
for (const td of document.querySelectorAll('#test-rows td.nowrap + td.num + td.nowrap')) {
  if (td.textContent) td.textContent = timeFormat.format(new Date(td.textContent));
}
for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (e) => { if (!confirm(form.dataset.confirm)) e.preventDefault(); });
}
refresh();
