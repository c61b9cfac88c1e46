import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'cases',
    name: 'cases',
    component: () => import('@/views/cases/CaseListView.vue'),
    meta: { permission: 'cases.view', title: 'cases.title', menu: { order: 20, icon: 'Files' }, watermark: true },
  },
  {
    path: 'cases/:id(\\d+)',
    name: 'case',
    component: () => import('@/views/cases/CaseDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { permission: 'cases.view', title: 'cases.detail', watermark: true },
  },
] satisfies RouteRecordRaw[]
