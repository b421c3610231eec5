/**
 * Schema checks of rendered manifests with kubernetes-models' own validators:
 *   schemaError:   Kubernetes' schema (a wrong type, a missing required field);
 *   unknownFields: fields the schema does not declare, which the API server's strict field validation refuses and
 *                  kubernetes-models' validate() lets through (e.g. a typo such as `lifecyle`).
 */
import assert from 'node:assert/strict';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { CronJob } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { label, type KubeObject } from './render.ts';

/** A kubernetes-models class: construct from plain data, validate() throws on a schema violation. */
interface ModelClass {
  new (data: never): { validate(): void };
  prototype: { validate(): void };
}

const MODELS: Record<string, ModelClass> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/CronJob': CronJob,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

function modelOf(object: KubeObject): ModelClass {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  assert.ok(model, `${label(object)}: no kubernetes-models class registered for ${object.apiVersion} ${object.kind}`);
  return model;
}

/** The schema violation kubernetes-models reports for the object, or undefined when it is valid. */
export function schemaError(object: KubeObject): string | undefined {
  const Model = modelOf(object);
  try {
    new Model(object as never).validate();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

// kubernetes-models 5.x ships no JSON schemas as data: node_modules/kubernetes-models/_schemas/<Definition>.js (exported
// as `kubernetes-models/_schemas/*`, typed only as `validate(data: unknown): boolean`) are ajv *standalone* validators,
// compiled code with no `properties` or `$ref` objects left to walk ($refs became imports of other _schemas modules,
// `properties` became `void 0!==data.<name>` reads). The schema is still all there, in what that code reads: the
// compiled validator reads every declared property of each object it visits (present or not), follows $refs and array
// `items` into nested objects, iterates `additionalProperties` maps (labels, ConfigMap data) key by key, and treats
// IntOrString / Quantity values as leaves. So the walker hands the model's own validator a Proxy of the object that
// records every property read, recursively; an own key of an object that the validator never read is not declared
// by the schema. An object on which the validator read nothing at all is free-form in the schema (no properties,
// e.g. RawExtension) and is skipped. Nothing is hard-coded: the field names come only from kubernetes-models.

/** JSON pointers of the keys in `object` that its kind's schema does not declare. */
export function unknownFields(object: KubeObject): string[] {
  const seen = new Map<object, { pointer: string; read: Set<PropertyKey> }>();
  const proxies = new Map<object, object>();
  const track = (value: unknown, pointer: string): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    const existing = proxies.get(value);
    if (existing) return existing;
    const read = new Set<PropertyKey>();
    seen.set(value, { pointer, read });
    const proxy = new Proxy(value, {
      get(target, key) {
        read.add(key);
        const child: unknown = Reflect.get(target, key);
        return typeof key === 'string' && Object.hasOwn(target, key) ? track(child, `${pointer}/${key}`) : child;
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  // The model's validate() with the tracked copy as `this` runs exactly the validator schemaError runs.
  try {
    modelOf(object).prototype.validate.call(track(structuredClone(object), ''));
  } catch {
    // A wrong type is schemaError's to report. The validators collect all errors, so every field was read by now.
  }

  const unknown: string[] = [];
  for (const [target, { pointer, read }] of seen) {
    if (Array.isArray(target) || read.size === 0) continue;
    for (const key of Object.keys(target)) if (!read.has(key)) unknown.push(`${pointer}/${key}`);
  }
  return unknown.sort();
}
