/**
 * Every metric floe serves follows one naming scheme (the `floe_` prefix, the unit in the name, `_total`
 * on counters, help text), docs/metrics.md lists each one, and the Grafana dashboard is valid dashboard
 * JSON whose queries reference only metrics that exist — and every floe_ metric at least once.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/infra/paths.js';
import { apiMetricsRegistry } from '../../src/metrics/http.js';

/** Collectors never run here: only the metrics' declarations are read. */
const metrics = apiMetricsRegistry({} as pg.Pool).getMetricsAsArray();
const names = new Set(metrics.map((m) => m.name));

/** The watermark sync's gauges from before the scheme, kept under their names. */
const ORIGINAL_NAMES = [
  'sync_success_count',
  'sync_failure_count',
  'last_sync_duration_seconds',
  'rows_processed',
  'sync_rows_total',
  'sync_last_run_timestamp_seconds',
];

const NAME = /^floe_[a-z_]+(_seconds|_bytes|_rows|_items|_total)$/;

describe('metric names', () => {
  it('follow the floe_ scheme: unit in the name, _total on counters and only there', () => {
    const floe = metrics.filter((m) => !ORIGINAL_NAMES.includes(m.name));
    expect(floe.length).toBeGreaterThanOrEqual(15);
    for (const m of floe) {
      expect(m.name).toMatch(NAME);
      expect(m.help.length, m.name).toBeGreaterThan(10);
      const type = String(m.type);
      if (type === 'counter') expect(m.name).toMatch(/_total$/);
      else expect(m.name, `${type} ${m.name}`).not.toMatch(/_total$/);
      if (type === 'histogram') expect(m.name).toMatch(/_(seconds|bytes)$/);
    }
    expect(names).toEqual(new Set([...floe.map((m) => m.name), ...ORIGINAL_NAMES]));
  });

  it('are each listed in docs/metrics.md', () => {
    const doc = readFileSync(path.join(projectRoot, 'docs', 'metrics.md'), 'utf8');
    for (const name of names) expect(doc, name).toContain(`\`${name}\``);
  });
});

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string }[];
}

describe('docs/grafana/floe-dashboard.json', () => {
  const dashboard = JSON.parse(
    readFileSync(path.join(projectRoot, 'docs', 'grafana', 'floe-dashboard.json'), 'utf8'),
  ) as { uid: string; title: string; schemaVersion: number; panels: Panel[]; templating: { list: unknown[] } };
  const queryPanels = dashboard.panels.filter((p) => p.type !== 'row');
  const exprs = [
    ...queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...Array.from(JSON.stringify(dashboard.templating).matchAll(/label_values\((\w+)/g), (m) => m[1]!),
  ];
  /** A series name's metric: a histogram's `_bucket` / `_count` / `_sum` series by the histogram's name. */
  const metricOf = (series: string): string => {
    const m = /^(.*)_(bucket|count|sum)$/.exec(series);
    return !names.has(series) && m && names.has(m[1]!) ? m[1]! : series;
  };
  /** Metric names the dashboard's PromQL references. */
  const referenced = new Set(
    exprs.flatMap((e) =>
      Array.from(e.matchAll(/\b(?:floe_\w+|sync_\w+|last_sync_duration_seconds|rows_processed)\b/g), (m) =>
        metricOf(m[0]),
      ),
    ),
  );

  it('is a dashboard: uid, title, schema version, panels with unique ids, positions and Prometheus queries', () => {
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).toBe('floe');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) {
      expect(p.gridPos.w, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    }
    for (const p of queryPanels) {
      expect(p.datasource?.type, p.title).toBe('prometheus');
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('references only metrics that exist, and every floe_ metric', () => {
    expect([...referenced].filter((n) => !names.has(n))).toEqual([]);
    expect([...names].filter((n) => n.startsWith('floe_') && !referenced.has(n))).toEqual([]);
  });
});
