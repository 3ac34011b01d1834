/** The report as a chart (seed 002 figure 19): a stacked bar per region, one colour per column (recharts). */
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { MONITORING_COLUMNS, type MonitoringColumn, type MonitoringReport } from '#core/monitoring/report.js';
import { useI18n } from '../i18n/I18nProvider';
import { regionName, type Figure } from './MonitoringTable';

const COLOURS: Record<MonitoringColumn, string> = {
  received: '#5b8def',
  inProcessing: '#f2b441',
  onSigning: '#9b6bd6',
  positive: '#2e9d5b',
  negative: '#d64545',
  transferred: '#7a8794',
};

export function MonitoringChart({ report, onFigure }: { report: MonitoringReport; onFigure?: (f: Figure) => void }) {
  const { t, language } = useI18n();
  const data = report.rows
    .filter((r) => r.total > 0)
    .map((r) => ({
      kato: r.kato,
      name: regionName(r, language, (code) => t('monitoring.unknownRegion', { code })),
      ...r.counts,
    }));
  return (
    <div className="monitoring-chart" data-testid="monitoring-chart">
      <ResponsiveContainer width="100%" height={Math.max(240, data.length * 36 + 80)}>
        <BarChart data={data} layout="vertical" margin={{ left: 24, right: 24 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" allowDecimals={false} />
          <YAxis type="category" dataKey="name" width={220} />
          <Tooltip />
          <Legend />
          {MONITORING_COLUMNS.map((c) => (
            <Bar
              key={c}
              dataKey={c}
              name={t(`monitoring.column.${c}`)}
              stackId="all"
              fill={COLOURS[c]}
              isAnimationActive={false}
              cursor={onFigure ? 'pointer' : undefined}
              onClick={(entry: unknown) => {
                const kato = (entry as { payload?: { kato?: string } }).payload?.kato;
                if (onFigure && kato) onFigure({ kato, column: c });
              }}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
