import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: 'users',
    name: 'users',
    component: () => import('@/views/users/UserListView.vue'),
    meta: { permission: 'users.manage', title: 'users.title', menu: { order: 80, icon: 'User' } },
  },
] satisfies RouteRecordRaw[]
