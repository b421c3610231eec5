# cmdb-hook as an image: /opt/cmdb-hook (the single executable, lib/ with its shared libraries and loader, hooks/).
# Use it as a COPY --from source in base images, or as the init container that runs `cmdb-hook install`.
#
#   docker build -t cmdb-hook:0.1.0 .                               # builds dist/ in the build stage
#   buildah bud --build-arg DIST=local -t cmdb-hook:0.1.0 .         # takes an already built dist/ (no registry)
#
# DIST picks where /opt/cmdb-hook comes from; builders skip the stage that is not used.
ARG DIST=build
# The commit being built, for `version --json` and the revision label (the build context leaves .git out):
#   --build-arg COMMIT=$(git rev-parse --short=12 HEAD)
ARG COMMIT=unknown

FROM node:26-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends binutils patchelf libatomic1 && rm -rf /var/lib/apt/lists/*
ARG COMMIT
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
COPY hooks ./hooks
RUN CMDB_HOOK_COMMIT=$COMMIT npm run build && mkdir -p /out && cp -a dist/cmdb-hook /out/cmdb-hook

FROM scratch AS dist-build
COPY --from=build /out/cmdb-hook /opt/cmdb-hook

FROM scratch AS dist-local
COPY dist/cmdb-hook /opt/cmdb-hook

FROM dist-${DIST}
ARG COMMIT
LABEL org.opencontainers.image.title="cmdb-hook" \
      org.opencontainers.image.description="Registers a pod in the CMDB from its postStart hook once the app is ready; removes it in preStop." \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="${COMMIT}"
# No shell and no other files: the executable carries its own loader and libraries under /opt/cmdb-hook/lib.
USER 65532:65532
ENTRYPOINT ["/opt/cmdb-hook/cmdb-hook"]
CMD ["--version"]
