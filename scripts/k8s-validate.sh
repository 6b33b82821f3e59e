#!/usr/bin/env bash
# Validates deploy/kubernetes/*.yaml against the Kubernetes API schemas with
# kubernetes-validate (pip install kubernetes-validate), strictly (unknown fields are errors),
# for the oldest Kubernetes the manifests support and the newest the tool knows, then checks
# what a schema cannot: completions = ADBANDIT_SHARD_COUNT, the embedded sweep equals
# deploy/sweep.example.json, restartPolicy Never wherever a podFailurePolicy is set.
# Skips (exit 0) with a message when kubernetes-validate is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v kubernetes-validate >/dev/null; then
  echo "k8s-validate: SKIPPED (kubernetes-validate not installed: pip install kubernetes-validate)"
  exit 0
fi
# 1.33: backoffLimitPerIndex is GA there; the newest schema the tool ships is its default.
for version in 1.33.0 ""; do
  kubernetes-validate --strict --quiet ${version:+-k "$version"} deploy/kubernetes/*.yaml
done
python3 - <<'PY'
import json, sys, yaml
docs = {}
for f in ["sweep-job", "merge-job", "results-pod"]:
    for d in yaml.safe_load_all(open(f"deploy/kubernetes/{f}.yaml")):
        docs[(d["kind"], d["metadata"]["name"])] = d
job = docs[("Job", "adbandit-sweep")]["spec"]
pod = job["template"]["spec"]
env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
errors = []
if int(env["ADBANDIT_SHARD_COUNT"]) != job["completions"]:
    errors.append(f"ADBANDIT_SHARD_COUNT {env['ADBANDIT_SHARD_COUNT']} != completions {job['completions']}")
if job.get("completionMode") != "Indexed":
    errors.append("the sweep Job must be Indexed")
for key, d in docs.items():
    spec = d.get("spec", {})
    if "podFailurePolicy" in spec and spec["template"]["spec"].get("restartPolicy") != "Never":
        errors.append(f"{key}: podFailurePolicy needs restartPolicy: Never")
    if "podFailurePolicy" in spec:
        names = {c["name"] for c in spec["template"]["spec"]["containers"]}
        for r in spec["podFailurePolicy"]["rules"]:
            c = r.get("onExitCodes", {}).get("containerName")
            if c is not None and c not in names:
                errors.append(f"{key}: rule names container {c}, not in {names}")
embedded = json.loads(docs[("ConfigMap", "adbandit-sweep")]["data"]["sweep.json"])
if embedded != json.load(open("deploy/sweep.example.json")):
    errors.append("the ConfigMap's sweep.json differs from deploy/sweep.example.json")
claims = {v["persistentVolumeClaim"]["claimName"] for d in docs.values() if d["kind"] in ("Job", "Pod")
          for v in (d["spec"]["template"]["spec"] if d["kind"] == "Job" else d["spec"])["volumes"]
          if "persistentVolumeClaim" in v}
if claims != {"adbandit-sweep-results"}:
    errors.append(f"volumes claim {claims}")
if errors:
    sys.exit("k8s-validate: FAILED:\n  " + "\n  ".join(errors))
PY
echo "k8s-validate: PASSED ($(ls deploy/kubernetes/*.yaml | wc -l) files, strict schemas of Kubernetes 1.33 and $(kubernetes-validate --version))"
