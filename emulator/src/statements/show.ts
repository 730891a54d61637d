/**
 * SHOW [TERSE] DATABASES | SCHEMAS | TABLES | OBJECTS | VIEWS | COLUMNS [LIKE '...'] [IN ACCOUNT |
 * DATABASE d | SCHEMA [d.]s | d | [d.]s | TABLE|VIEW t (COLUMNS)] and DESC[RIBE] [TABLE|VIEW] t, with the columns Snowflake
 * documents for each (SHOW TABLES, SHOW SCHEMAS, SHOW DATABASES, SHOW COLUMNS, DESCRIBE TABLE); SHOW WAREHOUSES
 * and SHOW PRIMARY | UNIQUE | IMPORTED KEYS are answered by show-extra.ts.
 */
import type { EngineStatement } from '../contract.js';
import { fixedColumn, ltzCell, ltzColumn, StatementType, textColumn } from '../columns.js';
import { SfErrors } from '../errors.js';
import { listColumns, listSchemas, listTables } from '../sql/metadata.js';
import { identValue, isWord, stringValue } from '../sql/tokenizer.js';
import { typeFacts } from '../sql/types.js';
import { showKeys, showWarehouses } from './show-extra.js';

export const show: EngineStatement = async (e, s, sig) => {
  let i = 1;
  if (isWord(sig[i], 'TERSE')) i++;
  const what = sig[i]?.text.toUpperCase();
  i++;
  const keys = (what === 'PRIMARY' || what === 'UNIQUE' || what === 'IMPORTED') && isWord(sig[i], 'KEYS');
  if (keys) i++;
  let like: RegExp | null = null;
  if (isWord(sig[i], 'LIKE') && sig[i + 1]?.kind === 'string') {
    const pattern = stringValue(sig[i + 1]);
    like = new RegExp(
      `^${pattern
        .replace(/[.*+^${}()|[\]\\]/g, '\\$&')
        .replace(/%/g, '.*')
        .replace(/_/g, '.')}$`,
      'is',
    );
    i += 2;
  }
  let inDb: string | null = s.database;
  let inSchema: string | null = what === 'SCHEMAS' ? null : s.schema;
  let inTable: string | undefined;
  let scoped = false;
  if (isWord(sig[i], 'IN')) {
    i++;
    scoped = true;
    if (isWord(sig[i], 'ACCOUNT')) {
      inDb = null;
      inSchema = null;
    } else if (isWord(sig[i], 'TABLE', 'VIEW')) {
      const { name } = e.resolve(s, sig, i + 1);
      await e.requireTable(s, name);
      [inDb, inSchema, inTable] = [name.database, name.schema, name.name];
    } else {
      const kind = isWord(sig[i], 'DATABASE', 'SCHEMA') ? sig[i++].text.toUpperCase() : null;
      const parts = sig
        .slice(i)
        .filter((t) => t.text !== '.' && (t.kind === 'word' || t.kind === 'qident'))
        .slice(0, 2)
        .map(identValue);
      if (kind === 'DATABASE' || (kind === null && parts.length === 1 && what !== 'TABLES')) {
        inDb = parts[0];
        inSchema = null;
      } else {
        inDb = parts.length === 2 ? parts[0] : s.database;
        inSchema = parts[parts.length - 1];
      }
    }
  }
  const matches = (n: string) => !like || like.test(n);
  const created = (iso: string) => ltzCell(iso);
  switch (what) {
    case 'DATABASES': {
      const cols = [
        ltzColumn('created_on'),
        textColumn('name', true),
        textColumn('is_default', true),
        textColumn('is_current', true),
        textColumn('origin', true),
        textColumn('owner', true),
        textColumn('comment', true),
        textColumn('options', true),
        textColumn('retention_time', true),
        textColumn('kind', true),
      ];
      const rows = e.catalog
        .databaseNames()
        .filter(matches)
        .map((d) => [
          created(e.catalog.databaseCreated(d)),
          d,
          'N',
          d === s.database ? 'Y' : 'N',
          '',
          'ACCOUNTADMIN',
          '',
          '',
          '1',
          'STANDARD',
        ]);
      return { kind: 'rows', columns: cols, rows, statementTypeId: StatementType.SESSION };
    }
    case 'SCHEMAS': {
      const cols = [
        ltzColumn('created_on'),
        textColumn('name', true),
        textColumn('is_default', true),
        textColumn('is_current', true),
        textColumn('database_name', true),
        textColumn('owner', true),
        textColumn('comment', true),
        textColumn('options', true),
        textColumn('retention_time', true),
      ];
      const dbs = inDb
        ? [inDb]
        : scoped
          ? e.catalog.databaseNames()
          : s.database
            ? [s.database]
            : e.catalog.databaseNames();
      const rows: (string | null)[][] = [];
      for (const db of dbs) {
        e.requireDatabase(db);
        for (const sc of await listSchemas(s.conn, db)) {
          if (matches(sc))
            rows.push([
              created(e.catalog.databaseCreated(db)),
              sc,
              'N',
              db === s.database && sc === s.schema ? 'Y' : 'N',
              db,
              sc === 'INFORMATION_SCHEMA' ? '' : 'ACCOUNTADMIN',
              '',
              '',
              '1',
            ]);
        }
      }
      return { kind: 'rows', columns: cols, rows, statementTypeId: StatementType.SESSION };
    }
    case 'TABLES':
    case 'OBJECTS':
    case 'VIEWS': {
      const cols = [
        ltzColumn('created_on'),
        textColumn('name', true),
        textColumn('database_name', true),
        textColumn('schema_name', true),
        textColumn('kind', true),
        textColumn('comment', true),
        textColumn('cluster_by', true),
        fixedColumn('rows'),
        fixedColumn('bytes'),
        textColumn('owner', true),
        textColumn('retention_time', true),
        textColumn('automatic_clustering', true),
        textColumn('change_tracking', true),
        textColumn('is_external', true),
      ];
      const dbs = inDb ? [inDb] : e.catalog.databaseNames();
      const rows: (string | null)[][] = [];
      for (const db of dbs) {
        e.requireDatabase(db);
        if (inSchema && !(await listSchemas(s.conn, db)).includes(inSchema))
          throw SfErrors.objectDoesNotExist(`${db}.${inSchema}`);
        for (const t of await listTables(s.conn, e.catalog, db, inSchema ?? undefined)) {
          if (!matches(t.name)) continue;
          if (what === 'TABLES' && t.kind === 'VIEW') continue;
          if (what === 'VIEWS' && t.kind !== 'VIEW') continue;
          rows.push([
            created(t.created),
            t.name,
            t.database,
            t.schema,
            t.kind === 'VIEW' ? 'VIEW' : t.kind === 'TEMPORARY' ? 'TEMPORARY' : 'TABLE',
            '',
            '',
            String(t.rows),
            String(t.bytes),
            'ACCOUNTADMIN',
            '1',
            'OFF',
            'OFF',
            'N',
          ]);
        }
      }
      return { kind: 'rows', columns: cols, rows, statementTypeId: StatementType.SESSION };
    }
    case 'COLUMNS': {
      const cols = [
        textColumn('table_name', true),
        textColumn('schema_name', true),
        textColumn('column_name', true),
        textColumn('data_type', true),
        textColumn('null?', true),
        textColumn('default', true),
        textColumn('kind', true),
        textColumn('expression', true),
        textColumn('comment', true),
        textColumn('database_name', true),
        textColumn('autoincrement', true),
      ];
      if (!inDb) throw SfErrors.objectDoesNotExist('COLUMNS');
      const rows = (await listColumns(s.conn, e.catalog, inDb, inSchema ?? undefined, inTable))
        .filter((c) => matches(c.name))
        .map((c) => [
          c.table,
          c.schema,
          c.name,
          showColumnType(c.sfType, c.nullable),
          c.nullable ? 'true' : 'false',
          c.default ?? '',
          'COLUMN',
          '',
          '',
          c.database,
          '',
        ]);
      return { kind: 'rows', columns: cols, rows, statementTypeId: StatementType.SESSION };
    }
    case 'WAREHOUSES':
      return showWarehouses(matches);
    case 'PRIMARY':
    case 'UNIQUE':
    case 'IMPORTED':
      if (!keys) break;
      if (inDb && inSchema && !inTable) {
        e.requireDatabase(inDb);
        if (!(await listSchemas(s.conn, inDb)).includes(inSchema))
          throw SfErrors.objectDoesNotExist(`${inDb}.${inSchema}`);
      }
      return showKeys(what);
  }
  throw SfErrors.unsupported(`SHOW ${what ?? ''}`);
};

export const describeTable: EngineStatement = async (e, s, sig) => {
  const i = isWord(sig[1], 'TABLE', 'VIEW') ? 2 : 1;
  const { name } = e.resolve(s, sig, i);
  await e.requireTable(s, name);
  const cols = await listColumns(s.conn, e.catalog, name.database, name.schema, name.name);
  const columns = [
    'name',
    'type',
    'kind',
    'null?',
    'default',
    'primary key',
    'unique key',
    'check',
    'expression',
    'comment',
    'policy name',
    'privacy domain',
  ].map((n) => textColumn(n, true));
  const rows = cols.map((c) => [
    c.name,
    c.sfType,
    'COLUMN',
    c.nullable ? 'Y' : 'N',
    c.default,
    'N',
    'N',
    null,
    null,
    null,
    null,
    null,
  ]);
  return { kind: 'rows', columns, rows, statementTypeId: StatementType.SESSION };
};

/**
 * SHOW COLUMNS' `data_type`: a JSON object as Snowflake writes it, e.g.
 * `{"type":"FIXED","precision":38,"scale":0,"nullable":true}` or `{"type":"TEXT","length":100,"byteLength":400,"nullable":false,"fixed":false}`.
 */
function showColumnType(sfType: string, nullable: boolean): string {
  const f = typeFacts(sfType);
  if (f.dataType === 'NUMBER')
    return JSON.stringify({ type: 'FIXED', precision: f.precision, scale: f.scale, nullable });
  if (f.dataType === 'FLOAT') return JSON.stringify({ type: 'REAL', nullable });
  if (f.dataType === 'TEXT' || f.dataType === 'BINARY')
    return JSON.stringify({ type: f.dataType, length: f.charLength, byteLength: f.byteLength, nullable, fixed: false });
  if (f.datetimePrecision !== null)
    return JSON.stringify({ type: f.dataType, precision: 0, scale: f.datetimePrecision, nullable });
  return JSON.stringify({ type: f.dataType, nullable });
}
