import { CORE_ERRORS, CoreError } from '../errors.ts';
import type { ConfigProblem } from './types.ts';

/**
 * Thrown by loadConfig with every problem at once, so an admin fixes the file
 * in one pass instead of one error per restart.
 */
export class ConfigError extends CoreError {
  problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const spec = CORE_ERRORS.CORE_ERR_CONFIG_INVALID!;
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  ${p.path || '(root)'}: expected ${p.expected}, found ${p.found}`);
    super('CORE_ERR_CONFIG_INVALID', `${spec.message} (${count}):\n${lines.join('\n')}`, spec.httpStatus, problems);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
