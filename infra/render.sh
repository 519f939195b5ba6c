#!/usr/bin/env bash
# Renders the Kustomize overlays into plain manifests: infra/render.sh OUT_DIR
# Needs kubectl (with its built-in kustomize) or kustomize on the PATH.
set -euo pipefail
out="${1:?usage: infra/render.sh OUT_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
for overlay in dev prod; do
  if command -v kustomize >/dev/null 2>&1; then
    kustomize build "$here/k8s/overlays/$overlay" > "$out/tollgate-$overlay.yaml"
  elif command -v kubectl >/dev/null 2>&1; then
    kubectl kustomize "$here/k8s/overlays/$overlay" > "$out/tollgate-$overlay.yaml"
  else
    echo "infra/render.sh: neither kustomize nor kubectl is installed" >&2
    exit 1
  fi
  echo "rendered $out/tollgate-$overlay.yaml"
done
