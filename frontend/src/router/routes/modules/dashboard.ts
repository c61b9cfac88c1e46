import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: '',
    name: 'dashboard',
    component: () => import('@/views/dashboard/DashboardView.vue'),
    meta: { permission: 'dashboard.view', title: 'dashboard.title', menu: { order: 10, icon: 'Odometer' }, watermark: true },
  },
] satisfies RouteRecordRaw[]
