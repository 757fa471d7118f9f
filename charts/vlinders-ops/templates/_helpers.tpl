{{/* Names are capped at 63 characters: labels and most object names allow no more. */}}
{{- define "vlinders-ops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release name alone when it already says what this is ("vlinders-ops", "vlinders-ops-prod"). */}}
{{- define "vlinders-ops.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "vlinders-ops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vlinders-ops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vlinders-ops.labels" -}}
{{ include "vlinders-ops.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "vlinders-ops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "vlinders-ops.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* ClusterRoles are cluster-wide: the namespace keeps two releases of the same name apart. */}}
{{- define "vlinders-ops.clusterRoleName" -}}
{{- printf "%s-%s" .Release.Namespace (include "vlinders-ops.fullname" .) | trunc 253 | trimSuffix "-" -}}
{{- end -}}

{{- define "vlinders-ops.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/*
The config file as the bot reads it: values.config, with store.namespace defaulting to the
release namespace. The RBAC templates read the namespaces from this same document, so the
Roles always follow what the bot will call.
*/}}
{{- define "vlinders-ops.config" -}}
{{- $config := deepCopy (.Values.config | default dict) -}}
{{- $store := deepCopy (get $config "store" | default dict) -}}
{{- if not (get $store "namespace") -}}
{{- $_ := set $store "namespace" .Release.Namespace -}}
{{- end -}}
{{- $_ := set $config "store" $store -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The Vlinders namespaces, with the app's defaults, once each. */}}
{{- define "vlinders-ops.platformNamespaces" -}}
{{- $ns := (include "vlinders-ops.config" . | fromYaml).namespaces | default dict -}}
{{- $list := list ($ns.platform | default "vlinders-platform") ($ns.inference | default "vlinders-inference") ($ns.monitoring | default "vlinders-monitoring") -}}
{{- toJson (uniq $list) -}}
{{- end -}}

{{- define "vlinders-ops.slackHttp" -}}
{{- if eq .Values.slack.mode "http" }}true{{ end -}}
{{- end -}}
