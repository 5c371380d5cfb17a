/**
 * The keyword part of history search, on the full-text index migration 003
 * creates: FTS5 on SQLite, an InnoDB FULLTEXT index on MariaDB/MySQL.
 *
 * Every word of the query must occur. A word of letters and digits matches
 * words that start with it, in any case (`lunch` finds "Lunch" and
 * "lunches"; `ÉTÉ` finds "été"). A word with other characters (`50%`,
 * `c++`, `e-mail`) is looked up by its letter/digit parts in the index and
 * then must also occur literally (case-insensitive LIKE). On MariaDB,
 * parts the index does not hold (shorter than innodb_ft_min_token_size,
 * stopwords) are matched by LIKE alone.
 */
import type { ObjectLiteral, QueryRunner, Repository, SelectQueryBuilder } from 'typeorm';

const TOKEN = /[\p{L}\p{N}]+/gu;
const WORD_ONLY = /^[\p{L}\p{N}]+$/u;
/** InnoDB's built-in stopword list, used if the server's cannot be read. */
const INNODB_STOPWORDS = 'a,about,an,are,as,at,be,by,com,de,en,for,from,how,i,in,is,it,la,of,on,or,that,the,this,to,was,what,when,where,who,will,with,und,www'.split(',');
export const MAX_QUERY_WORDS = 10;

/** LIKE pattern matching `text` literally; `!` is the escape character. */
export function likeLiteral(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

interface MysqlIndexRules {
  minToken: number;
  stopwords: Set<string>;
}

export interface KeywordPlan {
  /** Tokens the index must contain (as word prefixes), lower case. */
  indexed: string[];
  /** Words that must occur literally (lower case). */
  literal: string[];
}

/** Splits the query into what the index answers and what LIKE must check. */
export function planKeywords(q: string, indexable: (token: string) => boolean): KeywordPlan {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean).slice(0, MAX_QUERY_WORDS);
  const indexed = new Set<string>();
  const literal: string[] = [];
  for (const word of words) {
    const tokens = word.match(TOKEN) ?? [];
    const kept = tokens.filter(indexable);
    for (const token of kept) indexed.add(token);
    if (!WORD_ONLY.test(word) || kept.length < tokens.length) literal.push(word);
  }
  return { indexed: [...indexed], literal };
}

export class FullText {
  readonly #mysql: boolean;
  readonly #runner: () => Repository<ObjectLiteral>;
  #rules: Promise<MysqlIndexRules> | undefined;

  constructor(repository: () => Repository<ObjectLiteral>) {
    this.#runner = repository;
    this.#mysql = ['mysql', 'mariadb'].includes(repository().manager.connection.options.type);
  }

  /** Adds the keyword conditions for `q` to a query on `im_messages` aliased `alias`. */
  async apply<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, alias: string, q: string): Promise<void> {
    const rules = this.#mysql ? await this.#mysqlRules() : undefined;
    const plan = planKeywords(q, (token) => !rules || (token.length >= rules.minToken && !rules.stopwords.has(token)));
    if (plan.indexed.length) {
      if (this.#mysql) {
        qb.andWhere(`MATCH(${alias}.body) AGAINST (:ftq IN BOOLEAN MODE)`, { ftq: plan.indexed.map((t) => `+${t}*`).join(' ') });
      } else {
        qb.andWhere(`${alias}.id IN (SELECT rowid FROM im_messages_fts WHERE im_messages_fts MATCH :ftq)`, { ftq: plan.indexed.map((t) => `"${t}"*`).join(' ') });
      }
    }
    plan.literal.forEach((word, i) => qb.andWhere(`LOWER(${alias}.body) LIKE :lit${i} ESCAPE '!'`, { [`lit${i}`]: `%${likeLiteral(word)}%` }));
  }

  #mysqlRules(): Promise<MysqlIndexRules> {
    this.#rules ??= this.#readMysqlRules().catch(() => ({ minToken: 3, stopwords: new Set(INNODB_STOPWORDS) }));
    return this.#rules;
  }

  async #readMysqlRules(): Promise<MysqlIndexRules> {
    const runner: QueryRunner = this.#runner().manager.connection.createQueryRunner();
    try {
      const [settings] = (await runner.query('SELECT @@innodb_ft_min_token_size AS minToken, @@innodb_ft_enable_stopword AS enabled, @@innodb_ft_server_stopword_table AS serverTable')) as Array<{ minToken: number | string; enabled: number | string; serverTable: string | null }>;
      const minToken = Number(settings?.minToken ?? 3);
      if (Number(settings?.enabled ?? 1) === 0) return { minToken, stopwords: new Set() };
      // A site-specific stopword table is unknown to us; the built-in list is the safe guess then.
      if (settings?.serverTable) return { minToken, stopwords: new Set(INNODB_STOPWORDS) };
      const rows = (await runner.query('SELECT value FROM INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD')) as Array<{ value: string }>;
      return { minToken, stopwords: new Set(rows.map((r) => r.value.toLowerCase())) };
    } finally {
      await runner.release();
    }
  }
}
