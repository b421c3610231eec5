# The image arrives with issue 4 (a FROM scratch stage holding /opt/cmdb-hook). Until then this builds the bundle
# for images that already carry Node 26.
FROM node:26-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build
