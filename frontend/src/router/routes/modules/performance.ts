import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'performance',
    name: 'performance',
    component: () => import('@/views/performance/PerformanceView.vue'),
    meta: { permission: 'performance.view', title: 'performance.title', menu: { order: 50, icon: 'TrendCharts' } },
  },
] satisfies RouteRecordRaw[]
