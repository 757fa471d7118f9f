// The config file's schema. One source of truth: the loader validates with it, and the
// Helm chart's values.schema.json is generated from it (a later issue).
import { Cron } from 'croner';
import { z } from 'zod';

export const ROLES = ['viewer', 'operator', 'admin'] as const;

const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'expected a Slack user id like U012AB3CD');
const slackGroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'expected a Slack user-group id like S0614TZR7');
const slackChannelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'expected a Slack channel id like C012AB3CD');

const binding = z
  .object({
    users: z.array(slackUserId).default([]),
    groups: z.array(slackGroupId).default([]),
    /** When set, this binding only holds in these channels. */
    channels: z.array(slackChannelId).optional(),
  })
  .strict();

/** A cron expression (5 or 6 fields), checked with the scheduler's own parser. */
const cronExpression = z.string().min(1).refine((expr) => {
  try {
    new Cron(expr, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}, 'expected a cron expression like "0 8 * * *" (minute hour day-of-month month day-of-week)');

const k8sName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a Kubernetes name (lower-case letters, digits and -)')
  .max(63);

const cluster = z
  .object({
    /** What `--cluster` calls it. */
    name: k8sName,
    /** The kubeconfig context; omitted: the current context, or in-cluster config inside a pod. */
    context: z.string().min(1).optional(),
    /** A kubeconfig file; omitted: $KUBECONFIG or ~/.kube/config (or in-cluster). */
    kubeconfig: z.string().min(1).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    /** Kubernetes clusters; commands take --cluster NAME and default to the first. */
    clusters: z.array(cluster).default([]),
    /** The Vlinders namespaces. */
    namespaces: z
      .object({
        platform: k8sName.default('vlinders-platform'),
        inference: k8sName.default('vlinders-inference'),
        monitoring: k8sName.default('vlinders-monitoring'),
      })
      .strict()
      .default({ platform: 'vlinders-platform', inference: 'vlinders-inference', monitoring: 'vlinders-monitoring' }),
    ray: z
      .object({
        /** The RayCluster, or the RayService whose active RayCluster is used when `service` is set. */
        cluster: k8sName.default('vlinders-ray-cluster'),
        service: k8sName.optional(),
        /** The GPU worker group `scale-gpu` changes by default. */
        workerGroup: z.string().min(1).default('gpu-workers'),
        /** `scale-gpu` waits this long for workers to be Ready. */
        scaleTimeoutSeconds: z.number().int().min(5).max(3600).default(600),
        /** The Ray dashboard (port 8265): Serve's REST API and the Jobs API. */
        dashboardUrl: z.url().default('http://vlinders-ray-cluster-head-svc.vlinders-inference.svc:8265'),
        /** Ray Serve's HTTP proxy (port 8000), where the OpenAI-compatible `/v1/models` answers. */
        serveUrl: z.url().default('http://vlinders-ray-cluster-head-svc.vlinders-inference.svc:8000'),
        /** Each dashboard or Serve request gives up after this long. */
        dashboardTimeoutSeconds: z.number().positive().max(300).default(10),
        /**
         * How `model update` redeploys Ray Serve: `serve-api` PUTs the declarative config to
         * /api/serve/applications/; `jobs` submits `redeployEntrypoint` through the Ray Jobs API.
         */
        redeploy: z.enum(['serve-api', 'jobs']).default('serve-api'),
        /** jobs mode: the entrypoint Ray runs (from config only; the model goes in as env MODEL_ID). */
        redeployEntrypoint: z.string().min(1).default('serve deploy /home/ray/serve/vlinders-llm.yaml'),
        /** The Serve application that serves the model. */
        serveApplication: z.string().min(1).default('vlinders-llm'),
        /** Its runtime_env env var that names the model (as in KubeRay's vLLM sample). */
        serveModelEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name').default('MODEL_ID'),
      })
      .strict()
      .default({
        cluster: 'vlinders-ray-cluster',
        workerGroup: 'gpu-workers',
        scaleTimeoutSeconds: 600,
        dashboardUrl: 'http://vlinders-ray-cluster-head-svc.vlinders-inference.svc:8265',
        serveUrl: 'http://vlinders-ray-cluster-head-svc.vlinders-inference.svc:8000',
        dashboardTimeoutSeconds: 10,
        redeploy: 'serve-api',
        redeployEntrypoint: 'serve deploy /home/ray/serve/vlinders-llm.yaml',
        serveApplication: 'vlinders-llm',
        serveModelEnv: 'MODEL_ID',
      }),
    gpu: z
      .object({
        /** nvidia-smi timeout per pod. */
        execTimeoutSeconds: z.number().positive().max(300).default(15),
        /** Pods asked at once. */
        concurrency: z.number().int().min(1).max(64).default(16),
        /** The runbook's utilization target: below it a GPU is flagged as under-used. */
        utilizationTargetPercent: z.number().min(0).max(100).default(85),
        memoryHighPercent: z.number().min(0).max(100).default(95),
        temperatureHighCelsius: z.number().min(0).max(150).default(85),
      })
      .strict()
      .default({ execTimeoutSeconds: 15, concurrency: 16, utilizationTargetPercent: 85, memoryHighPercent: 95, temperatureHighCelsius: 85 }),
    /** Alertmanager alerts (POST /alertmanager, token in ALERTMANAGER_TOKEN) open incident threads here. */
    alerts: z
      .object({
        channel: slackChannelId.optional(),
        /** alertname → a read command run and posted in the thread; {{label}} takes the alert's label. */
        diagnoses: z.record(z.string(), z.string().min(1)).default({}),
        /** alertname → the runbook's remedy, offered as a button that goes through confirmation. */
        remedies: z.record(z.string(), z.string().min(1)).default({}),
      })
      .strict()
      .default({ diagnoses: {}, remedies: {} }),
    /** Scheduled digests: cron in a timezone, run on the leader replica only, posted to `channel`. */
    schedule: z
      .object({
        /** IANA timezone the cron expressions are read in. */
        timezone: z.string().min(1).refine((tz) => { try { new Intl.DateTimeFormat('en', { timeZone: tz }); return true; } catch { return false; } }, 'expected an IANA timezone like Europe/Amsterdam').default('UTC'),
        daily: cronExpression.default('0 8 * * *'),
        weekly: cronExpression.default('0 8 * * 1'),
        monthly: cronExpression.default('0 8 1 * *'),
        /** Where scheduled digests go; no channel, no schedule. */
        channel: slackChannelId.optional(),
        /** A run missed while the bot was down runs once at start when it is at most this old. */
        graceMinutes: z.number().int().min(0).max(24 * 60).default(120),
      })
      .strict()
      .default({ timezone: 'UTC', daily: '0 8 * * *', weekly: '0 8 * * 1', monthly: '0 8 1 * *', graceMinutes: 120 }),
    /** What the digests check beyond the cluster itself. */
    digest: z
      .object({
        /** TLS Secrets (type kubernetes.io/tls) whose certificate expiry the daily digest reports. */
        tlsSecrets: z.array(z.object({ namespace: k8sName, name: k8sName }).strict()).default([]),
        /** Label selector of the API pods whose ERROR lines are counted (in the platform namespace). */
        apiSelector: z.string().min(1).default('app.kubernetes.io/name=vlinders-api'),
      })
      .strict()
      .default({ tlsSecrets: [], apiSelector: 'app.kubernetes.io/name=vlinders-api' }),
    /** The vLLM settings `gpu-memory` changes, and how it rolls the Ray workers to pick them up. */
    inference: z
      .object({
        /** The ConfigMap holding vLLM's settings; in the inference namespace, where the Ray pods can mount it. */
        configMap: k8sName.default('vlinders-config'),
        /** Its key for vLLM's gpu_memory_utilization. */
        gpuMemoryKey: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'expected a ConfigMap key').default('gpu_memory_utilization'),
        /** The range `gpu-memory` allows. */
        gpuMemoryMin: z.number().min(0.05).max(1).default(0.5),
        gpuMemoryMax: z.number().min(0.05).max(1).default(0.95),
        /** `gpu-memory` waits this long for the Ray workers to be Ready again. */
        rolloutTimeoutSeconds: z.number().int().min(5).max(7200).default(900),
      })
      .strict()
      .refine((v) => v.gpuMemoryMin < v.gpuMemoryMax, 'gpuMemoryMin must be below gpuMemoryMax')
      .default({ configMap: 'vlinders-config', gpuMemoryKey: 'gpu_memory_utilization', gpuMemoryMin: 0.5, gpuMemoryMax: 0.95, rolloutTimeoutSeconds: 900 }),
    /** `model update`: the models PVC, the download and verify Jobs, the ConfigMap key. */
    models: z
      .object({
        /** The PVC holding model files, in the inference namespace: one directory per model id (org/name). */
        pvc: k8sName.default('vlinders-models'),
        /** Where the Jobs mount it. */
        mountPath: z.string().regex(/^\/[A-Za-z0-9._/-]*$/, 'expected an absolute path').default('/models'),
        /** The vlinders-config key naming the served model (the ConfigMap is inference.configMap). */
        configKey: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'expected a ConfigMap key').default('model'),
        /** The download Job: image and argv; it gets MODEL_ID, MODEL_REVISION and MODEL_DIR as env and writes MODEL_DIR/<checksumFile>. */
        downloadImage: z.string().min(1).default('ghcr.io/vlinders/model-fetch:1.2.0'),
        downloadCommand: z.array(z.string().min(1)).min(1).default(['/usr/local/bin/fetch-model']),
        /** A Secret key handed to the download Job as HF_TOKEN (the bot never reads it). */
        tokenSecret: z.object({ name: k8sName, key: z.string().regex(/^[-._a-zA-Z0-9]+$/) }).strict().optional(),
        /** The verify Job runs `sha256sum -c <checksumFile>` in the model's directory. */
        verifyImage: z.string().min(1).default('busybox:1.37'),
        checksumFile: z.string().regex(/^[A-Za-z0-9._-]+$/, 'expected a file name').default('SHA256SUMS'),
        /** Each Job may take this long. */
        jobTimeoutSeconds: z.number().int().min(5).max(6 * 3600).default(3600),
        /** After the redeploy, how long to wait for the application to be RUNNING and listing the model. */
        serveTimeoutSeconds: z.number().int().min(5).max(3600).default(900),
      })
      .strict()
      .default({ pvc: 'vlinders-models', mountPath: '/models', configKey: 'model', downloadImage: 'ghcr.io/vlinders/model-fetch:1.2.0', downloadCommand: ['/usr/local/bin/fetch-model'], verifyImage: 'busybox:1.37', checksumFile: 'SHA256SUMS', jobTimeoutSeconds: 3600, serveTimeoutSeconds: 900 }),
    /** `loadtest`: the runbook's k6 performance test, run as a Job. */
    loadtest: z
      .object({
        /** Where the Job runs: one of the Vlinders namespaces (default: namespaces.platform). */
        namespace: k8sName.optional(),
        image: z.string().min(1).default('grafana/k6:0.57.0'),
        /** A ConfigMap (in that namespace) holding the k6 script, mounted at /scripts. */
        scriptConfigMap: k8sName.default('vlinders-loadtest'),
        scriptKey: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'expected a ConfigMap key').default('loadtest.js'),
        /** Handed to the script as env BASE_URL: what it loads. */
        targetUrl: z.url().default('http://kong-gateway-proxy.vlinders-platform.svc:8000'),
        /** Defaults and bounds of --vus and --duration. */
        vus: z.number().int().min(1).max(10_000).default(100),
        maxVus: z.number().int().min(1).max(10_000).default(1000),
        duration: z.string().regex(/^\d+[smh]$/, 'expected a duration like 30s, 5m or 1h').default('5m'),
        maxDurationSeconds: z.number().int().min(1).max(6 * 3600).default(3600),
        /** The runbook's thresholds; each is reported pass/fail with the measured value. */
        thresholds: z
          .object({
            p95Ms: z.number().positive().default(500),
            errorRatePercent: z.number().min(0).max(100).default(1),
            minRequestsPerSecond: z.number().min(0).default(1000),
          })
          .strict()
          .default({ p95Ms: 500, errorRatePercent: 1, minRequestsPerSecond: 1000 }),
      })
      .strict()
      .default({ image: 'grafana/k6:0.57.0', scriptConfigMap: 'vlinders-loadtest', scriptKey: 'loadtest.js', targetUrl: 'http://kong-gateway-proxy.vlinders-platform.svc:8000', vus: 100, maxVus: 1000, duration: '5m', maxDurationSeconds: 3600, thresholds: { p95Ms: 500, errorRatePercent: 1, minRequestsPerSecond: 1000 } }),
    /** `restart` waits this long for the Deployment's rollout. */
    restart: z
      .object({ timeoutSeconds: z.number().int().min(5).max(3600).default(600) })
      .strict()
      .default({ timeoutSeconds: 600 }),
    /** Emergency contacts, listed by `contacts` and in incident threads. */
    contacts: z
      .array(
        z
          .object({
            name: z.string().min(1).max(100),
            role: z.string().min(1).max(100),
            slack: slackUserId.optional(),
            phone: z.string().regex(/^\+?[0-9 ()-]{5,30}$/, 'expected a phone number like +31 20 123 4567').optional(),
            email: z.email().optional(),
          })
          .strict(),
      )
      .default([]),
    /** Who is on call: a Slack user group, and where the rota lives. */
    oncall: z
      .object({
        group: slackGroupId.optional(),
        /** A link to the rota (PagerDuty, Opsgenie, a wiki page). */
        rota: z.url().optional(),
        /** Free text, e.g. "follow-the-sun: EU 07–19 CET, US after". */
        note: z.string().min(1).max(300).optional(),
      })
      .strict()
      .optional(),
    /** Upper bounds every change is held to. */
    limits: z
      .object({ maxGpuWorkers: z.number().int().min(0).max(1000).default(16) })
      .strict()
      .default({ maxGpuWorkers: 16 }),
    /** Where the bot keeps its state (pending actions, locks) and its leader Lease. */
    store: z
      .object({ namespace: k8sName.default('vlinders-ops') })
      .strict()
      .default({ namespace: 'vlinders-ops' }),
    rbac: z
      .object({
        roles: z
          .object({ viewer: binding.optional(), operator: binding.optional(), admin: binding.optional() })
          .strict()
          .default({}),
        /** Who may approve destructive actions (a second person; they also need the command's role). */
        approvers: z
          .object({ users: z.array(slackUserId).default([]), groups: z.array(slackGroupId).default([]) })
          .strict()
          .default({ users: [], groups: [] }),
        /** When set, change and destructive commands only run in these channels. */
        changeChannels: z.array(slackChannelId).optional(),
        /** How long a resolved user group's members are trusted. */
        groupCacheSeconds: z.number().int().min(0).max(86_400).default(300),
      })
      .strict()
      .default({ roles: {}, approvers: { users: [], groups: [] }, groupCacheSeconds: 300 }),
    confirmations: z
      .object({ ttlMinutes: z.number().positive().max(24 * 60).default(10) })
      .strict()
      .default({ ttlMinutes: 10 }),
    audit: z
      .object({
        /** Mirror every audit line to this channel, as well as to the log. */
        channel: slackChannelId.optional(),
      })
      .strict()
      .default({}),
    slack: z
      .object({
        /** HTTP mode listens here (Socket Mode needs no port). */
        port: z.number().int().min(0).max(65_535).default(3000),
        /** The slash command this app answers. */
        command: z.string().regex(/^\/[a-z0-9_-]+$/, 'expected a slash command like /vlinders').default('/vlinders'),
      })
      .strict()
      .default({ port: 3000, command: '/vlinders' }),
    cli: z
      .object({
        /** The role of whoever runs the terminal CLI (they already hold its kubeconfig). */
        role: z.enum(ROLES).optional(),
      })
      .strict()
      .default({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type Config = z.output<typeof configSchema>;
export type Role = (typeof ROLES)[number];

/** Secrets and endpoints that come from the environment, never from the file. */
export const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'expected a bot token starting with xoxb-').optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'expected an app-level token starting with xapp-').optional(),
  SLACK_API_URL: z.url().optional(),
  /** The bearer token Alertmanager's webhook config sends (http_config.authorization). */
  ALERTMANAGER_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  VLINDERS_OPS_CONFIG: z.string().default('./vlinders-ops.yaml'),
  /** The ops HTTP server: /metrics, /healthz, /readyz, /alertmanager. */
  VLINDERS_OPS_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  /** The Lease holder identity (the pod name in Kubernetes). */
  POD_NAME: z.string().optional(),
});

export type Env = z.output<typeof envSchema>;
