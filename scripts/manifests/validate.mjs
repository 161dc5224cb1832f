// Validates every Kubernetes manifest in the YAML streams given (files, or stdin) against the API schemas, offline:
// built-in kinds with kubernetes-models, ServiceMonitor/PodMonitor/PrometheusRule with the Prometheus Operator's,
// CloudNativePG's Cluster with its own, Dapr's Component/Resiliency with the schemas in charts/cxmesh/schemas.
// Types, required fields, enums and formats are checked; kubernetes-models' schemas allow unknown fields, so a misspelt
// key is caught earlier, by the chart's values.schema.json (additionalProperties: false on every values object).
// Exits 1 naming each bad document (kind/name, the path, what is wrong); a kind it has no schema for is an error too.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import Ajv from "ajv";

const here = dirname(fileURLToPath(import.meta.url));
const packages = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
  "postgresql.cnpg.io": "@kubernetes-models/cloudnative-pg",
};
const ownSchemas = {
  "dapr.io/v1alpha1/Component": "dapr-component.schema.json",
  "dapr.io/v1alpha1/Resiliency": "dapr-resiliency.schema.json",
  "dapr.io/v1alpha1/Configuration": "dapr-configuration.schema.json",
};

async function validatorOf(apiVersion, kind) {
  const own = ownSchemas[`${apiVersion}/${kind}`];
  if (own) {
    const schema = JSON.parse(readFileSync(join(here, "../../charts/cxmesh/schemas", own), "utf8"));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    return (doc) => (validate(doc) ? [] : validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`));
  }
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const pkg = packages[group] ?? "kubernetes-models";
  const path = group === "" ? `${pkg}/${version}` : `${pkg}/${group}/${version}`;
  let models;
  try {
    models = await import(path);
  } catch {
    return null;
  }
  const Model = models[kind];
  if (!Model) return null;
  return (doc) => {
    try {
      new Model(doc).validate();
      return [];
    } catch (e) {
      return (e.errors ?? [{ instancePath: "", message: e.message }]).map((x) =>
        `${x.instancePath || "/"} ${x.message}${x.params?.additionalProperty ? `: ${x.params.additionalProperty}` : ""}`);
    }
  };
}

const inputs = process.argv.slice(2);
const texts = inputs.length ? inputs.map((f) => [f, readFileSync(f, "utf8")]) : [["stdin", readFileSync(0, "utf8")]];
let checked = 0;
const problems = [];
for (const [source, text] of texts) {
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length) {
      problems.push(`${source}: not YAML: ${document.errors[0].message}`);
      continue;
    }
    const doc = document.toJS();
    if (doc == null) continue;
    const what = `${source}: ${doc.kind ?? "?"}/${doc.metadata?.name ?? "?"}`;
    if (!doc.apiVersion || !doc.kind) {
      problems.push(`${what}: no apiVersion or kind`);
      continue;
    }
    const validate = await validatorOf(doc.apiVersion, doc.kind);
    if (!validate) {
      problems.push(`${what}: no schema known for ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    for (const p of validate(doc)) problems.push(`${what} (${doc.apiVersion}): ${p}`);
    checked++;
  }
}
for (const p of problems) console.error(p);
console.log(`${checked} manifests checked, ${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
