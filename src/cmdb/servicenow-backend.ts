import type { Config } from '../config.ts';
import type { CmdbBackend } from './backend.ts';

/** --cmdb-kind servicenow: being written (issue 6). */
export function createServicenowBackend(_config: Config): CmdbBackend {
  throw new Error('--cmdb-kind servicenow is not implemented yet');
}
