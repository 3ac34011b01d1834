/**
 * The monitoring table as rendered: a row per region with its KATO code, the
 * six columns and the total, the totals row, figures as buttons opening the
 * journal (zeros are not), the overdue steps, in each language.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { buildReport } from '#core/monitoring/report.js';
import { I18nProvider } from '../i18n/I18nProvider';
import type { Language } from '../i18n/i18n';
import { MonitoringTable } from './MonitoringTable';

const report = buildReport({
  query: { from: '2026-03-01', to: '2026-03-31' },
  cells: [
    { regionKato: '110000000', status: 'received', decision: 'none', n: 13 },
    { regionKato: '110000000', status: 'completed', decision: 'positive', n: 39 },
    { regionKato: '710000000', status: 'external_processing', decision: 'none', n: 8 },
    { regionKato: '990000000', status: 'in_processing', decision: 'none', n: 1 },
  ],
  overdue: [{ serviceCode: 'unemployed-certificate', step: 'review', n: 4 }],
  regions: [
    { kato: '110000000', nameKk: 'Ақмола облысы', nameRu: 'Акмолинская область', nameEn: 'Akmola Region' },
    { kato: '710000000', nameKk: 'Астана қаласы', nameRu: 'город Астана', nameEn: 'Astana City' },
  ],
  everyRegion: false,
  source: 'local',
  reach: 'country',
  dataAt: null,
});

function render(language: Language): string {
  return renderToStaticMarkup(
    <I18nProvider language={language}>
      <MonitoringTable report={report} onFigure={() => undefined} />
    </I18nProvider>,
  );
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('the monitoring table', () => {
  it('shows each region with its code, the figures, the totals row and the overdue steps', () => {
    const html = render('ru');
    expect(text(html)).toContain('Акмолинская область [110000000]');
    expect(text(html)).toContain('Регион 990000000 [990000000]');
    expect(text(html)).toContain('Всего по статусу');
    expect(text(html)).toContain('Передано в ИС ОО');
    // Figures above zero are buttons into the journal; zeros are plain.
    expect(html).toMatch(/<button[^>]*data-testid="figure-110000000-received"[^>]*>13<\/button>/);
    expect(html).toMatch(/<span data-testid="figure-110000000-onSigning">0<\/span>/);
    expect(html).toMatch(/data-testid="figure-all-total"[^>]*>61<\/button>/);
    expect(text(html)).toContain('unemployed-certificate review 4');
  });

  it('has its words in Kazakh and English too', () => {
    expect(text(render('kk'))).toContain('Мәртебе бойынша барлығы');
    expect(text(render('en'))).toContain('Transferred to another system');
  });
});
