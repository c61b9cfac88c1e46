import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'models',
    name: 'models',
    component: () => import('@/views/models/ModelListView.vue'),
    meta: { permission: 'models.view', title: 'models.title', menu: { order: 40, icon: 'SetUp' }, watermark: true },
  },
  {
    path: 'models/:id(\\d+)/validation',
    name: 'model-validation',
    component: () => import('@/views/models/ValidationView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { permission: 'models.view', title: 'models.validation.title', watermark: true },
  },
  {
    path: 'models/monitoring',
    name: 'model-monitoring',
    component: () => import('@/views/models/MonitoringView.vue'),
    meta: { permission: 'models.view', title: 'models.monitoring.title', watermark: true },
  },
] satisfies RouteRecordRaw[]
