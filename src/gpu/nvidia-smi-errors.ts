// Why nvidia-smi gave no figures in a pod, told so an operator knows what to do next.
// The texts are those nvidia-smi prints (fixtures/nvidia-smi/error_*.txt); every failure of a
// pod's probe becomes one NvidiaSmiError, exec failures and timeouts included.
import { UserFacingError } from '../core/errors.js';

export type NvidiaSmiErrorKind =
  /** "No devices were found": the container sees no GPU. */
  | 'no-devices'
  /** "Failed to initialize NVML: Driver/library version mismatch". */
  | 'driver-library-mismatch'
  /** Any other "Failed to initialize NVML: ...". */
  | 'nvml-init-failed'
  /** "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver". */
  | 'driver-unreachable'
  /** "GPU is lost": the GPU fell off the bus. */
  | 'gpu-lost'
  /** `Field "x" is not a valid field to query.`: an older driver; run the table instead. */
  | 'invalid-field'
  /** The container has no nvidia-smi binary. */
  | 'not-installed'
  | 'timeout'
  /** The exec itself failed (pod gone, container not running, API error). */
  | 'exec-failed'
  /** `-q` or `-q -x` output: readable by people, not by this parser. */
  | 'unsupported-format'
  | 'empty'
  | 'unparseable';

export class NvidiaSmiError extends UserFacingError {
  override name = 'NvidiaSmiError';
  constructor(
    readonly kind: NvidiaSmiErrorKind,
    message: string,
    /** What to do about it. */
    readonly hint: string,
    /** The first lines of what nvidia-smi printed, for the record. */
    readonly excerpt?: string,
  ) {
    super(message);
  }
}

const EXCERPT_LINES = 3;
const EXCERPT_CHARS = 300;

/** The first few non-blank lines, short enough for a Slack field. */
export function excerptOf(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).slice(0, EXCERPT_LINES);
  const joined = lines.join('\n');
  return joined.length > EXCERPT_CHARS ? `${joined.slice(0, EXCERPT_CHARS - 1)}…` : joined;
}

interface KnownFailure {
  pattern: RegExp;
  make: (match: RegExpExecArray, excerpt: string) => NvidiaSmiError;
}

const DEVICE_PLUGIN_HINT =
  'The pod did not get a GPU: check that its container sets resources.limits["nvidia.com/gpu"], and that the NVIDIA device plugin (GPU Operator) runs on the node.';

// Order matters: the mismatch is a special case of the NVML failure.
const KNOWN_FAILURES: readonly KnownFailure[] = [
  {
    pattern: /Failed to initialize NVML: Driver\/library version mismatch(?:[\s\S]*?NVML library version: (\S+))?/i,
    make: (m, excerpt) =>
      new NvidiaSmiError(
        'driver-library-mismatch',
        `The NVIDIA driver and its library differ on the node${m[1] ? ` (NVML library ${m[1]})` : ''}.`,
        'The driver was upgraded under a loaded kernel module: cordon and drain the node, then reboot it (or reload the nvidia kernel modules / reinstall the driver).',
        excerpt,
      ),
  },
  {
    pattern: /Failed to initialize NVML: ([^\n]+)/i,
    make: (m, excerpt) => {
      const reason = (m[1] ?? '').trim();
      const unknown = /unknown error/i.test(reason);
      return new NvidiaSmiError(
        'nvml-init-failed',
        `nvidia-smi could not initialize NVML: ${reason}.`,
        unknown
          ? 'The container has lost access to its GPU device files (often after a systemd daemon-reload on the node): restart the pod.'
          : 'Check the NVIDIA driver on the node (the GPU Operator driver pod and its logs).',
        excerpt,
      );
    },
  },
  {
    pattern: /NVIDIA-SMI has failed because it couldn'?t communicate with the NVIDIA driver/i,
    make: (_m, excerpt) =>
      new NvidiaSmiError(
        'driver-unreachable',
        'nvidia-smi cannot reach the NVIDIA driver on the node.',
        'The driver is not loaded (e.g. a kernel update without a driver rebuild): check the GPU Operator driver pod on that node; cordon it meanwhile.',
        excerpt,
      ),
  },
  {
    pattern: /GPU is lost/i,
    make: (_m, excerpt) =>
      new NvidiaSmiError('gpu-lost', 'A GPU has fallen off the bus.', 'Cordon and drain the node, then reboot it; if it recurs, have the GPU checked.', excerpt),
  },
  {
    pattern: /No devices were found/i,
    make: (_m, excerpt) => new NvidiaSmiError('no-devices', 'nvidia-smi found no GPU in this pod.', DEVICE_PLUGIN_HINT, excerpt),
  },
  {
    pattern: /Field "([^"]+)" is not a valid field to query/i,
    make: (m, excerpt) =>
      new NvidiaSmiError(
        'invalid-field',
        `This driver's nvidia-smi does not know the field "${m[1] ?? '?'}".`,
        'Read the default table instead (NVIDIA_SMI_TABLE).',
        excerpt,
      ),
  },
  {
    pattern: /executable file not found|nvidia-smi"?: (?:command )?not found|nvidia-smi"?: no such file/i,
    make: (_m, excerpt) =>
      new NvidiaSmiError(
        'not-installed',
        'The container has no nvidia-smi.',
        'The NVIDIA container toolkit mounts nvidia-smi only into containers that get a GPU with the "utility" driver capability (NVIDIA_DRIVER_CAPABILITIES).',
        excerpt,
      ),
  },
];

/** The known failure nvidia-smi (or the exec of it) reported in this text, if any. */
export function recognizeFailure(text: string): NvidiaSmiError | undefined {
  for (const failure of KNOWN_FAILURES) {
    const m = failure.pattern.exec(text);
    if (m) return failure.make(m, excerptOf(text));
  }
  return undefined;
}

/** An exec that did not complete: timed out, or failed before nvidia-smi could answer. */
export function execFailure(error: string, timedOut: boolean): NvidiaSmiError {
  if (timedOut) {
    return new NvidiaSmiError(
      'timeout',
      `nvidia-smi did not answer in time${error ? ` (${error})` : ''}.`,
      'A hung nvidia-smi often means a stuck driver or GPU: check the node (dmesg for Xid errors) and the pod.',
    );
  }
  return (
    recognizeFailure(error) ??
    new NvidiaSmiError('exec-failed', `Could not run nvidia-smi in the pod: ${error}`, 'Check that the pod is Running and its container is up.', excerptOf(error))
  );
}
