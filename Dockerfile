# One image with every Lantern binary; a deployment picks the service with
# the container's command (intake, router, delivery, ledger, escalation,
# workspace, gateway, lantern).
#
#   docker build -t lantern:dev .
#
# Stage 1 builds the production binaries (no development identity
# provider) with the module cache and build cache kept between builds.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download
COPY . .
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    set -e; mkdir -p /out; \
    for s in intake router delivery ledger escalation workspace gateway lantern; do \
      go build -ldflags='-s -w' -o /out/$s ./services/$s/cmd/$s; \
    done; \
    mkdir -p /state/lantern /state/nats-auth

# Stage 2 is the runtime: no shell, no package manager, an unprivileged
# user; the reference data and default policy sit beside the binaries and
# are replaced by mounting over them.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
# Folders a named volume mounted over them starts from, owned by the
# unprivileged user: the ledger's key and checkpoints, NATS credentials.
COPY --from=build --chown=65532:65532 /state/lantern /var/lib/lantern
COPY --from=build --chown=65532:65532 /state/nats-auth /etc/lantern/nats-auth
COPY reference /etc/lantern/reference
COPY policy /etc/lantern/policy
ENV LANTERN_REFERENCE_DIR=/etc/lantern/reference \
    LANTERN_POLICY_FILE=/etc/lantern/policy/default.yaml \
    LOG_MODE=production
USER nonroot:nonroot
ENTRYPOINT []
