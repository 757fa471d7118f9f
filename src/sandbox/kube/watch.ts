// Watch: newline-delimited JSON events. From a resourceVersion the history is replayed (410 as
// an ERROR event when it is too old, as the real server does); without one, every current
// object comes first as ADDED. Selector watches see objects enter (ADDED) and leave (DELETED).
import type { ServerResponse } from 'node:http';
import type { ResourceType } from './resources.js';
import type { FieldMatcher, Matcher } from './selectors.js';
import { failure } from './status.js';
import { type Entry, type Store, type StoreEvent, fullJson } from './store.js';
import { type IncludeObject, printerFor, tableRow } from './table.js';

export interface WatchRequest {
  type: ResourceType;
  typeKey: string;
  namespace?: string;
  labels?: Matcher;
  fields?: FieldMatcher;
  resourceVersion?: string;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
  allowBookmarks?: boolean;
  table?: { include: IncludeObject };
}

export function serveWatch(store: Store, res: ServerResponse, req: WatchRequest, onEnd: (end: () => void) => () => void): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const printer = req.table ? printerFor(req.type) : undefined;
  const matches = (e: Entry | undefined): boolean =>
    !!e && (!req.namespace || e.namespace === req.namespace) && (!req.labels || req.labels(e.labels)) && (!req.fields || req.fields(e.fields));
  const render = (e: Entry): string => {
    const full = fullJson(e);
    if (!printer) return full;
    const row = tableRow(printer, JSON.parse(full), full, req.table?.include ?? 'PartialObjectMetadata', Date.now());
    return `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"${e.rv}"},"columnDefinitions":${JSON.stringify(printer.columns)},"rows":[${row}]}`;
  };
  const send = (type: string, objectJson: string): void => {
    if (!res.destroyed) res.write(`{"type":"${type}","object":${objectJson}}\n`);
  };
  let lastRv = 0;
  const deliver = (ev: StoreEvent): void => {
    if (ev.rv <= lastRv) return;
    lastRv = ev.rv;
    if (ev.entry.typeKey !== req.typeKey) return;
    const now = ev.type !== 'DELETED' && matches(ev.entry);
    const before = ev.type !== 'ADDED' && matches(ev.prev);
    if (ev.type === 'DELETED') {
      if (before) send('DELETED', render(ev.entry));
    } else if (now && before) send('MODIFIED', render(ev.entry));
    else if (now) send('ADDED', render(ev.entry));
    else if (before) send('DELETED', render(ev.entry));
  };
  const bookmark = (rv: number, initialEnd = false): void => {
    const meta = initialEnd ? `{"resourceVersion":"${rv}","annotations":{"k8s.io/initial-events-end":"true"}}` : `{"resourceVersion":"${rv}"}`;
    send('BOOKMARK', `{"kind":"${req.type.kind}","apiVersion":"${req.type.group ? `${req.type.group}/` : ''}${req.type.version}","metadata":${meta}}`);
  };

  const rv = req.resourceVersion;
  const fromScratch = req.sendInitialEvents || !rv || rv === '0';
  if (fromScratch) {
    lastRv = store.resourceVersion;
    for (const e of store.entries(req.typeKey, req.namespace)) if (matches(e)) send('ADDED', render(e));
    if (req.sendInitialEvents && req.allowBookmarks) bookmark(lastRv, true);
  } else {
    const since = Number(rv);
    const events = Number.isFinite(since) ? store.eventsSince(since) : undefined;
    if (!events) {
      const err = failure(410, 'Expired', `too old resource version: ${rv} (${store.resourceVersion})`);
      send('ERROR', JSON.stringify(err.status));
      res.end();
      return;
    }
    lastRv = since;
    for (const ev of events) deliver(ev);
    lastRv = Math.max(lastRv, store.resourceVersion);
  }

  const unsubscribe = store.subscribe(deliver);
  let timer: NodeJS.Timeout | undefined;
  const end = (): void => {
    unsubscribe();
    clearTimeout(timer);
    unregister();
    if (!res.writableEnded) res.end();
  };
  const unregister = onEnd(end);
  if (req.timeoutSeconds && req.timeoutSeconds > 0) timer = setTimeout(end, req.timeoutSeconds * 1000);
  res.on('close', end);
}
