// Validates Kubernetes manifests against the API's schemas (kubernetes-models: the OpenAPI
// schemas of each kind, checked by ajv) and, with --flags FILE, that every container of a
// Deployment has exactly the privileges of the tested container (deploy/docker/least-privilege.flags).
// Prints one JSON line {documents, errors}; exits 1 on any error.
//   node validate.mjs [--flags FILE] MANIFEST...
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const args = process.argv.slice(2);
let flagsFile = null;
if (args[0] === "--flags") { flagsFile = args[1]; args.splice(0, 2); }

// apiVersion/kind -> module path of its model.
const models = {
  "v1/ConfigMap": "v1/ConfigMap", "v1/Service": "v1/Service", "v1/Secret": "v1/Secret",
  "apps/v1/Deployment": "apps/v1/Deployment", "apps/v1/StatefulSet": "apps/v1/StatefulSet",
  "autoscaling/v2/HorizontalPodAutoscaler": "autoscaling/v2/HorizontalPodAutoscaler",
  "policy/v1/PodDisruptionBudget": "policy/v1/PodDisruptionBudget",
};

// The tested container's privileges, from the docker flags.
function expectedPrivileges(file) {
  const lines = readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter(Boolean);
  return {
    add: lines.filter((l) => l.startsWith("--cap-add=")).map((l) => l.slice(10)).sort(),
    dropAll: lines.includes("--cap-drop=ALL"),
    noNewPrivileges: lines.includes("--security-opt=no-new-privileges"),
    seccomp: lines.some((l) => l.startsWith("--security-opt=seccomp=")),
  };
}

const errors = [];
let documents = 0;
const expected = flagsFile ? expectedPrivileges(flagsFile) : null;
for (const file of args) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) { errors.push(`${file}: ${doc.errors[0].message}`); continue; }
    const obj = doc.toJS();
    if (obj === null) continue;
    documents++;
    const where = `${file}: ${obj.kind ?? "?"} ${obj.metadata?.name ?? "?"}`;
    const path = models[`${obj.apiVersion}/${obj.kind}`];
    if (!path) { errors.push(`${where}: no schema for ${obj.apiVersion}/${obj.kind}`); continue; }
    const kind = path.split("/").pop();
    const Model = (await import(`kubernetes-models/${path}`))[kind];
    try {
      new Model(obj).validate();
    } catch (e) {
      errors.push(`${where}: ${e.message.split("\n").slice(0, 3).join(" ")}`);
    }
    if (expected && obj.kind === "Deployment") {
      for (const c of obj.spec?.template?.spec?.containers ?? []) {
        const sc = c.securityContext ?? {};
        const add = [...(sc.capabilities?.add ?? [])].sort();
        const problems = [];
        if (JSON.stringify(add) !== JSON.stringify(expected.add)) problems.push(`adds ${add} (tested: ${expected.add})`);
        if (expected.dropAll && !(sc.capabilities?.drop ?? []).includes("ALL")) problems.push("does not drop ALL");
        if (sc.privileged !== false) problems.push("is not explicitly unprivileged");
        if (expected.noNewPrivileges && sc.allowPrivilegeEscalation !== false) problems.push("allows privilege escalation");
        if (expected.seccomp && sc.seccompProfile?.type !== "Localhost") problems.push("has no Localhost seccomp profile");
        if (problems.length) errors.push(`${where}: container ${c.name} ${problems.join("; ")}`);
      }
    }
  }
}
console.log(JSON.stringify({ documents, errors }));
process.exit(errors.length ? 1 : 0);
