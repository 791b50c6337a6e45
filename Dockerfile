# The otelsentry reference service, as a small non-root image.
#   docker build -t otelsentry/app .        (docker compose builds it for you)
# Stage 1 compiles a static binary; stage 2 is distroless: no shell, no
# package manager, uid 65532.
FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so a code change does not re-download them.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app ./cmd/app

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
USER nonroot:nonroot
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["/app"]
