{{/*
Shared templates. Each service's file (journey.yaml, feedback.yaml, ...) is one line that includes "cxmesh.service"
with its name: Deployment, Services, probes, autoscaling, disruption budget, network policy and migration Job are
written once, here.
*/}}

{{- define "cxmesh.name" -}}
{{- default "cxmesh" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cxmesh.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "cxmesh.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "cxmesh.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The services, in start-up order (the web module, which owns no data, is deployed by web.yaml). */}}
{{- define "cxmesh.serviceNames" -}}
journey feedback scoring partner governance notifications
{{- end -}}

{{/* Dapr app id of a service: fixed, because the pub/sub component's scopes name them (files/dapr). */}}
{{- define "cxmesh.appId" -}}
cxmesh-{{ . }}
{{- end -}}

{{- define "cxmesh.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: cxmesh
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* dict "root" $ "name" "<service>" */}}
{{- define "cxmesh.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cxmesh.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* Labels of a service's pods: the selector labels plus the common ones. dict "root" $ "name" "<service>" */}}
{{- define "cxmesh.podLabels" -}}
{{ include "cxmesh.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: cxmesh
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{- end -}}

{{- define "cxmesh.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/*
Secrets are referenced by name, never held in values. When installing into a cluster (lookup sees the namespace),
each referenced Secret must exist with its keys, or the install fails here naming it - rather than pods that never
start. helm template and helm lint, which have no cluster, skip the check. dict "root" $ "name" "<secret>" "keys" (list ...) "value" "<values key>"
*/}}
{{- define "cxmesh.requireSecret" -}}
{{- $root := .root -}}
{{- if and (lookup "v1" "Namespace" "" $root.Release.Namespace) (not $root.Values.dev.enabled) -}}
{{- $secret := lookup "v1" "Secret" $root.Release.Namespace .name -}}
{{- if not $secret -}}
{{- fail (printf "Secret %q (%s) is required in namespace %s, with the keys: %s. See charts/cxmesh/README.md#secrets." .name .value $root.Release.Namespace (join ", " .keys)) -}}
{{- end -}}
{{- range .keys -}}
{{- if not (hasKey ($secret.data | default dict) .) -}}
{{- fail (printf "Secret %q (%s) has no key %q. See charts/cxmesh/README.md#secrets." $.name $.value .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Checks every Secret the chart references (once, from dapr.yaml). */}}
{{- define "cxmesh.checkSecrets" -}}
{{- $services := list -}}
{{- range $name := splitList " " (include "cxmesh.serviceNames" .) -}}
{{- if (index $.Values.services $name).enabled }}{{ $services = append $services $name }}{{ end -}}
{{- end -}}
{{- if not .Values.postgres.cloudnativepg.enabled -}}
{{- include "cxmesh.requireSecret" (dict "root" . "name" (required "postgres.existingSecret is required: the Secret with each service's Npgsql connection string." .Values.postgres.existingSecret) "keys" $services "value" "postgres.existingSecret") -}}
{{- end -}}
{{- if not .Values.auth.authority -}}
{{- include "cxmesh.requireSecret" (dict "root" . "name" (required "auth.signingKeySecret is required when auth.authority is empty." .Values.auth.signingKeySecret) "keys" (list "signing-key") "value" "auth.signingKeySecret") -}}
{{- end -}}
{{- include "cxmesh.requireSecret" (dict "root" . "name" .Values.dapr.appTokenSecret "keys" (list "token") "value" "dapr.appTokenSecret") -}}
{{- include "cxmesh.requireSecret" (dict "root" . "name" (required "pii.existingSecret is required: the Secret with the contact-detail encryption keys." .Values.pii.existingSecret) "keys" (required "pii.keyIds is required: the key ids held in pii.existingSecret." .Values.pii.keyIds) "value" "pii.existingSecret") -}}
{{- if and .Values.redis.passwordSecret .Values.redis.address -}}
{{- include "cxmesh.requireSecret" (dict "root" . "name" .Values.redis.passwordSecret "keys" (list "password") "value" "redis.passwordSecret") -}}
{{- else if not (or .Values.redis.embedded.enabled .Values.redis.address) -}}
{{- include "cxmesh.requireSecret" (dict "root" . "name" "cxmesh-redis" "keys" (list "address" "password") "value" "Redis: set redis.address or create it") -}}
{{- end -}}
{{- if eq .Values.dapr.pubsub.type "kafka" -}}
{{- include "cxmesh.requireSecret" (dict "root" . "name" "cxmesh-kafka" "keys" (list "brokers" "authType" "username" "password") "value" "Kafka pub/sub") -}}
{{- end -}}
{{- include "cxmesh.requireSecret" (dict "root" . "name" (required "webhookKeys.existingSecret is required: the Secret with the keys that seal partner webhook secrets." .Values.webhookKeys.existingSecret) "keys" (required "webhookKeys.keyIds is required." .Values.webhookKeys.keyIds) "value" "webhookKeys.existingSecret") -}}
{{- if not (has .Values.webhookKeys.activeKeyId .Values.webhookKeys.keyIds) -}}
{{- fail (printf "webhookKeys.activeKeyId %q must be one of webhookKeys.keyIds (%s)." .Values.webhookKeys.activeKeyId (join ", " .Values.webhookKeys.keyIds)) -}}
{{- end -}}
{{- if not (has .Values.pii.activeKeyId .Values.pii.keyIds) -}}
{{- fail (printf "pii.activeKeyId %q must be one of pii.keyIds (%s)." .Values.pii.activeKeyId (join ", " .Values.pii.keyIds)) -}}
{{- end -}}
{{- end -}}

{{/* Environment of a service's container and of its migration Job. dict "root" $ "name" "<service>" */}}
{{- define "cxmesh.env" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $svc := index $root.Values.services $name -}}
- name: CxMesh__Services
  value: {{ $name | quote }}
- name: CxMesh__GrpcPort
  value: {{ $root.Values.global.grpcPort | quote }}
- name: CxMesh__HttpPort
  value: {{ $root.Values.global.httpPort | quote }}
{{- if eq $name "web" }}
{{- /* The web module publishes and consumes no event: no sidecar, no database. */}}
- name: CxMesh__Delivery
  value: InProcess
{{- with $root.Values.services.web.oidc }}
{{- if .authority }}
- name: Web__OidcAuthority
  value: {{ .authority | quote }}
- name: Web__OidcClientId
  value: {{ .clientId | quote }}
{{- if .clientSecretSecret }}
- name: Web__OidcClientSecret
  valueFrom:
    secretKeyRef:
      name: {{ .clientSecretSecret }}
      key: client-secret
{{- end }}
{{- range $i, $scope := .scopes }}
- name: Web__OidcScopes__{{ $i }}
  value: {{ $scope | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- else }}
- name: CxMesh__Delivery
  value: Dapr
- name: CxMesh__MigrateOnStart
  value: "false"
- name: CxMesh__PubSubName
  value: pubsub
{{- /* The sidecar sends this token with every call; event routes refuse calls without it. */}}
- name: CxMesh__AppApiToken
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.dapr.appTokenSecret }}
      key: token
{{- end }}
- name: Logging__LogLevel__CxMesh
  value: {{ $root.Values.global.logLevel | quote }}
{{- if eq $name "web" }}
{{- else if $root.Values.postgres.cloudnativepg.enabled }}
{{- /* CloudNativePG's app secret holds the parts; Npgsql wants a key=value connection string. */}}
{{- range $part := list "host" "port" "username" "password" "dbname" }}
- name: {{ printf "CXMESH_PG_%s" ($part | upper) }}
  valueFrom:
    secretKeyRef:
      name: {{ include "cxmesh.fullname" $root }}-{{ $name }}-pg-app
      key: {{ $part }}
{{- end }}
- name: ConnectionStrings__{{ $name }}
  value: "Host=$(CXMESH_PG_HOST);Port=$(CXMESH_PG_PORT);Username=$(CXMESH_PG_USERNAME);Password=$(CXMESH_PG_PASSWORD);Database=$(CXMESH_PG_DBNAME)"
{{- else }}
- name: ConnectionStrings__{{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.postgres.existingSecret }}
      key: {{ $name }}
{{- end }}
{{- /* Redis: Secret cxmesh-redis (address, password), the same the Dapr pub/sub component reads. */}}
- name: CXMESH_REDIS_ADDRESS
  valueFrom:
    secretKeyRef: { name: cxmesh-redis, key: address }
- name: CXMESH_REDIS_PASSWORD
  valueFrom:
    secretKeyRef: { name: cxmesh-redis, key: password }
- name: ConnectionStrings__redis
  value: "$(CXMESH_REDIS_ADDRESS),password=$(CXMESH_REDIS_PASSWORD),abortConnect=false"
- name: Redis__KeyPrefix
  value: {{ printf "cxmesh-%s" $root.Release.Name | quote }}
- name: Auth__Audience
  value: {{ $root.Values.auth.audience | quote }}
{{- if $root.Values.auth.authority }}
- name: Auth__Authority
  value: {{ $root.Values.auth.authority | quote }}
- name: Auth__ServiceTokenFile
  value: /var/run/secrets/cxmesh/token
{{- else }}
- name: Auth__SigningKey
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.auth.signingKeySecret }}
      key: signing-key
{{- end }}
{{- if eq $name "feedback" }}
- name: Feedback__ActiveContactKey
  value: {{ $root.Values.pii.activeKeyId | quote }}
{{- range $root.Values.pii.keyIds }}
- name: Feedback__ContactKeys__{{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.pii.existingSecret }}
      key: {{ . }}
{{- end }}
{{- with $root.Values.pii.pseudonymKey }}
- name: Feedback__PseudonymKey
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.pii.existingSecret }}
      key: {{ . }}
{{- end }}
{{- range $source, $connector := $root.Values.connectors.sources }}
- name: Feedback__Sources__{{ $source }}__Mapping
  value: {{ $connector.mapping | quote }}
{{- with $connector.secretKey }}
- name: Feedback__Sources__{{ $source }}__Secret
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.connectors.existingSecret }}
      key: {{ . }}
{{- end }}
{{- with $connector.tokenKey }}
- name: Feedback__Sources__{{ $source }}__Token
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.connectors.existingSecret }}
      key: {{ . }}
{{- end }}
{{- end }}
{{- end }}
{{- if eq $name "partner" }}
- name: Partner__ActiveSecretKey
  value: {{ $root.Values.webhookKeys.activeKeyId | quote }}
{{- range $root.Values.webhookKeys.keyIds }}
- name: Partner__SecretKeys__{{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $root.Values.webhookKeys.existingSecret }}
      key: {{ . }}
{{- end }}
{{- end }}
{{- if eq $name "notifications" }}
{{- with $root.Values.services.notifications }}
- name: Notifications__ConsoleUrl
  value: {{ .consoleUrl | quote }}
{{- if .smtp.host }}
- name: Notifications__Smtp__Host
  value: {{ .smtp.host | quote }}
- name: Notifications__Smtp__Port
  value: {{ .smtp.port | quote }}
- name: Notifications__Smtp__Security
  value: {{ .smtp.security | quote }}
- name: Notifications__Smtp__From
  value: {{ .smtp.from | quote }}
{{- if .smtp.existingSecret }}
- name: Notifications__Smtp__Username
  valueFrom:
    secretKeyRef:
      name: {{ .smtp.existingSecret }}
      key: username
- name: Notifications__Smtp__Password
  valueFrom:
    secretKeyRef:
      name: {{ .smtp.existingSecret }}
      key: password
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- /* The services each one reads over gRPC: governance reads scores, feedback and journeys; journey reads ownership;
the console calls all five. */}}
{{- $reads := dict "governance" (list "scoring" "feedback" "journey") "journey" (list "governance") "web" (splitList " " (include "cxmesh.serviceNames" $root)) }}
{{- range (index $reads $name | default (list)) }}
- name: CxMesh__Endpoints__{{ . }}
  value: {{ printf "dns:///%s-%s-headless.%s.svc.cluster.local:%v" (include "cxmesh.fullname" $root) . $root.Release.Namespace $root.Values.global.grpcPort | quote }}
{{- end }}
- name: Telemetry__Prometheus
  value: {{ $root.Values.metrics.enabled | quote }}
- name: Telemetry__LogFormat
  value: {{ $root.Values.telemetry.logFormat | quote }}
{{- if $root.Values.telemetry.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $root.Values.telemetry.otlpEndpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "cxmesh-%s" $name | quote }}
{{- end }}
{{- with $root.Values.global.env }}
{{ toYaml . }}
{{- end }}
{{- with $svc.env }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "cxmesh.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1654
runAsGroup: 1654
fsGroup: 1654
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "cxmesh.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}

{{/* Everything one service needs. dict "root" $ "name" "<service>" */}}
{{- define "cxmesh.service" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $svc := index $root.Values.services $name -}}
{{- $full := printf "%s-%s" (include "cxmesh.fullname" $root) $name -}}
{{- if $svc.enabled }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $full }}
  labels:
    {{- include "cxmesh.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $full }}
  labels:
    {{- include "cxmesh.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
spec:
  {{- if not $svc.autoscaling.enabled }}
  replicas: {{ $svc.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "cxmesh.selectorLabels" (dict "root" $root "name" $name) | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels:
        {{- include "cxmesh.podLabels" (dict "root" $root "name" $name) | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        {{- if ne $name "web" }}
        dapr.io/enabled: "true"
        dapr.io/app-id: {{ include "cxmesh.appId" $name | quote }}
        dapr.io/app-port: {{ $root.Values.global.httpPort | quote }}
        dapr.io/app-protocol: "http"
        dapr.io/app-token-secret: {{ $root.Values.dapr.appTokenSecret | quote }}
        dapr.io/config: {{ printf "%s-dapr" (include "cxmesh.fullname" $root) | quote }}
        dapr.io/log-level: {{ $root.Values.dapr.logLevel | quote }}
        dapr.io/log-as-json: {{ $root.Values.dapr.logAsJson | quote }}
        dapr.io/enable-app-health-check: "true"
        dapr.io/app-health-check-path: "/healthz/ready"
        dapr.io/app-health-probe-interval: "10"
        dapr.io/app-health-threshold: "3"
        dapr.io/sidecar-cpu-request: {{ $root.Values.dapr.sidecarCpuRequest | quote }}
        dapr.io/sidecar-memory-request: {{ $root.Values.dapr.sidecarMemoryRequest | quote }}
        dapr.io/sidecar-memory-limit: {{ $root.Values.dapr.sidecarMemoryLimit | quote }}
        dapr.io/enable-metrics: "true"
        {{- end }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ $full }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with $root.Values.image.pullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- include "cxmesh.podSecurityContext" $root | nindent 8 }}
      terminationGracePeriodSeconds: 30
      containers:
        - name: cxmesh-server
          image: {{ include "cxmesh.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: ["run", "--services", {{ $name | quote }}]
          ports:
            - name: grpc
              containerPort: {{ $root.Values.global.grpcPort }}
              protocol: TCP
            - name: http
              containerPort: {{ $root.Values.global.httpPort }}
              protocol: TCP
          env:
            {{- include "cxmesh.env" (dict "root" $root "name" $name) | nindent 12 }}
          # Started and alive check nothing external (a Redis or Postgres outage must not restart pods); ready checks
          # Postgres (and reports Redis as degraded), as the platform's /healthz/ready defines.
          startupProbe:
            httpGet: { path: /healthz/live, port: http }
            periodSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet: { path: /healthz/live, port: http }
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet: { path: /healthz/ready, port: http }
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 3
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- include "cxmesh.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
            {{- if $root.Values.auth.authority }}
            - { name: service-token, mountPath: /var/run/secrets/cxmesh, readOnly: true }
            {{- end }}
      volumes:
        - name: tmp
          emptyDir: { sizeLimit: 256Mi }
        {{- if $root.Values.auth.authority }}
        - name: service-token
          projected:
            sources:
              - serviceAccountToken:
                  path: token
                  audience: {{ $root.Values.auth.serviceTokenAudience | quote }}
                  expirationSeconds: 3600
        {{- end }}
      {{- if $root.Values.topologySpread }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "cxmesh.selectorLabels" (dict "root" $root "name" $name) | nindent 14 }}
      {{- end }}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $full }}
  labels:
    {{- include "cxmesh.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
spec:
  type: ClusterIP
  selector:
    {{- include "cxmesh.selectorLabels" (dict "root" $root "name" $name) | nindent 4 }}
  ports:
    - { name: grpc, port: {{ $root.Values.global.grpcPort }}, targetPort: grpc, protocol: TCP, appProtocol: kubernetes.io/h2c }
    - { name: http, port: {{ $root.Values.global.httpPort }}, targetPort: http, protocol: TCP }
---
# Headless: its DNS name resolves to every ready pod, for client-side round-robin (dns:///<name>:<port>).
apiVersion: v1
kind: Service
metadata:
  name: {{ $full }}-headless
  labels:
    {{- include "cxmesh.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
spec:
  clusterIP: None
  selector:
    {{- include "cxmesh.selectorLabels" (dict "root" $root "name" $name) | nindent 4 }}
  ports:
    - { name: grpc, port: {{ $root.Values.global.grpcPort }}, targetPort: grpc, protocol: TCP, appProtocol: kubernetes.io/h2c }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $full }}
  labels:
    {{- include "cxmesh.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
spec:
  minAvailable: {{ $svc.pdbMinAvailable }}
  selector:
    matchLabels:
      {{- include "cxmesh.selectorLabels" (dict "root" $root "name" $name) | nindent 6 }}
{{- if $svc.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $full }}
  labels:
    {{- include "cxmesh.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $full }}
  minReplicas: {{ $svc.autoscaling.minReplicas }}
  maxReplicas: {{ $svc.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $svc.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- if $root.Values.networkPolicy.enabled }}
---
{{ include "cxmesh.networkPolicy" (dict "root" $root "name" $name) }}
{{- end }}
{{- if ne $name "web" }}
---
{{ include "cxmesh.migrationJob" (dict "root" $root "name" $name) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Ingress: the gRPC and HTTP (JSON) APIs from this namespace and client namespaces (Dapr's callbacks come from the
sidecar inside the pod); the sidecar's metrics and control-plane port from Dapr's namespace. Egress: DNS, Dapr's
control plane, Postgres, Redis, Kafka, OTLP, and what the service itself calls. */}}
{{- define "cxmesh.networkPolicy" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $np := $root.Values.networkPolicy -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "cxmesh.fullname" $root }}-{{ $name }}
  labels:
    {{- include "cxmesh.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}
spec:
  podSelector:
    matchLabels:
      {{- include "cxmesh.selectorLabels" (dict "root" $root "name" $name) | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    - ports:
        - { port: {{ $root.Values.global.grpcPort }}, protocol: TCP }
        - { port: {{ $root.Values.global.httpPort }}, protocol: TCP }
      from:
        - podSelector: {}
        {{- with $np.clientNamespaceSelector }}
        - namespaceSelector:
            {{- toYaml . | nindent 12 }}
        {{- end }}
    {{- with $np.metricsNamespaceSelector }}
    # Prometheus scraping /metrics.
    - ports:
        - { port: {{ $root.Values.global.httpPort }}, protocol: TCP }
      from:
        - namespaceSelector:
            {{- toYaml . | nindent 12 }}
    {{- end }}
    # Dapr's sidecar metrics (Prometheus) and the control plane reaching the sidecar.
    - ports:
        - { port: 9090, protocol: TCP }
        - { port: 50001, protocol: TCP }
      from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $np.daprNamespace }}
  egress:
    - ports:
        - { port: 53, protocol: UDP }
        - { port: 53, protocol: TCP }
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $np.daprNamespace }}
    - ports:
        - { port: 5432, protocol: TCP }
        - { port: 6379, protocol: TCP }
        - { port: 9092, protocol: TCP }
        - { port: 4317, protocol: TCP }
        - { port: 4318, protocol: TCP }
      {{- with $np.dataCidrs }}
      to:
        {{- range . }}
        - ipBlock: { cidr: {{ . | quote }} }
        {{- end }}
      {{- end }}
    {{- if eq $name "governance" }}
    # Governance reads scoring, feedback and journey over gRPC.
    - ports:
        - { port: {{ $root.Values.global.grpcPort }}, protocol: TCP }
      to:
        {{- range list "scoring" "feedback" "journey" }}
        - podSelector:
            matchLabels:
              {{- include "cxmesh.selectorLabels" (dict "root" $root "name" .) | nindent 14 }}
        {{- end }}
    {{- end }}
    {{- if eq $name "web" }}
    # The console calls every service over gRPC, and its OIDC provider over HTTPS.
    - ports:
        - { port: {{ $root.Values.global.grpcPort }}, protocol: TCP }
      to:
        {{- range splitList " " (include "cxmesh.serviceNames" $root) }}
        - podSelector:
            matchLabels:
              {{- include "cxmesh.selectorLabels" (dict "root" $root "name" .) | nindent 14 }}
        {{- end }}
    - ports:
        - { port: 443, protocol: TCP }
    {{- end }}
    {{- if eq $name "notifications" }}
    # Chat tools' incoming webhooks (HTTPS) and the SMTP relay.
    - ports:
        - { port: 443, protocol: TCP }
      to:
        {{- range $root.Values.services.notifications.webhookEgressCidrs }}
        - ipBlock: { cidr: {{ . | quote }} }
        {{- end }}
    {{- if $root.Values.services.notifications.smtp.host }}
    - ports:
        - { port: {{ $root.Values.services.notifications.smtp.port }}, protocol: TCP }
      to:
        {{- range $root.Values.services.notifications.smtp.egressCidrs }}
        - ipBlock: { cidr: {{ . | quote }} }
        {{- end }}
    {{- end }}
    {{- end }}
    {{- if eq $name "partner" }}
    # Partner webhooks: HTTPS to the partners' endpoints.
    - ports:
        - { port: 443, protocol: TCP }
      to:
        {{- range $root.Values.services.partner.webhookEgressCidrs }}
        - ipBlock: { cidr: {{ . | quote }} }
        {{- end }}
    {{- end }}
{{- end -}}

{{/* The service's schema migrations, before install and upgrade, not at pod start. */}}
{{- define "cxmesh.migrationJob" -}}
{{- $root := .root -}}
{{- $name := .name -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "cxmesh.fullname" $root }}-{{ $name }}-migrate
  labels:
    {{- include "cxmesh.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $name }}-migrate
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ $root.Values.migrations.backoffLimit }}
  activeDeadlineSeconds: {{ $root.Values.migrations.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: 3600
  template:
    metadata:
      labels:
        {{- include "cxmesh.labels" $root | nindent 8 }}
        app.kubernetes.io/component: {{ $name }}-migrate
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with $root.Values.image.pullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- include "cxmesh.podSecurityContext" $root | nindent 8 }}
      containers:
        - name: migrate
          image: {{ include "cxmesh.image" $root | quote }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: ["migrate", "--services", {{ $name | quote }}]
          env:
            {{- include "cxmesh.env" (dict "root" $root "name" $name) | nindent 12 }}
          resources:
            {{- toYaml $root.Values.migrations.resources | nindent 12 }}
          securityContext:
            {{- include "cxmesh.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
      volumes:
        - name: tmp
          emptyDir: { sizeLimit: 64Mi }
{{- end -}}

{{/* A value copied from another Secret at install time (lookup; empty with helm template). dict root secret key */}}
{{- define "cxmesh.copiedSecretValue" -}}
{{- if .secret -}}
{{- $found := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if and $found (hasKey $found.data .key) -}}
{{- index $found.data .key | b64dec -}}
{{- end -}}
{{- end -}}
{{- end -}}
