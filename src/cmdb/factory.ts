import type { Config } from '../config.ts';
import type { CmdbBackend } from './backend.ts';
import { createHttpBackend } from './http-backend.ts';
import { createNetboxBackend } from './netbox-backend.ts';
import { createServicenowBackend } from './servicenow-backend.ts';
import { createTemplateBackend } from './template-backend.ts';

type BackendConstructor = (config: Config) => CmdbBackend;

/** `--cmdb-kind` name -> constructor. An unknown name is rejected in src/config.ts with this list. */
const BACKENDS: Readonly<Record<string, BackendConstructor>> = {
  http: createHttpBackend,
  template: createTemplateBackend,
  netbox: createNetboxBackend,
  servicenow: createServicenowBackend,
};

export const BACKEND_KINDS: readonly string[] = Object.keys(BACKENDS);

export function createBackend(config: Config): CmdbBackend {
  const create = BACKENDS[config.cmdbKind];
  if (!create) throw new Error(`no backend ${config.cmdbKind}: src/config.ts should have refused it`);
  return create(config);
}
