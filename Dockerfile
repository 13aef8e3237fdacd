# syntax=docker/dockerfile:1
# Gatehouse: one static binary on distroless (no shell, no package manager,
# runs as uid 65532). Build: docker build -t gatehouse .

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags "-s -w -X main.Version=${VERSION}" -o /out/gatehouse ./cmd/gatehouse \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gatehouse /gatehouse
# SQLite database and generated files live here when no PostgreSQL is set.
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /
ENV GATEHOUSE_ADDR=:8080 \
    GATEHOUSE_DATABASE_URL=sqlite:/data/gatehouse.db \
    GATEHOUSE_LOG_FORMAT=json
USER nonroot:nonroot
EXPOSE 8080
VOLUME ["/data"]
# distroless has no curl: the binary probes its own /readyz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/gatehouse", "healthcheck"]
ENTRYPOINT ["/gatehouse"]
CMD ["serve"]
