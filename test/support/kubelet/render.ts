/**
 * `kubectl kustomize <dir>` of the project's manifests, parsed into plain objects: what would be applied. The kubectl
 * is the pinned one that scripts/provision.sh puts in place (npm run provision), not whichever the machine has.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const MANIFESTS = fileURLToPath(new URL('../../../manifests/', import.meta.url));
const KUBECTL = fileURLToPath(new URL('../../../node_modules/.cache/cmdb-hook/bin/kubectl', import.meta.url));

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

const renders = new Map<string, KubeObject[]>();

/** Renders manifests/<dir> (cached per directory; callers get a deep copy they may change). */
export function render(dir: string): KubeObject[] {
  let objects = renders.get(dir);
  if (!objects) {
    if (!existsSync(KUBECTL)) throw new Error('the pinned kubectl is not in place: run npm run provision');
    const output = execFileSync(KUBECTL, ['kustomize', join(MANIFESTS, dir)], { encoding: 'utf8' });
    objects = parseAllDocuments(output).map((document, index) => {
      assert.deepEqual(document.errors, [], `${dir}: rendered document ${index} is not valid YAML`);
      const object = document.toJS() as unknown;
      assert.ok(isKubeObject(object), `${dir}: rendered document ${index} has no apiVersion, kind or metadata.name`);
      return object;
    });
    renders.set(dir, objects);
  }
  return structuredClone(objects);
}

export const label = (object: KubeObject): string => `${object.kind}/${object.metadata.name}`;

function isKubeObject(value: unknown): value is KubeObject {
  if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') return false;
  return isRecord(value.metadata) && typeof value.metadata.name === 'string';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
