/**
 * Image volumes (`volumes[].image`, KEP-4639): what the app container sees of an OCI image mounted as a volume.
 * - The mount shows the image's root filesystem, its layers merged as for a container's root (the API's
 *   ImageVolumeSource doc): so the cmdb-hook image, whose files sit at /opt/cmdb-hook, shows opt/cmdb-hook/... at
 *   the mountPath, unless a subPath picks that folder.
 * - subPath on an image volume is supported from Kubernetes 1.33 (kubernetes PR #130135) and passed to the runtime as
 *   the CRI Mount's image_sub_path: containerd 2.2 and CRI-O 1.33 honour it; containerd 2.1 ignored it silently and
 *   mounted the whole root (containerd #11580): `subPath: false` models such a runtime.
 * - It is mounted read-only whatever the volumeMount says (ImageVolumeSource doc: "mounted read-only (ro)"). Here the
 *   processes run as this machine's user, which may be root, so a write cannot be refused: it is detected instead
 *   (changes() compares the files with what they were when the pod started).
 * - It is not mounted noexec: the "noexec" of the original API text was dropped (kubernetes PR #135775) because no
 *   runtime sets it (cri-o PR #9779), so binaries run from it. `noexec: true` models a runtime that would.
 * The image's folder is never copied: the mount maps paths into it.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface ImageVolumeRuntime {
  /** Whether the runtime honours volumeMounts[].subPath on image volumes (containerd >= 2.2, CRI-O >= 1.33). */
  subPath: boolean;
  /** Whether the runtime mounts image volumes noexec (none does today). */
  noexec: boolean;
}

export const CURRENT_RUNTIME: ImageVolumeRuntime = { subPath: true, noexec: false };

export class ImageVolume {
  readonly root: string;
  private readonly before: Map<string, string>;

  constructor(root: string) {
    this.root = root;
    this.before = snapshot(root);
  }

  /** The folder a volumeMount of this image shows, given its subPath and the runtime. */
  mountSource(subPath: string | undefined, runtime: ImageVolumeRuntime): string {
    return subPath && runtime.subPath ? join(this.root, subPath) : this.root;
  }

  /** Files added, changed or removed since the pod started: a real runtime would have refused each write (EROFS). */
  changes(): string[] {
    const now = snapshot(this.root);
    const paths = new Set([...this.before.keys(), ...now.keys()]);
    return [...paths].filter((path) => this.before.get(path) !== now.get(path)).sort();
  }
}

/** Each file's size, mode and modification time, by path inside `root` (folders change with their files). */
function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isDirectory()) continue;
    const path = join(entry.parentPath, entry.name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat) files.set(relative(root, path), `${stat.size} ${stat.mode} ${stat.mtimeMs}`);
  }
  return files;
}
