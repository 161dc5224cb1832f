# syntax=docker/dockerfile:1
# cxmesh-server, the one executable: every service, chosen at run time with --services.
#
# Base images are pinned by digest (the tag is a moving target; an image whose base moved is not the image that was
# tested). Dependabot (.github/dependabot.yml) proposes new digests; to check one by hand:
#   docker buildx imagetools inspect mcr.microsoft.com/dotnet/aspnet:10.0 --format '{{json .Manifest.Digest}}'
# The runtime is the full Debian ASP.NET image, not chiseled: CxMesh needs ICU (Unicode normalisation of Chinese text).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0@sha256:e1ffd2a92ae84c1291bc1b6887501f8af98e6331e7af6d4c8d37168c5e87a64c
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0@sha256:a4556ed033fa96f984bb7a8d348851cb2d36b1281dd2420070045f664fbb5f94

FROM ${SDK_IMAGE} AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Restore first, from the project graph of cxmesh-server only (no tests, no CLI): cached until a project file changes.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY services/CxMesh.Contracts/CxMesh.Contracts.csproj services/CxMesh.Contracts/
COPY services/CxMesh.Platform/CxMesh.Platform.csproj services/CxMesh.Platform/
COPY services/CxMesh.Journey/CxMesh.Journey.csproj services/CxMesh.Journey/
COPY services/CxMesh.Feedback/CxMesh.Feedback.csproj services/CxMesh.Feedback/
COPY services/CxMesh.Scoring/CxMesh.Scoring.csproj services/CxMesh.Scoring/
COPY services/CxMesh.Partner/CxMesh.Partner.csproj services/CxMesh.Partner/
COPY services/CxMesh.Governance/CxMesh.Governance.csproj services/CxMesh.Governance/
COPY services/CxMesh.Notifications/CxMesh.Notifications.csproj services/CxMesh.Notifications/
COPY services/CxMesh.Web/CxMesh.Web.csproj services/CxMesh.Web/
COPY services/CxMesh.Host/CxMesh.Host.csproj services/CxMesh.Host/
RUN dotnet restore services/CxMesh.Host/CxMesh.Host.csproj

COPY protos/ protos/
COPY services/ services/
RUN dotnet publish services/CxMesh.Host/CxMesh.Host.csproj -c Release --no-restore -o /app -p:DebugType=none -p:UseAppHost=false

FROM ${RUNTIME_IMAGE} AS runtime
ARG REVISION=unknown
LABEL org.opencontainers.image.title="cxmesh-server" \
      org.opencontainers.image.revision="${REVISION}"
WORKDIR /app
COPY --from=build /app ./
# The image's unprivileged user (uid 1654); the chart also sets runAsNonRoot and a read-only root filesystem, with
# /tmp as an emptyDir.
USER $APP_UID
# Kestrel's ports come from CxMesh:GrpcPort / HttpPort, not ASPNETCORE_URLS or ASPNETCORE_HTTP_PORTS.
ENV ASPNETCORE_URLS= ASPNETCORE_HTTP_PORTS= CxMesh__BindAddress=0.0.0.0
EXPOSE 5080 5081
ENTRYPOINT ["dotnet", "/app/cxmesh-server.dll"]
CMD ["run", "--services", "all"]
