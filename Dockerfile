# The bundled proxy and control plane as one image (crossmesh compose builds it as crossmesh:local).
# `npm ci` runs the build (prepare): Envoy's proto descriptors (gen/) and dist/. Dev dependencies
# are needed for that build (buf, tsc) and pruned afterwards.
FROM node:20-slim
WORKDIR /opt/crossmesh
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --ignore-scripts
COPY . .
RUN node scripts/build.mjs && npm prune --omit=dev
ENV NODE_ENV=production
# Sidecars: `proxy -c /etc/crossmesh/bootstrap.json`; the control plane: `control-plane <mesh> ...`.
ENTRYPOINT ["node", "/opt/crossmesh/bin/crossmesh.js"]
