import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'penalties',
    name: 'penalties',
    component: () => import('@/views/sla/PenaltyListView.vue'),
    meta: { permission: 'performance.view', title: 'sla.title', menu: { order: 51, icon: 'Warning' } },
  },
  {
    path: 'notifications',
    name: 'notifications',
    component: () => import('@/views/notifications/NotificationListView.vue'),
    meta: { title: 'notifications.title' },
  },
] satisfies RouteRecordRaw[]
