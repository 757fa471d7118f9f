// What NVIDIA says to do about an XID, summarised from its Xid catalog ("Resolution Bucket
// (Immediate Action)"), https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html ,
// and the older per-code notes, https://docs.nvidia.com/deploy/xid-errors/index.html .
// The buckets become three actions an operator of a Kubernetes GPU pool takes:
//   restart-app  RESTART_APP: the application's fault (or one contained to it); the GPU is fine.
//   reset-gpu    RESET_GPU: the GPU needs a reset; drain its node first so nothing runs on it.
//   service      RESTART_BM / CONTACT_SUPPORT for hardware: drain, reset or reboot, and send
//                the node for service if it comes back.
//   watch        informational: nothing to do now, but a trend of it predicts a failure.
// An XID missing here is shown with a pointer to the catalog, and no button.

export type XidAction = 'restart-app' | 'reset-gpu' | 'service' | 'watch' | 'lookup';

export interface XidEntry {
  name: string;
  action: XidAction;
}

/** The XIDs seen on data-centre GPUs (Ampere and newer, and the common older ones). */
export const XID_CATALOG: Readonly<Record<number, XidEntry>> = {
  8: { name: 'GPU stopped processing (channel idle timeout)', action: 'restart-app' },
  13: { name: 'Graphics engine exception', action: 'restart-app' },
  31: { name: 'GPU memory page fault', action: 'restart-app' },
  32: { name: 'Invalid or corrupted push buffer stream', action: 'restart-app' },
  43: { name: 'GPU stopped processing (application fault)', action: 'restart-app' },
  45: { name: 'Preemptive cleanup, due to a previous error', action: 'watch' },
  48: { name: 'Double-bit ECC error', action: 'reset-gpu' },
  61: { name: 'Internal micro-controller breakpoint/warning', action: 'reset-gpu' },
  62: { name: 'Internal micro-controller halt', action: 'reset-gpu' },
  63: { name: 'ECC page retirement or row remapping recorded', action: 'watch' },
  64: { name: 'ECC page retirement or row remapping failure', action: 'service' },
  68: { name: 'NVDEC0 exception', action: 'restart-app' },
  69: { name: 'Graphics engine class error', action: 'restart-app' },
  74: { name: 'NVLink error', action: 'reset-gpu' },
  79: { name: 'GPU has fallen off the bus', action: 'service' },
  92: { name: 'High single-bit ECC error rate', action: 'watch' },
  94: { name: 'Contained ECC error', action: 'restart-app' },
  95: { name: 'Uncontained ECC error', action: 'reset-gpu' },
  109: { name: 'Context switch timeout', action: 'restart-app' },
  119: { name: 'GSP RPC timeout', action: 'reset-gpu' },
  120: { name: 'GSP error', action: 'reset-gpu' },
  121: { name: 'C2C link error', action: 'reset-gpu' },
  140: { name: 'Unrecovered ECC error', action: 'reset-gpu' },
};

export const XID_ACTION_TEXT: Readonly<Record<XidAction, string>> = {
  'restart-app': 'restart the application (the GPU is fine; look at the workload if it repeats)',
  'reset-gpu': 'drain, then reset the GPU',
  service: 'drain, then reset the GPU or service the node',
  watch: 'nothing now; watch for it repeating',
  lookup: 'not in the bot’s table: look it up in NVIDIA’s Xid catalog, https://docs.nvidia.com/deploy/xid-errors/analyzing-xid-catalog.html',
};

/** NVIDIA's entry for `code`, or one that sends the reader to the catalog. */
export function xidEntry(code: number): XidEntry & { known: boolean } {
  const entry = XID_CATALOG[code];
  return entry ? { ...entry, known: true } : { name: `XID ${code}`, action: 'lookup', known: false };
}

/** The actions that take the GPU out of service: its node should be drained. */
export const DRAIN_ACTIONS: ReadonlySet<XidAction> = new Set(['reset-gpu', 'service']);
