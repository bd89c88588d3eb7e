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
CMD ["serve", "--data-dir", "/data", "--http-addr", "0.0.0.0:4567", "--grpc-addr", "0.0.0.0:4568"]
