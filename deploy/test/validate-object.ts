import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import type { RenderedObject } from './render-overlay.js';

/** A kubernetes-models class: built from plain data, checked by `validate()`. */
type ModelClass = new (data: never) => { validate(): void };

// Every kind the manifests may contain. An object of any other kind fails the
// test, so a new kind is a deliberate addition here, with its schema.
const models: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': Ingress,
};

/** Checks an object against the Kubernetes OpenAPI schema of its kind; throws when it does not fit. */
export function validateObject(object: RenderedObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = models[key];
  if (!Model) throw new Error(`${key} ${object.metadata.name}: no schema registered`);
  // The schema check below is what establishes the shape; the cast only hands the data over.
  new Model(unwrapSecretData(object) as never).validate();
}

/**
 * kustomize wraps long base64 Secret values over several lines; the API server
 * decodes them ignoring line breaks, the schema's "byte" format does not.
 */
function unwrapSecretData(object: RenderedObject): RenderedObject {
  if (object.kind !== 'Secret' || typeof object.data !== 'object' || object.data === null) {
    return object;
  }
  const data = Object.fromEntries(
    Object.entries(object.data).map(([key, value]) => [key, String(value).replace(/\s+/g, '')]),
  );
  return { ...object, data };
}
