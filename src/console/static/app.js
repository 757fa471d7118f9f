// The console page: pick a demo person and a channel, type /vlinders commands, click buttons,
// and watch the workspace (polled twice a second). Rendering is in blocks.js.
import { createRenderer } from './blocks.js';

const POLL_MS = 500;
const SUGGESTIONS = ['status', 'gpu', 'scale-gpu 4', 'whoami', 'help'];

const $ = (id) => document.getElementById(id);
const view = {
  meta: undefined,
  user: '',
  channel: '',
  state: undefined,
  version: '',
  /** Threads the reader folded away, by parent ts. */
  folded: new Set(),
  /** Upload contents that are open, by upload id (undefined while loading). */
  files: new Map(),
  /** Inline pictures by upload id: a data: URL, undefined while loading, null when it failed. */
  images: new Map(),
  /** Messages already seen per channel, for the unread badges. */
  seen: new Map(),
  history: [],
  historyAt: 0,
};

// On a real cluster the console printed a link with #token=…: every API request carries it.
// The fragment never reaches a server log; the tab keeps it when the page rewrites the fragment.
const TOKEN = new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('vlinders-console-token') || '';
if (TOKEN) sessionStorage.setItem('vlinders-console-token', TOKEN);

async function api(path, body) {
  const headers = { ...(TOKEN ? { 'X-Console-Token': TOKEN } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
  const init = body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) };
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const userName = (id) => view.meta.users.find((u) => u.id === id)?.name ?? (id === view.meta.bot.id ? view.meta.bot.name : id.toLowerCase());
const channels = () => view.state?.channels ?? view.meta.channels;
const channelName = (id) => channels().find((c) => c.id === id)?.name ?? id.toLowerCase();

const renderer = createRenderer({ userName, channelName, onButton: (at, button) => (at.surface ? clickInView(at, button) : click(at, button)) });

/** Slack ts strings ("seconds.micros") in order; too long to compare as floats. */
function byTs(a, b) {
  const [as, au] = a.ts.split('.').map(Number);
  const [bs, bu] = b.ts.split('.').map(Number);
  return as - bs || au - bu;
}

/** A message's time: its ts's seconds are when it was posted, as in Slack. */
function timeElement(ts) {
  const at = new Date(Number(ts.split('.')[0]) * 1000);
  const node = el('time', 'time', at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }));
  node.dateTime = at.toISOString();
  node.title = at.toLocaleString();
  return node;
}

// ---- Polling ----

let inflight = false;
let timer;

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(poll, ms);
}

async function poll() {
  if (inflight) return;
  inflight = true;
  const user = view.user;
  try {
    const data = await api(`/api/state?user=${encodeURIComponent(user)}&since=${encodeURIComponent(view.version)}`);
    document.body.classList.remove('offline');
    // A reply for the person picked before a switch is stale: drop it.
    if (user === view.user && !data.unchanged) {
      view.state = data;
      view.version = data.version;
      render();
    }
  } catch {
    document.body.classList.add('offline');
  } finally {
    inflight = false;
    schedule(user === view.user ? POLL_MS : 0);
  }
}

function refreshNow() {
  view.version = '';
  if (!inflight) schedule(0);
}

// ---- Actions ----

async function sendCommand(text) {
  const status = $('composer-status');
  const send = $('send');
  send.disabled = true;
  status.className = 'composer-status';
  status.textContent = `Sending as ${userName(view.user)} in #${channelName(view.channel)}…`;
  try {
    const r = await api('/api/command', { user: view.user, channel: view.channel, text });
    status.textContent = `Sent ${text} as ${userName(view.user)}; the bot acked in ${Math.round(r.ms)} ms.`;
    $('command').value = '';
    refreshNow();
  } catch (err) {
    status.className = 'composer-status error';
    status.textContent = err.message;
  } finally {
    send.disabled = false;
  }
}

async function click(at, button) {
  button.disabled = true;
  const status = $('composer-status');
  status.className = 'composer-status';
  status.textContent = `${userName(view.user)} clicked ${button.textContent}…`;
  try {
    await api('/api/click', { user: view.user, channel: at.channel, ts: at.ts, actionId: at.actionId });
    status.textContent = `${userName(view.user)} clicked ${button.textContent}.`;
    refreshNow();
  } catch (err) {
    status.className = 'composer-status error';
    status.textContent = err.message;
    button.disabled = false;
  }
}

/** Saves an upload under its name; fetched with the token header (a plain link can't carry it). */
async function downloadFile(f) {
  const res = await fetch(`/api/uploads/${f.id}`, { headers: TOKEN ? { 'X-Console-Token': TOKEN } : {} });
  if (!res.ok) return void ($('composer-status').textContent = `Could not download ${f.filename} (HTTP ${res.status}).`);
  const url = URL.createObjectURL(await res.blob());
  const a = el('a');
  a.href = url;
  a.download = f.filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Shows how a view action went in the composer's status line. */
async function viewCall(path, body, doing, done) {
  const status = $('composer-status');
  status.className = 'composer-status';
  status.textContent = `${userName(view.user)} ${doing}…`;
  try {
    const r = await api(path, { user: view.user, ...body });
    status.textContent = `${userName(view.user)} ${done}.`;
    refreshNow();
    return r;
  } catch (err) {
    status.className = 'composer-status error';
    status.textContent = err.message;
    return undefined;
  }
}

function clickInView(at, button) {
  button.disabled = true;
  return viewCall('/api/view', { op: 'click', surface: at.surface, actionId: at.actionId }, `clicked ${button.textContent}`, `clicked ${button.textContent}`);
}

function openHome() {
  view.tab = 'home';
  saveSelection();
  render();
  void viewCall('/api/home', {}, 'opened Home', 'opened Home');
}

async function runShortcut(m, shortcut) {
  await viewCall('/api/shortcut', { channel: m.channel, ts: m.ts, callbackId: shortcut.callback_id }, `ran “${shortcut.name}”`, `ran “${shortcut.name}”`);
}

// ---- Modals ----

/** The value of each input of the open modal, by action_id, as the person entered it. */
function modalValues() {
  const values = {};
  for (const control of $('modal-layer').querySelectorAll('[data-action-id]')) {
    if (control.value !== '') values[control.dataset.actionId] = control.value;
  }
  return values;
}

async function submitModal() {
  const r = await viewCall('/api/view', { op: 'submit', values: modalValues() }, 'submitted the form', 'submitted the form');
  if (r?.result === 'refused') {
    $('composer-status').className = 'composer-status error';
    $('composer-status').textContent = `Slack refused the app's answer: ${r.reason}`;
  }
}

function option(value, text) {
  const node = el('option', undefined, text);
  node.value = value;
  return node;
}

/** The control of an input block's element; its data-action-id names it in the submission. */
function inputControl(element) {
  const id = String(element.action_id ?? '');
  let control;
  switch (element.type) {
    case 'plain_text_input':
      control = el(element.multiline ? 'textarea' : 'input');
      if (element.max_length) control.maxLength = element.max_length;
      control.value = element.initial_value ?? '';
      if (element.placeholder?.text) control.placeholder = element.placeholder.text;
      break;
    case 'number_input':
      control = el('input');
      control.type = 'number';
      if (element.min_value !== undefined) control.min = element.min_value;
      if (element.max_value !== undefined) control.max = element.max_value;
      control.value = element.initial_value ?? '';
      break;
    case 'static_select':
      control = el('select');
      control.append(option('', 'Choose…'), ...(element.options ?? []).map((o) => option(o.value, o.text?.text ?? o.value)));
      control.value = element.initial_option?.value ?? '';
      break;
    case 'users_select':
      control = el('select');
      control.append(option('', 'Choose a person…'), ...view.meta.users.map((u) => option(u.id, u.name)));
      control.value = element.initial_user ?? '';
      break;
    case 'conversations_select':
      control = el('select');
      control.append(option('', 'Choose a channel…'), ...channels().map((c) => option(c.id, `# ${c.name}`)));
      control.value = element.initial_conversation ?? '';
      break;
    case 'external_select': {
      // Type-ahead: what is typed goes to the app (block_suggestion); its options fill the select.
      const box = el('div', 'typeahead');
      const query = el('input');
      query.placeholder = element.placeholder?.text ?? 'Type to search';
      query.setAttribute('aria-label', `Search ${id}`);
      control = el('select');
      control.append(option('', 'Type above to search…'));
      query.addEventListener('input', async () => {
        const r = await api('/api/view', { user: view.user, op: 'suggest', actionId: id, query: query.value }).catch(() => ({ options: [] }));
        control.replaceChildren(option('', `${r.options.length} match${r.options.length === 1 ? '' : 'es'}`), ...r.options.map((v) => option(v, v)));
      });
      control.dataset.actionId = id;
      control.setAttribute('aria-label', id);
      box.append(query, control);
      return box;
    }
    default:
      return el('span', 'unsupported', `[${String(element.type)}]`);
  }
  control.dataset.actionId = id;
  control.setAttribute('aria-label', id);
  return control;
}

let shownModal = '';

function renderModal() {
  const layer = $('modal-layer');
  const modal = view.state?.modal;
  const key = modal ? `${modal.id}:${modal.hash}:${JSON.stringify(modal.errors ?? {})}` : '';
  if (key === shownModal) return;
  // Errors keep what the person typed: only the error lines change.
  const keep = modal && shownModal.startsWith(`${modal.id}:${modal.hash}:`) ? modalValues() : undefined;
  shownModal = key;
  if (!modal) {
    layer.hidden = true;
    layer.replaceChildren();
    return;
  }
  const dialog = el('form', 'modal');
  dialog.setAttribute('role', 'dialog');
  dialog.setAttribute('aria-label', modal.title ?? 'Modal');
  dialog.append(el('h2', 'modal-title', modal.title ?? ''));
  const body = el('div', 'modal-body');
  for (const b of modal.blocks) {
    if (b?.type !== 'input') {
      body.append(renderer.blocks([b], { surface: 'modal' }));
      continue;
    }
    const field = el('label', 'modal-field');
    field.append(el('span', 'modal-label', `${b.label?.text ?? ''}${b.optional ? ' (optional)' : ''}`), inputControl(b.element ?? {}));
    if (b.hint?.text) field.append(el('span', 'modal-hint', b.hint.text));
    const error = modal.errors?.[b.block_id];
    if (error) field.append(el('span', 'modal-error', error));
    body.append(field);
  }
  const buttons = el('div', 'modal-buttons');
  const cancel = el('button', 'btn', modal.close ?? 'Cancel');
  cancel.type = 'button';
  cancel.addEventListener('click', () => void viewCall('/api/view', { op: 'close' }, 'closed the form', 'closed the form'));
  const submit = el('button', 'btn btn-primary', modal.submit ?? 'Submit');
  submit.type = 'submit';
  buttons.append(cancel, submit);
  dialog.append(body, buttons);
  dialog.addEventListener('submit', (e) => {
    e.preventDefault();
    void submitModal();
  });
  layer.replaceChildren(dialog);
  layer.hidden = false;
  for (const [id, value] of Object.entries(keep ?? {})) {
    const control = layer.querySelector(`[data-action-id="${CSS.escape(id)}"]`);
    if (control) control.value = value;
  }
}

async function toggleFile(id) {
  if (view.files.has(id)) {
    view.files.delete(id);
    return render();
  }
  view.files.set(id, undefined);
  render();
  try {
    const res = await fetch(`/api/uploads/${id}`, { headers: TOKEN ? { 'X-Console-Token': TOKEN } : {} });
    if (view.files.has(id)) view.files.set(id, res.ok ? await res.text() : `Could not load the file (HTTP ${res.status}).`);
  } catch (err) {
    if (view.files.has(id)) view.files.set(id, `Could not load the file: ${err.message}`);
  }
  render();
}

// ---- Rendering ----

function renderBanner() {
  const { banner } = view.meta;
  const node = $('banner');
  node.className = banner.sandbox ? 'banner' : 'banner real';
  node.replaceChildren(
    el('strong', undefined, banner.sandbox ? 'Sandbox' : 'Real cluster'),
    banner.sandbox
      ? ` · the real vlinders-ops bot runs against the Slack workspace emulator and the sandbox cluster (a seeded Vlinders world in a Kubernetes API emulator). Nothing here reaches a real Slack workspace or cluster.`
      : ` · the bot runs against the Slack workspace emulator and ${banner.cluster}. Approved changes are applied to that cluster for real.`,
  );
}

function renderUsers() {
  const select = $('user');
  select.replaceChildren(
    ...view.meta.users.map((u) => {
      const option = el('option', undefined, u.title);
      option.value = u.id;
      return option;
    }),
  );
  select.value = view.user;
}

function renderChannels() {
  const list = $('channels');
  const counts = new Map();
  for (const m of view.state?.messages ?? []) counts.set(m.channel, (counts.get(m.channel) ?? 0) + 1);
  view.seen.set(view.channel, counts.get(view.channel) ?? 0);
  list.replaceChildren(
    ...channels().map((c) => {
      const item = el('li');
      const b = el('button', view.tab !== 'home' && c.id === view.channel ? 'channel selected' : 'channel', `# ${c.name}`);
      b.type = 'button';
      b.dataset.channel = c.id;
      const unread = (counts.get(c.id) ?? 0) - (view.seen.get(c.id) ?? 0);
      if (unread > 0) b.append(el('span', 'unread', String(unread)));
      b.addEventListener('click', () => selectChannel(c.id));
      item.append(b);
      return item;
    }),
  );
  const channel = channels().find((c) => c.id === view.channel);
  $('channel-title').textContent = `# ${channelName(view.channel)}`;
  $('channel-note').textContent = channel?.purpose ?? '';
}

function renderMessage(m, replyCount) {
  const isBot = m.user === view.meta.bot.id;
  const article = el('article', `msg${m.ephemeral ? ' ephemeral' : ''}`);
  article.dataset.ts = m.ts;
  article.append(el('div', `avatar${isBot ? ' bot' : ''}`, isBot ? '🦋' : userName(m.user).slice(0, 1).toUpperCase()));
  const body = el('div', 'msg-body');
  const meta = el('div', 'msg-meta');
  meta.append(el('span', 'author', userName(m.user)));
  if (isBot) meta.append(el('span', 'app-badge', 'APP'));
  meta.append(timeElement(m.ts));
  if (m.edited) meta.append(el('span', 'edited', '(edited)'));
  const shortcuts = (view.meta.shortcuts ?? []).filter((s) => s.type === 'message');
  if (!m.ephemeral && shortcuts.length > 0) {
    // The message's ⋮ menu: the app's message shortcuts, as in Slack.
    const menu = el('details', 'msg-menu');
    // The page re-renders as the workspace changes: an open menu stays open.
    menu.open = view.openMenu === m.ts;
    menu.addEventListener('toggle', () => {
      if (menu.open) view.openMenu = m.ts;
      else if (view.openMenu === m.ts) view.openMenu = undefined;
    });
    const summary = el('summary', undefined, '⋮');
    summary.setAttribute('aria-label', 'More actions');
    menu.append(summary);
    for (const s of shortcuts) {
      const item = el('button', 'menu-item', s.name);
      item.type = 'button';
      item.addEventListener('click', () => {
        menu.open = false;
        view.openMenu = undefined;
        void runShortcut(m, s);
      });
      menu.append(item);
    }
    meta.append(menu);
  }
  body.append(meta);
  if (m.ephemeral) body.append(el('div', 'ephemeral-note', '👁 Only visible to you'));
  const content = el('div', 'msg-content');
  if (Array.isArray(m.blocks) && m.blocks.length > 0) content.append(renderer.blocks(m.blocks, { channel: m.channel, ts: m.ts }));
  else content.append(renderer.mrkdwn(m.text));
  body.append(content);
  article.append(body);
  if (replyCount !== undefined) article.dataset.replies = String(replyCount);
  return article;
}

// A chart comes as a PNG: fetched with the console's token (an <img src> can't send it) and shown inline.
async function loadImage(id) {
  view.images.set(id, undefined);
  try {
    const res = await fetch(`/api/uploads/${id}`, { headers: TOKEN ? { 'X-Console-Token': TOKEN } : {} });
    // A data: URL: the page's CSP allows img-src 'self' data:, not blob:.
    view.images.set(id, res.ok ? await dataUrl(await res.blob()) : null);
  } catch {
    view.images.set(id, null);
  }
  render();
}

function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

function renderImage(f) {
  const box = el('figure', 'file file-image');
  if (!view.images.has(f.id)) void loadImage(f.id);
  const src = view.images.get(f.id);
  if (src) {
    const img = document.createElement('img');
    img.src = src;
    img.alt = f.image.alt;
    img.title = f.image.alt;
    box.append(img);
  } else box.append(el('div', 'muted', src === null ? `Could not load ${f.filename}.` : 'Loading…'));
  box.append(el('figcaption', 'muted', `🖼️ ${f.title} · ${f.filename} · ${formatBytes(f.bytes)}`));
  return box;
}

function renderFile(f) {
  if (f.image) return renderImage(f);
  const box = el('div', 'file');
  const open = view.files.has(f.id);
  const b = el('button', 'file-name', `📄 ${f.title}`);
  b.type = 'button';
  b.setAttribute('aria-expanded', String(open));
  b.addEventListener('click', () => toggleFile(f.id));
  const save = el('button', 'file-name', '⬇ Download');
  save.type = 'button';
  save.addEventListener('click', () => downloadFile(f));
  box.append(b, el('span', 'muted', ` ${f.filename} · ${formatBytes(f.bytes)} `), save);
  if (f.comment) box.append(el('div', 'file-comment', f.comment));
  if (open) box.append(el('pre', 'file-content', view.files.get(f.id) ?? 'Loading…'));
  return box;
}

function formatBytes(n) {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

function renderMessages() {
  const pane = $('messages');
  const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 60;
  const scrollTop = pane.scrollTop;
  const inChannel = (view.state?.messages ?? []).filter((m) => m.channel === view.channel);
  const parents = new Set(inChannel.filter((m) => !m.ephemeral).map((m) => m.ts));
  const isReply = (x) => x.thread_ts && x.thread_ts !== x.ts && parents.has(x.thread_ts);
  const roots = inChannel.filter((m) => !isReply(m)).sort(byTs);
  const replies = new Map();
  for (const m of inChannel.filter(isReply).sort(byTs)) replies.set(m.thread_ts, [...(replies.get(m.thread_ts) ?? []), m]);
  const uploads = (view.state?.uploads ?? []).filter((f) => f.channel === view.channel);
  const threadFiles = new Map();
  for (const f of uploads.filter(isReply)) threadFiles.set(f.thread_ts, [...(threadFiles.get(f.thread_ts) ?? []), f]);

  const nodes = roots.map((m) => {
    const thread = replies.get(m.ts) ?? [];
    const files = threadFiles.get(m.ts) ?? [];
    const article = renderMessage(m, thread.length);
    if (thread.length + files.length > 0) {
      const folded = view.folded.has(m.ts);
      const box = el('div', 'thread');
      const toggle = el('button', 'thread-toggle', `${folded ? '▸' : '▾'} ${thread.length} ${thread.length === 1 ? 'reply' : 'replies'}${files.length ? `, ${files.length} file${files.length === 1 ? '' : 's'}` : ''}`);
      toggle.type = 'button';
      toggle.addEventListener('click', () => {
        if (folded) view.folded.delete(m.ts);
        else view.folded.add(m.ts);
        render();
      });
      box.append(toggle);
      if (!folded) {
        for (const r of thread) box.append(renderMessage(r));
        for (const f of files) box.append(renderFile(f));
      }
      article.querySelector('.msg-body').append(box);
    }
    return article;
  });
  const loose = uploads.filter((f) => !isReply(f));
  if (loose.length) {
    const box = el('div', 'loose-files');
    box.append(el('div', 'section-title', 'Files'), ...loose.map(renderFile));
    nodes.push(box);
  }
  if (nodes.length === 0) {
    nodes.push(el('div', 'empty', `Nothing in #${channelName(view.channel)} yet. Type ${view.meta.command} status below, as ${userName(view.user)}.`));
  }
  pane.replaceChildren(...nodes);
  pane.scrollTop = atBottom || view.jump ? pane.scrollHeight : scrollTop;
  view.jump = false;
}

function renderHome() {
  const pane = $('messages');
  $('channel-title').textContent = '🏠 Home';
  $('channel-note').textContent = 'vlinders-ops';
  const home = view.state?.home;
  pane.replaceChildren(home ? renderer.blocks(home.blocks, { surface: 'home' }) : el('div', 'empty', 'Opening Home…'));
}

function render() {
  renderChannels();
  $('home-tab').classList.toggle('selected', view.tab === 'home');
  if (view.tab === 'home') renderHome();
  else renderMessages();
  renderModal();
  $('command').placeholder = `${view.meta.command} status   (as ${userName(view.user)} in #${channelName(view.channel)})`;
}

function selectChannel(id) {
  view.tab = 'channel';
  view.channel = id;
  view.jump = true;
  saveSelection();
  render();
}

function saveSelection() {
  history.replaceState(null, '', `#user=${encodeURIComponent(view.user)}&channel=${encodeURIComponent(view.channel)}${view.tab === 'home' ? '&tab=home' : ''}`);
}

// ---- Start ----

async function start() {
  view.meta = await api('/api/meta');
  const wanted = new URLSearchParams(location.hash.slice(1));
  const users = view.meta.users.map((u) => u.id);
  const chans = view.meta.channels.map((c) => c.id);
  view.user = users.includes(wanted.get('user')) ? wanted.get('user') : users[1] ?? users[0];
  view.channel = chans.includes(wanted.get('channel')) ? wanted.get('channel') : chans[0];
  view.jump = true;
  view.tab = wanted.get('tab') === 'home' ? 'home' : 'channel';
  $('home-tab').addEventListener('click', openHome);
  renderBanner();
  renderUsers();
  $('user').addEventListener('change', (e) => {
    view.user = e.target.value;
    // The last person's ephemerals go at once; the rest stays until the new state arrives.
    // So do their Home tab and modal: each person has their own.
    if (view.state) view.state = { ...view.state, messages: view.state.messages.filter((m) => !m.ephemeral), home: undefined, modal: undefined };
    saveSelection();
    render();
    if (view.tab === 'home') openHome();
    else refreshNow();
  });
  $('suggestions').replaceChildren(
    ...SUGGESTIONS.map((s) => {
      const chip = el('button', 'chip', `${view.meta.command} ${s}`);
      chip.type = 'button';
      chip.addEventListener('click', () => {
        $('command').value = `${view.meta.command} ${s}`;
        $('command').focus();
      });
      return chip;
    }),
  );
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('command').value.trim();
    if (!text) return;
    view.history.push(text);
    view.historyAt = view.history.length;
    void sendCommand(text);
  });
  $('command').addEventListener('keydown', (e) => {
    // Up and down walk back through what was typed, like a shell.
    if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
    const at = Math.max(0, Math.min(view.history.length, view.historyAt + (e.key === 'ArrowUp' ? -1 : 1)));
    view.historyAt = at;
    e.target.value = view.history[at] ?? '';
    e.preventDefault();
  });
  saveSelection();
  render();
  if (view.tab === 'home') openHome();
  void poll();
}

start().catch((err) => {
  $('banner').textContent = `The console could not start: ${err.message}`;
  $('banner').className = 'banner real';
});
