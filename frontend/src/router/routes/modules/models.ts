import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'models',
    name: 'models',
    component: () => import('@/views/models/ModelListView.vue'),
    meta: { permission: 'models.view', title: 'models.title', menu: { order: 40, icon: 'SetUp' }, watermark: true },
  },
] satisfies RouteRecordRaw[]
