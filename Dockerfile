# syntax=docker/dockerfile:1
# Multi-stage build of the spate binary; the runtime image holds only the
# static binary.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/spate ./cmd/spate \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/spate /usr/local/bin/spate
# The data directory belongs to the nonroot user, so a fresh named volume
# mounted there is writable.
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME /data
EXPOSE 4567 4568
ENTRYPOINT ["/usr/local/bin/spate"]
# Inside the container, listen on every interface so the published ports work.
# Off loopback Spate refuses to start until told who may come in (see
# docs/security.md), and a published port may be reachable from anywhere, so
# this image does not choose for you. Either mount an AWS shared-credentials
# file and require signatures:
#   docker run -v $PWD/credentials:/etc/spate/credentials:ro -p 4567:4567 -p 4568:4568 spate:local \
#     serve --data-dir /data --http-addr 0.0.0.0:4567 --grpc-addr 0.0.0.0:4568 --credentials /etc/spate/credentials
# or say that the network in front of it is trusted, by appending --auth none
# (docker-compose.yml does, publishing the ports on the host's loopback only).
CMD ["serve", "--data-dir", "/data", "--http-addr", "0.0.0.0:4567", "--grpc-addr", "0.0.0.0:4568"]
