import type { Config } from '../config.ts';
import type { CmdbBackend } from './backend.ts';

/** --cmdb-kind template: being written (issue 6). */
export function createTemplateBackend(_config: Config): CmdbBackend {
  throw new Error('--cmdb-kind template is not implemented yet');
}
