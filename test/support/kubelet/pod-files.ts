/**
 * A pod's files on this machine: a temporary root per pod holding its volumes and container logs, and the mapping of
 * a path inside a container onto it: a mount's path -> its volume's folder (the volumeMount's subPath inside it), any
 * other absolute path -> the container image's folder, /proc/1/fd/1 and /2 -> the container's log (what
 * `kubectl logs` shows). Volumes: downwardAPI files in the kubelet's format, Secret and ConfigMap files, emptyDirs,
 * and image volumes (image-volume.ts), which map into the image's own folder and are never copied.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { configMapData, fieldValue, secretData, type ContainerSpec, type PodFacts } from './environment.ts';
import { formatGoQuotedMap } from './go-format.ts';
import { ImageVolume, type ImageVolumeRuntime } from './image-volume.ts';
import type { KubeObject } from './render.ts';

export interface Image {
  /** The image's root filesystem, laid out as the image has it. */
  root: string;
  /** Whether it carries Node 26 (which the bundled agent needs on PATH). */
  node: boolean;
  /** The image's ENTRYPOINT, for containers the test gives no stand-in process. */
  entrypoint?: string[];
}

export interface Volume {
  name: string;
  emptyDir?: object;
  downwardAPI?: { items: { path: string; fieldRef: { fieldPath: string } }[] };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  configMap?: { name: string; items?: { key: string; path: string }[] };
  image?: { reference: string; pullPolicy?: string };
}

export class PodFiles {
  readonly root = mkdtempSync(join(tmpdir(), 'cmdb-hook-pod-'));
  private readonly imageVolumes = new Map<string, ImageVolume>();
  private readonly objects: KubeObject[];
  private readonly images: Record<string, Image>;
  private readonly runtime: ImageVolumeRuntime;

  constructor(objects: KubeObject[], images: Record<string, Image>, runtime: ImageVolumeRuntime) {
    this.objects = objects;
    this.images = images;
    this.runtime = runtime;
  }

  image(spec: ContainerSpec | string): Image {
    const name = typeof spec === 'string' ? spec : spec.image;
    const image = this.images[name];
    if (!image) throw new Error(`no folder for image ${name} (an image the node could not pull)`);
    return image;
  }

  materialize(volume: Volume, facts: PodFacts): void {
    if (volume.image) {
      this.imageVolumes.set(volume.name, new ImageVolume(this.image(volume.image.reference).root));
      return;
    }
    const dir = join(this.root, 'volumes', volume.name);
    mkdirSync(dir, { recursive: true });
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    if (volume.downwardAPI) {
      for (const item of volume.downwardAPI.items) {
        const path = item.fieldRef.fieldPath;
        write(item.path, path === 'metadata.labels' ? formatGoQuotedMap(facts.labels) : path === 'metadata.annotations' ? formatGoQuotedMap(facts.annotations) : fieldValue(path, facts));
      }
    }
    const source = volume.secret ? secretData(this.objects, volume.secret.secretName) : volume.configMap ? configMapData(this.objects, volume.configMap.name) : undefined;
    const items = volume.secret?.items ?? volume.configMap?.items;
    for (const [key, value] of Object.entries(source ?? {})) {
      const item = items ? items.find((entry) => entry.key === key) : { key, path: key };
      if (item) write(item.path, value);
    }
  }

  /** Where an absolute path inside the container lives on this machine. */
  mapPath(spec: ContainerSpec, path: string): string {
    if (/^\/proc\/1\/fd\/[12]$/.test(path)) return this.logFile(spec.name);
    const mount = (spec.volumeMounts ?? [])
      .filter((entry) => path === entry.mountPath || path.startsWith(`${entry.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    if (!mount) return join(this.image(spec).root, path);
    const rest = path.slice(mount.mountPath.length);
    const imageVolume = this.imageVolumes.get(mount.name);
    if (imageVolume) return join(imageVolume.mountSource(mount.subPath, this.runtime), rest);
    return join(this.root, 'volumes', mount.name, mount.subPath ?? '', rest);
  }

  /** Whether a file (already mapped) lies on an image volume the runtime mounts noexec. */
  noexec(file: string): boolean {
    return this.runtime.noexec && [...this.imageVolumes.values()].some((volume) => file.startsWith(`${volume.root}/`));
  }

  /** Files of the pod's image volumes that changed since the pod started (each a write the runtime would refuse). */
  imageVolumeChanges(): string[] {
    return [...this.imageVolumes.entries()].flatMap(([name, volume]) => volume.changes().map((path) => `${name}:${path}`));
  }

  logFile(name: string): string {
    return join(this.root, `${name}.log`);
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
