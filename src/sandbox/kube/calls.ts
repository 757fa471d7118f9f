// What a test asserts about the calls it made on the apiserver: every expected call happened
// (as often as it should) and nothing else did. Calls are written `verb path`, with the verb
// RBAC would check: `get /api/v1/namespaces/x/pods/y`, `list /api/v1/nodes`, `patch ...`.

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  /** The RBAC verb: get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
}

/** An expected call: exactly `times` (default 1) requests match, or at least one with 'some'. */
export interface ExpectedCall {
  call: string | RegExp;
  times?: number | 'some';
}

export interface CallCheckOptions {
  /** Calls nobody asserts on (discovery, polling reads): matched ones are neither expected nor unexpected. */
  ignore?: ReadonlyArray<string | RegExp>;
}

/** The RBAC verb of a request, as the authorizer derives it from the method and the path. */
export function requestVerb(method: string, named: boolean, query: URLSearchParams): string {
  if (method === 'GET') return named ? 'get' : query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
  return ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: named ? 'delete' : 'deletecollection' } as Record<string, string>)[method] ?? method.toLowerCase();
}

export const callOf = (r: RecordedRequest): string => `${r.verb} ${r.path}`;

const matches = (pattern: string | RegExp, call: string): boolean => (typeof pattern === 'string' ? pattern === call : pattern.test(call));

/** What is wrong with `calls` against the expectations, one line each; empty when they hold. */
export function callProblems(calls: readonly string[], expected: ReadonlyArray<string | RegExp | ExpectedCall>, opts: CallCheckOptions = {}): string[] {
  const wants = expected.map((e) => (typeof e === 'string' || e instanceof RegExp ? { call: e, times: 1 as number | 'some' } : { call: e.call, times: e.times ?? 1 }));
  const counts = wants.map(() => 0);
  const problems: string[] = [];
  for (const call of calls) {
    const i = wants.findIndex((w) => matches(w.call, call));
    if (i >= 0) counts[i] = (counts[i] ?? 0) + 1;
    else if (!opts.ignore?.some((p) => matches(p, call))) problems.push(`unexpected: ${call}`);
  }
  wants.forEach((w, i) => {
    const n = counts[i] ?? 0;
    if (w.times === 'some' ? n === 0 : n !== w.times) problems.push(`${n === 0 ? 'missing' : `made ${n} times, expected ${String(w.times)}`}: ${String(w.call)}`);
  });
  return problems;
}
