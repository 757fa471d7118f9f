// ERROR lines in a log stream, counted without keeping the log: a count per pod, and the most
// frequent messages in a map bounded to `maxMessages` distinct keys. Messages are normalised
// (timestamp, request ids and numbers dropped) so one kind of failure counts as one message.

export interface ErrorTally {
  total: number;
  perPod: Array<{ pod: string; errors: number; lines: number }>;
  top: Array<{ message: string; count: number }>;
  /** Lines whose message fell outside the bounded map (it was full). */
  otherMessages: number;
  /** Pods whose log could not be read (to the end): why, and how many lines were counted before. */
  unread: Array<{ pod: string; lines: number; error: string }>;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ][\d:.]+Z?\s+/;
/** The level as the first word after the timestamp (`… ERROR [logger] msg`), or logfmt's `level=error`. */
const LEVEL_WORD = /^\[?ERROR\b/;
const LOGFMT = /(?:^|\s)level=error\b/i;

/** Whether a log line is at ERROR level. */
export function isErrorLine(line: string): boolean {
  // Cheap tests first: most lines have neither an ERROR near the start nor a level= field.
  const at = line.indexOf('ERROR');
  if (at >= 0 && at <= 64) {
    const m = TIMESTAMP.exec(line);
    if (LEVEL_WORD.test(m ? line.slice(m[0].length) : line)) return true;
  }
  return (line.includes('evel=') || line.includes('EVEL=')) && LOGFMT.test(line.slice(0, 200));
}

/** The message of an ERROR line, with what varies per occurrence taken out. */
export function normaliseError(line: string): string {
  return line
    .replace(TIMESTAMP, '')
    .replace(/^ERROR\s+/, '')
    .replace(/\b(request_id|trace_id|span_id|id)=\S+/g, '$1=…')
    .replace(/\b0x[0-9a-f]+\b/gi, '#')
    .replace(/\d+(\.\d+)?/g, '#')
    .slice(0, 300)
    .trim();
}

export class ErrorCounter {
  private readonly messages = new Map<string, number>();
  private readonly pods = new Map<string, { errors: number; lines: number }>();
  private readonly unread: ErrorTally['unread'] = [];
  private other = 0;
  private total = 0;

  constructor(private readonly maxMessages = 1000) {}

  /** Counts one line of a pod's log. */
  add(pod: string, line: string): void {
    let p = this.pods.get(pod);
    if (!p) this.pods.set(pod, (p = { errors: 0, lines: 0 }));
    p.lines++;
    if (!isErrorLine(line)) return;
    p.errors++;
    this.total++;
    const msg = normaliseError(line);
    const n = this.messages.get(msg);
    if (n !== undefined) this.messages.set(msg, n + 1);
    else if (this.messages.size < this.maxMessages) this.messages.set(msg, 1);
    else this.other++;
  }

  /** Counts a pod's whole log, one line at a time as it streams in. */
  async addStream(pod: string, lines: AsyncIterable<string>): Promise<void> {
    if (!this.pods.has(pod)) this.pods.set(pod, { errors: 0, lines: 0 });
    for await (const line of lines) this.add(pod, line);
  }

  /** The pod's log could not be read (to the end): a row only for what was counted before. */
  markUnread(pod: string, error: string): void {
    const lines = this.pods.get(pod)?.lines ?? 0;
    if (!lines) this.pods.delete(pod);
    this.unread.push({ pod, lines, error });
  }

  get distinctMessages(): number {
    return this.messages.size;
  }

  tally(top = 5): ErrorTally {
    return {
      total: this.total,
      perPod: [...this.pods].map(([pod, c]) => ({ pod, ...c })).sort((a, b) => b.errors - a.errors || a.pod.localeCompare(b.pod)),
      top: [...this.messages]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, top)
        .map(([message, count]) => ({ message, count })),
      otherMessages: this.other,
      unread: [...this.unread].sort((a, b) => a.pod.localeCompare(b.pod)),
    };
  }
}
