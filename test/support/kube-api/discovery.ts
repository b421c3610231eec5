/**
 * Discovery, the documents a client reads to map kinds to resources (docs: using-api/api-concepts, concepts/overview/
 * kubernetes-api "Discovery API"): /api (APIVersions), /api/v1 and /apis/<group>/<version> (APIResourceList), /apis
 * (APIGroupList), /apis/<group> (APIGroup), /version. Only the legacy (unaggregated) form is served: a client asking for
 * the aggregated apidiscovery.k8s.io/v2 form in Accept gets plain application/json back and falls back to it.
 */
import { apiVersionOf, RESOURCES, type ResourceType } from './resources.ts';

/**
 * What /version says. kubectl compares it with its own version for the skew warning, and a kubectl dispatcher (as
 * packaged with the Google Cloud SDK) picks the kubectl release of the same minor version.
 */
export const serverVersion = (minor: number) => ({
  major: '1',
  minor: String(minor),
  gitVersion: `v1.${minor}.0+stand-in`,
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.24.2',
  compiler: 'gc',
  platform: 'linux/amd64',
});

const groups = () => [...new Set(RESOURCES.filter((type) => type.group).map((type) => type.group))];

function apiGroup(group: string) {
  const version = { groupVersion: `${group}/v1`, version: 'v1' };
  return { name: group, versions: [version], preferredVersion: version };
}

function resourceList(groupVersion: string, types: ResourceType[]) {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: types.flatMap((type) => [
      {
        name: type.resource,
        singularName: type.singularName,
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: type.verbs,
        ...(type.shortNames.length ? { shortNames: type.shortNames } : {}),
        ...(type.resource === 'pods' ? { categories: ['all'] } : {}),
      },
      ...type.subresources.map((subresource) => ({ name: `${type.resource}/${subresource}`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'patch', 'update'] })),
    ]),
  };
}

/** The discovery document at `path`, or undefined when the path is not a discovery path. */
export function discovery(path: string, serverAddress: string, minor: number): unknown {
  if (path === '/version') return serverVersion(minor);
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
  if (path === '/api/v1') return resourceList('v1', RESOURCES.filter((type) => type.group === ''));
  if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups().map(apiGroup) };
  const match = /^\/apis\/([^/]+)(?:\/(v1))?$/.exec(path);
  if (!match?.[1] || !groups().includes(match[1])) return undefined;
  if (!match[2]) return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(match[1]) };
  return resourceList(`${match[1]}/v1`, RESOURCES.filter((type) => apiVersionOf(type) === `${match[1]}/v1`));
}
