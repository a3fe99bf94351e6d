{{/*
Labels every object carries. The component labels and selectors come from the values: the chart
knows no component, flag, port or file of its own.
*/}}
{{- define "thanos-ha-e2e.labels" -}}
{{ include "thanos-ha-e2e.selectorLabels" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
thanos-ha-e2e.io/topology: {{ .Values.topology | quote }}
thanos-ha-e2e.io/cluster: {{ .Values.cluster | quote }}
{{- end }}

{{/* What every selector adds, so that two releases in one namespace never select each other's pods. */}}
{{- define "thanos-ha-e2e.selectorLabels" -}}
app.kubernetes.io/name: thanos-ha-e2e
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The arguments contain in-cluster DNS names, which contain the namespace the plan was computed for:
rendering into another namespace would give pods that dial nothing.
*/}}
{{- define "thanos-ha-e2e.checkNamespace" -}}
{{- if and .Values.namespace (ne .Values.namespace .Release.Namespace) -}}
{{- fail (printf "these values were planned for namespace %q (the arguments contain its DNS names), not %q: use --namespace %s" .Values.namespace .Release.Namespace .Values.namespace) -}}
{{- end -}}
{{- end }}
