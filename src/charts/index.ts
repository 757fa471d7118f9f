// Charts: line charts over time with a target line, drawn as PNG in-process, and said in words.
export { chartAltText, MAX_ALT_TEXT } from './alt-text.js';
export { condenseSeries, MAX_SERIES, type Condense } from './condense.js';
export { chartFromSeries, chartsAndLines, labelsName, notDrawn, rangeChart, rangeCharts, type ChartOutcome, type RangeChartSpec } from './prometheus.js';
export { renderChartPng } from './render.js';
export { formatValue, type ChartSeries, type ChartUnit, type LineChart } from './spec.js';
