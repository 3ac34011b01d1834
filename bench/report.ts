/** Figures of `npm run bench`: one line each, and bench-results.json. */
import { writeFileSync } from 'node:fs';

export interface Figure {
  value: number;
  unit: string;
  baseline: number;
  ratio: number;
}

export class Report {
  readonly figures: Record<string, Figure> = {};

  add(name: string, value: number, unit: string, baseline: number): void {
    const round = (n: number) => Math.round(n * 100) / 100;
    const figure = {
      value: round(value),
      unit,
      baseline: round(baseline),
      ratio: round(baseline > 0 ? value / baseline : 0),
    };
    this.figures[name] = figure;
    console.log(`${name}: ${figure.value} ${unit} (baseline: ${figure.baseline}, ratio: ${figure.ratio})`);
  }

  write(path: string): void {
    writeFileSync(path, JSON.stringify(this.figures, null, 2) + '\n');
  }
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Run `fn` `times` times and return the median duration in ms. When `fn`
 * returns a number, that is the duration it measured itself (set-up excluded).
 */
export async function timeMedian(times: number, fn: () => unknown): Promise<number> {
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    const own = await fn();
    durations.push(typeof own === 'number' ? own : performance.now() - t);
  }
  return median(durations);
}
