/**
 * Rendering a stage to check it: the same `MeshRelease`, in a detached chart whose releases run
 * no checks of their own (the caller checks what they emit).
 */
import { App, Chart } from 'cdk8s';

const RENDER_ONLY = new WeakSet<Chart>();

/** A detached chart for rendering only. */
export function renderChart(namespace: string): Chart {
  const chart = new Chart(new App({ outdir: 'unused' }), 'render', { namespace });
  RENDER_ONLY.add(chart);
  return chart;
}

/** Whether a chart is for rendering only. */
export function isRenderOnly(chart: Chart): boolean {
  return RENDER_ONLY.has(chart);
}
