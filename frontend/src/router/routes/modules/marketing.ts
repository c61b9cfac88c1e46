import type { RouteRecordRaw } from 'vue-router'

/** 营销: one menu entry; its pages are tabs (each with the permission it needs). */
export default [
  {
    path: 'marketing',
    component: () => import('@/views/marketing/MarketingView.vue'),
    meta: { permission: 'marketing.view', title: 'marketing.title', menu: { order: 35, icon: 'Phone' }, watermark: true },
    children: [
      { path: '', name: 'marketing', redirect: { name: 'marketing-prospects' } },
      {
        path: 'prospects',
        name: 'marketing-prospects',
        component: () => import('@/views/marketing/ProspectListView.vue'),
        meta: { permission: 'marketing.view', title: 'marketing.prospects', watermark: true },
      },
      {
        path: 'calls',
        name: 'marketing-calls',
        component: () => import('@/views/marketing/CallListView.vue'),
        meta: { permission: 'marketing.outreach', title: 'marketing.callList', watermark: true },
      },
      {
        path: 'campaigns',
        name: 'marketing-campaigns',
        component: () => import('@/views/marketing/CampaignListView.vue'),
        meta: { permission: 'marketing.view', title: 'marketing.campaigns' },
      },
      {
        path: 'campaigns/:id(\\d+)',
        name: 'marketing-campaign',
        component: () => import('@/views/marketing/CampaignDetailView.vue'),
        props: (route) => ({ id: Number(route.params.id) }),
        meta: { permission: 'marketing.view', title: 'marketing.campaign' },
      },
      {
        path: 'import',
        name: 'marketing-import',
        component: () => import('@/views/marketing/ImportView.vue'),
        meta: { permission: 'marketing.import', title: 'marketing.import' },
      },
    ],
  },
] satisfies RouteRecordRaw[]
