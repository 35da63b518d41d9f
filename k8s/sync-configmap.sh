#!/usr/bin/env bash
# Regenerates k8s/configmap.yaml from conf/config.yaml (ManifestsTest fails when they drift apart).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  sed -n '1,/^  config.yaml: |$/p' k8s/configmap.yaml
  sed -e 's/^/    /' -e 's/^    $//' conf/config.yaml
} > k8s/configmap.yaml.new
mv k8s/configmap.yaml.new k8s/configmap.yaml
