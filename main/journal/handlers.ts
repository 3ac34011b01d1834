/**
 * The journal's calls over the Journal, for the composition root (main/app.ts):
 * each page, and each Excel export, holds only the applications within the
 * caller's reach.
 */
import { scopeSql, type DataScope } from '../auth/permissions.js';
import { JournalExporter, type JournalExporterOptions } from '../export/journal-export.js';
import type { Handlers, Principal } from '../rpc.js';
import type { Journal } from './journal.js';
import { columnSql } from '#core/monitoring/report.js';

/**
 * A monitoring figure's filters (region, the report's column: main/monitoring)
 * joined to the scope's condition: the journal then lists exactly the
 * applications the figure counts, within the caller's reach.
 */
function withFigure(
  scope: { sql: string; params: Record<string, string> },
  q: { regionKato?: string | undefined; reportColumn?: Parameters<typeof columnSql>[0] | undefined },
): { sql: string; params: Record<string, string> } {
  const terms = [scope.sql];
  const params = { ...scope.params };
  if (q.regionKato !== undefined) {
    terms.push('a.region_kato = @figureRegion');
    params.figureRegion = q.regionKato;
  }
  if (q.reportColumn !== undefined) terms.push(columnSql(q.reportColumn, 'a'));
  return terms.length === 1 ? scope : { sql: terms.join(' AND '), params };
}

export interface JournalHandlerOptions {
  /** The save dialog of the Excel export (Electron); absent: the call names the file (harness). */
  chooseSavePath?: JournalExporterOptions['chooseSavePath'];
  /** The exporter to use (tests); default one over `journal` with `chooseSavePath`. */
  exporter?: JournalExporter;
}

/** Several providers or regions (a monitoring officer): the export adds each row's BIN and locality. */
function wide(scope: DataScope): boolean {
  return scope.all || scope.regionKatos.length > 0 || scope.providerIds.length > 1;
}

/**
 * `scopeOf` answers the applications `principal` reaches through `journal.list`
 * (the gate's `scopeFor`); the export reaches the same.
 */
export function journalHandlers(
  journal: Journal,
  scopeOf: (principal: Principal | null | undefined) => DataScope,
  options: JournalHandlerOptions = {},
): Pick<Handlers, 'journal.list' | 'journal.export' | 'export.progress' | 'export.cancel'> {
  const exporter = options.exporter ?? new JournalExporter({ journal, chooseSavePath: options.chooseSavePath });
  const owner = (principal: Principal | null | undefined) => principal?.userId ?? '';
  return {
    'journal.list': (q, ctx) => journal.list(q, withFigure(scopeSql(scopeOf(ctx.principal)), q)),
    'journal.export': (input, ctx) => {
      const scope = scopeOf(ctx.principal);
      return exporter.start(input, owner(ctx.principal), {
        sql: withFigure(scopeSql(scope), input.query),
        wide: wide(scope),
      });
    },
    'export.progress': (input, ctx) => exporter.progress(input.exportId, owner(ctx.principal)),
    'export.cancel': (input, ctx) => exporter.cancel(input.exportId, owner(ctx.principal)),
  };
}
