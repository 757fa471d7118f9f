# syntax=docker/dockerfile:1
# vlinders-ops image. The first stage compiles the TypeScript to dist/ (`npm run build`): node
# runs plain JavaScript, which starts faster and holds ~90 MB less than tsx loading client-node.
# The second installs only the production dependencies.
#
#   docker build -t vlinders-ops .
#   docker build --build-arg PG_MAJOR=16 -t vlinders-ops .   # pg_dump/psql matching the server

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY commands ./commands
COPY src ./src
# The sandbox and the local console are development code: compiled with the rest (the CLI's
# --sandbox and the console reach them only by dynamic import), then left out of the image.
RUN npm run build && rm -rf dist/src/sandbox dist/src/console

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# .npmrc carries legacy-peer-deps, which the lock file was made with.
COPY package.json package-lock.json .npmrc ./
# Same tree as `npm ci && npm prune --omit=dev`, without downloading the dev dependencies
# (the helm/kubectl layer, test tools) only to delete them.
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE}
# psql and pg_dump for the `direct` backup transport; isal's igzip compresses backups about 5×
# faster than zlib (config backup.gzip). pg_dump refuses a server newer than
# itself: PG_MAJOR picks that major from the PostgreSQL project's apt repository (its key
# ships in Debian's postgresql-common); empty takes Debian's postgresql-client.
ARG PG_MAJOR=""
RUN set -eux; \
    apt-get update; \
    if [ -n "$PG_MAJOR" ]; then \
      apt-get install -y --no-install-recommends ca-certificates isal postgresql-common; \
      /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y; \
      apt-get install -y --no-install-recommends "postgresql-client-$PG_MAJOR"; \
    else \
      apt-get install -y --no-install-recommends ca-certificates isal postgresql-client; \
    fi; \
    rm -rf /var/lib/apt/lists/*

# A fixed numeric user (the chart's runAsUser), with a passwd entry (os.userInfo() needs one).
RUN groupadd --system --gid 10001 vlinders \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin vlinders

WORKDIR /app
ENV NODE_ENV=production \
    VLINDERS_OPS_CONFIG=/etc/vlinders-ops/vlinders-ops.yaml
# Owned by root and read-only to the bot: it can't change its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json package-lock.json ./

USER 10001:10001
# 8080: /healthz, /readyz, /metrics, /alertmanager. 3000: Slack HTTP mode (/slack/events).
EXPOSE 8080 3000
# The chart sets NODE_OPTIONS (--max-old-space-size from the container's memory limit, 2 MB semi-spaces).
CMD ["node", "dist/src/main.js", "serve"]
