// Draws a LineChart as a PNG, in-process: ECharts renders SVG on the server (no DOM, no
// canvas), resvg rasterizes it with the DejaVu Sans font that comes from npm, never the
// system's, so the same chart is the same PNG on every machine.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts/core';
import { LineChart as EchartsLine } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent, TitleComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import { formatValue, type LineChart } from './spec.js';

echarts.use([EchartsLine, GridComponent, LegendComponent, MarkLineComponent, TitleComponent, SVGRenderer]);
// Without a canvas ECharts guesses text widths from Helvetica-like metrics; DejaVu Sans is wider,
// so legends and labels would overlap. Widths in em from DejaVu Sans's own advance widths.
echarts.setPlatformAPI({ measureText: (text: string, font?: string) => ({ width: textWidthEm(text) * fontPx(font) }) });

const FONT = 'DejaVu Sans';
const FONT_FILE = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf', 'DejaVuSans.ttf');
export const CHART_WIDTH = 900;
export const CHART_HEIGHT = 420;
/** Colour-blind-safe (Okabe-Ito), distinct in order. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000', '#999999', '#882255'];
const TARGET_COLOUR = '#D62728';

const EM: Record<string, number> = { ' ': 0.318, '.': 0.318, ',': 0.318, ':': 0.337, ';': 0.337, '/': 0.337, '-': 0.361, '_': 0.5, '=': 0.838, '%': 0.95, '(': 0.39, ')': 0.39, i: 0.278, j: 0.278, l: 0.278, I: 0.295, f: 0.352, t: 0.392, r: 0.411, s: 0.521, c: 0.55, z: 0.525, m: 0.974, w: 0.818, M: 0.863, W: 0.989 };
export function textWidthEm(text: string): number {
  let em = 0;
  for (const ch of text) em += EM[ch] ?? (/[0-9]/.test(ch) ? 0.636 : /[a-z]/.test(ch) ? 0.61 : /[A-Z]/.test(ch) ? 0.72 : ch.charCodeAt(0) < 0x2e80 ? 0.7 : 1);
  return em;
}
const fontPx = (font?: string) => Number(/(\d+(?:\.\d+)?)px/.exec(font ?? '')?.[1] ?? 12);

/** Hours and minutes within two days, days beyond (UTC, like every time the bot shows). */
const timeLabel = (chart: LineChart) => (ms: number) => {
  const iso = new Date(ms).toISOString();
  return chart.to - chart.from > 2 * 86_400 ? iso.slice(5, 10) : iso.slice(11, 16);
};

/**
 * Text as XML may hold it: series names come from outside (an alert's labels), and a control
 * character would make the whole SVG unreadable to resvg.
 */
const xmlSafe = (text: string) => text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** The chart as SVG text (what resvg draws). */
export function chartSvg(given: LineChart): string {
  const chart: LineChart = {
    ...given,
    title: xmlSafe(given.title),
    ...(given.note === undefined ? {} : { note: xmlSafe(given.note) }),
    ...(given.target ? { target: { ...given.target, label: xmlSafe(given.target.label) } } : {}),
    series: given.series.map((s) => ({ ...s, name: xmlSafe(s.name) })),
  };
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width: CHART_WIDTH, height: CHART_HEIGHT });
  try {
    instance.setOption({
      animation: false,
      useUTC: true,
      backgroundColor: '#ffffff',
      color: PALETTE,
      textStyle: { fontFamily: FONT },
      title: { text: chart.title, subtext: chart.note ?? '', left: 12, top: 8, textStyle: { fontSize: 15, fontFamily: FONT }, subtextStyle: { fontFamily: FONT } },
      legend: { type: 'plain', bottom: 6, left: 'center', textStyle: { fontFamily: FONT, fontSize: 11 }, itemWidth: 18, itemHeight: 8 },
      grid: { left: 70, right: 24, top: chart.note ? 64 : 48, bottom: 70 },
      xAxis: { type: 'time', min: chart.from * 1000, max: chart.to * 1000, axisLabel: { fontFamily: FONT, hideOverlap: true, formatter: timeLabel(chart) } },
      yAxis: { type: 'value', min: chart.unit === 'percent' ? 0 : undefined, axisLabel: { fontFamily: FONT, formatter: (v: number) => formatValue(chart.unit, v) } },
      series: chart.series.map((s, i) => ({
        type: 'line',
        name: s.name,
        showSymbol: false,
        connectNulls: false,
        lineStyle: { width: 1.5 },
        data: s.points.map(([t, v]) => [t * 1000, Number.isFinite(v) ? v : null]),
        ...(i === 0 && chart.target
          ? {
              markLine: {
                silent: true,
                symbol: 'none',
                lineStyle: { color: TARGET_COLOUR, type: 'dashed', width: 1.5 },
                label: { formatter: `${chart.target.label} ${formatValue(chart.unit, chart.target.value)}`, position: 'insideEndTop', color: TARGET_COLOUR, fontFamily: FONT },
                data: [{ yAxis: chart.target.value }],
              },
            }
          : {}),
      })),
    });
    return instance.renderToSVGString();
  } finally {
    instance.dispose();
  }
}

export function renderChartPng(chart: LineChart): Buffer {
  const resvg = new Resvg(chartSvg(chart), { font: { loadSystemFonts: false, fontFiles: [FONT_FILE], defaultFontFamily: FONT }, background: '#ffffff' });
  return resvg.render().asPng();
}
