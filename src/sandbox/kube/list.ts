// Lists: selectors, limit/continue paging over a snapshot (so pages stay consistent while the
// world keeps writing, as with etcd's MVCC), and JSON or Table bodies written in chunks.
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type ResourceType, apiVersionOf } from './resources.js';
import { ChunkWriter } from './respond.js';
import type { FieldMatcher, Matcher } from './selectors.js';
import { badRequest, expired } from './status.js';
import { type Entry, fullJson, materialize } from './store.js';
import { type IncludeObject, printerFor, tableRow } from './table.js';

const SNAPSHOT_TTL_MS = 5 * 60_000;
const MAX_SNAPSHOTS = 200;
const EXPIRED_MESSAGE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

interface Snapshot {
  entries: Entry[];
  rv: number;
  created: number;
}

interface ContinueToken {
  v: 'meta.k8s.io/v1';
  rv: number;
  start: string;
  snap: string;
  i: number;
}

export interface ListRequest {
  type: ResourceType;
  /** All entries of the type in the namespace (or all namespaces), in key order. */
  entries: () => Entry[];
  rv: number;
  labels?: Matcher;
  fields?: FieldMatcher;
  limit?: number;
  continueToken?: string;
  table?: { include: IncludeObject };
}

export interface Page {
  items: Entry[];
  rv: number;
  continueToken?: string;
  remaining?: number;
}

export class Pager {
  private readonly snapshots = new Map<string, Snapshot>();

  page(req: ListRequest): Page {
    let entries: Entry[];
    let start = 0;
    let rv = req.rv;
    let snapId: string | undefined;
    if (req.continueToken) {
      const tok = decodeToken(req.continueToken);
      const snap = this.snapshots.get(tok.snap);
      if (!snap || Date.now() - snap.created > SNAPSHOT_TTL_MS) throw expired(EXPIRED_MESSAGE);
      ({ entries, rv } = snap);
      start = tok.i;
      snapId = tok.snap;
    } else entries = req.entries();
    const limit = req.limit && req.limit > 0 ? req.limit : Infinity;
    const items: Entry[] = [];
    let i = start;
    for (; i < entries.length && items.length < limit; i++) {
      const e = entries[i] as Entry;
      if (req.labels && !req.labels(e.labels)) continue;
      if (req.fields && !req.fields(e.fields)) continue;
      items.push(e);
    }
    const page: Page = { items, rv };
    if (i < entries.length) {
      snapId ??= this.keep({ entries, rv, created: Date.now() });
      const last = items[items.length - 1];
      const tok: ContinueToken = { v: 'meta.k8s.io/v1', rv, start: `${last?.key ?? ''}\u0000`, snap: snapId, i };
      page.continueToken = Buffer.from(JSON.stringify(tok)).toString('base64url');
      if (!req.labels && !req.fields) page.remaining = entries.length - i;
    }
    return page;
  }

  private keep(s: Snapshot): string {
    const now = Date.now();
    for (const [id, snap] of this.snapshots) if (now - snap.created > SNAPSHOT_TTL_MS) this.snapshots.delete(id);
    while (this.snapshots.size >= MAX_SNAPSHOTS) this.snapshots.delete(this.snapshots.keys().next().value as string);
    const id = randomBytes(6).toString('hex');
    this.snapshots.set(id, s);
    return id;
  }
}

function decodeToken(text: string): ContinueToken {
  try {
    const tok = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as ContinueToken;
    if (tok.v === 'meta.k8s.io/v1' && typeof tok.snap === 'string' && Number.isInteger(tok.i)) return tok;
  } catch {
    // fall through
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

function listMeta(page: Page): string {
  const meta: Record<string, unknown> = { resourceVersion: String(page.rv) };
  if (page.continueToken) meta.continue = page.continueToken;
  if (page.remaining !== undefined) meta.remainingItemCount = page.remaining;
  return JSON.stringify(meta);
}

/** Writes a page as a <Kind>List, or a Table when asked. */
export async function writeList(res: ServerResponse, req: ListRequest, page: Page): Promise<void> {
  const contentType = req.table ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json';
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private' });
  const w = new ChunkWriter(res);
  const t = req.type;
  if (req.table) {
    const printer = printerFor(t);
    const now = Date.now();
    await w.push(`{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":${listMeta(page)},"columnDefinitions":${JSON.stringify(printer.columns)},"rows":[`);
    for (let i = 0; i < page.items.length; i++) {
      const e = page.items[i] as Entry;
      const full = fullJson(e);
      await w.push((i ? ',' : '') + tableRow(printer, JSON.parse(full), full, req.table.include, now));
    }
  } else {
    await w.push(`{"kind":"${t.kind}List","apiVersion":"${apiVersionOf(t)}","metadata":${listMeta(page)},"items":[`);
    // Items of built-in lists carry no kind/apiVersion on the wire; custom resources' do.
    for (let i = 0; i < page.items.length; i++) {
      const e = page.items[i] as Entry;
      await w.push((i ? ',' : '') + (t.custom ? fullJson(e) : e.body));
    }
  }
  await w.push(']}');
  await w.end();
}

/** A single object as a one-row Table. */
export function tableOf(t: ResourceType, e: Entry, include: IncludeObject): string {
  const printer = printerFor(t);
  const full = fullJson(e);
  return `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"${e.rv}"},"columnDefinitions":${JSON.stringify(printer.columns)},"rows":[${tableRow(printer, materialize(e), full, include, Date.now())}]}`;
}
