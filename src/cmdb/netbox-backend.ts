import type { Config } from '../config.ts';
import type { CmdbBackend } from './backend.ts';

/** --cmdb-kind netbox: being written (issue 6). */
export function createNetboxBackend(_config: Config): CmdbBackend {
  throw new Error('--cmdb-kind netbox is not implemented yet');
}
