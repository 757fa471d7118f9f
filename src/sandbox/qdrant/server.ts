// A Qdrant REST stub for tests: GET /collections/{name} with the shapes Qdrant documents
// (openapi "CollectionInfo" inside {result, status: "ok", time}; 404 {status: {error}, time}).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface QdrantStub {
  url: string;
  /** Collections that exist, with their status (green by default). */
  collections: Map<string, { status: 'green' | 'yellow' | 'grey' | 'red'; points: number }>;
  requests: string[];
  close(): Promise<void>;
}

const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

function collectionInfo(c: { status: string; points: number }) {
  return {
    status: c.status,
    optimizer_status: 'ok',
    indexed_vectors_count: c.points,
    points_count: c.points,
    segments_count: 2,
    config: {
      params: { vectors: { size: 1024, distance: 'Cosine' }, shard_number: 1, replication_factor: 1, write_consistency_factor: 1, on_disk_payload: true },
      hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false },
      optimizer_config: { deleted_threshold: 0.2, vacuum_min_vector_number: 1000, default_segment_number: 0, max_segment_size: null, memmap_threshold: null, indexing_threshold: 20000, flush_interval_sec: 5, max_optimization_threads: null },
      wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
      quantization_config: null,
    },
    payload_schema: {},
  };
}

export async function startQdrantStub(collections: Record<string, { status?: 'green' | 'yellow' | 'grey' | 'red'; points?: number }> = {}): Promise<QdrantStub> {
  const state = new Map(Object.entries(collections).map(([k, v]) => [k, { status: v.status ?? 'green', points: v.points ?? 0 }]));
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const started = performance.now();
    const time = () => (performance.now() - started) / 1000;
    requests.push(`${req.method} ${req.url}`);
    const m = /^\/collections\/([^/?]+)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) return send(res, 404, { status: { error: `Not found: ${req.url}` }, time: time() });
    const name = decodeURIComponent(m[1] as string);
    const c = state.get(name);
    if (!c) return send(res, 404, { status: { error: `Not found: Collection \`${name}\` doesn't exist!` }, time: time() });
    send(res, 200, { result: collectionInfo(c), status: 'ok', time: time() });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    collections: state,
    requests,
    close: () => new Promise((ok) => { server.close(() => ok()); server.closeAllConnections(); }),
  };
}
