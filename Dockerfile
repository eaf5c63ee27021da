# Portico: an OpenAI-compatible LLM gateway. The image is built from the npm package, as
# `npm pack` makes it (the sources built into JavaScript in dist/, the bin, the web console's ui/,
# the example config),
# plus its production dependencies at the versions package-lock.json pins.
#
#   docker build -t portico .
#   docker run --rm -p 4000:4000 portico                        # config.example.yaml, SQLite in /data
#   docker run --rm -p 4000:4000 -v $PWD/config.yaml:/etc/portico/config.yaml \
#     -e DATABASE_URL=postgres://... -e REDIS_URL=redis://... portico --config /etc/portico/config.yaml
#
# Several instances: see docker-compose.yml and the README ("Running several instances").

# The package. Its build (prepack: `npm run build`, tsc with tsconfig.build.json) only strips the
# types (`npm run typecheck` checks them, in CI), so TypeScript alone is installed for it, at the
# version package-lock.json pins (test/scale-out/docker-files.test.ts keeps the two equal), one
# directory up: npm puts every node_modules/.bin above the package on a script's PATH.
FROM node:24-slim AS package
WORKDIR /build/portico
COPY package.json tsconfig.json tsconfig.build.json config.example.yaml README.md SECURITY.md ./
COPY bin ./bin
COPY src ./src
COPY ui ./ui
RUN npm install --prefix /build --no-audit --no-fund typescript@7.0.2 \
 && npm pack \
 && mkdir -p /package \
 && tar -xzf portico-*.tgz --strip-components=1 -C /package

FROM node:24-slim AS dependencies
WORKDIR /app
# The package's package.json with the repository's lock file (npm leaves lock files out of packages).
COPY --from=package /package/package.json ./
COPY package-lock.json ./
# Production dependencies only. The `node` devDependency (it pins Node 24 for `npm start` on
# machines whose own Node is older) is left out on purpose: this image's Node 24 runs Portico.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=65536 \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATABASE_URL=file:/data/portico.db
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=package /package/ ./
# Node's compile cache, warmed at build time (`--help` imports every module Portico starts with):
# a container then starts without compiling the JavaScript again.
ENV NODE_COMPILE_CACHE=/app/.compile-cache
RUN node bin/portico.js --help && chown -R node:node /app/.compile-cache
# /data holds the SQLite file and the file blob directory of a single instance. Several instances
# keep file bytes in PostgreSQL instead (portico_settings.files.blob_store: database), or mount
# one shared volume at /data/files (storage_dir). /app/data points there too, so a config's
# relative `./data/files` (config.example.yaml) lands in the volume.
RUN mkdir -p /data/files && chown -R node:node /data && ln -s /data /app/data
# The node image's unprivileged user.
USER node
VOLUME ["/data"]
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/readiness').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: Portico stops accepting, drains in-flight requests
# and streams (PORTICO_SHUTDOWN_GRACE_MS, default 25 s), gives its batch leases back, exits 0.
# --max-semi-space-size=4: a small young generation keeps RSS low while large files stream
# through, --no-maglev a cheaper request path (see bin/portico.js); `npm start` passes the same flags.
ENTRYPOINT ["node", "--max-semi-space-size=4", "--no-maglev", "bin/portico.js"]
CMD ["--config", "config.example.yaml"]
