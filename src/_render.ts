/**
 * Rendering a stage to check it: the same `MeshRelease`, in a detached chart whose releases run
 * no checks of their own (the caller checks what they emit).
 */
import { ApiObject, App, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';

const RENDER_ONLY = new WeakSet<Chart>();

/** The id (and construct path) of the charts `renderChart` makes. */
export const renderChartId = 'render';

/** A detached chart for rendering only. */
export function renderChart(namespace: string): Chart {
  const chart = new Chart(new App({ outdir: 'unused' }), renderChartId, { namespace });
  RENDER_ONLY.add(chart);
  return chart;
}

/** Whether a chart is for rendering only. */
export function isRenderOnly(chart: Chart): boolean {
  return RENDER_ONLY.has(chart);
}

/** The API objects in a construct's subtree, in tree order (the order cdk8s renders objects without dependencies). */
export function apiObjectsUnder(scope: IConstruct): ApiObject[] {
  return scope.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
}
