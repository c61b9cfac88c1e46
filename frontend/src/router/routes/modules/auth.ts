import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'password',
    name: 'password',
    component: () => import('@/views/auth/ChangePasswordView.vue'),
    meta: { title: 'auth.changePassword' },
  },
] satisfies RouteRecordRaw[]
