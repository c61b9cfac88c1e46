import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'audit',
    name: 'audit',
    component: () => import('@/views/audit/AuditView.vue'),
    meta: { permission: 'audit.view', title: 'audit.title', menu: { order: 60, icon: 'Document' }, watermark: true },
  },
] satisfies RouteRecordRaw[]
