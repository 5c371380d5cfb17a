import type { Logger as TypeormLogger, QueryRunner } from 'typeorm';

/** The subset of a pino logger the storage layer writes to. */
export interface StorageLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Routes typeorm's logging into pino: queries at debug, failures at warn, so a healthy host stays quiet. */
export class PinoTypeormLogger implements TypeormLogger {
  readonly #log: StorageLogger;

  constructor(log: StorageLogger) {
    this.#log = log;
  }

  logQuery(query: string, parameters?: unknown[], _q?: QueryRunner): void {
    this.#log.debug({ query, parameters }, 'sql');
  }

  logQueryError(error: string | Error, query: string, parameters?: unknown[], _q?: QueryRunner): void {
    this.#log.warn({ err: error, query, parameters }, 'sql failed');
  }

  logQuerySlow(time: number, query: string, parameters?: unknown[], _q?: QueryRunner): void {
    this.#log.warn({ time, query, parameters }, 'slow sql');
  }

  logSchemaBuild(message: string, _q?: QueryRunner): void {
    this.#log.debug({ schema: message }, 'schema');
  }

  logMigration(message: string, _q?: QueryRunner): void {
    this.#log.info({ migration: message }, 'migration');
  }

  log(level: 'log' | 'info' | 'warn', message: unknown, _q?: QueryRunner): void {
    if (level === 'warn') this.#log.warn({ message }, 'typeorm');
    else this.#log.debug({ message }, 'typeorm');
  }
}
