# floe's image: one image, two commands — the worker (`tsx src/worker.ts [--jobs ...]`) and the API
# (`tsx src/api/server.ts --host 0.0.0.0`); also the Snowflake emulator for a trial without an account.
# docker-compose.yml runs them as separate services. TypeScript runs through tsx (installed globally in
# the runtime stage; floe ships no compiled build).

# --- DuckDB extensions (ducklake, postgres_scanner, tpch): scripts/bootstrap.mjs installs the pinned
# wheels into a Python venv, copies the extension files to .floe/extensions and checks that the DuckDB
# inside @duckdb/node-api loads them. DATABASE_URL set: it installs no PostgreSQL.
FROM node:20-bookworm AS extensions
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3-venv && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts/bootstrap.mjs scripts/
COPY src/infra/paths.ts src/infra/
RUN DATABASE_URL=postgres://unused@localhost/unused node scripts/bootstrap.mjs

# --- production dependencies only (no TypeScript, eslint, vitest). The lock file records Linux builds
# only, which `npm ci` may refuse; then the same locked versions are installed without saving.
FROM node:20-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund || npm install --omit=dev --no-save --no-audit --no-fund

# --- runtime: non-root user `floe`, state under /var/lib/floe (named volumes in docker-compose.yml).
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    FLOE_STATE_DIR=/var/lib/floe
RUN npm install -g --no-audit --no-fund tsx@4.23.15 \
 && groupadd --system floe \
 && useradd --system --gid floe --home-dir /app --no-create-home --shell /usr/sbin/nologin floe \
 && mkdir -p /var/lib/floe/duckdb /var/lib/floe/ducklake /var/lib/floe/emulator \
 && chown -R floe:floe /var/lib/floe
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=extensions /app/.floe/extensions ./.floe/extensions
COPY package.json tsconfig.json ./
COPY migrations ./migrations
COPY src ./src
COPY emulator/src ./emulator/src
USER floe
CMD ["tsx", "src/worker.ts"]
