import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'warnings',
    name: 'warnings',
    component: () => import('@/views/warnings/WarningListView.vue'),
    meta: { permission: 'warnings.view', title: 'warnings.title', menu: { order: 30, icon: 'Bell' }, watermark: true },
  },
  {
    path: 'warnings/labels',
    name: 'warning-labels',
    component: () => import('@/views/warnings/WarningLabelsView.vue'),
    meta: { permission: 'warnings.labels', title: 'warnings.labelsTitle', menu: { order: 31, icon: 'DataAnalysis' } },
  },
] satisfies RouteRecordRaw[]
