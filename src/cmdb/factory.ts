import type { Config } from '../config.ts';
import type { CmdbBackend } from './backend.ts';
import { createHttpBackend } from './http-backend.ts';

type BackendConstructor = (config: Config) => CmdbBackend;

/** `--cmdb-kind` name -> constructor. An unknown name is rejected in src/config.ts with this list. */
const BACKENDS: Readonly<Record<string, BackendConstructor>> = {
  http: createHttpBackend,
};

export const BACKEND_KINDS: readonly string[] = Object.keys(BACKENDS);

export function createBackend(config: Config): CmdbBackend {
  const create = BACKENDS[config.cmdbKind];
  if (!create) throw new Error(`no backend ${config.cmdbKind}: src/config.ts should have refused it`);
  return create(config);
}
