/**
 * Routes: one module per area under `routes/modules/`, collected here; each page is its own
 * chunk (route-level code splitting). Area pages live inside the signed-in layout; log-in and
 * the error pages stand alone.
 */
import type { RouteRecordRaw } from 'vue-router'
import { createRouter, createWebHistory } from 'vue-router'

import { installGuard } from './guard'

const modules = import.meta.glob<RouteRecordRaw[]>('./routes/modules/*.ts', { eager: true, import: 'default' })

/** The pages shown inside the layout (menus are built from these). */
export const areaRoutes: RouteRecordRaw[] = Object.values(modules).flat()

const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/auth/LoginView.vue'),
    meta: { public: true, title: 'auth.login' },
  },
  {
    path: '/',
    component: () => import('@/layouts/BasicLayout.vue'),
    children: areaRoutes,
  },
  { path: '/403', name: 'forbidden', component: () => import('@/views/errors/ErrorView.vue'), props: { status: 403 }, meta: { public: true, title: 'errors.403' } },
  { path: '/500', name: 'server-error', component: () => import('@/views/errors/ErrorView.vue'), props: { status: 500 }, meta: { public: true, title: 'errors.500' } },
  { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('@/views/errors/ErrorView.vue'), props: { status: 404 }, meta: { public: true, title: 'errors.404' } },
]

export const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

installGuard(router)
