import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { settingName } from '../settings/option.ts';
import { FILE_KINDS, readFileIfPresent } from '../settings/setting-files.ts';
import { parseGoQuotedMap } from './go-quoted.ts';
import { withoutKubeletAnnotations } from './kubelet-annotations.ts';

/** Who this pod is, from the Downward API (env vars and the downwardAPI volume) with Kubernetes' own fallbacks. */
export interface PodIdentity {
  name: string;
  uid: string;
  namespace: string;
  ip: string | undefined;
  ips: string[];
  nodeName: string | undefined;
  hostIp: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** What was not found and what stood in for it, for the debug log. */
  notes: string[];
}

// UIDs are UUIDs, or 32-hex hashes for static pods; both are URL-safe. Anything else is a wiring mistake.
const POD_UID = /^[A-Za-z0-9-]{1,64}$/;

/** Where the Downward API's files are: --podinfo-dir (labels, annotations) and --namespace-file. */
export interface PodinfoPaths {
  podinfoDir: string;
  namespaceFile: string;
}

export function readPodIdentity(config: PodinfoPaths, env: NodeJS.ProcessEnv): PodIdentity {
  const notes: string[] = [];
  const uid = env.POD_UID?.trim() ?? '';
  if (!uid) {
    throw new ConfigError('POD_UID is not set: add to the container env POD_UID with valueFrom.fieldRef.fieldPath: metadata.uid');
  }
  if (!POD_UID.test(uid)) throw new ConfigError(`POD_UID ${JSON.stringify(uid)} is not a pod UID: it must come from fieldRef metadata.uid`);

  let name = env.POD_NAME?.trim();
  if (!name) {
    // The pod's hostname is its name unless spec.hostname overrides it.
    name = hostname();
    notes.push(`POD_NAME unset: using the hostname ${name}`);
  }

  let namespace = env.POD_NAMESPACE?.trim();
  if (!namespace) {
    namespace = readFileIfPresent('namespace-file', config.namespaceFile, FILE_KINDS.namespace, 'fix the path, or set POD_NAMESPACE')?.trim();
    if (!namespace) {
      throw new ConfigError(`POD_NAMESPACE is not set and ${settingName('namespace-file')} ${config.namespaceFile} is missing: add env POD_NAMESPACE with fieldRef metadata.namespace`);
    }
    notes.push(`POD_NAMESPACE unset: using ${config.namespaceFile}`);
  }

  const ip = env.POD_IP?.trim() || undefined;
  const listed = (env.POD_IPS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  const ips = listed.length > 0 ? listed : ip ? [ip] : [];
  if (!ip) notes.push(ips.length > 0 ? 'POD_IP unset: using the first of POD_IPS' : 'POD_IP and POD_IPS unset: the record has no pod address');

  return {
    name,
    uid,
    namespace,
    ip: ip ?? ips[0],
    ips,
    nodeName: env.NODE_NAME?.trim() || undefined,
    hostIp: env.HOST_IP?.trim() || undefined,
    labels: readMetadataFile(config.podinfoDir, 'labels', notes),
    annotations: withoutKubeletAnnotations(readMetadataFile(config.podinfoDir, 'annotations', notes)),
    notes,
  };
}

function readMetadataFile(dir: string, file: 'labels' | 'annotations', notes: string[]): Record<string, string> {
  const path = join(dir, file);
  const text = readFileIfPresent('podinfo-dir', path, FILE_KINDS.podinfo, 'check the downwardAPI volume mount');
  if (text === undefined) {
    notes.push(`${path} not found: no ${file} (mount a downwardAPI volume with fieldRef metadata.${file})`);
    return {};
  }
  const parsed = parseGoQuotedMap(text);
  if (!parsed.ok) {
    throw new ConfigError(`${settingName('podinfo-dir')}: ${path} line ${parsed.line} is malformed (${parsed.reason}); it must be the kubelet's downwardAPI file for metadata.${file}`);
  }
  return parsed.map;
}
