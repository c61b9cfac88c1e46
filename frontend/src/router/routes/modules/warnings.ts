import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'warnings',
    name: 'warnings',
    component: () => import('@/views/warnings/WarningListView.vue'),
    meta: { permission: 'warnings.view', title: 'warnings.title', menu: { order: 30, icon: 'Bell' }, watermark: true },
  },
] satisfies RouteRecordRaw[]
