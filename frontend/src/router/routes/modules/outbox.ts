import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'outbox',
    name: 'outbox',
    component: () => import('@/views/outbox/OutboxView.vue'),
    meta: { permission: 'outbox.view', title: 'outbox.title', menu: { order: 70, icon: 'Message' } },
  },
] satisfies RouteRecordRaw[]
