#!/usr/bin/env python3
"""Reads what a Kubernetes manifest gives the log-sidecar container (the image's environment as the
Dockerfile declares it, then the container's own with the downward API resolved to a fake pod, its user
and the pod's fsGroup) and the ConfigMap's config.json, so the pod-shaped test runs the binary exactly
as the image and the manifest would.
usage: manifest_env.py MANIFEST CONFIGMAP OUTDIR POD NAMESPACE NODE DOCKERFILE"""
import json
import sys

import yaml

from image_env import image_environment

manifest, configmap, out, pod, namespace, node, dockerfile = sys.argv[1:8]



fields = {"metadata.name": pod, "metadata.namespace": namespace, "spec.nodeName": node}
spec = yaml.safe_load(open(manifest))["spec"]["template"]["spec"]
containers = spec.get("initContainers", []) + spec.get("containers", [])
sidecar = next(c for c in containers if c["name"] == "log-sidecar")
app = next(c for c in containers if c["name"] == "app")
with open(f"{out}/sidecar.env", "w") as f:
    # Kubernetes starts from the image's environment; the container's env overrides it.
    for name, value in image_environment(dockerfile):
        f.write(f"{name}={value}\n")
    for variable in sidecar.get("env", []):
        value = variable.get("value")
        if value is None:
            value = fields[variable["valueFrom"]["fieldRef"]["fieldPath"]]
        f.write(f"{variable['name']}={value}\n")
with open(f"{out}/ids", "w") as f:
    f.write("%d %d %d %d %d %s\n" % (
        sidecar["securityContext"]["runAsUser"], sidecar["securityContext"]["runAsGroup"], spec["securityContext"]["fsGroup"],
        app["securityContext"]["runAsUser"], app["securityContext"]["runAsGroup"],
        "native" if sidecar in spec.get("initContainers", []) and sidecar.get("restartPolicy") == "Always" else "classic"))
config = json.loads(yaml.safe_load(open(configmap))["data"]["config.json"])
with open(f"{out}/config.json", "w") as f:
    json.dump(config, f)
