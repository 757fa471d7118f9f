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
    /**
     * When set, this binding only holds for commands on these clusters (names of `clusters:`;
     * a command without --cluster runs on the first).
     */
    clusters: z.array(z.string().min(1)).min(1).optional(),
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

/** Which Vlinders namespace (config.namespaces) an object lives in. */
const namespaceRole = z.enum(['platform', 'inference', 'monitoring']);
/** A key of a Secret's data. */
const secretKey = z.string().regex(/^[-._a-zA-Z0-9]+$/, 'expected a Secret key');

/** The settings a cluster may override: what names or reaches that cluster's own systems. */
export const CLUSTER_OVERRIDABLE = ['namespaces', 'ray', 'prometheus', 'backup', 'platform', 'models', 'loadtest', 'inference', 'digest'] as const;

const cluster = z
  .object({
    /** What `--cluster` calls it. */
    name: k8sName,
    /** The kubeconfig context; omitted: the current context, or in-cluster config inside a pod. */
    context: z.string().min(1).optional(),
    /** A kubeconfig file; omitted: $KUBECONFIG or ~/.kube/config (or in-cluster). */
    kubeconfig: z.string().min(1).optional(),
    /**
     * What differs on this cluster (its Prometheus, Ray dashboard, bucket, domain...): the same
     * keys as the top level's, merged over them for commands run with --cluster NAME.
     */
    overrides: z
      .object(Object.fromEntries(CLUSTER_OVERRIDABLE.map((key) => [key, z.record(z.string(), z.unknown())])) as Record<(typeof CLUSTER_OVERRIDABLE)[number], z.ZodRecord<z.ZodString, z.ZodUnknown>>)
      .partial()
      .strict()
      .optional(),
  })
  .strict();

/** A Prometheus duration as the bot accepts it: 90s, 30m, 1h, 7d. */
export const promDuration = z.string().regex(/^[1-9]\d{0,5}[smhd]$/, 'expected a duration like 30m, 1h or 7d');
const promLabel = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a Prometheus label name');
/** Label matchers as PromQL writes them inside braces: name="value", name=~"regex"… (config only, never user text). */
const promMatchers = z
  .string()
  .regex(/^(\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*(,|$))*$/, 'expected label matchers like job="vlinders-api", status=~"5.."');

/** An SLO's targets; latencies in ms, the queue in requests waiting, the KV cache and errors in percent. */
const sloTargets = z
  .object({
    ttftP95Ms: z.number().positive().optional(),
    tpotP95Ms: z.number().positive().default(100),
    e2eP95Ms: z.number().positive().default(30_000),
    queueP95Ms: z.number().positive().default(1000),
    /** vLLM's waiting queue: anything waiting means the GPUs are saturated. */
    requestsWaiting: z.number().min(0).default(0),
    /** Over it vLLM starts preempting; the runbook adds a GPU worker. */
    kvCachePercent: z.number().min(0).max(100).default(90),
    preemptionsPerMinute: z.number().min(0).default(1),
    errorRatePercent: z.number().min(0).max(100).optional(),
    /** Generated tokens per second, at least; unset: shown, not judged. */
    minTokensPerSecond: z.number().min(0).optional(),
  })
  .strict();
const SLO_TARGETS = { tpotP95Ms: 100, e2eP95Ms: 30_000, queueP95Ms: 1000, requestsWaiting: 0, kvCachePercent: 90, preemptionsPerMinute: 1 };

/** The digests' default PromQL, for the exporters a kube-prometheus-stack install has. */
const PROMQL = {
  p95Latency: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="vlinders-api"}[5m])))',
  // One series per claim: every kubelet that mounts it reports it (ReadWriteMany, or a pod that just moved).
  pvcUsedBytes: 'max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes)',
  pvcCapacityBytes: 'max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes)',
  nodeDiskUsedPercent: '100 * (1 - node_filesystem_avail_bytes{mountpoint="/",fstype!="tmpfs"} / node_filesystem_size_bytes{mountpoint="/",fstype!="tmpfs"})',
  // max, not sum: a streaming replica's exporter reports the same database.
  dbSizeBytes: 'max(pg_database_size_bytes{datname="vlinders"})',
  // by node: two kube-state-metrics (HA, or a rollout's old pod) report every node.
  gpuNodes: 'count(max by (node) (kube_node_status_allocatable{resource="nvidia_com_gpu"}) > 0)',
  requestsWaiting: 'sum(vllm:num_requests_waiting)',
  requestsRunning: 'sum(vllm:num_requests_running)',
  gpuUtilizationPercent: 'avg by (Hostname) (DCGM_FI_DEV_GPU_UTIL)',
};

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
    /**
     * `slo`: each served model's latency, queue, KV cache, preemptions and throughput from vLLM's
     * metrics, with the API's error rate, judged against these targets (P95 TTFT and errors
     * default to the runbook's, loadtest.thresholds).
     */
    slo: z
      .object({
        /** The window the figures are taken over; `slo --window` overrides it. */
        window: promDuration.default('1h'),
        /** Targets for every model. */
        targets: sloTargets.default(SLO_TARGETS),
        /** Per served model (vLLM's model_name): targets that differ from `targets`. */
        models: z.record(z.string().min(1), sloTargets.partial()).default({}),
        /** A figure at or above this share of its target is ⚠️ (at or above the target ❌). */
        warnRatio: z.number().gt(0).max(1).default(0.8),
        /** vLLM's label naming the served model. */
        modelLabel: promLabel.default('model_name'),
        /** Label matchers added to every vLLM series, e.g. namespace="vlinders-inference". */
        vllmMatchers: promMatchers.default(''),
        /** The API's latency histogram (prometheus-fastapi-instrumentator's): its P95 is the runbook's. */
        apiLatencyMetric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'expected a metric name').default('http_request_duration_seconds'),
        /** The API's request counter (prometheus-fastapi-instrumentator's), the error rate's source. */
        apiRequestsMetric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'expected a metric name').default('http_requests_total'),
        apiMatchers: promMatchers.default('job="vlinders-api"'),
        /** Which of those requests are errors. */
        apiErrorMatchers: promMatchers.default('status=~"5.."'),
        /** How far `diagnose latency` raises gpu_memory_utilization when requests are preempted with GPU memory free. */
        gpuMemoryStep: z.number().gt(0).max(0.5).default(0.05),
      })
      .strict()
      .prefault({}),
    /** `gpu health`: the NVIDIA DCGM exporter's XIDs, row remapping, ECC and throttling, read from Prometheus. */
    gpuHealth: z
      .object({
        /** How far back by default; `gpu health --since` overrides it. */
        since: promDuration.default('24h'),
        /** The resolution XIDs and throttling are sampled at over that time (a subquery step). */
        stepSeconds: z.number().int().min(1).max(3600).default(60),
        /** The DCGM label holding the Kubernetes node name (the exporter sets Hostname from NODE_NAME). */
        nodeLabel: promLabel.default('Hostname'),
        /** Label matchers added to every DCGM series, e.g. job="dcgm-exporter". */
        matchers: promMatchers.default(''),
      })
      .strict()
      .prefault({}),
    /** Alertmanager alerts (POST /alertmanager, token in ALERTMANAGER_TOKEN) open incident threads here. */
    alerts: z
      .object({
        channel: slackChannelId.optional(),
        /** alertname → a read command run and posted in the thread; {{label}} takes the alert's label. */
        diagnoses: z.record(z.string(), z.string().min(1)).default({}),
        /** alertname → the runbook's remedy, offered as a button that goes through confirmation. */
        remedies: z.record(z.string(), z.string().min(1)).default({}),
        /**
         * New incident threads per minute. In a storm past it, the other new groups get one
         * "N more alert groups" message instead of a thread each (a group still firing gets its
         * thread on a later notification, once the minute has room).
         */
        rootsPerMinute: z.number().int().min(1).max(1000).default(20),
      })
      .strict()
      .default({ diagnoses: {}, remedies: {}, rootsPerMinute: 20 }),
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
        /**
         * Commands the bot runs itself, without an Approve (the config is the approval), posting
         * the outcome to `channel`: only schedulable ones (`backup`, `restore-drill`), checked at start.
         */
        runs: z
          .array(
            z
              .object({
                /** Names the run in the store and the log, e.g. nightly-backup. */
                name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'expected a short name like nightly-backup'),
                cron: cronExpression,
                /** As typed after /vlinders, e.g. "backup" or "restore-drill --cluster eu". */
                command: z.string().min(1).max(200),
              })
              .strict(),
          )
          .default([])
          .refine((runs) => new Set(runs.map((r) => r.name)).size === runs.length, 'each run needs its own name'),
      })
      .strict()
      .refine((s) => s.runs.length === 0 || s.channel !== undefined, { message: 'schedule.runs post their outcome to schedule.channel: set it', path: ['channel'] })
      .default({ timezone: 'UTC', daily: '0 8 * * *', weekly: '0 8 * * 1', monthly: '0 8 1 * *', graceMinutes: 120, runs: [] }),
    /** What the digests check beyond the cluster itself. */
    digest: z
      .object({
        /** More TLS Secrets (type kubernetes.io/tls) whose certificate expiry the digests report; platform.tlsSecret always is. */
        tlsSecrets: z.array(z.object({ namespace: k8sName, name: k8sName }).strict()).default([]),
        /** Label selector of the API pods whose ERROR lines are counted (in the platform namespace). */
        apiSelector: z.string().min(1).default('app.kubernetes.io/name=vlinders-api'),
        /** The weekly report's GPU cost: GPU node-hours × this price (in `currency`). Unset: no cost line. */
        gpuHourlyPrice: z.number().min(0).max(10_000).optional(),
        /** How the price is shown, e.g. EUR or USD. */
        currency: z.string().regex(/^[A-Z]{3}$/, 'expected a currency code like EUR').default('EUR'),
        /** The monthly report lists certificates expiring within this many days. */
        certWarningDays: z.number().int().min(1).max(365).default(30),
        /** PVCs at or above this share of their capacity are flagged. */
        pvcWarnPercent: z.number().min(1).max(100).default(80),
        /** The monthly report offers a button for this restore drill command. */
        restoreDrillCommand: z.string().min(1).default('restore-drill'),
      })
      .strict()
      .default({ tlsSecrets: [], apiSelector: 'app.kubernetes.io/name=vlinders-api', currency: 'EUR', certWarningDays: 30, pvcWarnPercent: 80, restoreDrillCommand: 'restore-drill' }),
    /** Prometheus and Alertmanager, read by the digests. Leave out `url` and the reports say what they could not measure. */
    prometheus: z
      .object({
        /** The Prometheus HTTP API base, e.g. http://prometheus-operated.vlinders-monitoring:9090 */
        url: z.url().optional(),
        /** The Alertmanager base for the current alerts (API v2), e.g. http://alertmanager-operated.vlinders-monitoring:9093 */
        alertmanagerUrl: z.url().optional(),
        /** Each query gets this long. */
        timeoutSeconds: z.number().positive().max(120).default(15),
        queries: z
          .object({
            /** P95 request latency in seconds: one series (or one per label set). */
            p95Latency: z.string().min(1).default(PROMQL.p95Latency),
            /** PVC bytes used, per namespace and persistentvolumeclaim (kubelet). */
            pvcUsedBytes: z.string().min(1).default(PROMQL.pvcUsedBytes),
            /** PVC capacity in bytes, same labels. */
            pvcCapacityBytes: z.string().min(1).default(PROMQL.pvcCapacityBytes),
            /** Root filesystem use per node in percent (node-exporter), labelled by instance. */
            nodeDiskUsedPercent: z.string().min(1).default(PROMQL.nodeDiskUsedPercent),
            /** The platform database's size in bytes (postgres-exporter), for its trend. */
            dbSizeBytes: z.string().min(1).default(PROMQL.dbSizeBytes),
            /** How many GPU nodes there are at an instant; sampled hourly over the week for node-hours. */
            gpuNodes: z.string().min(1).default(PROMQL.gpuNodes),
            /** Requests queued in vLLM, waiting for a GPU (`diagnose latency`). */
            requestsWaiting: z.string().min(1).default(PROMQL.requestsWaiting),
            /** Requests vLLM is running now. */
            requestsRunning: z.string().min(1).default(PROMQL.requestsRunning),
            /** GPU utilization in percent per node (DCGM exporter), charted over 24 h in the daily digest. */
            gpuUtilizationPercent: z.string().min(1).default(PROMQL.gpuUtilizationPercent),
          })
          .strict()
          .default(() => ({ ...PROMQL })),
      })
      .strict()
      .default(() => ({ timeoutSeconds: 15, queries: { ...PROMQL } })),
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
    /** Database backups to S3 (`backup`, `backups`, `restore`, `restore-drill`), and how the bot reaches PostgreSQL. */
    backup: z
      .object({
        /** The S3 bucket (the runbook's s3://vlinders-backups). Credentials: the AWS SDK's default chain (env, IRSA), never in this file. */
        bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name').default('vlinders-backups'),
        /** Key prefix of the backups; keys are <prefix>backup-YYYYMMDD-HHMMSSZ.sql.gz. */
        prefix: z.string().regex(/^([A-Za-z0-9._-]+\/)*$/, 'expected a key prefix like postgres/ (ending in /)').default('postgres/'),
        region: z.string().min(1).default('eu-west-1'),
        /** Another S3 endpoint (MinIO, a test server); omitted: AWS. */
        endpoint: z.url().optional(),
        /** Path-style URLs (http://host/bucket/key), as MinIO and most S3 clones want. */
        forcePathStyle: z.boolean().default(false),
        /** S3 multipart part size, MiB. S3 allows 10,000 parts: 8 MiB parts carry up to 78 GiB of gzip. */
        partSizeMiB: z.number().int().min(5).max(512).default(8),
        /** Parts uploaded at once. The upload holds about (partsInFlight + 2) × partSizeMiB in memory. */
        partsInFlight: z.number().int().min(1).max(16).default(2),
        /** The gzip of backups: `igzip` (ISA-L, ~5× zlib's speed; Debian package isal), `zlib` (in the bot), `auto`: igzip when on PATH. */
        gzip: z.enum(['auto', 'igzip', 'zlib']).default('auto'),
        /** `exec`: pg_dump/psql inside the postgres pod (kube exec), as the runbook does; `direct`: run by the bot against the Service. */
        transport: z.enum(['exec', 'direct']).default('exec'),
        /** The pod and container the `exec` transport runs in (namespace: namespaces.platform). */
        pod: k8sName.default('postgres-0'),
        container: k8sName.default('postgres'),
        database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'expected a PostgreSQL database name').default('vlinders'),
        user: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'expected a PostgreSQL role name').default('vlinders'),
        /** The Secret (in namespaces.platform) holding the role's password, for the `direct` transport. */
        secret: z
          .object({ name: k8sName.default('postgres-credentials'), key: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'expected a Secret key').default('password') })
          .strict()
          .default({ name: 'postgres-credentials', key: 'password' }),
        /**
         * The Secret (in the bot's own namespace, store.namespace) whose key signs every backup's
         * manifest (HMAC-SHA256, at least 32 bytes: `openssl rand -hex 32`). restore and
         * restore-drill refuse backups it did not sign; `restore --unsigned` (two people) takes one anyway.
         */
        signingSecret: z
          .object({ name: k8sName.default('vlinders-ops-backup-signing'), key: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'expected a Secret key').default('key') })
          .strict()
          .default({ name: 'vlinders-ops-backup-signing', key: 'key' }),
        /** Where `direct` connects; default the postgres Service's DNS name in namespaces.platform, port 5432. */
        host: z.string().regex(/^[A-Za-z0-9.-]+$/, 'expected a host name or IP').optional(),
        port: z.number().int().min(1).max(65_535).default(5432),
        /** Tables whose row counts are recorded with each backup and checked after a restore. */
        countTables: z.array(z.string().regex(/^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/, 'expected a table name like users or public.users')).min(1).default(['users']),
        /** `backups` warns when the newest backup is older than this. */
        maxAgeHours: z.number().positive().max(24 * 90).default(26),
        /** `backup prune` keeps the newest backup of each of the last N days, and of the last N ISO weeks. */
        retention: z
          .object({ daily: z.number().int().min(1).max(366).default(7), weekly: z.number().int().min(0).max(520).default(4) })
          .strict()
          .default({ daily: 7, weekly: 4 }),
        /** pg_dump / restore give up after this long. */
        timeoutMinutes: z.number().int().min(1).max(24 * 60).default(240),
      })
      .strict()
      .prefault({}),
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
    /** preflight and verify: what the platform needs before and after a deploy, and where to reach it. */
    platform: z
      .object({
        /** The platform API the verify smoke tests call (register, log in, /v1/models, a chat completion). */
        apiUrl: z.url().optional(),
        /** The public API domain: it must resolve in DNS, and the TLS Secret's certificate must cover it. */
        domain: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'expected a DNS name like api.vlinders.example').optional(),
        /** The kubernetes.io/tls Secret of that domain, in the platform namespace. */
        tlsSecret: k8sName.default('vlinders-tls'),
        /** A certificate with fewer days left than this is a warning. */
        tlsWarnDays: z.number().int().min(0).max(365).default(21),
        /** The oldest Kubernetes minor version the platform supports. */
        minKubernetesVersion: z.string().regex(/^1\.\d+$/, 'expected a version like 1.28').default('1.28'),
        /** Any of these StorageClasses will do. */
        storageClasses: z.array(k8sName).min(1).default(['gp3', 'fast-ssd']),
        /** Secrets (in a Vlinders namespace) and the keys each must hold. */
        secrets: z
          .array(z.object({ namespace: namespaceRole.default('platform'), name: k8sName, keys: z.array(secretKey).min(1) }).strict())
          .default([{ namespace: 'platform', name: 'vlinders-secrets', keys: ['postgres-password', 'internal-secret', 'stripe-secret-key'] }]),
        /** The RS256 key pair the API signs its JWTs with: PEM keys in one Secret; they must pair. */
        jwt: z
          .object({ namespace: namespaceRole.default('platform'), secret: k8sName.default('vlinders-secrets'), privateKey: secretKey.default('jwt-private-key'), publicKey: secretKey.default('jwt-public-key') })
          .strict()
          .default({ namespace: 'platform', secret: 'vlinders-secrets', privateKey: 'jwt-private-key', publicKey: 'jwt-public-key' }),
        /** ConfigMaps that must exist. */
        configMaps: z
          .array(z.object({ namespace: namespaceRole.default('platform'), name: k8sName }).strict())
          .default([{ namespace: 'platform', name: 'vlinders-api-config' }, { namespace: 'inference', name: 'vlinders-config' }]),
        /** Redis, as host:port, answered with a RESP PING from the bot's pod. */
        redis: z.string().regex(/^[a-z0-9.-]+:\d{1,5}$/, 'expected host:port like redis.vlinders-platform.svc:6379').default('redis.vlinders-platform.svc:6379'),
        /** Qdrant's HTTP API, and the collection that must exist there. */
        qdrantUrl: z.url().default('http://qdrant.vlinders-platform.svc:6333'),
        qdrantCollection: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'expected a collection name').default('vlinders'),
        /** Workloads (Deployment or StatefulSet) by name: the databases, the gateway and monitoring. */
        workloads: z
          .object({
            postgres: k8sName.default('postgres'),
            redis: k8sName.default('redis'),
            kong: k8sName.default('kong-gateway'),
            prometheus: k8sName.default('prometheus'),
            grafana: k8sName.default('grafana'),
            loki: k8sName.default('loki'),
          })
          .strict()
          .default({ postgres: 'postgres', redis: 'redis', kong: 'kong-gateway', prometheus: 'prometheus', grafana: 'grafana', loki: 'loki' }),
        /** Tables that exist once the schema is initialised (verify --phase 2); reached as backup.transport says. */
        schemaTables: z.array(z.string().regex(/^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/, 'expected a table name like users or public.users')).min(1).default(['users']),
        /** Kong's LoadBalancer Service (platform namespace), which must have an address after phase 4. */
        kongService: k8sName.default('kong-gateway-proxy'),
        /** The GPU Operator's and the CNI's pods, found across namespaces by these label selectors. */
        gpuOperatorSelector: z.string().min(1).default('app=gpu-operator'),
        cniSelector: z.string().min(1).default('k8s-app in (calico-node, cilium)'),
        /** The platform API's account endpoints verify uses (the OpenAI-style /v1/models and /v1/chat/completions are fixed). */
        apiPaths: z
          .object({
            register: z.string().regex(/^\/[\w/.-]*$/, 'expected a path like /api/v1/auth/register').default('/api/v1/auth/register'),
            login: z.string().regex(/^\/[\w/.-]*$/, 'expected a path like /api/v1/auth/login').default('/api/v1/auth/login'),
            /** DELETE with the user's own token removes the account. */
            deleteUser: z.string().regex(/^\/[\w/.-]*$/, 'expected a path like /api/v1/users/me').default('/api/v1/users/me'),
          })
          .strict()
          .prefault({}),
        /** verify's throwaway users are named <prefix><random>@<domain or example.invalid>. */
        verifyUserPrefix: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,30}$/, 'expected a short lower-case prefix').default('vlinders-ops-verify-'),
        /** Each check and each HTTP call gives up after this long. */
        timeoutSeconds: z.number().positive().max(300).default(10),
      })
      .strict()
      .prefault({}),
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
  /** How many replicas serve Slack (the chart's replicaCount): each keeps to its share of Slack's limits. */
  VLINDERS_OPS_REPLICAS: z.coerce.number().int().min(1).max(100).default(1),
});

export type Env = z.output<typeof envSchema>;

/** The Vlinders namespaces, each once (two roles may share one namespace). */
export function vlindersNamespaces(n: { platform: string; inference: string; monitoring: string }): string[] {
  return [...new Set([n.platform, n.inference, n.monitoring])];
}
