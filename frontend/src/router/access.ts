/**
 * What the signed-in user may open: each route names the one permission it needs
 * (`meta.permission`, a key of the server's permission table); menus are the routes the user's
 * `/api/me` permissions allow. No role name appears here or in any page. The server checks
 * everything again; this only hides what would be refused.
 */
import type { RouteLocationNormalized, RouteRecordRaw } from 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in (log-in, error pages). */
    public?: boolean
    /** The server permission the page needs; none: any signed-in user. */
    permission?: string
    /** i18n key of the page title (and menu label). */
    title?: string
    /** Shown in the side menu, in this order. */
    menu?: { order: number; icon: string }
    /** Pages that show customer data carry the watermark. */
    watermark?: boolean
  }
}

export function allowed(route: Pick<RouteLocationNormalized, 'meta'>, can: (p: string) => boolean): boolean {
  return !route.meta.permission || can(route.meta.permission)
}

export interface MenuItem {
  path: string
  title: string
  icon: string
}

export function menuItems(routes: readonly RouteRecordRaw[], can: (p: string) => boolean): MenuItem[] {
  return routes
    .filter((r) => r.meta?.menu && (!r.meta.permission || can(r.meta.permission)))
    .sort((a, b) => (a.meta?.menu?.order ?? 0) - (b.meta?.menu?.order ?? 0))
    .map((r) => ({ path: r.path.startsWith('/') ? r.path : `/${r.path}`, title: r.meta?.title ?? '', icon: r.meta?.menu?.icon ?? '' }))
}
