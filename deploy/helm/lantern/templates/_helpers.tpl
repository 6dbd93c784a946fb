{{/* Names and labels shared by every manifest. */}}
{{- define "lantern.fullname" -}}
{{- printf "%s-lantern" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "lantern.labels" -}}
app.kubernetes.io/name: lantern
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "lantern.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The address a service's HTTP listener is reached at inside the cluster. */}}
{{- define "lantern.upstream" -}}
http://{{ include "lantern.fullname" .root }}-{{ .name }}:{{ (index .root.Values.services .name).httpPort }}
{{- end -}}

{{/* The variables every service reads: broker, secrets by reference, traces. */}}
{{- define "lantern.commonEnv" -}}
- name: NATS_URL
  value: {{ .Values.nats.url | quote }}
- name: LANTERN_NATS_CREDS_DIR
  value: /etc/lantern/nats-auth
{{- if .Values.nats.caSecret }}
- name: LANTERN_NATS_CA
  value: /etc/lantern/nats-ca/ca.crt
{{- end }}
- name: LANTERN_MATCH_KEY
  valueFrom:
    secretKeyRef: {name: {{ .Values.secrets.name }}, key: match-key}
- name: LANTERN_INTAKE_TOKENS
  valueFrom:
    secretKeyRef: {name: {{ .Values.secrets.name }}, key: intake-tokens}
- name: LANTERN_TRUSTED_PROXIES
  value: 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16
- name: LANTERN_PUBLIC_URL
  value: {{ .Values.publicURL | quote }}
{{- if .Values.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.otlpEndpoint | quote }}
{{- end }}
{{- end -}}
