# syntax=docker/dockerfile:1
# Portcullis container image: build stage compiles TypeScript and native modules,
# the runtime stage holds only production dependencies and runs as the unprivileged
# "node" user. Works with a read-only root filesystem: writable state is the data
# directory (/var/lib/portcullis, a volume) and /tmp (tmpfs).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Toolchain for native modules (argon2, better-sqlite3; kerberos is optional and needs libkrb5-dev).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ libkrb5-dev \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own "prepare" (build) needs the sources copied below;
# rebuild then runs the dependencies' install scripts (native modules).
RUN npm ci --ignore-scripts && npm rebuild
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
# libkrb5-3/libgssapi-krb5-2: runtime of the optional Kerberos module (Windows sign-in).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libkrb5-3 libgssapi-krb5-2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORTCULLIS_CONFIG_DIR=/etc/portcullis \
    PORTCULLIS_DATA_DIR=/var/lib/portcullis
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Read at run time from the package root: login page assets and password blocklists.
COPY --from=build /app/src/web/static ./src/web/static
COPY --from=build /app/src/policy/*.txt ./src/policy/
RUN mkdir -p /etc/portcullis /var/lib/portcullis \
 && chown node:node /var/lib/portcullis \
 && chmod 700 /var/lib/portcullis
USER node
# 8443: HTTPS (CAS, login pages, REST, admin API); 9464: health and metrics when PORTCULLIS_OPS_PORT=9464.
EXPOSE 8443 9464
VOLUME ["/var/lib/portcullis"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["start"]
