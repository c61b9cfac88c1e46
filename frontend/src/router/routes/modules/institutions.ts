import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'institutions/:code([A-Za-z0-9]+)',
    name: 'institution',
    component: () => import('@/views/institutions/InstitutionView.vue'),
    props: true,
    meta: { permission: 'settlement.view', title: 'institutions.title', watermark: true },
  },
] satisfies RouteRecordRaw[]
